import { ApplicationFailure } from '@temporalio/common';
import { WebAPIRateLimitedError } from '@slack/web-api';
import { slackFailure } from '../../activities/chat/client';
import { createNotificationActivities, type Notification } from '../../activities/notifications';
import type { DeployChatFacts } from '../../common/chat';
import type { FleetopsConfig } from '../../config/schema';
import type { SlackStandIn } from '../../stack/slack-stand-in';
import { createTestWorld } from '../../testkit/router/fixtures';
import { hasButtons, said } from './slack-harness';
import { BOT_TOKEN, CHANNELS, PEOPLE, slackSection, startWorkspace, withSlack } from './slack-world';

/**
 * The notification activity's Slack side (activities/chat/) against the Web API stand-in, called as
 * the workflows call it and checked by what the stand-in holds afterwards: the first notification of
 * a run is the thread's root, later ones reply in it and get the thread back; a deploy's gate gets
 * buttons and is rewritten when the gate closes; chat-only lines skip webhooks; what Slack refuses
 * fails the activity the right way (a wrong channel or token for good, a rate limit with Slack's delay).
 */

let standIn: SlackStandIn;
const world = createTestWorld();

beforeAll(async () => {
  standIn = await startWorkspace();
});
afterAll(async () => standIn?.close());

function notifier(overrides: Partial<NonNullable<FleetopsConfig['slack']>> = {}, webhookPosts: string[] = []) {
  const config = withSlack({ ...world.config, notifications: { webhooks: [{ name: 'ops', url: 'http://hooks.example/ops' }] } }, { ...slackSection(standIn), ...overrides });
  return createNotificationActivities({
    aws: undefined as never,
    config,
    // Webhooks are recorded here; Slack calls go to the stand-in.
    fetch: (async (url: string | URL | Request, init?: RequestInit) => {
      if (String(url).startsWith('http://hooks.example/')) {
        webhookPosts.push(String(init?.body));
        return new Response('ok');
      }
      return fetch(url, init);
    }) as typeof fetch,
  });
}

let seq = 0;
const facts = (phase: string, extra: Partial<DeployChatFacts> = {}): DeployChatFacts => ({ phase, cluster: world.cluster, service: 'web', requestedBy: `slack:${PEOPLE.alice}`, ...extra });
const deployNote = (phase: string, extra: Partial<Notification> = {}): Notification => ({
  kind: 'deploy',
  workflowId: `deploy-${world.cluster}-web`,
  title: `deploy ${world.cluster}/web: ${phase}`,
  text: `entered ${phase}`,
  idempotencyKey: `deploy-${world.cluster}-web/run/phase/${++seq}`,
  fields: { revision: 'registry.example/web:2', 'requested by': `slack:${PEOPLE.alice}` },
  deploy: facts(phase),
  ...extra,
});

const message = (ts: string | undefined) => standIn.messages().find((m) => m.ts === ts)!;

describe('posting notifications to Slack', () => {
  test('a deploy: root, replies in its thread, a gate with buttons rewritten with who approved and when', async () => {
    const webhooks: string[] = [];
    const { notify } = notifier({}, webhooks);
    const first = await notify(deployNote('creating-canary'));
    expect(first.sent).toEqual(['ops', 'slack']);
    const thread = first.chat!;
    expect(message(thread.ts)).toMatchObject({ channel: CHANNELS.deploys, metadata: { event_type: 'fleetops_deploy', event_payload: { workflow_id: `deploy-${world.cluster}-web` } } });

    const gated = await notify(
      deployNote('awaiting-approval', { chat: thread, deploy: facts('awaiting-approval', { awaiting: { kind: 'gate', timeoutAt: '2030-01-01T00:00:00.000Z', onTimeout: 'rollback' } }) }),
    );
    expect(gated.chat).toMatchObject({ channel: thread.channel, ts: thread.ts, gateTs: expect.any(String) });
    const gate = message(gated.chat!.gateTs);
    expect(gate).toMatchObject({ thread_ts: thread.ts, reply_broadcast: true });
    expect(hasButtons(gate)).toBe(true);
    expect(said(message(thread.ts))).toContain('Now: *awaiting-approval*');

    const answer = { kind: 'approved' as const, by: `slack:${PEOPLE.bob}`, at: '2030-01-01T00:00:05.000Z' };
    const after = await notify(deployNote('promoting', { chat: gated.chat, deploy: facts('promoting', { answer }) }));
    expect(after.chat).toEqual({ channel: thread.channel, ts: thread.ts });
    expect(hasButtons(message(gate.ts))).toBe(false);
    expect(said(message(gate.ts))).toContain(`Approved* by <@${PEOPLE.bob}> at <!date^${Date.parse(answer.at) / 1000}^`);
    expect(standIn.messages().filter((m) => m.thread_ts === thread.ts).map((m) => (m.text ?? '').split(': ').slice(0, 2).join(': '))).toEqual([
      `deploy ${world.cluster}/web: creating-canary`,
      `Deploy ${world.cluster}/web: gate closed`,
      `deploy ${world.cluster}/web: promoting`,
    ]);
    expect(webhooks).toHaveLength(3);
  });

  test('a retried notification on the same worker posts nothing twice and returns the same thread', async () => {
    const { notify } = notifier();
    const n = deployNote('creating-canary');
    const a = await notify(n);
    const calls = standIn.calls().length;
    const b = await notify(n);
    expect(b.chat).toEqual(a.chat);
    expect(b.skipped).toEqual(['ops']);
    // The Slack steps already made are skipped too: no new Web API call.
    expect(standIn.calls().length).toBe(calls);
  });

  test('an incident: chat-only lines reply in the thread without reaching webhooks; others are broadcast', async () => {
    const webhooks: string[] = [];
    const { notify } = notifier({}, webhooks);
    const base = { kind: 'incident' as const, workflowId: 'incident-x-00000001', fields: { severity: 'sev2' } };
    const root = await notify({ ...base, title: 'sev2 incident opened: x', text: 'No summary yet.', idempotencyKey: 'incident-x/opened' });
    const role = await notify({ ...base, title: 'sev2 x: role change', text: 'incident commander: slack:U0BOB0001', idempotencyKey: 'incident-x/timeline/2', chat: root.chat, chatOnly: true });
    const reminder = await notify({ ...base, title: 'sev2 x: status update due', text: 'post one', idempotencyKey: 'incident-x/status-update/1', chat: root.chat });
    expect(role.sent).toEqual(['slack']);
    expect(webhooks).toHaveLength(2);
    const replies = standIn.messages().filter((m) => m.thread_ts === root.chat!.ts);
    expect(replies.map((m) => [m.text?.split(':')[1]?.trim(), m.reply_broadcast ?? false])).toEqual([
      ['role change', false],
      ['status update due', true],
    ]);
    expect(reminder.chat).toEqual(root.chat);
  });

  test('what Slack refuses fails the activity: a channel it does not know or a wrong token for good, a rate limit after its delay', async () => {
    const wrongChannel = notifier({ channels: { deploys: 'C0NOWHERE' } }).notify(deployNote('creating-canary'));
    await expect(wrongChannel).rejects.toMatchObject({ message: 'Slack chat.postMessage (thread root): channel_not_found', nonRetryable: true, type: 'InvalidRequest' });
    const wrongToken = notifier({ botToken: `${BOT_TOKEN}-revoked` }).notify(deployNote('creating-canary'));
    await expect(wrongToken).rejects.toMatchObject({ message: 'Slack chat.postMessage (thread root): invalid_auth', nonRetryable: true });
    const limited = slackFailure(new WebAPIRateLimitedError(30), 'chat.postMessage');
    expect(limited).toBeInstanceOf(ApplicationFailure);
    expect(limited).toMatchObject({ nonRetryable: false, type: 'AwsThrottled', nextRetryDelay: '30s' });
    // Every refusal is on the stand-in's record, with Slack's error code.
    expect(standIn.calls().filter((c) => !c.ok).map((c) => c.error)).toEqual(['channel_not_found', 'invalid_auth']);
  });
});
