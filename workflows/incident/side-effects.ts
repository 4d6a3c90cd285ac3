import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';
import { fileActionItems, notify, openPostmortemPullRequest, sendPage, writePostmortem } from './activity-options';
import { appendTimeline, recordDryRun, type IncidentState } from './state';

/**
 * What the incident does outside itself, as activities: notifications and PagerDuty events from the
 * outboxes, action items filed as GitHub issues, and the closed postmortem stored and proposed as a
 * pull request. In a dry run (a drill) each is recorded in status instead.
 */

function causeOf(err: unknown): string {
  return err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
}

/** Sends the queued notifications, then the queued pages, in order, one activity each, so each is sent once. */
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
  await sendPages(state);
}

/** PagerDuty events in the order handlers queued them (trigger before acknowledge before resolve). */
async function sendPages(state: IncidentState): Promise<void> {
  while (state.pageOutbox.length > 0) {
    const page = state.pageOutbox[0];
    if (state.dryRun) {
      recordDryRun(state, `pagerduty:${page.action}`, { dedupKey: page.dedupKey });
    } else {
      try {
        await sendPage(page);
        state.paging.sent += 1;
        appendTimeline(state, { author: 'fleetops', kind: 'paging', text: `PagerDuty ${page.action} sent (dedup key ${page.dedupKey})` }, Date.now());
      } catch (err) {
        state.paging.failed.push(page.action);
        appendTimeline(state, { author: 'fleetops', kind: 'paging', text: `PagerDuty ${page.action} not delivered: ${causeOf(err)}` }, Date.now());
        log.warn('page not delivered', { action: page.action, error: causeOf(err) });
      }
    }
    state.pageOutbox.shift();
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
    throw ApplicationFailure.nonRetryable(`filing action items failed: ${causeOf(err)}`, 'ActionItemFilingFailed');
  } finally {
    state.filingActionItems = false;
  }
}

/**
 * Stores the closed postmortem (S3, or the local directory without a bucket) and, when GitHub is
 * configured, proposes it as a pull request. Both activities are idempotent, so a retry or a replay
 * after a worker crash stores one object and opens one pull request. A pull request that cannot be
 * opened is recorded, not fatal: the stored copy is the record.
 */
export async function publishPostmortem(state: IncidentState, fileName: string, markdown: string): Promise<void> {
  if (state.dryRun) {
    recordDryRun(state, 'postmortem:Write', { fileName });
    if (state.policy?.githubFiling) recordDryRun(state, 'github:CreatePullRequest', { fileName });
    return;
  }
  try {
    state.postmortemPath = await writePostmortem({ fileName, markdown });
  } catch (err) {
    // Only a non-retryable failure gets here (no such bucket, access denied): retrying cannot help, so
    // the incident closes with the document in its result and says where it could not be stored.
    state.postmortemStoreError = causeOf(err).slice(0, 500);
    appendTimeline(state, { author: 'fleetops', kind: 'postmortem', text: `postmortem not stored: ${state.postmortemStoreError}` }, Date.now());
  }
  if (!state.policy?.githubFiling) return;
  try {
    const pr = await openPostmortemPullRequest({ incidentKey: state.incidentKey, workflowId: state.workflowId, title: state.title, severity: state.severity, fileName, markdown });
    state.postmortemPullRequest = pr.url;
  } catch (err) {
    state.postmortemPullRequestError = causeOf(err).slice(0, 500);
    appendTimeline(state, { author: 'fleetops', kind: 'postmortem', text: `postmortem pull request not opened: ${state.postmortemPullRequestError}` }, Date.now());
  }
}
