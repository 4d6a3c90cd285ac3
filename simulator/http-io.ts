import { request as httpRequest, type Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { SimResponse } from './protocol';

/**
 * The simulator's HTTP plumbing: reading a request body, passing a request to moto unchanged, and
 * writing an answer. Bodies are buffered whole: AWS API payloads are small, and behaviours and the
 * record need the parsed body.
 */

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** An error answered with its status (anything else is a 502). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Sends the request to moto as it came (method, path, headers, body) and buffers moto's answer. */
export function forwardToMoto(motoUrl: URL, agent: Agent, req: IncomingMessage, body: Buffer): Promise<SimResponse> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      {
        protocol: motoUrl.protocol,
        hostname: motoUrl.hostname,
        port: motoUrl.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('error', reject);
        up.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(up.headers)) {
            if (v === undefined || k === 'transfer-encoding' || k === 'connection' || k === 'keep-alive' || k === 'content-length') continue;
            headers[k] = Array.isArray(v) ? v.join(', ') : v;
          }
          resolve({ status: up.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
        });
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

export function sendResponse(res: ServerResponse, response: SimResponse): void {
  res.writeHead(response.status, { ...response.headers, 'content-length': String(response.body.length) });
  res.end(response.body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
