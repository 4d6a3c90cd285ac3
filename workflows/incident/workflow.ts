import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { FailureType } from '../../common/failures';
import { isIncidentSeverity } from '../../common/incident/severity';
import { FleetopsKind, FleetopsSeverity } from '../../common/search-attributes';
import type { IncidentInput } from '../../contracts/incident/input';
import { OperatorControls } from '../lib/operator-controls';
import { recordIncidentClosed, recordIncidentOpened } from '../lib/metrics';
import { incidentPolicy, previousIncident } from './activity-options';
import { installIncidentHandlers } from './handlers';
import type { IncidentResult } from '../../contracts/incident/messages';
import { postmortemFileName, renderPostmortem } from './postmortem';
import { nextReminder, takeReminder } from './reminders';
import { publishPostmortem, sendOutbox } from './side-effects';
import { appendTimeline, initialState, isFinished, queueNotification, queuePage, withCurrentFields, type IncidentState } from './state';
import { phaseOf, statusOf } from './status';
import { applyAssign } from './transitions';

/**
 * Incident with a postmortem checklist (task queue `fleetops`). Ids: `incident-alarm-<alarm-name>`
 * (router, signal-with-start of `alarmEvent`), `incident-<slug>-<short-id>` (Incident Declared event,
 * CLI, or another workflow through activities/incident/open-from-automation.ts, which signals
 * `incidentFacts`); a drain that missed its deadline asks for `incident-drain-<instance-id>`.
 *
 * The workflow holds the incident's state (state.ts: roles, append-only timeline, severity checklist,
 * postmortem content) and owns its reminders as durable timers (reminders.ts): status updates while
 * open, then postmortem nudges and one escalation once it is due. Handlers (handlers.ts) only change
 * state and queue notifications; the main loop below sends them (side-effects.ts), one activity per
 * notification with a key of its own, so each is sent once. Messages are in contracts/incident/messages.ts, the
 * document in postmortem.ts.
 */

export interface IncidentWorkflowInput extends IncidentInput {
  /** The state a previous run handed over through continue-as-new; starters never set it. */
  carried?: IncidentState;
  /** History length at which the run continues as new (default 5,000 events); tests lower it. */
  continueAsNewAfterEvents?: number;
}

const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 5000;

export async function incident(input: IncidentWorkflowInput): Promise<IncidentResult> {
  const info = workflowInfo();
  if (!input.carried && (typeof input.title !== 'string' || !input.title.trim() || !isIncidentSeverity(input.severity))) {
    throw ApplicationFailure.nonRetryable('incident needs a title and a severity sev1..sev4', FailureType.InvalidRequest);
  }
  const state: IncidentState = input.carried
    ? withCurrentFields(input.carried)
    : initialState({
      workflowId: info.workflowId,
      firstRunId: info.firstExecutionRunId,
      title: input.title,
      severity: input.severity,
      summary: input.summary,
      source: input.source,
      onCall: input.onCall,
      dryRun: input.dryRun,
      timeline: input.timeline,
      now: Date.now(),
    });
  /** Bumped by every handler that changes state, so the main loop re-plans its timers. */
  let changes = 0;
  const changed = (): void => void (changes += 1);

  const controls = new OperatorControls({ initialPhase: phaseOf(state, Date.now()) }).install({
    status: () => statusOf(state, Date.now()),
    rejectAbort: () => (isFinished(state) ? 'the incident is already closed' : undefined),
  });
  if (!input.carried) recordIncidentOpened(state.severity);

  // Signals first, before any await, so the event of a signal-with-start lands in this first activation.
  installIncidentHandlers(state, changed);

  if (!state.policy) {
    upsertSearchAttributes([
      { key: FleetopsKind, value: 'incident' },
      { key: FleetopsSeverity, value: state.severity },
    ]);
    state.policy = await incidentPolicy(state.severity);
    if (!state.roles.onCall && state.policy.onCall) {
      applyAssign(state, { role: 'onCall', person: state.policy.onCall, by: 'config' }, Date.now());
    }
    await linkPreviousIncident(state, info.firstExecutionRunId);
    queuePage(state, 'trigger');
    const previous = state.previousIncident;
    queueNotification(state, {
      key: 'opened',
      title: `${state.severity} incident opened: ${state.title}`,
      text: state.summary ?? 'No summary yet.',
      fields: {
        severity: state.severity,
        'on-call': state.roles.onCall ?? 'unassigned',
        ...(previous ? { 'recurrence of': `${previous.workflowId} (run ${previous.runId})` } : {}),
      },
    });
  }

  const historyLimit = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;

  for (;;) {
    const abort = await controls.checkpoint();
    if (abort && !isFinished(state)) {
      state.abortedAt = Date.now();
      appendTimeline(state, { author: abort.by ?? 'operator', kind: 'control', text: `closed without a postmortem: ${abort.reason}` }, Date.now());
      queuePage(state, 'resolve');
      queueNotification(state, {
        key: 'aborted',
        title: `${state.severity} ${state.title}: closed without a postmortem`,
        text: abort.reason,
        fields: { by: abort.by ?? 'operator' },
      });
    }
    await sendOutbox(state);
    controls.setPhase(phaseOf(state, Date.now()));
    if (state.abortedAt !== undefined) {
      await condition(allHandlersFinished);
      recordIncidentClosed(state.severity, 'aborted');
      return { workflowId: state.workflowId, incidentKey: state.incidentKey, outcome: 'aborted', actionItems: state.postmortem.actionItems };
    }
    if (state.closedAt !== undefined) return close(state, controls);

    const due = nextReminder(state);
    if (due && due.at <= Date.now()) {
      state.outbox.push(takeReminder(state, due, Date.now()));
      continue;
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= historyLimit) {
      await condition(allHandlersFinished);
      // A handler that ran while we waited may have queued work or closed the incident.
      if (state.outbox.length > 0 || isFinished(state)) continue;
      return continueAsNew<typeof incident>({ ...input, timeline: undefined, carried: state });
    }
    const seen = changes;
    const wake = (): boolean => changes !== seen || controls.paused || controls.abortRequest !== undefined;
    if (due) await condition(wake, due.at - Date.now());
    else await condition(wake);
  }
}

/**
 * An alarm's (or a drain's) incidents reuse one workflow id: an earlier, closed run of this id is the
 * incident this one recurs. Linked on the timeline, in status and in the postmortem; a lookup that
 * fails leaves the incident unlinked rather than unopened.
 */
async function linkPreviousIncident(state: IncidentState, runId: string): Promise<void> {
  if (state.source.kind !== 'alarm' && state.source.kind !== 'workflow') return;
  try {
    const previous = await previousIncident({ workflowId: state.workflowId, runId });
    if (!previous) return;
    state.previousIncident = previous;
    const where = [previous.postmortem?.stored, previous.postmortem?.pullRequest].filter(Boolean).join(', ');
    appendTimeline(
      state,
      { author: 'fleetops', kind: 'opened', text: `recurrence of ${previous.workflowId} (run ${previous.runId}, ${previous.status}${previous.closedAt ? ` ${previous.closedAt}` : ''})${where ? `; its postmortem: ${where}` : ''}` },
      Date.now(),
    );
  } catch (err) {
    appendTimeline(state, { author: 'fleetops', kind: 'opened', text: `could not look up an earlier incident ${state.workflowId}: ${(err as Error).message}` }, Date.now());
  }
}

/** Every postmortem item is checked (and the review held, where required): store the document, propose it, say so, complete with it. */
async function close(state: IncidentState, controls: OperatorControls): Promise<IncidentResult> {
  const markdown = renderPostmortem(state);
  const fileName = postmortemFileName(state);
  await publishPostmortem(state, fileName, markdown);
  queueNotification(state, {
    key: 'closed',
    title: `${state.severity} ${state.title}: postmortem complete`,
    text: [
      `${state.postmortem.actionItems.length} action items. ${state.postmortemPath ?? fileName}`,
      state.postmortemPullRequest,
      state.postmortemStoreError && `Not stored: ${state.postmortemStoreError}`,
    ]
      .filter(Boolean)
      .join('\n'),
    fields: { severity: state.severity },
  });
  await sendOutbox(state);
  controls.setPhase('closed');
  await condition(allHandlersFinished);
  recordIncidentClosed(state.severity, 'closed');
  return {
    workflowId: state.workflowId,
    incidentKey: state.incidentKey,
    outcome: 'closed',
    ...(state.postmortemPath ? { postmortemPath: state.postmortemPath } : {}),
    ...(state.postmortemPullRequest ? { postmortemPullRequest: state.postmortemPullRequest } : {}),
    postmortem: markdown,
    actionItems: state.postmortem.actionItems,
  };
}
