/**
 * Clicks a button of the local stack's newest open deploy gate, as a person of its Slack workspace
 * would: `npx tsx stack/slack-click.ts approve|abort [user-id]` (default Bob, an approver of
 * demo/web). Reads `.run/stack.json` (FLEETOPS_RUN_DIR moves it), finds the gate message in the Web
 * API stand-in's record, signs a `block_actions` request with the stack's signing secret and posts
 * it to the router's /slack/events. Prints the HTTP status; the outcome shows in the record.
 */
import { join } from 'node:path';
import { ABORT_ACTION_ID, APPROVE_ACTION_ID } from '../common/slack/ids';
import { DEMO_SLACK } from './demo-slack';
import { stackSettings } from './settings';
import { blockActionsBody, signed } from './slack-requests';
import type { StoredMessage } from './slack-stand-in';
import { readStackFile } from './stack-file';

async function main(): Promise<void> {
  const [decision, user = DEMO_SLACK.people.bob] = process.argv.slice(2);
  if (decision !== 'approve' && decision !== 'abort') throw new Error('usage: slack-click.ts approve|abort [user-id]');
  const stack = readStackFile(join(stackSettings().runDir, 'stack.json'));
  const { messages } = (await (await fetch(stack.slack.messagesUrl)).json()) as { messages: StoredMessage[] };
  const actionId = decision === 'approve' ? APPROVE_ACTION_ID : ABORT_ACTION_ID;
  const gate = [...messages].reverse().find((m) => (m.blocks as { elements?: { action_id?: string }[] }[] | undefined)?.some((b) => b.elements?.some((e) => e.action_id === actionId)));
  if (!gate) throw new Error('no open deploy gate in the record (deploy demo/web first, and wait for awaiting-approval)');
  const value = (gate.blocks as { elements?: { action_id?: string; value?: string }[] }[]).flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId)?.value ?? '';
  const minted = await fetch(stack.slack.messagesUrl.replace(/\/messages$/, '/response-urls'), { method: 'POST', body: JSON.stringify({ channel: gate.channel, user }) });
  const { url: responseUrl } = (await minted.json()) as { url: string };
  const body = blockActionsBody({ userId: user, channelId: gate.channel, messageTs: gate.ts, threadTs: gate.thread_ts, actionId, value, responseUrl });
  const req = signed(stack.slack.signingSecret, body, 'application/x-www-form-urlencoded');
  const res = await fetch(`${stack.slack.url}/slack/events`, { method: 'POST', headers: req.headers, body: req.body });
  process.stdout.write(`${res.status} ${decision} as ${user} on ${gate.ts}\n`);
}

main().catch((err) => {
  process.stderr.write(`slack-click: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
