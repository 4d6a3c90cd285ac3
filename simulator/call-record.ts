import { z } from 'zod';
import { globMatches } from './faults';
import { canonicalService, type SimResponse, type WireProtocol } from './protocol';

/** The simulator's record of the AWS calls it answered, and how tests filter it (`GET /_sim/calls`). */

export interface RecordedCall {
  seq: number;
  /** ISO time the request arrived. */
  time: string;
  service: string;
  action: string;
  region: string;
  protocol: WireProtocol;
  params: Record<string, unknown>;
  /** HTTP status sent; null when the connection was reset. */
  status: number | null;
  /** AWS error code of an error response (simulated or moto's). */
  errorCode?: string;
  /** What the simulator injected: the rule's kind and id, or the rate limit. */
  fault?: { kind: 'throttle' | 'error' | 'reset' | 'rate-limit'; ruleId?: string };
  latencyMs: number;
  /** The account the call acts in: moto's default, or the one an assumed-role session (or `x-moto-account-id`) puts it in. */
  account: string;
  /** `moto`, `fault`, or `behaviour:<name>` for an intercepted call. */
  handledBy: string;
  durationMs: number;
}

export const callFilterSchema = z.object({
  service: z.string().optional(),
  /** Glob, e.g. `Describe*`. */
  action: z.string().optional(),
  /** Only calls with a larger seq (poll for new calls). */
  sinceSeq: z.coerce.number().int().optional(),
  /** true: only calls that got a simulated fault; false: only calls without one. */
  faulted: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional(),
});
export type CallFilter = z.input<typeof callFilterSchema>;

export function filterCalls(recorded: readonly RecordedCall[], filter: CallFilter): RecordedCall[] {
  const f = callFilterSchema.parse(filter);
  const service = f.service ? canonicalService(f.service) : undefined;
  return recorded.filter(
    (c) =>
      (service === undefined || c.service === service) &&
      (f.action === undefined || globMatches(f.action, c.action)) &&
      (f.sinceSeq === undefined || c.seq > f.sinceSeq) &&
      (f.faulted === undefined || (c.fault !== undefined) === f.faulted),
  );
}

/** The AWS error code of an error response: the JSON protocols' header or `__type`, else the XML `<Code>`. */
export function errorCodeOf(res: SimResponse): string | undefined {
  if (res.status < 400) return undefined;
  const header = res.headers['x-amzn-errortype'];
  if (header) return header.split(':')[0];
  const text = res.body.toString('utf8', 0, Math.min(res.body.length, 4_096));
  const json = /"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(text);
  if (json) return json[1];
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
}
