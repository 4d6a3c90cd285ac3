import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

/**
 * A TLS-terminating gRPC proxy in front of the dev server (which speaks only h2c), standing in for a
 * self-hosted mTLS cluster or Temporal Cloud: HTTP/2 over TLS with ALPN `h2`, optionally requiring a
 * client certificate signed by `clientCa`, optionally requiring `authorization: Bearer <apiKey>`
 * (answered like Temporal Cloud: gRPC status 16 UNAUTHENTICATED). Every stream is forwarded to the
 * dev server over h2c with its headers, body and trailers.
 */
export interface TlsProxyOptions {
  /** host:port of the dev server. */
  upstream: string;
  cert: string;
  key: string;
  /** PEM of the CA client certificates must be signed by; no client certificate asked for when unset. */
  clientCa?: string;
  apiKey?: string;
}

export interface TlsProxy {
  /** 127.0.0.1:port */
  address: string;
  /** Every gRPC call the proxy saw: method path and the authorization header it carried. */
  calls: { path: string; authorization?: string; clientCertSubject?: string }[];
  /** Handshakes that failed, with Node's reason (a missing or untrusted client certificate). */
  tlsErrors: string[];
  stop(): Promise<void>;
}

const GRPC_UNAUTHENTICATED = '16';

export async function startTlsProxy(opts: TlsProxyOptions): Promise<TlsProxy> {
  const calls: TlsProxy['calls'] = [];
  const tlsErrors: string[] = [];
  let upstream: http2.ClientHttp2Session | undefined;
  const upstreamSession = (): http2.ClientHttp2Session => {
    if (!upstream || upstream.closed || upstream.destroyed) {
      upstream = http2.connect(`http://${opts.upstream}`);
      upstream.on('error', () => undefined);
    }
    return upstream;
  };
  const sessions = new Set<http2.ServerHttp2Session>();

  const server = http2.createSecureServer({
    cert: opts.cert,
    key: opts.key,
    ALPNProtocols: ['h2'],
    ...(opts.clientCa ? { ca: opts.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  });
  server.on('tlsClientError', (err) => tlsErrors.push(err.message));
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (raw: http2.Http2Stream, headers: http2.IncomingHttpHeaders) => {
    const stream = raw as http2.ServerHttp2Stream;
    const authorization = typeof headers.authorization === 'string' ? headers.authorization : undefined;
    const peer = (stream.session?.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } } | undefined)?.getPeerCertificate?.();
    calls.push({ path: String(headers[':path']), authorization, clientCertSubject: peer?.subject?.CN });
    if (opts.apiKey !== undefined && authorization !== `Bearer ${opts.apiKey}`) {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': GRPC_UNAUTHENTICATED, 'grpc-message': 'API key missing or not valid' },
        { endStream: true },
      );
      return;
    }
    const forward: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) {
      if (k === ':scheme' || k === ':authority') continue;
      forward[k] = v;
    }
    forward[':authority'] = opts.upstream;
    const req = upstreamSession().request(forward);
    let trailers: http2.OutgoingHttpHeaders = {};
    req.on('response', (h, flags) => {
      if (stream.destroyed) return;
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      stream.respond(h, endStream ? { endStream: true } : { waitForTrailers: true });
    });
    req.on('trailers', (t) => (trailers = t));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    req.on('data', (chunk: Buffer) => {
      if (!stream.destroyed && !stream.writableEnded) stream.write(chunk);
    });
    req.on('end', () => {
      if (!stream.destroyed && !stream.writableEnded && stream.headersSent) stream.end();
    });
    req.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('data', (chunk: Buffer) => req.write(chunk));
    stream.on('end', () => req.end());
    stream.on('close', () => {
      if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.on('error', () => undefined);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    calls,
    tlsErrors,
    async stop() {
      for (const s of sessions) s.destroy();
      upstream?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
