import { z } from 'zod';
import { slackPerson, type GateAnswer } from '../../common/chat';
import { identitiesOf } from '../../config/people';
import { abortUpdate, statusQuery } from '../../contracts/controls';
import { gateClosedMessage } from '../../common/slack/blocks';
import { approveUpdate, type ApproveRequest, type DeployStatus } from '../../contracts/canary-deploy/messages';
import { explain, withDeadline, type SlackHandlerContext } from './context';
import { memberGroup } from './members';

/**
 * A click on a deploy gate's Approve or Abort button (common/slack/blocks.ts gateMessage).
 *
 * Whether an approval passes is the deploy workflow's decision (its `approve` validator,
 * workflows/canary-deploy/approval.ts), the same for the CLI, Slack and any SDK client: the requester,
 * an approval naming nobody, and someone not on the service's approvers are refused there. What only
 * Slack knows is done here: a service's approvers (`slack.approvers["<cluster>/<service>"]`) may name
 * user groups, whose members only Slack knows (usergroups.users.list), so the click of a member is sent
 * as `{ by: 'slack:U…', viaGroup: 'S…' }` and the workflow accepts it only if that group is on its list.
 * A clicker who is neither named nor in a named group is refused here without bothering the workflow,
 * and so is any click on a service with no Slack approvers. Abort is open to the approvers and the
 * requester (the same person in any channel, through the config's `people`). A refused click is
 * answered to that user only (chat.postEphemeral); the workflow's refusal too. An accepted one rewrites
 * the gate message to say who decided and when.
 */

export type GateDecision = 'approve' | 'abort';

const buttonValueSchema = z.object({ workflowId: z.string().min(1).max(1000), runId: z.string().max(100).optional() }).strict();

export interface GateClick {
  decision: GateDecision;
  /** The button's value: which deploy run the message is about. */
  value: string;
  userId: string;
  channelId: string;
  messageTs: string;
  threadTs?: string;
}

export type ApproverCheck = { ok: true; viaGroup?: string } | { ok: false; why: string };

/**
 * Whether `userId` is an approver of `cluster/service` in Slack's eyes (the requester rule is the
 * workflow's): named in `users` (or one person with a Slack id named there), or a member of a named
 * group, said as `viaGroup` so the workflow can check that group against its list.
 */
export async function mayApprove(ctx: SlackHandlerContext, userId: string, cluster: string, service: string): Promise<ApproverCheck> {
  const key = `${cluster}/${service}`;
  const rule = ctx.slack.approvers[key];
  if (!rule) return { ok: false, why: `nobody may approve deploys of ${key} from Slack: it has no entry in slack.approvers` };
  const mine = identitiesOf(ctx.config, slackPerson(userId));
  if (rule.users.some((u) => mine.includes(slackPerson(u)))) return { ok: true };
  const viaGroup = await memberGroup(ctx, userId, rule.groups);
  if (viaGroup !== undefined) return { ok: true, viaGroup };
  return { ok: false, why: `you are not an approver of ${key}` };
}

/** Handles one click; returns what was done (for logs and tests). Never throws for a refusal. */
export async function handleGateClick(ctx: SlackHandlerContext, click: GateClick): Promise<{ outcome: 'accepted' | 'refused'; message: string }> {
  const refuse = async (message: string) => {
    await answerPrivately(ctx, click, `:no_entry_sign: ${message}`);
    ctx.log.info({ user: click.userId, decision: click.decision, reason: message }, 'slack: gate click refused');
    return { outcome: 'refused' as const, message };
  };
  let target: z.infer<typeof buttonValueSchema>;
  try {
    target = buttonValueSchema.parse(JSON.parse(click.value));
  } catch {
    return refuse('this button does not name a deploy');
  }
  const handle = ctx.temporal.workflow.getHandle(target.workflowId, target.runId);
  let status: DeployStatus;
  try {
    status = (await withDeadline(ctx, () => handle.query(statusQuery))) as DeployStatus;
  } catch (err) {
    return refuse(`cannot read ${target.workflowId}: ${explain(err, target.workflowId)}`);
  }
  const by = slackPerson(click.userId);
  const isRequester = status.requestedBy !== undefined && identitiesOf(ctx.config, by).includes(status.requestedBy);
  const allowed = await mayApprove(ctx, click.userId, status.cluster, status.service);
  if (!allowed.ok && !(click.decision === 'abort' && isRequester)) return refuse(allowed.why);

  try {
    if (click.decision === 'approve') {
      const request: ApproveRequest = { by, ...(allowed.ok && allowed.viaGroup ? { viaGroup: allowed.viaGroup } : {}), reason: 'approved in Slack' };
      // By name: the SDK's executeUpdate overloads do not accept the definition's optional argument tuple (as the CLI does).
      await withDeadline(ctx, () => handle.executeUpdate<DeployStatus, [ApproveRequest]>(approveUpdate.name, { args: [request] }));
    } else {
      await withDeadline(ctx, () => handle.executeUpdate(abortUpdate, { args: [{ by, reason: 'aborted in Slack' }] }));
    }
  } catch (err) {
    return refuse(explain(err, target.workflowId));
  }
  const answer: GateAnswer = {
    kind: click.decision === 'approve' ? 'approved' : 'aborted',
    by,
    at: new Date().toISOString(),
    text: click.decision === 'approve' ? 'approved in Slack' : 'aborted in Slack',
  };
  ctx.log.info({ workflowId: target.workflowId, runId: target.runId, user: click.userId, decision: click.decision }, 'slack: gate answered');
  if (ctx.web) {
    const message = gateClosedMessage(status, answer, click.decision);
    try {
      await ctx.web.chat.update({ channel: click.channelId, ts: click.messageTs, text: message.text, blocks: message.blocks as never });
    } catch (err) {
      // The workflow's next notification rewrites the gate message as well.
      ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'slack: gate message not updated');
    }
  }
  return { outcome: 'accepted', message: `${click.decision} sent to ${target.workflowId}` };
}

async function answerPrivately(ctx: SlackHandlerContext, click: GateClick, text: string): Promise<void> {
  if (!ctx.web) return;
  try {
    await ctx.web.chat.postEphemeral({ channel: click.channelId, user: click.userId, text, ...(click.threadTs ? { thread_ts: click.threadTs } : {}) });
  } catch (err) {
    ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'slack: ephemeral answer not delivered');
  }
}
