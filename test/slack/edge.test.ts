import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { signed, slackSignature, slashCommandBody } from '../../stack/slack-requests';
import { APPROVE_ACTION_ID } from '../../common/slack/ids';
import type { SlackStandIn, StoredMessage } from '../../stack/slack-stand-in';
import { until } from '../../testkit/poll';
import { connectDevServer } from '../harness/temporal';
import { createTestWorld } from '../../testkit/router/fixtures';
import { startTestRouter, type TestRouter } from '../../testkit/router/router-harness';
import { CHANNELS, OTHER_TEAM, PEOPLE, SIGNING_SECRET, slackSection, slackUser, startWorkspace, waitForSlack, withSlack } from './slack-world';

/**
 * The Slack app's edge (POST /slack/events): Slack's v0 signature is checked before anything else.
 * A tampered, unsigned, wrongly signed or stale request gets 401 and changes nothing: no workflow
 * starts, nothing is posted. A signed one is acknowledged well inside Slack's three seconds. A signed
 * request from another workspace is acknowledged and does nothing; a stranger's deploy and a status
 * of another application's workflow are refused to the asker only, with nothing started or read.
 */

let env: TestWorkflowEnvironment;
let standIn: SlackStandIn;
let router: TestRouter;
const world = createTestWorld();

beforeAll(async () => {
  env = await connectDevServer();
  standIn = await startWorkspace();
  // Alice may deploy web (slack-world's deployers follow the approvers' services); Bob approves.
  const slack = slackSection(standIn, { [`${world.cluster}/web`]: { users: [PEOPLE.bob], groups: [] } });
  router = await startTestRouter({ ...world, config: withSlack(world.config, slack) }, env.connection);
});

afterAll(async () => {
  await router?.stop();
  await standIn?.close();
  await env?.teardown();
});

const FORM = 'application/x-www-form-urlencoded';

async function send(headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${router.url}/slack/events`, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

function deployCommand(userId: string = PEOPLE.alice): string {
  return slashCommandBody({ text: `deploy ${world.cluster}/web registry.example/web:${randomBytes(3).toString('hex')}`, userId, channelId: CHANNELS.ops, responseUrl: standIn.responseUrl(CHANNELS.ops, userId) });
}

async function deployStarted(): Promise<boolean> {
  try {
    await env.client.workflow.getHandle(`deploy-${world.cluster}-web`).describe();
    return true;
  } catch {
    return false;
  }
}

describe('Slack request signatures at POST /slack/events', () => {
  test('a signed command is acknowledged within three seconds and answered through its response_url', async () => {
    const r = await slackUser(standIn, router.url, PEOPLE.alice).command('help');
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    const answer = await waitForSlack(standIn, (ms) => ms.find((m) => m.via === 'response_url' && m.text?.includes('/fleetops deploy <service> <image>')), 'the help answer');
    expect(answer.ephemeralTo).toBe(PEOPLE.alice);
  });

  test.each<[string, (body: string) => { headers: Record<string, string>; body: string }]>([
    ['a body changed after signing', (body) => ({ ...signed(SIGNING_SECRET, body, FORM), body: body.replace('deploy', 'deplot') })],
    ['a signature made with another secret', (body) => signed('not-the-signing-secret', body, FORM)],
    ['no signature headers', (body) => ({ headers: { 'content-type': FORM }, body })],
    ['a signature without its timestamp', (body) => {
      const s = signed(SIGNING_SECRET, body, FORM);
      delete s.headers['x-slack-request-timestamp'];
      return s;
    }],
    ['a stale timestamp (six minutes old), correctly signed', (body) => signed(SIGNING_SECRET, body, FORM, Date.now() - 6 * 60_000)],
    ['a timestamp six minutes ahead, correctly signed', (body) => signed(SIGNING_SECRET, body, FORM, Date.now() + 6 * 60_000)],
    ['a v1 signature', (body) => {
      const s = signed(SIGNING_SECRET, body, FORM);
      s.headers['x-slack-signature'] = s.headers['x-slack-signature']!.replace('v0=', 'v1=');
      return s;
    }],
  ])('%s gets 401 and changes nothing', async (_name, make) => {
    const callsBefore = standIn.calls().length;
    const rejections = () => router.logs.filter((l) => /slack request rejected before reading its body|Failed to parse and verify the request data/.test(l)).length;
    const rejectedBefore = rejections();
    const req = make(deployCommand());
    const r = await send(req.headers, req.body);
    expect(r.status).toBe(401);
    // Nothing was started and nothing was posted, also a while later.
    await new Promise((res) => setTimeout(res, 500));
    expect(await deployStarted()).toBe(false);
    expect(standIn.calls().length).toBe(callsBefore);
    // Refused either before the body was read (headers) or by Bolt's HMAC check, and logged once.
    expect(rejections()).toBe(rejectedBefore + 1);
  });

  test("Slack's URL verification is answered only when signed", async () => {
    const body = JSON.stringify({ token: 'x', challenge: 'challenge-0123', type: 'url_verification' });
    const ok = await send(signed(SIGNING_SECRET, body, 'application/json').headers, body);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('challenge-0123');
    const forged = await send({ 'content-type': 'application/json', 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)), 'x-slack-signature': slackSignature('wrong', '1', body) }, body);
    expect(forged.status).toBe(401);
  });

  test('the events API bearer token does not open the Slack endpoint, nor the Slack signature the events API', async () => {
    const req = signed(SIGNING_SECRET, deployCommand(), FORM);
    const events = await fetch(`${router.url}/events`, { method: 'POST', headers: { ...req.headers, 'content-type': 'application/json' }, body: '{}' });
    expect(events.status).toBe(401);
    const slack = await send({ authorization: 'Bearer router-test-token-0123456789abcdef', 'content-type': FORM }, deployCommand());
    expect(slack.status).toBe(401);
    expect(await deployStarted()).toBe(false);
  });
});

describe('who may ask the Slack app for what', () => {
  const foreignRefusals = () => router.logs.filter((l) => l.includes('slack: request from another workspace refused')).length;

  test("another workspace's signed requests (a deploy by a deployer's id, a gate click, a thread mention) are acknowledged and do nothing", async () => {
    const stranger = slackUser(standIn, router.url, PEOPLE.alice, OTHER_TEAM);
    const callsBefore = standIn.calls().length;
    const messagesBefore = standIn.messages().length;
    const refusedBefore = foreignRefusals();
    const gate = {
      channel: CHANNELS.deploys,
      ts: '1700000000.000100',
      blocks: [{ type: 'actions', elements: [{ action_id: APPROVE_ACTION_ID, value: JSON.stringify({ workflowId: `deploy-${world.cluster}-web` }) }] }],
      via: 'chat.postMessage',
    } as StoredMessage;
    expect((await stranger.command(`deploy ${world.cluster}/web registry.example/web:${randomBytes(3).toString('hex')}`)).status).toBe(200);
    expect((await stranger.click(gate, APPROVE_ACTION_ID)).status).toBe(200);
    expect((await stranger.mention('resolve all good', '1700000000.000001')).status).toBe(200);
    await until('three refusals logged', () => foreignRefusals() === refusedBefore + 3);
    expect(await deployStarted()).toBe(false);
    // Not a single Web API call or response_url post: not even a refusal goes back to another workspace.
    expect(standIn.calls().length).toBe(callsBefore);
    expect(standIn.messages().length).toBe(messagesBefore);
  });

  test("a stranger's /fleetops deploy is refused to them only; no deploy starts", async () => {
    const before = standIn.messages().length;
    const r = await slackUser(standIn, router.url, PEOPLE.mallory).command(`deploy ${world.cluster}/web registry.example/web:evil`);
    expect(r.status).toBe(200);
    const refusal = await waitForSlack(standIn, (ms) => ms.slice(before).find((m) => m.via === 'response_url'), 'the refusal');
    expect(refusal.ephemeralTo).toBe(PEOPLE.mallory);
    expect(refusal.text).toContain(`you are not a deployer of ${world.cluster}/web`);
    expect(await deployStarted()).toBe(false);
    expect(standIn.messages().slice(before)).toEqual([refusal]);
    expect(standIn.calls().filter((c) => c.method === 'chat.postMessage')).toEqual([]);
  });

  test("status of another application's workflow, or of a deploy of a service fleetops does not have, is refused without asking Temporal", async () => {
    const foreign = await env.client.workflow.start('paymentsBatch', { workflowId: `payments-batch-${randomBytes(3).toString('hex')}`, taskQueue: `unpolled-${randomBytes(3).toString('hex')}` });
    try {
      for (const target of [foreign.workflowId, 'deploy-elsewhere-web']) {
        const before = standIn.messages().length;
        await slackUser(standIn, router.url, PEOPLE.mallory).command(`status ${target}`);
        const answer = await waitForSlack(standIn, (ms) => ms.slice(before).find((m) => m.via === 'response_url'), 'the refusal');
        expect(answer.ephemeralTo).toBe(PEOPLE.mallory);
        expect(answer.text).toContain(`\`${target}\` is not a fleetops workflow id`);
        // Nothing of the workflow leaks: neither its type nor its state.
        expect(answer.text).not.toMatch(/paymentsBatch|running/);
        expect(standIn.messages().slice(before)).toEqual([answer]);
      }
      expect((await foreign.describe()).status.name).toBe('RUNNING');
    } finally {
      await foreign.terminate('test over');
    }
  });
});
