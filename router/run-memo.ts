import { isGrpcServiceError, type Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { DRAIN_INSTANCE_ENDED_MEMO } from '../contracts/spot-drain/messages';
import { classifyTemporalError, TemporalRefusedError, TemporalUnavailableError } from './temporal-errors';

/**
 * What a workflow's current run (running or closed) says about the events it handled, read off its
 * memo for router/dispatch.ts: the event that started it (every run the router starts), and for a
 * drain that ended, every event it handled (workflows/spot-drain/handled-events.ts).
 */

/** Memo key holding the id of the event that started a run. */
export const MEMO_EVENT_ID = 'fleetopsEventId';

/**
 * Whether the current run of `workflowId` started with this event or, when `handledKey` is given,
 * lists it under that memo key or ended with its instance terminating. False when there is no such
 * workflow.
 */
export async function currentRunHandled(
  service: Connection['workflowService'],
  namespace: string,
  workflowId: string,
  eventId: string,
  handledKey?: string,
): Promise<boolean> {
  const memo = await currentRunMemo(service, namespace, workflowId);
  const field = (key: string): unknown => {
    const payload = memo?.[key];
    return payload ? defaultPayloadConverter.fromPayload<unknown>(payload) : undefined;
  };
  if (field(MEMO_EVENT_ID) === eventId) return true;
  // A drain whose instance was terminating: no later event for that id is a new interruption.
  if (handledKey && field(DRAIN_INSTANCE_ENDED_MEMO) === true) return true;
  const handled = handledKey ? field(handledKey) : undefined;
  return Array.isArray(handled) && handled.includes(eventId);
}

/** The memo of the workflow's current run; undefined when there is no such workflow. */
async function currentRunMemo(service: Connection['workflowService'], namespace: string, workflowId: string): Promise<Record<string, Payload> | undefined> {
  try {
    const res = await service.describeWorkflowExecution({ namespace, execution: { workflowId } });
    return (res.workflowExecutionInfo?.memo?.fields ?? {}) as Record<string, Payload>;
  } catch (err) {
    const { class: kind, code } = classifyTemporalError(err, 'describe');
    if (kind === 'not-running') return undefined;
    const details = isGrpcServiceError(err) ? err.details || err.message : String(err);
    if (kind === 'unavailable') throw new TemporalUnavailableError(`temporal unavailable: ${details}`, code);
    if (kind === 'refused') throw new TemporalRefusedError(`temporal refused the router (${code}): ${details}`, code);
    throw err;
  }
}
