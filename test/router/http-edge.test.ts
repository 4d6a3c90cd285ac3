import { connect, type Socket } from 'node:net';
import { Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SlackConfig } from '../../config/schema';
import { signed, slashCommandBody } from '../../stack/slack-requests';
import { until } from '../../testkit/poll';
import { connectDevServer } from '../harness/temporal';
import { createTestWorld } from '../../testkit/router/fixtures';
import { ALL_SCOPES_TEST_TOKEN, AWS_EVENTS_TEST_TOKEN, bearer, metricValue, startTestRouter, type TestRouter } from '../../testkit/router/router-harness';

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

function open(to: TestRouter = router): Promise<RawClient> {
  const { port } = new URL(to.url);
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
    c.socket.write(head([`Authorization: Bearer ${AWS_EVENTS_TEST_TOKEN}`]));
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
    c.socket.write(head([`Authorization: Bearer ${AWS_EVENTS_TEST_TOKEN}`]) + event);
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
          headers: { authorization: `Bearer ${ALL_SCOPES_TEST_TOKEN}`, 'content-type': 'application/json' },
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

describe('requests in flight', () => {
  it('over the limit a request is answered 503 at once with Retry-After, its body unread, and starts nothing', async () => {
    const one = await startTestRouter(world, env.connection, { httpLimits: { maxRequestsInFlight: 1 } });
    try {
      // Holds the one place: headers sent, the body not yet.
      const held = await open(one);
      const heldEvent = world.event('spot-interruption-warning');
      const heldBody = JSON.stringify(heldEvent);
      held.socket.write(head([`Authorization: Bearer ${AWS_EVENTS_TEST_TOKEN}`], heldBody));
      // Until the held request has its place: a probe that would be a 400 if let in is a 503 instead.
      await until('the held request takes the place', async () => (await one.post('{', bearer(AWS_EVENTS_TEST_TOKEN))).status === 503);

      const e = world.event('spot-interruption-warning');
      const t0 = Date.now();
      const res = await one.post(e, bearer(AWS_EVENTS_TEST_TOKEN));
      expect(Date.now() - t0).toBeLessThan(500);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
      expect(res.body).toEqual({ error: 'busy: 1 requests are being worked on; retry later' });
      await expect(env.client.workflow.getHandle(`drain-${e.detail['instance-id'] as string}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      expect(await metricValue(one, 'fleetops_router_events_received_total')).toBe(0);
      // Unauthenticated requests are 401 before they are counted against the limit.
      expect((await one.post(e, bearer('not-a-token-not-a-token'))).status).toBe(401);

      // The held request finishes; its place is free again.
      held.socket.write(heldBody);
      await until('the held request answered', () => held.received().includes('"results"'));
      expect(held.received()).toMatch(/^HTTP\/1.1 202 /);
      expect((await one.post(e, bearer(AWS_EVENTS_TEST_TOKEN))).body.results[0]).toMatchObject({ action: 'started' });
      held.socket.destroy();
    } finally {
      await one.stop();
    }
  });

  it('a client that goes away mid-body gives its place back', async () => {
    const one = await startTestRouter(world, env.connection, { httpLimits: { maxRequestsInFlight: 1 } });
    try {
      const gone = await open(one);
      gone.socket.write(head([`Authorization: Bearer ${AWS_EVENTS_TEST_TOKEN}`]));
      await until('the request takes the place', async () => (await one.post('{', bearer(AWS_EVENTS_TEST_TOKEN))).status === 503);
      gone.socket.destroy();
      await until('the place is free', async () => (await one.post('{', bearer(AWS_EVENTS_TEST_TOKEN))).status === 400);
    } finally {
      await one.stop();
    }
  });
});

describe('the public and the internal listener', () => {
  const SECRET = 'listener-test-signing-secret-0123456789';
  const slack: SlackConfig = { signingSecret: SECRET, teamId: 'T0FLEETOPS', apiUrl: 'http://127.0.0.1:1/api/', channels: {}, approvers: {}, deployers: {}, responders: { users: [], groups: [] } };
  let split: TestRouter;
  beforeAll(async () => {
    split = await startTestRouter({ ...world, config: { ...world.config, slack } }, env.connection, { separateSlackListener: true });
  });
  afterAll(async () => {
    await split?.stop();
  });

  const helpCommand = () => signed(SECRET, slashCommandBody({ text: 'help', userId: 'U0LISTEN1', channelId: 'C0LISTEN1', responseUrl: 'http://127.0.0.1:1/response' }), 'application/x-www-form-urlencoded');

  it('the Slack listener serves /slack/* only: no /events, /metrics, /healthz or /readyz there', async () => {
    const base = split.slackUrl!;
    expect(base).toBeDefined();
    const e = world.event('spot-interruption-warning');
    const answers = await Promise.all([
      fetch(`${base}/events`, { method: 'POST', headers: { ...bearer(ALL_SCOPES_TEST_TOKEN), 'content-type': 'application/json' }, body: JSON.stringify(e) }),
      fetch(`${base}/metrics`),
      fetch(`${base}/healthz`),
      fetch(`${base}/readyz`),
    ]);
    expect(answers.map((r) => r.status)).toEqual([404, 404, 404, 404]);
    await expect(env.client.workflow.getHandle(`drain-${e.detail['instance-id'] as string}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    // A signed Slack request is served there; an unsigned one is refused there.
    const req = helpCommand();
    expect((await fetch(`${base}/slack/events`, { method: 'POST', headers: req.headers, body: req.body })).status).toBe(200);
    expect((await fetch(`${base}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: req.body })).status).toBe(401);
  });

  it('the internal listener serves no /slack/* when Slack has its own', async () => {
    const req = helpCommand();
    expect((await fetch(`${split.url}/slack/events`, { method: 'POST', headers: req.headers, body: req.body })).status).toBe(404);
    expect((await split.get('/healthz')).status).toBe(200);
    expect((await split.get('/metrics')).status).toBe(200);
  });
});

describe('/readyz', () => {
  it('makes at most one Temporal call a second under a burst of probes', async () => {
    const probed = await startTestRouter(world, env.connection);
    const calls = jest.spyOn(env.connection.workflowService, 'getSystemInfo');
    try {
      const burst = await Promise.all(Array.from({ length: 200 }, () => probed.get('/readyz')));
      expect(new Set(burst.map((r) => r.status))).toEqual(new Set([200]));
      expect(calls).toHaveBeenCalledTimes(1);
      // Probes every 50 ms for 2.5 s: one call per second at most (one more for a second boundary).
      const t0 = Date.now();
      while (Date.now() - t0 < 2_500) {
        await Promise.all(Array.from({ length: 10 }, () => probed.get('/readyz')));
        await new Promise((r) => setTimeout(r, 50));
      }
      const seconds = (Date.now() - t0) / 1000;
      expect(calls.mock.calls.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
      expect(calls.mock.calls.length).toBeGreaterThanOrEqual(2);
    } finally {
      calls.mockRestore();
      await probed.stop();
    }
  });

  it('answers a fixed message when Temporal does not answer: the reason goes to the log only', async () => {
    const dead = Connection.lazy({ address: '127.0.0.1:1' });
    deadConnections.push(dead);
    const down = await startTestRouter(world, dead);
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${down.url}/readyz`).then(async (r) => ({ status: r.status, text: await r.text() }))));
      for (const a of answers) expect(a).toEqual({ status: 503, text: '{"error":"not ready: Temporal does not answer"}' });
      const warnings = down.logs.filter((l) => l.includes('not ready: Temporal does not answer'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/"err":"[^"]+"/);
    } finally {
      await down.stop();
    }
  });
});
