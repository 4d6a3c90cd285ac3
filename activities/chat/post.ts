import type { WebClient } from '@slack/web-api';
import type { ChatThread } from '../../common/chat';
import type { FleetopsKindValue } from '../../common/search-attributes';
import type { SlackConfig } from '../../config/schema';
import {
  deployRootMessage,
  gateClosedMessage,
  gateMessage,
  incidentRootMessage,
  notificationMessage,
  type SlackMessage,
} from '../../common/slack/blocks';
import { DEPLOY_THREAD_EVENT, INCIDENT_THREAD_EVENT } from '../../common/slack/ids';
import { createSlackClient } from '../../common/slack/client';
import { slackFailure } from './client';
import type { Notification as ChatNotification } from '../notifications';

/**
 * Posts a workflow's notifications to its Slack channel as one thread per workflow run (chat.postMessage,
 * chat.update): the first notification is the thread's root; later ones are replies. A deploy's root
 * shows its current phase; at a gate (or an inconclusive analysis) a reply, broadcast to the channel,
 * carries Approve and Abort buttons, and the next phase change rewrites it with how the wait ended
 * (who and when, or that it timed out). An incident's root is its declaration; role changes and
 * checklist progress are thread-only, everything else is broadcast too.
 *
 * Slack has no idempotency key. A retried activity on the same worker skips the steps it already made
 * (progress is kept per notification key); a retry on another worker may post a step again.
 */

const PROGRESS_LIMIT = 10_000;
const GATE_PHASES = new Set(['awaiting-approval', 'inconclusive']);
const FINAL_DEPLOY_PHASES = new Set(['promoted', 'rolled-back', 'rollback-failed', 'refused', 'dry-run-complete']);

export interface ChatPostTarget {
  workflowId: string;
  runId?: string;
  link: { url: string; label: string };
}

interface Progress {
  thread?: ChatThread;
  steps: Set<string>;
}

export function channelFor(slack: SlackConfig | undefined, kind: FleetopsKindValue): string | undefined {
  if (!slack?.botToken) return undefined;
  // A release's news (a wave waiting for approval, a halt) is deploy news: the same channel.
  if (kind === 'deploy' || kind === 'release') return slack.channels.deploys;
  if (kind === 'incident') return slack.channels.incidents;
  return undefined;
}

export function createChatPoster(slack: SlackConfig | undefined, opts: { fetch?: typeof fetch } = {}) {
  let client: WebClient | undefined;
  const progress = new Map<string, Progress>();
  const web = (): WebClient => (client ??= createSlackClient(slack as SlackConfig, opts));

  function progressOf(key: string, thread: ChatThread | undefined): Progress {
    let p = progress.get(key);
    if (!p) {
      p = { thread, steps: new Set() };
      progress.set(key, p);
      if (progress.size > PROGRESS_LIMIT) {
        const oldest = progress.keys().next().value;
        if (oldest !== undefined) progress.delete(oldest);
      }
    }
    return p;
  }

  /** Runs one Slack call once per notification key (on this worker), classifying its failure. */
  async function step<T>(p: Progress, name: string, what: string, call: () => Promise<T>): Promise<T | undefined> {
    if (p.steps.has(name)) return undefined;
    let result: T;
    try {
      result = await call();
    } catch (err) {
      throw slackFailure(err, what);
    }
    p.steps.add(name);
    return result;
  }

  async function postRoot(p: Progress, channel: string, message: SlackMessage, event: string, target: ChatPostTarget): Promise<void> {
    const res = await step(p, 'root', 'chat.postMessage (thread root)', () =>
      web().chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks as never,
        unfurl_links: false,
        metadata: { event_type: event, event_payload: { workflow_id: target.workflowId, ...(target.runId ? { run_id: target.runId } : {}) } },
      }),
    );
    if (res?.ts) {
      p.thread = { channel: res.channel ?? channel, ts: res.ts };
      // A root just posted already shows this notification: a retry must not rewrite it.
      p.steps.add('root-update');
    }
  }

  async function reply(p: Progress, name: string, message: SlackMessage, broadcast: boolean): Promise<string | undefined> {
    const thread = p.thread as ChatThread;
    const res = await step(p, name, 'chat.postMessage (thread reply)', () =>
      web().chat.postMessage({
        channel: thread.channel,
        thread_ts: thread.ts,
        reply_broadcast: broadcast,
        text: message.text,
        blocks: message.blocks as never,
        unfurl_links: false,
      }),
    );
    return res?.ts;
  }

  async function update(p: Progress, name: string, ts: string, message: SlackMessage): Promise<void> {
    const thread = p.thread as ChatThread;
    await step(p, name, 'chat.update', () => web().chat.update({ channel: thread.channel, ts, text: message.text, blocks: message.blocks as never }));
  }

  async function postDeploy(n: ChatNotification, channel: string, target: ChatPostTarget): Promise<ChatThread | undefined> {
    const facts = n.deploy;
    if (!facts) return postPlain(n, channel, target);
    const p = progressOf(n.idempotencyKey, n.chat);
    const root = deployRootMessage(facts, n, target.link);
    if (!p.thread) await postRoot(p, channel, root, DEPLOY_THREAD_EVENT, target);
    else await update(p, 'root-update', p.thread.ts, root);
    const thread = p.thread as ChatThread;
    const atGate = GATE_PHASES.has(facts.phase) && facts.awaiting !== undefined;
    if (thread.gateTs && !atGate) {
      await update(p, 'gate-closed', thread.gateTs, gateClosedMessage(facts, facts.answer, `${facts.phase}: ${n.text}`));
      p.thread = { channel: thread.channel, ts: thread.ts };
    }
    if (atGate) {
      const approvers = slack?.approvers[`${facts.cluster}/${facts.service}`];
      const gateTs = await reply(p, 'gate', gateMessage(facts, n.text, target, approvers), true);
      if (gateTs) p.thread = { ...(p.thread as ChatThread), gateTs };
    } else {
      await reply(p, 'reply', notificationMessage(n, target.link), FINAL_DEPLOY_PHASES.has(facts.phase));
    }
    return p.thread;
  }

  async function postPlain(n: ChatNotification, channel: string, target: ChatPostTarget): Promise<ChatThread | undefined> {
    const p = progressOf(n.idempotencyKey, n.chat);
    if (!p.thread) {
      const root = n.kind === 'incident' ? incidentRootMessage(n, target.link) : notificationMessage(n, target.link);
      await postRoot(p, channel, root, n.kind === 'incident' ? INCIDENT_THREAD_EVENT : `fleetops_${n.kind}`, target);
    } else {
      await reply(p, 'reply', notificationMessage(n, target.link), n.chatOnly !== true);
    }
    return p.thread;
  }

  return {
    /** Whether notifications of this kind go to Slack at all. */
    enabled(kind: FleetopsKindValue): boolean {
      return channelFor(slack, kind) !== undefined;
    },

    /** Posts `n` to its channel's thread; returns the thread to hand back with the next notification. */
    async post(n: ChatNotification, target: ChatPostTarget): Promise<ChatThread | undefined> {
      const channel = channelFor(slack, n.kind);
      if (!channel) return n.chat;
      const thread = n.kind === 'deploy' ? await postDeploy(n, channel, target) : await postPlain(n, channel, target);
      return thread ?? n.chat;
    },
  };
}

export type ChatPoster = ReturnType<typeof createChatPoster>;
