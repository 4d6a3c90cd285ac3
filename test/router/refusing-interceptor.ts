import { InterceptingCall, Metadata, type Interceptor } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

/**
 * A client-side gRPC interceptor that answers Temporal calls itself with a chosen status, as the
 * server would answer a router whose API key expired (UNAUTHENTICATED), whose identity lost its role
 * (PERMISSION_DENIED) or an event whose request the server rejects (INVALID_ARGUMENT). The call never
 * reaches the server. What is under test is what the router does with the status.
 */
export interface Refusal {
  /** gRPC status code (grpc/status.proto): 3 INVALID_ARGUMENT, 7 PERMISSION_DENIED, 16 UNAUTHENTICATED, ... */
  code: number;
  details: string;
  /** Only calls whose serialised request contains this string (a workflow id); every call when unset. */
  only?: string;
}

export interface RefusingConnection {
  connection: Connection;
  refuse(refusal: Refusal | undefined): void;
  /** Calls answered by the interceptor so far. */
  refused(): number;
}

export async function refusingConnection(address: string): Promise<RefusingConnection> {
  let refusal: Refusal | undefined;
  let refused = 0;
  const interceptor: Interceptor = (options, nextCall) => {
    const now = refusal;
    if (!now) return new InterceptingCall(nextCall(options));
    // The request arrives after start: the call is started downstream only once it is known not to be refused.
    let startDownstream = () => {};
    let answer = () => {};
    let answered = false;
    return new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        startDownstream = () => next(metadata, listener);
        // As the server answers a refused unary call: a status with empty trailers.
        answer = () => listener.onReceiveStatus({ code: now.code, details: now.details, metadata: new Metadata() });
      },
      sendMessage(message, next) {
        const bytes = Buffer.isBuffer(message) || message instanceof Uint8Array ? Buffer.from(message) : Buffer.from(String(message));
        if (now.only === undefined || bytes.includes(now.only)) {
          answered = true;
          refused += 1;
          answer();
          return;
        }
        startDownstream();
        next(message);
      },
      halfClose(next) {
        if (!answered) next();
      },
    });
  };
  const connection = await Connection.connect({
    address,
    // Outermost first: a refused call never reaches the SDK's retry interceptor (which expects the
    // channel's own message-then-status sequence); calls let through are retried as on the router's connection.
    interceptors: [interceptor, makeGrpcRetryInterceptor(defaultGrpcRetryOptions())],
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1_000 },
  });
  return { connection, refuse: (r) => void (refusal = r), refused: () => refused };
}
