import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';
import { fileActionItems, notify } from './activity-options';
import { appendTimeline, recordDryRun, type IncidentState } from './state';

/**
 * What the incident does outside itself, as activities: notifications from the outbox and action
 * items filed as GitHub issues. In a dry run (a drill) each is recorded in status instead.
 */

/** Sends the queued notifications in order, one activity each with a key of its own, so each is sent once. */
export async function sendOutbox(state: IncidentState): Promise<void> {
  while (state.outbox.length > 0) {
    const n = state.outbox[0];
    if (state.dryRun) {
      recordDryRun(state, 'notify', { idempotencyKey: n.idempotencyKey, title: n.title });
    } else {
      try {
        const sent = await notify({ kind: 'incident', workflowId: state.workflowId, ...n, ...(state.chat ? { chat: state.chat } : {}) });
        // `?.`: a notify that answers nothing (test doubles) leaves the thread as it was.
        state.chat = sent?.chat ?? state.chat;
        state.notifications.sent += 1;
      } catch (err) {
        state.notifications.failed.push(n.idempotencyKey);
        log.warn('notification not delivered', { key: n.idempotencyKey, error: (err as Error).message });
      }
    }
    state.outbox.shift();
  }
}

/** Files the action items that have no tracking link yet (when GitHub filing is configured) and links them. */
export async function fileUnlinkedActionItems(state: IncidentState): Promise<void> {
  const unlinked = state.postmortem.actionItems.filter((i) => !i.trackingLink);
  if (unlinked.length === 0 || !state.policy?.githubFiling) return;
  if (state.dryRun) {
    recordDryRun(state, 'github:CreateIssue', { items: unlinked.map((i) => i.id) });
    return;
  }
  state.filingActionItems = true;
  try {
    const res = await fileActionItems({
      incidentKey: state.incidentKey,
      workflowId: state.workflowId,
      incidentTitle: state.title,
      severity: state.severity,
      items: unlinked,
    });
    for (const item of unlinked) item.trackingLink = res.links[item.id] ?? item.trackingLink;
    appendTimeline(state, { author: 'fleetops', kind: 'postmortem', text: `action items filed as GitHub issues: ${unlinked.map((i) => `${i.id} ${i.trackingLink}`).join(', ')}` }, Date.now());
  } catch (err) {
    const cause = err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
    throw ApplicationFailure.nonRetryable(`filing action items failed: ${cause}`, 'ActionItemFilingFailed');
  } finally {
    state.filingActionItems = false;
  }
}
