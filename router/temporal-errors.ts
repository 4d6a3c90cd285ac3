import { isGrpcServiceError } from '@temporalio/client';

/**
 * What a failed Temporal call means, for the router (router/dispatch.ts makes the calls; the SQS
 * consumer and the HTTP edge decide from the class whether to wait, retry or fail one event).
 */

/** Temporal did not answer (down, unreachable, or slower than the deadline): the sender must retry. */
export class TemporalUnavailableError extends Error {
  override readonly name = 'TemporalUnavailableError';
  constructor(
    message: string,
    /** The gRPC status name that said so (UNAVAILABLE when no call answered). */
    readonly code = 'UNAVAILABLE',
  ) {
    super(message);
  }
}

/**
 * Temporal answered, but refused the router rather than the event: its credentials (UNAUTHENTICATED,
 * PERMISSION_DENIED: an expired API key or certificate), its namespace (NOT_FOUND), the cluster's
 * setup (a search attribute the namespace has not registered) or a server fault. Every event fails
 * the same way until that is fixed, so the SQS consumer stops receiving instead of letting them age
 * into the dead-letter queue. The message carries the server's words, never a credential.
 */
export class TemporalRefusedError extends Error {
  override readonly name = 'TemporalRefusedError';
  constructor(
    message: string,
    /** gRPC status name (PERMISSION_DENIED, NOT_FOUND, ...). */
    readonly code: string,
  ) {
    super(message);
  }
}

/** Errors that are about Temporal or the router's standing with it, not about one event: wait, do not dead-letter. */
export const isTemporalOutage = (err: unknown): err is TemporalUnavailableError | TemporalRefusedError =>
  err instanceof TemporalUnavailableError || err instanceof TemporalRefusedError;

// gRPC status codes (grpc/status.proto).
const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];
export const grpcCodeName = (code: number): string => GRPC_CODE_NAMES[code] ?? `CODE_${code}`;

/**
 * What a failed Temporal call means for the event that made it, decided here and nowhere else:
 *  - `duplicate`: a start found the workflow running (ALREADY_EXISTS);
 *  - `not-running`: a signal (or the describe before a start) found no such workflow;
 *  - `unavailable`: no answer, or too busy (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, and
 *    CANCELLED: the router cancels none of its calls, so a cancel is the server dropping a call
 *    whose deadline it saw pass, an RST_STREAM CANCEL that grpc-js reports as "Call cancelled");
 *  - `refused`: an answer about the router, not the event (see TemporalRefusedError): credentials,
 *    namespace, a search attribute the namespace lacks, and every code that no event's data can cause;
 *  - `event`: this event's own request is wrong (INVALID_ARGUMENT about its data, such as a workflow id
 *    over the length limit or a workflow's signal limit), or the error is not Temporal's at all.
 * INVALID_ARGUMENT counts as the event's unless the server names the cluster's setup: a wrong guess
 * the other way would stop the whole queue behind one bad event.
 */
export type TemporalErrorClass = 'duplicate' | 'not-running' | 'unavailable' | 'refused' | 'event';

export function classifyTemporalError(err: unknown, call: 'start' | 'signalWithStart' | 'signal' | 'describe'): { class: TemporalErrorClass; code: string } {
  if (!isGrpcServiceError(err)) return { class: 'event', code: 'NONE' };
  const code = grpcCodeName(err.code);
  switch (err.code) {
    case GRPC_UNAVAILABLE:
    case GRPC_CANCELLED:
    case GRPC_DEADLINE_EXCEEDED:
    case GRPC_RESOURCE_EXHAUSTED:
      return { class: 'unavailable', code };
    case GRPC_ALREADY_EXISTS:
      return { class: call === 'start' || call === 'signalWithStart' ? 'duplicate' : 'event', code };
    case GRPC_NOT_FOUND:
      if (isNamespaceNotFound(err)) return { class: 'refused', code };
      // A start or signal-with-start never misses a workflow: whatever it did not find is the router's setup.
      return { class: call === 'signal' || call === 'describe' ? 'not-running' : 'refused', code };
    case GRPC_INVALID_ARGUMENT:
      return { class: CLUSTER_SETUP.test(err.details ?? '') ? 'refused' : 'event', code };
    default:
      return { class: 'refused', code };
  }
}

/** The server's words for a search attribute the namespace has not registered (SQL and Elasticsearch visibility). */
const CLUSTER_SETUP = /no mapping defined for search attribute|search attribute \S+ is not defined/i;

/** NOT_FOUND about the namespace: NamespaceNotFoundFailure in the status details, or the server's message for it. */
function isNamespaceNotFound(err: { details?: string; metadata?: { get(key: string): unknown[] } }): boolean {
  const details = (err.metadata?.get('grpc-status-details-bin') ?? []) as unknown[];
  if (details.some((d) => Buffer.isBuffer(d) && d.includes('NamespaceNotFoundFailure'))) return true;
  return /^namespace \S+ is not found/i.test(err.details ?? '');
}
