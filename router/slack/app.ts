import { App, HTTPReceiver, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createSlackClient } from '../../common/slack/client';
import { ABORT_ACTION_ID, APPROVE_ACTION_ID } from '../../common/slack/ids';
import type { Logger } from '../../common/logger';
import type { FleetopsConfig, SlackConfig } from '../../config/schema';
import type { RouterMetrics } from '../metrics';
import { handleGateClick, type GateDecision } from './approvals';
import { runSlashCommand } from './commands';
import type { SlackHandlerContext } from './context';
import { handleThreadMention } from './mentions';
import { requestKeyOf } from './replay';
import { signatureHeaderProblem } from './signature';
import { foreignWorkspace } from './workspace';

/**
 * The Slack app (docs/contract.md, Chat (Slack)) at `POST /slack/events` on the router's port, built on
 * Slack's Bolt (@slack/bolt): slash commands (`/fleetops`), interactive buttons (deploy gates) and
 * `app_mention` events (incident threads) all arrive there, as Slack's app config points them.
 *
 * Bolt's HTTPReceiver does the request handling: it reads the body, verifies Slack's v0 signature
 * (HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret) and answers 401 before anything
 * else runs. In front of it the timestamp is checked both ways (a request more than five minutes
 * from now, either side, is refused with its body unread; Bolt only refuses old ones). Then the
 * workspace: a request from another team (or Enterprise Grid organisation) than `slack.teamId`
 * (`slack.enterpriseId`) fails Bolt's authorize step, which acknowledges it with an empty body and
 * runs no listener: nothing is started or posted (router/slack/workspace.ts). Handlers acknowledge
 * at once (Slack's three-second limit), then do the work and post the answer. Each request carries a
 * key of its signature, so a replayed copy does nothing (router/slack/replay.ts).
 */

export const SLACK_EVENTS_PATH = '/slack/events';
/** Slack's payloads are small; a larger body is refused before it is read whole. */
const SLACK_BODY_LIMIT = 1024 * 1024;

export interface SlackAppOptions {
  config: FleetopsConfig;
  slack: SlackConfig;
  temporal: Client;
  log: Logger;
  metrics: RouterMetrics;
  callTimeoutMs?: number;
  /** Clock for the timestamp window (tests). */
  now?: () => number;
}

function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.WARN;
  const child = log.child({ component: 'slack' });
  return {
    debug: (...m: unknown[]) => child.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => child.info(m.map(String).join(' ')),
    warn: (...m: unknown[]) => child.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => child.error(m.map(String).join(' ')),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

/** Builds the Bolt app, registers its listeners and mounts its receiver on `http`. */
export function mountSlackApp(http: FastifyInstance, opts: SlackAppOptions): SlackHandlerContext {
  const { slack, log, metrics } = opts;
  const now = opts.now ?? Date.now;
  const ctx: SlackHandlerContext = {
    config: opts.config,
    slack,
    temporal: opts.temporal,
    web: slack.botToken ? createSlackClient(slack) : undefined,
    log,
    callTimeoutMs: opts.callTimeoutMs ?? 5_000,
  };
  const logger = boltLogger(log);
  const receiver = new HTTPReceiver({
    signingSecret: slack.signingSecret,
    endpoints: SLACK_EVENTS_PATH,
    processBeforeResponse: false,
    bodyLimit: SLACK_BODY_LIMIT,
    logger,
    customPropertiesExtractor: (req) => ({ requestKey: requestKeyOf(req.headers) }),
  });
  const app = new App({
    receiver,
    logger,
    // One workspace, one bot token from the config; nothing asks Slack who the bot is per request.
    // A request from another workspace is refused here: Bolt acknowledges it and runs no listener.
    authorize: async (_source, body) => {
      const problem = foreignWorkspace((body ?? {}) as Record<string, unknown>, slack);
      if (problem) {
        metrics.invalid.inc({ reason: 'auth', transport: 'http' });
        log.warn({ problem }, 'slack: request from another workspace refused');
        throw new Error(problem);
      }
      return slack.botToken ? { botToken: slack.botToken } : {};
    },
    ignoreSelf: false,
    clientOptions: { slackApiUrl: slack.apiUrl },
  });

  app.command('/fleetops', async ({ command, ack, respond, context }) => {
    await ack();
    metrics.received.inc({ kind: 'slack-command', transport: 'http' });
    try {
      const answer = await runSlashCommand(ctx, { text: command.text, userId: command.user_id, channelId: command.channel_id, requestKey: String(context.requestKey) });
      if (answer) await respond({ response_type: answer.response_type, text: answer.text });
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'slack: command failed');
      await respond({ response_type: 'ephemeral', text: `fleetops: the command failed: ${err instanceof Error ? err.message : String(err)}` });
    }
  });

  const gate = (decision: GateDecision) =>
    app.action(decision === 'approve' ? APPROVE_ACTION_ID : ABORT_ACTION_ID, async ({ ack, body, action }) => {
      await ack();
      metrics.received.inc({ kind: 'slack-gate', transport: 'http' });
      const b = body as { user: { id: string }; channel?: { id: string }; container?: { channel_id?: string; message_ts?: string; thread_ts?: string }; message?: { ts: string; thread_ts?: string } };
      const channelId = b.channel?.id ?? b.container?.channel_id;
      const messageTs = b.message?.ts ?? b.container?.message_ts;
      if (!channelId || !messageTs) return;
      await handleGateClick(ctx, {
        decision,
        value: (action as { value?: string }).value ?? '',
        userId: b.user.id,
        channelId,
        messageTs,
        threadTs: b.message?.thread_ts ?? b.container?.thread_ts,
      });
    });
  gate('approve');
  gate('abort');

  app.event('app_mention', async ({ event, body, context }) => {
    metrics.received.inc({ kind: 'slack-mention', transport: 'http' });
    const e = event as { user?: string; channel: string; text: string; thread_ts?: string };
    if (!e.user) return;
    const eventId = (body as { event_id?: string }).event_id;
    await handleThreadMention(ctx, { eventId, userId: e.user, channelId: e.channel, text: e.text, threadTs: e.thread_ts, requestKey: String(context.requestKey) });
  });

  app.error(async (err) => {
    log.error({ err: err.message }, 'slack: listener failed');
  });

  http.register(async (scope) => {
    // Bolt reads and verifies the raw body itself: nothing here may consume it first.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    scope.post(SLACK_EVENTS_PATH, async (req, reply) => {
      const problem = signatureHeaderProblem(req.headers, now());
      if (problem) {
        metrics.invalid.inc({ reason: 'auth', transport: 'http' });
        log.warn({ ip: req.ip, problem }, 'slack request rejected before reading its body');
        return reply.code(401).type('application/json').send({ error: problem });
      }
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > SLACK_BODY_LIMIT) return reply.code(413).type('application/json').send({ error: `body: larger than ${SLACK_BODY_LIMIT} bytes` });
      reply.hijack();
      receiver.requestListener(req.raw, reply.raw);
    });
  });
  return ctx;
}
