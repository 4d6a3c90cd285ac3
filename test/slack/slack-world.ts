import { randomBytes } from 'node:crypto';
import type { FleetopsConfig, SlackConfig } from '../../config/schema';
import { appMentionBody, blockActionsBody, signed, slashCommandBody, TEAM, type Workspace } from '../../stack/slack-requests';
import { startSlackStandIn, type SlackStandIn, type StoredMessage } from '../../stack/slack-stand-in';
import { until } from '../../testkit/poll';

/**
 * A Slack workspace for tests: the Web API stand-in (stack/slack-stand-in.ts) with a deploys and an
 * incidents channel, people and a user group, and the requests Slack would send the router for them,
 * signed with the app's signing secret.
 */

export const SIGNING_SECRET = `test-signing-secret-${randomBytes(8).toString('hex')}`;
export const BOT_TOKEN = `xoxb-test-${randomBytes(8).toString('hex')}`;
export const PEOPLE = { alice: 'U0ALICE01', bob: 'U0BOB0001', carol: 'U0CAROL01', mallory: 'U0MALLORY' } as const;
export const CHANNELS = { deploys: 'C0DEPLOYS', incidents: 'C0INCIDENT', ops: 'C0OPS0001' } as const;
/** Carol approves as a member of this group; Bob is named directly. */
export const APPROVER_GROUP = 'S0RELEASE';

/** Another app installed in the workspace (its own bot), and Mallory's user token: both can post messages with metadata. */
export const OTHER_APP = { token: `xoxb-other-${randomBytes(8).toString('hex')}`, userId: 'U0OTHERBOT', botId: 'B0OTHERBOT', appId: 'A0OTHERAPP' };
export const MALLORY_TOKEN = `xoxp-mallory-${randomBytes(8).toString('hex')}`;

export async function startWorkspace(): Promise<SlackStandIn> {
  const members = Object.values(PEOPLE);
  return startSlackStandIn({
    botToken: BOT_TOKEN,
    channels: { [CHANNELS.deploys]: { members }, [CHANNELS.incidents]: { members }, [CHANNELS.ops]: { members } },
    usergroups: { [APPROVER_GROUP]: [PEOPLE.carol] },
    otherTokens: [OTHER_APP, { token: MALLORY_TOKEN, userId: PEOPLE.mallory }],
  });
}

type Lists = Record<string, { users: string[]; groups: string[] }>;

/** Responders in every test workspace unless a test says otherwise: Alice by name, and the approver group (Carol). */
export const RESPONDERS = { users: [PEOPLE.alice], groups: [APPROVER_GROUP] };

/**
 * The `slack` section as the config loader produces it, pointed at the stand-in. Deployers default
 * to the approvers' services with Alice as their deployer (she deploys, Bob and Carol approve).
 */
export function slackSection(standIn: SlackStandIn, approvers: Lists = {}, extra: Partial<Pick<SlackConfig, 'deployers' | 'responders' | 'enterpriseId'>> = {}): SlackConfig {
  const deployers = Object.fromEntries(Object.keys(approvers).map((k) => [k, { users: [PEOPLE.alice], groups: [] }]));
  return {
    signingSecret: SIGNING_SECRET,
    botToken: BOT_TOKEN,
    teamId: TEAM.id,
    apiUrl: standIn.apiUrl,
    channels: { deploys: CHANNELS.deploys, incidents: CHANNELS.incidents },
    approvers,
    deployers,
    responders: RESPONDERS,
    ...extra,
  };
}

/** Another workspace, whose requests are signed with the same secret (the app installed there too). */
export const OTHER_TEAM: Workspace = { id: 'T0ELSEWHER', domain: 'elsewhere' };

export function withSlack(config: FleetopsConfig, slack: SlackConfig): FleetopsConfig {
  return { ...config, slack };
}

export interface SlackUser {
  command(text: string, channelId?: string): Promise<{ status: number; ms: number; body: string }>;
  click(message: StoredMessage, actionId: string): Promise<{ status: number; ms: number }>;
  mention(text: string, threadTs: string, channelId?: string): Promise<{ status: number }>;
  /** The last request sent, exactly as signed: what an attacker who captured it would send again. */
  last(): { headers: Record<string, string>; body: string } | undefined;
  /** Sends a captured request again, byte for byte. */
  replay(req: { headers: Record<string, string>; body: string }): Promise<{ status: number; body: string }>;
}

/** A person in the workspace (or, with `team`, in another one), sending what Slack would send the router on their behalf. */
export function slackUser(standIn: SlackStandIn, routerUrl: string, userId: string, team?: Workspace): SlackUser {
  let last: { headers: Record<string, string>; body: string } | undefined;
  const send = async (req: { headers: Record<string, string>; body: string }) => {
    const t = Date.now();
    const res = await fetch(`${routerUrl}/slack/events`, { method: 'POST', headers: req.headers, body: req.body });
    return { status: res.status, ms: Date.now() - t, body: await res.text() };
  };
  const post = async (body: string, contentType: string) => {
    last = signed(SIGNING_SECRET, body, contentType);
    return send(last);
  };
  return {
    last: () => last,
    replay: (req) => send(req),
    command: (text, channelId = CHANNELS.ops) =>
      post(slashCommandBody({ text, userId, channelId, responseUrl: standIn.responseUrl(channelId, userId), team }), 'application/x-www-form-urlencoded'),
    async click(message, actionId) {
      const button = (message.blocks as { type: string; elements?: { action_id: string; value: string }[] }[])
        .flatMap((b) => b.elements ?? [])
        .find((e) => e.action_id === actionId);
      if (!button) throw new Error(`no ${actionId} button on message ${message.ts}`);
      const r = await post(
        blockActionsBody({ userId, channelId: message.channel, messageTs: message.ts, threadTs: message.thread_ts, actionId, value: button.value, responseUrl: standIn.responseUrl(message.channel, userId), team }),
        'application/x-www-form-urlencoded',
      );
      return { status: r.status, ms: r.ms };
    },
    mention: (text, threadTs, channelId = CHANNELS.incidents) =>
      post(appMentionBody({ userId, channelId, text: `<@U0FLEETOPS> ${text}`, ts: `${Math.floor(Date.now() / 1000)}.${randomBytes(3).readUIntBE(0, 3)}`, threadTs, team }), 'application/json'),
  };
}

/** Polls the stand-in until `pick` finds something. */
export function waitForSlack<T>(standIn: SlackStandIn, pick: (messages: StoredMessage[]) => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  return until(what, () => pick(standIn.messages()), {
    timeoutMs,
    intervalMs: 100,
    describe: () => `messages: ${JSON.stringify(standIn.messages().map((m) => ({ ts: m.ts, thread: m.thread_ts, via: m.via, to: m.ephemeralTo, text: m.text })), null, 1)}`,
  });
}

/** A command's answer through its response_url: the first after message `after`, to `userId` or the channel, matching `re`. */
export function commandAnswer(standIn: SlackStandIn, userId: string, re: RegExp, after: number): Promise<StoredMessage> {
  return waitForSlack(standIn, (ms) => ms.slice(after).find((m) => m.via === 'response_url' && (m.ephemeralTo === userId || !m.ephemeralTo) && re.test(m.text ?? '')), `an answer matching ${re}`);
}

/**
 * Sends `/fleetops <text>` as `userId`, acknowledged within Slack's three seconds, and returns its
 * first answer, which must match `re`: a wrong answer fails here, with its text.
 */
export async function askFleetops(standIn: SlackStandIn, routerUrl: string, userId: string, text: string, re: RegExp): Promise<StoredMessage> {
  const before = standIn.messages().length;
  const r = await slackUser(standIn, routerUrl, userId).command(text);
  expect(r.status).toBe(200);
  expect(r.ms).toBeLessThan(3000);
  const answer = await commandAnswer(standIn, userId, /[\s\S]/, before);
  expect(answer.text).toMatch(re);
  return answer;
}
