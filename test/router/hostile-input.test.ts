import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectDevServer } from '../harness/temporal';
import { createTestWorld } from '../../testkit/router/fixtures';
import { ALL_SCOPES_TEST_TOKEN, AWS_EVENTS_TEST_TOKEN, metricValue, startTestRouter, TEST_TOKEN, type TestRouter } from '../../testkit/router/router-harness';

/**
 * Malformed and hostile requests: each gets its status and a `{"error"}` body naming what is wrong,
 * each is counted, and the router keeps serving.
 */
let env: TestWorkflowEnvironment;
let router: TestRouter;
const world = createTestWorld();

beforeAll(async () => {
  env = await connectDevServer();
  router = await startTestRouter(world, env.connection);
});
afterAll(async () => {
  await router?.stop();
  await env?.teardown();
});

/** A token with every scope: these cases are about the request, not what its token may do (those are below). */
const auth = { authorization: `Bearer ${ALL_SCOPES_TEST_TOKEN}` };
const json = { 'content-type': 'application/json' };
const good = () => world.event('spot-interruption-warning');
const withField = (field: string, value: unknown) => JSON.stringify({ ...good(), [field]: value });
const withDetail = (field: string, value: unknown) => {
  const e = good();
  e.detail[field] = value;
  return JSON.stringify(e);
};
const deeplyNested = '['.repeat(50_000) + ']'.repeat(50_000);
/** FLEETOPS_ROUTER_TOKEN's part (`default`: deploy and incident) and the stack's aws-events token. */
const defaultToken = { ...json, authorization: `Bearer ${TEST_TOKEN}` };
const awsToken = { ...json, authorization: `Bearer ${AWS_EVENTS_TEST_TOKEN}` };
const forced = () => {
  const e = world.event('deploy-requested');
  e.detail.force = true;
  return e;
};

interface Case {
  name: string;
  headers: Record<string, string>;
  body: string | Buffer;
  status: 400 | 401 | 403 | 413;
  error: RegExp;
  reason: string;
}

const cases: Case[] = [
  { name: 'no Authorization header', headers: json, body: JSON.stringify(good()), status: 401, error: /bearer token/, reason: 'auth' },
  { name: 'wrong token', headers: { ...json, authorization: 'Bearer not-the-token-at-all-xxxxxx' }, body: JSON.stringify(good()), status: 401, error: /bearer token/, reason: 'auth' },
  { name: 'token with one extra character', headers: { ...json, authorization: `Bearer ${ALL_SCOPES_TEST_TOKEN}x` }, body: JSON.stringify(good()), status: 401, error: /bearer token/, reason: 'auth' },
  { name: 'token prefix only', headers: { ...json, authorization: `Bearer ${ALL_SCOPES_TEST_TOKEN.slice(0, 10)}` }, body: JSON.stringify(good()), status: 401, error: /bearer token/, reason: 'auth' },
  { name: 'Basic scheme carrying the token', headers: { ...json, authorization: `Basic ${ALL_SCOPES_TEST_TOKEN}` }, body: JSON.stringify(good()), status: 401, error: /bearer token/, reason: 'auth' },
  { name: 'Bearer without a token', headers: { ...json, authorization: 'Bearer ' }, body: JSON.stringify(good()), status: 401, error: /bearer token/, reason: 'auth' },
  { name: 'content-type text/plain', headers: { ...auth, 'content-type': 'text/plain' }, body: JSON.stringify(good()), status: 400, error: /^content-type: must be application\/json/, reason: 'content_type' },
  { name: 'form-encoded body', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1', status: 400, error: /^content-type:/, reason: 'content_type' },
  { name: 'no content-type', headers: auth, body: Buffer.from(JSON.stringify(good())), status: 400, error: /^content-type:/, reason: 'content_type' },
  { name: 'truncated JSON', headers: { ...auth, ...json }, body: '{"version": "0", "id":', status: 400, error: /^body: not valid JSON/, reason: 'json' },
  { name: 'empty body', headers: { ...auth, ...json }, body: '', status: 400, error: /^body: not valid JSON/, reason: 'json' },
  { name: 'invalid UTF-8 bytes', headers: { ...auth, ...json }, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), status: 400, error: /^body: not valid JSON/, reason: 'json' },
  { name: '__proto__ pollution attempt', headers: { ...auth, ...json }, body: '{"__proto__": {"polluted": true}, "version": "0"}', status: 400, error: /^body: not valid JSON/, reason: 'json' },
  { name: 'a JSON number', headers: { ...auth, ...json }, body: '42', status: 400, error: /^body: must be an EventBridge event/, reason: 'validation' },
  { name: 'JSON null', headers: { ...auth, ...json }, body: 'null', status: 400, error: /^body: must be an EventBridge event/, reason: 'validation' },
  { name: 'empty array', headers: { ...auth, ...json }, body: '[]', status: 400, error: /^events: the array is empty/, reason: 'validation' },
  { name: 'array of 101 events', headers: { ...auth, ...json }, body: JSON.stringify(Array.from({ length: 101 }, good)), status: 400, error: /^events: at most 100 events per request \(got 101\)/, reason: 'validation' },
  { name: 'missing detail', headers: { ...auth, ...json }, body: withField('detail', undefined), status: 400, error: /^detail: /, reason: 'validation' },
  { name: 'detail is a string', headers: { ...auth, ...json }, body: withField('detail', 'i-1234567890abcdef0'), status: 400, error: /^detail: /, reason: 'validation' },
  { name: 'time is a number', headers: { ...auth, ...json }, body: withField('time', 1714564800), status: 400, error: /^time: /, reason: 'validation' },
  { name: 'time is not a timestamp', headers: { ...auth, ...json }, body: withField('time', '2024-13-45 25:00'), status: 400, error: /^time: must be an ISO 8601 timestamp/, reason: 'validation' },
  { name: 'event id with path characters', headers: { ...auth, ...json }, body: withField('id', '../../etc/passwd'), status: 400, error: /^id: must be an event id/, reason: 'validation' },
  { name: 'a 512 KiB detail-type', headers: { ...auth, ...json }, body: withField('detail-type', 'x'.repeat(512 * 1024)), status: 400, error: /^detail-type: /, reason: 'validation' },
  { name: 'instance id in the wrong format', headers: { ...auth, ...json }, body: withDetail('instance-id', 'i-; rm -rf /'), status: 400, error: /^detail\.instance-id: must be an EC2 instance id/, reason: 'validation' },
  {
    name: 'bad event at index 3 of a batch',
    headers: { ...auth, ...json },
    body: `[${[good(), good(), good()].map((e) => JSON.stringify(e)).join(',')},${withDetail('instance-id', 42)}]`,
    status: 400,
    error: /^events\[3\]\.detail\.instance-id: /,
    reason: 'validation',
  },
  { name: 'Deploy Requested for a service the config does not have', headers: { ...auth, ...json }, body: JSON.stringify({ ...world.event('deploy-requested'), detail: { cluster: world.cluster, service: 'ghost', image: 'x:1' } }), status: 400, error: /^detail\.service: no service "ghost"/, reason: 'validation' },
  { name: '50,000 levels of nesting', headers: { ...auth, ...json }, body: deeplyNested, status: 400, error: /^events\[0\]: /, reason: 'validation' },
  // What a token may not do: refused whole, before anything is dispatched (the last test checks nothing was).
  { name: 'default token: a spot interruption warning', headers: defaultToken, body: JSON.stringify(good()), status: 403, error: /^aws\.ec2 \/ EC2 Spot Instance Interruption Warning: token "default" lacks the aws-events scope$/, reason: 'forbidden' },
  { name: 'default token: a scale-in alarm', headers: defaultToken, body: JSON.stringify(world.event('alarm-state-change', { alarmName: world.alarms.scaleIn })), status: 403, error: /lacks the aws-events scope/, reason: 'forbidden' },
  { name: 'default token: an AWS Health event', headers: defaultToken, body: JSON.stringify(world.event('health-event')), status: 403, error: /lacks the aws-events scope/, reason: 'forbidden' },
  { name: 'default token: an AWS source the router does not route', headers: defaultToken, body: JSON.stringify({ ...good(), source: 'aws.s3', 'detail-type': 'Object Created' }), status: 403, error: /lacks the aws-events scope/, reason: 'forbidden' },
  { name: 'default token: an AWS source in capitals', headers: defaultToken, body: JSON.stringify({ ...good(), source: 'AWS.ec2' }), status: 403, error: /lacks the aws-events scope/, reason: 'forbidden' },
  { name: 'default token: a forced deploy', headers: defaultToken, body: JSON.stringify(forced()), status: 403, error: /^fleetops \/ Deploy Requested: token "default" lacks the force scope$/, reason: 'forbidden' },
  { name: 'default token: an incident, then a spot warning in one batch', headers: defaultToken, body: JSON.stringify([world.event('incident-declared'), good()]), status: 403, error: /^events\[1\] \(aws\.ec2 \/ EC2 Spot Instance Interruption Warning\): token "default" lacks the aws-events scope$/, reason: 'forbidden' },
  { name: 'default token: a deploy, then a forced one in one batch', headers: defaultToken, body: JSON.stringify([world.event('deploy-requested'), forced()]), status: 403, error: /^events\[1\] .*lacks the force scope$/, reason: 'forbidden' },
  { name: 'aws-events token: Incident Declared', headers: awsToken, body: JSON.stringify(world.event('incident-declared')), status: 403, error: /token "aws-events" lacks the incident scope/, reason: 'forbidden' },
  { name: 'aws-events token: Deploy Requested', headers: awsToken, body: JSON.stringify(world.event('deploy-requested')), status: 403, error: /token "aws-events" lacks the deploy scope/, reason: 'forbidden' },
  { name: 'aws-events token: 99 spot warnings and a forced deploy last', headers: awsToken, body: JSON.stringify([...Array.from({ length: 99 }, good), forced()]), status: 403, error: /^events\[99\] .*lacks the deploy scope$/, reason: 'forbidden' },
  { name: 'body over 1 MiB', headers: { ...auth, ...json }, body: JSON.stringify({ ...good(), padding: 'x'.repeat(1024 * 1024) }), status: 413, error: /^body: larger than 1048576 bytes/, reason: 'too_large' },
];

describe('malformed and hostile input', () => {
  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)('$name → $status', async ({ headers, body, status, error, reason }) => {
    const before = await metricValue(router, 'fleetops_router_events_invalid_total', { reason, transport: 'http' });
    const res = await fetch(`${router.url}/events`, { method: 'POST', headers, body });
    expect(res.status).toBe(status);
    const payload = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(payload)).toEqual(['error']);
    expect(payload.error).toMatch(error);
    expect(await metricValue(router, 'fleetops_router_events_invalid_total', { reason, transport: 'http' })).toBe(before + 1);
    expect((await router.get('/healthz')).status).toBe(200);
  });

  it('still accepts a good event afterwards, and started nothing for the rejected ones', async () => {
    const res = await router.post(good());
    expect(res.status).toBe(202);
    expect(res.body.results[0].action).toBe('started');
    expect(await metricValue(router, 'fleetops_router_events_routed_total')).toBe(1);
  });
});
