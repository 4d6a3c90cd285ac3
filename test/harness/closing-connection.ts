import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';

/**
 * Client interceptors for a test environment's connection that make closing it safe. The SDK's retry
 * interceptor schedules a retry on a timer; if the file's teardown closed the channel meanwhile (a
 * test timed out mid-call), the timer's new attempt threw "Channel has been shut down" outside any
 * test and jest failed the whole file. Here the retry interceptor stays (it is the SDK's default) and
 * a guard sits between it and the channel: once the connection is closing, a new attempt is not sent
 * and never answers, so a late retry of a finished test goes nowhere instead of throwing.
 */
export interface ClosingGuard {
  interceptors: NonNullable<ConnectionOptions['interceptors']>;
  /** Call before closing the connection. */
  close(): void;
}

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/** A call that is never sent: every method is accepted and nothing is ever answered. */
const unsentCall = {
  start() {},
  sendMessage() {},
  sendMessageWithContext() {},
  halfClose() {},
  startRead() {},
  cancelWithStatus() {},
  getPeer: () => 'closed',
  setCredentials() {},
};

interface Status {
  code: number;
  details?: string;
}
interface Listener {
  onReceiveMetadata?(m: unknown, next?: unknown): void;
  onReceiveMessage?(m: unknown, next?: unknown): void;
  onReceiveStatus?(s: Status, next?: unknown): void;
}
type Call = Omit<typeof unsentCall, 'start'> & { start(metadata: unknown, listener?: Listener): void };

/** The running test's name, from jest's expect state (undefined between tests or outside jest). */
function currentTestName(): string | undefined {
  const e = (globalThis as { expect?: { getState?: () => { currentTestName?: string } } }).expect;
  return e?.getState?.().currentTestName;
}

/**
 * Failures worth a line: what the retry interceptor retries, and server faults. NOT_FOUND and the
 * like are answers tests wait through on purpose (a workflow not started yet).
 * UNKNOWN 2, DEADLINE_EXCEEDED 4, RESOURCE_EXHAUSTED 8, ABORTED 10, INTERNAL 13, UNAVAILABLE 14.
 */
const LOGGED_CODES = new Set([2, 4, 8, 10, 13, 14]);

/** Calls slower than this, or that fail so, are written to stderr with their method, code and time. */
const SLOW_CALL_MS = 5_000;

/**
 * Writes every attempt that fails or takes longer than SLOW_CALL_MS: a test that hangs in a client
 * call (a signal that never answered in a full-suite run) then shows which RPC, with which status,
 * and how many times the retry interceptor tried it.
 */
const attemptLog = ((options: { method_definition?: { path?: string } }, nextCall: (o: unknown) => Call) => {
  const inner = nextCall(options);
  const method = options.method_definition?.path ?? 'unknown';
  const call: Call = {
    ...unsentCall,
    start(metadata, listener) {
      const started = Date.now();
      const test = currentTestName();
      inner.start(metadata, {
        onReceiveMetadata: listener?.onReceiveMetadata?.bind(listener),
        onReceiveMessage: listener?.onReceiveMessage?.bind(listener),
        onReceiveStatus(status: Status) {
          const ms = Date.now() - started;
          if (LOGGED_CODES.has(status.code) || ms > SLOW_CALL_MS) {
            const during = test ? ` (started in "${test}")` : '';
            process.stderr.write(`[grpc] ${method} code=${status.code} after ${ms} ms${during}${status.details ? `: ${status.details}` : ''}\n`);
          }
          listener?.onReceiveStatus?.(status);
        },
      });
    },
  };
  for (const k of ['cancelWithStatus', 'getPeer', 'sendMessageWithContext', 'sendMessage', 'startRead', 'halfClose', 'setCredentials'] as const) {
    const f = inner[k] as ((...a: unknown[]) => unknown) | undefined;
    if (f) (call as Record<string, unknown>)[k] = f.bind(inner);
  }
  return call;
}) as unknown as Interceptor;

export function closingGuard(): ClosingGuard {
  let closing = false;
  const guard = ((options: unknown, nextCall: (o: unknown) => unknown) => (closing ? unsentCall : nextCall(options))) as unknown as Interceptor;
  return {
    // Outermost first: the retry interceptor's attempts pass through the log, then the guard.
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), attemptLog, guard],
    close: () => void (closing = true),
  };
}
