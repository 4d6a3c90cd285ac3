import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';

/**
 * Where the demo config's webhook points: a receiver inside the stack process that appends each
 * notification to a log file and prints its headline, so the demo's notifications are visible
 * without sending anything off the machine.
 */
export interface WebhookSink {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 256 * 1024;

export async function startWebhookSink(opts: { host: string; logFile: string; print: (line: string) => void }): Promise<WebhookSink> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      let text = body;
      try {
        text = String((JSON.parse(body) as { text?: unknown }).text ?? body);
      } catch {
        // Not JSON: logged as received.
      }
      appendFileSync(
        opts.logFile,
        `${JSON.stringify({ time: new Date().toISOString(), path: req.url, idempotencyKey: req.headers['idempotency-key'], text })}\n`,
      );
      opts.print(`[notify] ${text.split('\n')[0]?.replace(/\*/g, '') ?? ''}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://${opts.host}:${port}/hooks/ops`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
