import type { DeployChatFacts, GateAnswer } from '../chat';
import { slackUserIdOf } from '../chat';
import { ABORT_ACTION_ID, APPROVE_ACTION_ID } from './ids';

/**
 * What fleetops's Slack messages look like (Block Kit, https://docs.slack.dev/block-kit/), in one
 * place: the notification activity (activities/chat/post.ts) posts them and the router updates a gate
 * message with the same renderer after a click, so both show the same thing. Here, in common/, because
 * both edges render them. Every message also has a plain `text`
 * (notifications, screen readers). Text from users and AWS is escaped: it can never become a
 * mention or a link.
 */

/** Section text is limited to 3,000 characters (Block Kit section block). */
const SECTION_LIMIT = 3000;

export type Block = Record<string, unknown>;

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** Slack mrkdwn control characters (https://docs.slack.dev/messaging/formatting-message-text#escaping). */
export function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** `slack:U123` as a mention; anyone else by name. */
export function personText(person: string | undefined): string {
  if (!person) return 'someone';
  const user = slackUserIdOf(person);
  return user && /^[UW][A-Z0-9]+$/.test(user) ? `<@${user}>` : escapeText(person);
}

/** A time Slack shows in the reader's time zone, with the UTC time as the fallback text. */
export function slackTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeText(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time_secs}|${new Date(ms).toISOString()}>`;
}

function clip(text: string, limit = SECTION_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

export function section(mrkdwn: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(mrkdwn) } };
}

function context(mrkdwn: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn) }] };
}

function fieldLines(fields: Record<string, string> | undefined): string[] {
  return Object.entries(fields ?? {}).map(([k, v]) => `${escapeText(k)}: ${k === 'requested by' || k === 'on-call' || k === 'commander' || k === 'by' ? personText(v) : escapeText(v)}`);
}

/** One notification as a message: headline, text, fields, and the Web UI link. */
export function notificationMessage(n: { title: string; text: string; fields?: Record<string, string> }, link: { url: string; label: string }): SlackMessage {
  const body = [`*${escapeText(n.title)}*`, n.text ? escapeText(n.text) : '', ...fieldLines(n.fields)].filter(Boolean).join('\n');
  return {
    text: `${n.title}${n.text ? `: ${n.text}` : ''}`.slice(0, 3000),
    blocks: [section(body), context(`<${link.url}|${escapeText(link.label)}>`)],
  };
}

/** The root of a deploy's thread: what is deployed, by whom, and where it is now. */
export function deployRootMessage(facts: DeployChatFacts, n: { title: string; text: string; fields?: Record<string, string> }, link: { url: string; label: string }): SlackMessage {
  const target = `${facts.cluster}/${facts.service}`;
  const revision = n.fields?.revision ? ` → \`${escapeText(n.fields.revision)}\`` : '';
  const by = facts.requestedBy ? `, requested by ${personText(facts.requestedBy)}` : '';
  const now = `Now: *${escapeText(facts.phase)}*${n.text ? ` — ${escapeText(n.text)}` : ''}`;
  return {
    text: `Deploy ${target}: ${facts.phase}`,
    blocks: [section(`*Deploy ${escapeText(target)}*${revision}${by}\n${now}`), context(`<${link.url}|${escapeText(link.label)}> · phases in the thread`)],
  };
}

/** The gate: Approve and Abort buttons until someone answers or the wait times out. */
export function gateMessage(
  facts: DeployChatFacts,
  reason: string,
  target: { workflowId: string; runId?: string },
  approvers: { users: string[]; groups: string[] } | undefined,
): SlackMessage {
  const awaiting = facts.awaiting;
  const what = awaiting?.kind === 'inconclusive' ? 'Analysis inconclusive: approve to go on baking, or abort' : 'Approval needed';
  const until = awaiting ? `\nWaiting until ${slackTime(awaiting.timeoutAt)}, then *${awaiting.onTimeout}*.` : '';
  const who = approvers
    ? [...approvers.users.map((u) => `<@${u}>`), ...approvers.groups.map((g) => `<!subteam^${g}>`)].join(' ')
    : '_nobody is configured to approve this service from Slack (slack.approvers)_';
  const by = facts.requestedBy ? ` (requested by ${personText(facts.requestedBy)}, who cannot approve it)` : '';
  const value = JSON.stringify({ workflowId: target.workflowId, ...(target.runId ? { runId: target.runId } : {}) });
  return {
    text: `${what}: deploy ${facts.cluster}/${facts.service}`,
    blocks: [
      section(`*${what}*: deploy ${escapeText(`${facts.cluster}/${facts.service}`)}${by}\n${escapeText(reason)}${until}`),
      {
        type: 'actions',
        block_id: 'fleetops_gate',
        elements: [
          { type: 'button', action_id: APPROVE_ACTION_ID, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value },
          { type: 'button', action_id: ABORT_ACTION_ID, style: 'danger', text: { type: 'plain_text', text: 'Abort' }, value },
        ],
      },
      context(`Approvers: ${who}`),
    ],
  };
}

function answerLine(answer: GateAnswer | undefined, fallback: string): string {
  if (!answer) return `Gate closed: ${escapeText(fallback)}`;
  const reason = answer.text ? `: ${escapeText(answer.text)}` : '';
  switch (answer.kind) {
    case 'approved':
      return `:white_check_mark: *Approved* by ${personText(answer.by)} at ${slackTime(answer.at)}${reason}`;
    case 'aborted':
      return `:no_entry: *Aborted* by ${personText(answer.by)} at ${slackTime(answer.at)}${reason}`;
    case 'timed-out':
      return `:hourglass: *Not answered in time* (${slackTime(answer.at)})${reason}`;
    case 'closed':
      return `*Gate closed* at ${slackTime(answer.at)}${reason}`;
  }
}

/** The gate message once answered: who decided and when, buttons gone. */
export function gateClosedMessage(facts: Pick<DeployChatFacts, 'cluster' | 'service'>, answer: GateAnswer | undefined, fallback: string): SlackMessage {
  const line = answerLine(answer, fallback);
  return {
    text: `Deploy ${facts.cluster}/${facts.service}: gate closed`,
    blocks: [section(`*Deploy ${escapeText(`${facts.cluster}/${facts.service}`)}*: approval gate\n${line}`)],
  };
}

/** The root of an incident's thread: its declaration, and how to act on it from Slack. */
export function incidentRootMessage(
  n: { workflowId: string; title: string; text: string; fields?: Record<string, string> },
  link: { url: string; label: string },
): SlackMessage {
  const base = notificationMessage(n, link);
  const how =
    `Timeline, roles, checklist and reminders in this thread. Here: \`@fleetops note <text>\`, \`@fleetops assign <role> <@person>\`, ` +
    `\`@fleetops resolve <how>\`; anywhere: \`/fleetops incident note ${escapeText(n.workflowId)} <text>\`.`;
  return { text: base.text, blocks: [...base.blocks, context(how)] };
}
