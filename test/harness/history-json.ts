import { createRequire } from 'node:module';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

/**
 * History <-> Temporal's JSON form (what `temporal workflow show --output json` and the Web UI
 * download). The SDK's own helpers in @temporalio/common/lib/proto-utils fail here with "type must
 * be a Type": npm gave @temporalio/common and @temporalio/proto separate copies of protobufjs, and
 * protojson checks types with instanceof. Loading protojson from @temporalio/proto's own protobufjs
 * keeps types and converter in one copy.
 */
type History = proto.temporal.api.history.v1.IHistory;

/** The two functions of protobufjs/ext/protojson used here (the hoisted protobufjs has no such module). */
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}

const protoRequire = createRequire(require.resolve('@temporalio/proto'));
const protojson = protoRequire('protobufjs/ext/protojson') as ProtoJson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyToJSON(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

export function historyFromJSON(json: unknown): History {
  const message = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!message) throw new TypeError('not a history');
  return message as History;
}
