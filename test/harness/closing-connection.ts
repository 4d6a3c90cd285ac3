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

export function closingGuard(): ClosingGuard {
  let closing = false;
  const guard = ((options: unknown, nextCall: (o: unknown) => unknown) => (closing ? unsentCall : nextCall(options))) as unknown as Interceptor;
  return {
    // Outermost first: the retry interceptor's attempts pass through the guard.
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), guard],
    close: () => void (closing = true),
  };
}
