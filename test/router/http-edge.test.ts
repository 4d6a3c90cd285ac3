import { connect, type Socket } from 'node:net';
import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectDevServer } from '../harness/temporal';
import { createTestWorld } from './fixtures';
import { metricValue, startTestRouter, TEST_TOKEN, type TestRouter } from './router-harness';

/**
 * The HTTP edge against clients that misbehave at the socket level: slow headers, slow bodies,
 * unauthenticated bodies, idle connections, and the 503 a sender gets while Temporal is away. Raw
 * sockets, because fetch cannot send a request slowly. Timeouts are shortened here (router/http.ts
 * has the production ones: headers 5 s, request 15 s, keep-alive 5 s).
 */

let env: TestWorkflowEnvironment;
let router: TestRouter;
const world = createTestWorld();
const deadConnections: Connection[] = [];
const TIMEOUTS = { headersMs: 1_000, requestMs: 2_000, keepAliveMs: 1_000, idleSocketMs: 10_000 };

beforeAll(async () => {
  env = await connectDevServer();
  router = await startTestRouter(world, env.connection, { httpTimeouts: TIMEOUTS });
});
afterAll(async () => {
  await router?.stop();
  await Promise.all(deadConnections.map((c) => c.close()));
  await env?.teardown();
});

interface RawClient {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves with the time (ms after open) the server closed the connection. */
  closed: Promise<number>;
}

function open(): Promise<RawClient> {
  const { port } = new URL(router.url);
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    const socket = connect(Number(port), '127.0.0.1');
    let data = '';
    socket.on('data', (d) => (data += String(d)));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - opened)));
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

const event = JSON.stringify(world.event('spot-interruption-warning'));
const head = (extra: string[] = [], body = event) =>
  ['POST /events HTTP/1.1', 'Host: router', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, ...extra, '', ''].join('\r\n');

describe('the HTTP edge', () => {
  it('a client that sends its headers too slowly gets 408 and is cut off, however long it keeps trickling', async () => {
    const c = await open();
    const trickle = setInterval(() => c.socket.write('X-Slow: 1\r\n'), 200);
    c.socket.write('POST /events HTTP/1.1\r\nHost: router\r\n');
    try {
      const closedAfter = await c.closed;
      expect(closedAfter).toBeGreaterThanOrEqual(TIMEOUTS.headersMs - 100);
      expect(closedAfter).toBeLessThan(TIMEOUTS.headersMs + 2_000);
      expect(c.received()).toMatch(/^HTTP\/1.1 408 Request Timeout\r\n/);
      expect(c.received()).toContain('{"error":"request timeout: headers must arrive within 1 s and the whole request within 2 s"}');
    } finally {
      clearInterval(trickle);
    }
  });

  it('an authenticated client that sends its body one byte at a time gets 408 at the request deadline', async () => {
    const before = await metricValue(router, 'fleetops_router_events_invalid_total', { reason: 'timeout', transport: 'http' });
    const c = await open();
    c.socket.write(head([`Authorization: Bearer ${TEST_TOKEN}`]));
    let sent = 0;
    const trickle = setInterval(() => c.socket.write(event[sent++] ?? ' '), 300);
    try {
      const closedAfter = await c.closed;
      expect(closedAfter).toBeLessThan(TIMEOUTS.requestMs + 2_000);
      expect(c.received()).toMatch(/^HTTP\/1.1 408 /);
      expect(sent).toBeLessThan(event.length);
      expect(await metricValue(router, 'fleetops_router_events_invalid_total', { reason: 'timeout', transport: 'http' })).toBe(before + 1);
    } finally {
      clearInterval(trickle);
    }
  });

  it('an unauthenticated request is answered 401 at once and its connection closed: the body is never waited for', async () => {
    const c = await open();
    c.socket.write(head(['Authorization: Bearer not-the-token-xxxxxxxxxxxx'], 'x'.repeat(100_000)));
    // Not a byte of the 100 kB body is sent.
    const closedAfter = await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1.1 401 Unauthorized\r\n/);
    expect(c.received().toLowerCase()).toContain('connection: close');
    expect(closedAfter).toBeLessThan(TIMEOUTS.headersMs);
  });

  it('closes a keep-alive connection that stays idle', async () => {
    const c = await open();
    c.socket.write(head([`Authorization: Bearer ${TEST_TOKEN}`]) + event);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (c.received().includes('"results"')) (clearInterval(check), resolve());
      }, 20);
    });
    expect(c.received()).toMatch(/^HTTP\/1.1 202 /);
    const closedAfter = await c.closed;
    expect(closedAfter).toBeLessThan(TIMEOUTS.keepAliveMs + 3_000);
  });

  it('answers 503 within 2 s with Retry-After while Temporal does not answer, with the production deadline', async () => {
    const dead = Connection.lazy({ address: '127.0.0.1:1' });
    deadConnections.push(dead);
    // No callTimeoutMs given: the router's own HTTP deadlines (no answer within 1.5 s: 503).
    const down = await startTestRouter(world, dead);
    try {
      for (const body of [world.event('spot-interruption-warning'), Array.from({ length: 100 }, () => world.event('incident-declared'))]) {
        const t0 = Date.now();
        const res = await fetch(`${down.url}/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const ms = Date.now() - t0;
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('2');
        expect(await res.json()).toEqual({ error: expect.stringContaining('temporal unavailable') });
        expect(ms).toBeLessThan(2_000);
      }
      const t0 = Date.now();
      const ready = await fetch(`${down.url}/readyz`);
      expect([ready.status, ready.headers.get('retry-after')]).toEqual([503, '2']);
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      await down.stop();
    }
  });
});
