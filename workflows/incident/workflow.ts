import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { WorkflowStatus } from '../common/controls';
import { FailureType, NON_RETRYABLE_FAILURE_TYPES } from '../common/failures';
import { FleetopsKind, FleetopsSeverity } from '../common/search-attributes';
import type { IncidentAlarmEvent, IncidentFacts, IncidentInput, IncidentTimelineEntry } from '../common/workflow-inputs';
import type { IncidentActivities } from '../activities/incident';
import type { NotificationActivities } from '../activities/notifications';
import {
  actionItemProblem,
  applyActionItem,
  applyAlarmEvent,
  applyAssign,
  applyCheck,
  applyFacts,
  applyLesson,
  applyLinkActionItem,
  applyNote,
  applyPostmortemFields,
  applyResolve,
  appendTimeline,
  assignProblem,
  checkProblem,
  initialState,
  isFinished,
  iso,
  lessonRequestProblem,
  linkActionItemProblem,
  nextReminder,
  noteProblem,
  phaseOf,
  postmortemDueAt,
  postmortemFieldsProblem,
  queueNotification,
  resolveProblem,
  summaryOf,
  takeReminder,
  type ActionItem,
  type ActionItemRequest,
  type AssignRequest,
  type CheckRequest,
  type IncidentState,
  type LessonRequest,
  type LinkActionItemRequest,
  type NoteRequest,
  type PostmortemFieldsRequest,
  type ResolveRequest,
} from './lib/incident-model';
import { installOperatorControls } from './lib/operator-controls';
import { recordIncidentClosed, recordIncidentOpened } from './lib/metrics';
import { postmortemFileName, renderPostmortem } from './lib/postmortem';

/**
 * Incident with a postmortem checklist (task queue `fleetops`). Ids: `incident-alarm-<alarm-name>`
 * (router, signal-with-start of `alarmEvent`), `incident-<slug>-<short-id>` (Incident Declared event,
 * CLI, or another workflow through `openIncidentFromAutomation`, which signals `incidentFacts`).
 *
 * The workflow holds the incident's state (roles, append-only timeline, severity checklist,
 * postmortem content) and owns its reminders as durable timers: status updates while open, then
 * postmortem nudges and one escalation once it is due. Handlers only change state and queue
 * notifications; the main loop sends them, one activity per notification with a key of its own, so
 * each is sent once. The rules live in lib/incident-model.ts, the document in lib/postmortem.ts.
 */

// ---- messages (clients import these) ----

export const alarmEventSignal = defineSignal<[IncidentAlarmEvent]>('alarmEvent');
export const incidentFactsSignal = defineSignal<[IncidentFacts]>('incidentFacts');

export const assignUpdate = defineUpdate<IncidentStatus, [AssignRequest]>('assign');
export const noteUpdate = defineUpdate<IncidentStatus, [NoteRequest]>('note');
export const checkUpdate = defineUpdate<IncidentStatus, [CheckRequest]>('check');
export const resolveUpdate = defineUpdate<IncidentStatus, [ResolveRequest]>('resolve');
export const editPostmortemUpdate = defineUpdate<IncidentStatus, [PostmortemFieldsRequest]>('editPostmortem');
export const addLessonUpdate = defineUpdate<IncidentStatus, [LessonRequest]>('addLesson');
export const addActionItemUpdate = defineUpdate<ActionItem, [ActionItemRequest]>('addActionItem');
export const linkActionItemUpdate = defineUpdate<ActionItem, [LinkActionItemRequest]>('linkActionItem');

export const postmortemQuery = defineQuery<string>('postmortem');
export const timelineQuery = defineQuery<IncidentTimelineEntry[]>('timeline');

export type {
  ActionItem,
  ActionItemRequest,
  AssignRequest,
  CheckRequest,
  IncidentPhase,
  LessonRequest,
  LinkActionItemRequest,
  NoteRequest,
  PostmortemFieldsRequest,
  ResolveRequest,
} from './lib/incident-model';

export interface IncidentWorkflowInput extends IncidentInput {
  /** The state a previous run handed over through continue-as-new; starters never set it. */
  carried?: IncidentState;
  /** History length at which the run continues as new (default 5,000 events); tests lower it. */
  continueAsNewAfterEvents?: number;
}

export interface ChecklistItemStatus {
  item: string;
  done: boolean;
  by?: string;
  at?: string;
}

export interface IncidentStatus extends WorkflowStatus {
  incidentKey: string;
  title: string;
  severity: IncidentInput['severity'];
  roles: IncidentState['roles'];
  checklist: { response: ChecklistItemStatus[]; postmortem: ChecklistItemStatus[] };
  openedAt: string;
  mitigatedAt?: string;
  resolvedAt?: string;
  postmortemDueAt?: string;
  nextReminder?: { kind: string; at: string };
  reminders: IncidentState['reminders'];
  actionItems: ActionItem[];
  timelineEntries: number;
  notifications: IncidentState['notifications'];
  postmortemPath?: string;
}

export interface IncidentResult {
  workflowId: string;
  incidentKey: string;
  outcome: 'closed' | 'aborted';
  postmortemPath?: string;
  /** The final document (also written to `incidents.postmortemDir`). */
  postmortem?: string;
  actionItems: ActionItem[];
}

// ---- activity options, stated once ----

const { incidentPolicy, writePostmortem } = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});
/** An update waits on this, so it gives up after a few minutes and the caller can check again. */
const { fileActionItems } = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});
/** About an hour of retries; a webhook down longer costs that notification (counted in status), not the reminders after it. */
const { notify } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', maximumAttempts: 15, nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES },
});

const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 5000;
const DRY_RUN_CALLS_KEPT = 200;

function reject(problem: string | undefined): void {
  if (problem) throw new Error(problem);
}

function validAlarmEvent(ev: IncidentAlarmEvent | undefined): ev is IncidentAlarmEvent {
  return (
    !!ev &&
    typeof ev.alarmName === 'string' &&
    typeof ev.eventId === 'string' &&
    ['ALARM', 'OK', 'INSUFFICIENT_DATA'].includes(ev.state) &&
    typeof ev.time === 'string' &&
    !Number.isNaN(Date.parse(ev.time))
  );
}

function validFacts(f: IncidentFacts | undefined): f is IncidentFacts {
  return (
    !!f &&
    typeof f.key === 'string' &&
    Array.isArray(f.entries) &&
    f.entries.every((e) => typeof e.text === 'string' && typeof e.author === 'string' && !Number.isNaN(Date.parse(e.time)))
  );
}

function statusOf(state: IncidentState): IncidentStatus {
  const now = Date.now();
  const phase = phaseOf(state, now);
  const items = (list: string[] | undefined): ChecklistItemStatus[] =>
    (list ?? []).map((item) => ({ item, done: Boolean(state.checks[item]), by: state.checks[item]?.by, at: state.checks[item]?.at }));
  const due = postmortemDueAt(state);
  const next = nextReminder(state);
  return {
    phase,
    summary: summaryOf(state, phase, now),
    incidentKey: state.incidentKey,
    title: state.title,
    severity: state.severity,
    roles: state.roles,
    checklist: { response: items(state.policy?.checklist.response), postmortem: items(state.policy?.checklist.postmortem) },
    openedAt: iso(state.openedAt),
    ...(state.mitigatedAt !== undefined ? { mitigatedAt: iso(state.mitigatedAt) } : {}),
    ...(state.resolvedAt !== undefined ? { resolvedAt: iso(state.resolvedAt) } : {}),
    ...(due !== undefined ? { postmortemDueAt: iso(due) } : {}),
    ...(next ? { nextReminder: { kind: next.kind, at: iso(next.at) } } : {}),
    reminders: state.reminders,
    actionItems: state.postmortem.actionItems,
    timelineEntries: state.timeline.length,
    notifications: state.notifications,
    ...(state.postmortemPath ? { postmortemPath: state.postmortemPath } : {}),
    dryRun: state.dryRun,
    ...(state.dryRun ? { dryRunCalls: state.dryRunCalls } : {}),
  };
}

export async function incident(input: IncidentWorkflowInput): Promise<IncidentResult> {
  const info = workflowInfo();
  if (!input.carried && (typeof input.title !== 'string' || !input.title.trim() || !['sev1', 'sev2', 'sev3', 'sev4'].includes(input.severity))) {
    throw ApplicationFailure.nonRetryable('incident needs a title and a severity sev1..sev4', FailureType.InvalidRequest);
  }
  const state: IncidentState =
    input.carried ??
    initialState({
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

  const controls = installOperatorControls({
    initialPhase: phaseOf(state, Date.now()),
    status: () => statusOf(state),
    rejectAbort: () => (isFinished(state) ? 'the incident is already closed' : undefined),
  });
  if (!input.carried) recordIncidentOpened(state.severity);

  // Signals first, before any await, so the event of a signal-with-start lands in this first activation.
  setHandler(
    alarmEventSignal,
    (ev) => {
      if (!validAlarmEvent(ev)) {
        log.warn('alarmEvent ignored: malformed payload', { payload: ev });
        return;
      }
      if (applyAlarmEvent(state, ev, Date.now())) changed();
    },
    { description: 'A CloudWatch alarm state change routed to this incident: ALARM and OK go on the timeline; a repeated eventId is ignored.' },
  );
  setHandler(
    incidentFactsSignal,
    (facts) => {
      if (!validFacts(facts)) {
        log.warn('incidentFacts ignored: malformed payload', { payload: facts });
        return;
      }
      if (applyFacts(state, facts, Date.now())) changed();
    },
    { description: 'Facts from another workflow (missed drain deadline, failed rollback), added to the timeline once per key.' },
  );

  setHandler(
    assignUpdate,
    (req) => {
      applyAssign(state, req, Date.now());
      changed();
      return statusOf(state);
    },
    { validator: (req) => reject(assignProblem(state, req)), description: 'Set or change a role: { role: onCall|commander|scribe, person, by }.' },
  );
  setHandler(
    noteUpdate,
    (req) => {
      applyNote(state, req, Date.now());
      changed();
      return statusOf(state);
    },
    {
      validator: (req) => reject(noteProblem(state, req)),
      description: 'Add a timeline entry: { text, by, kind?: note|status-update }. A status-update restarts the status reminder cadence.',
    },
  );
  setHandler(
    checkUpdate,
    async (req) => {
      if (req.item === 'action-items-filed') {
        await fileUnlinkedActionItems();
        // State may have moved while filing; a plain Error here would fail the workflow task, not the update.
        const problem = checkProblem(state, req);
        if (problem) throw ApplicationFailure.nonRetryable(problem, FailureType.InvalidRequest);
      }
      applyCheck(state, req, Date.now());
      changed();
      return statusOf(state);
    },
    {
      validator: (req) => reject(checkProblem(state, req)),
      description:
        'Check a checklist item: { item, by, note?, link? }. Items go in order; some need a field or a state ' +
        '(mitigated: commander for sev1/sev2 and note; channel-opened: link; action-items-filed: files GitHub issues when configured).',
    },
  );
  setHandler(
    resolveUpdate,
    (req) => {
      applyResolve(state, req, Date.now());
      changed();
      return statusOf(state);
    },
    {
      validator: (req) => reject(resolveProblem(state, req)),
      description: 'Resolve the incident: { by, text }. Needs every earlier response item checked; starts the postmortem clock.',
    },
  );
  setHandler(
    editPostmortemUpdate,
    (req) => {
      applyPostmortemFields(state, req, Date.now());
      changed();
      return statusOf(state);
    },
    {
      validator: (req) => reject(postmortemFieldsProblem(state, req)),
      description: 'Write postmortem sections: { by, summary?, impact?, rootCause?, trigger?, resolution?, detection? }.',
    },
  );
  setHandler(
    addLessonUpdate,
    (req) => {
      applyLesson(state, req, Date.now());
      changed();
      return statusOf(state);
    },
    { validator: (req) => reject(lessonRequestProblem(state, req)), description: 'Add a lesson: { by, kind: went-well|went-wrong|lucky, text }.' },
  );
  setHandler(
    addActionItemUpdate,
    (req) => {
      const item = applyActionItem(state, req, Date.now());
      changed();
      return item;
    },
    {
      validator: (req) => reject(actionItemProblem(state, req)),
      description: 'Add an action item: { by, type: mitigate|prevent|process, text, owner, trackingLink? }; returns it with its id.',
    },
  );
  setHandler(
    linkActionItemUpdate,
    (req) => {
      const item = applyLinkActionItem(state, req, Date.now());
      changed();
      return item;
    },
    {
      validator: (req) => reject(linkActionItemProblem(state, req)),
      description: 'Set or change the tracking link of an action item: { by, id, trackingLink }.',
    },
  );
  setHandler(postmortemQuery, () => renderPostmortem(state), { description: 'The postmortem as Markdown, rendered from the current state.' });
  setHandler(timelineQuery, () => state.timeline, { description: 'The timeline entries in the order they were recorded.' });

  function recordDryRun(action: string, params: Record<string, unknown>): void {
    state.dryRunCalls.push({ action, params });
    if (state.dryRunCalls.length > DRY_RUN_CALLS_KEPT) state.dryRunCalls.splice(0, state.dryRunCalls.length - DRY_RUN_CALLS_KEPT);
  }

  async function fileUnlinkedActionItems(): Promise<void> {
    const unlinked = state.postmortem.actionItems.filter((i) => !i.trackingLink);
    if (unlinked.length === 0 || !state.policy?.githubFiling) return;
    if (state.dryRun) {
      recordDryRun('github:CreateIssue', { items: unlinked.map((i) => i.id) });
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

  async function sendOutbox(): Promise<void> {
    while (state.outbox.length > 0) {
      const n = state.outbox[0];
      if (state.dryRun) {
        recordDryRun('notify', { idempotencyKey: n.idempotencyKey, title: n.title });
      } else {
        try {
          await notify({ kind: 'incident', workflowId: state.workflowId, ...n });
          state.notifications.sent += 1;
        } catch (err) {
          state.notifications.failed.push(n.idempotencyKey);
          log.warn('notification not delivered', { key: n.idempotencyKey, error: (err as Error).message });
        }
      }
      state.outbox.shift();
    }
  }

  if (!state.policy) {
    upsertSearchAttributes([
      { key: FleetopsKind, value: 'incident' },
      { key: FleetopsSeverity, value: state.severity },
    ]);
    state.policy = await incidentPolicy(state.severity);
    if (!state.roles.onCall && state.policy.onCall) {
      applyAssign(state, { role: 'onCall', person: state.policy.onCall, by: 'config' }, Date.now());
    }
    queueNotification(state, {
      key: 'opened',
      title: `${state.severity} incident opened: ${state.title}`,
      text: state.summary ?? 'No summary yet.',
      fields: { severity: state.severity, 'on-call': state.roles.onCall ?? 'unassigned' },
    });
  }

  const historyLimit = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;

  for (;;) {
    const abort = await controls.checkpoint();
    if (abort && !isFinished(state)) {
      state.abortedAt = Date.now();
      appendTimeline(state, { author: abort.by ?? 'operator', kind: 'control', text: `closed without a postmortem: ${abort.reason}` }, Date.now());
      queueNotification(state, {
        key: 'aborted',
        title: `${state.severity} ${state.title}: closed without a postmortem`,
        text: abort.reason,
        fields: { by: abort.by ?? 'operator' },
      });
    }
    await sendOutbox();
    controls.setPhase(phaseOf(state, Date.now()));
    if (state.abortedAt !== undefined) {
      await condition(allHandlersFinished);
      recordIncidentClosed(state.severity, 'aborted');
      return { workflowId: state.workflowId, incidentKey: state.incidentKey, outcome: 'aborted', actionItems: state.postmortem.actionItems };
    }
    if (state.closedAt !== undefined) return close();

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

  async function close(): Promise<IncidentResult> {
    const markdown = renderPostmortem(state);
    const fileName = postmortemFileName(state);
    if (state.dryRun) recordDryRun('postmortem:Write', { fileName });
    else state.postmortemPath = await writePostmortem({ fileName, markdown });
    queueNotification(state, {
      key: 'closed',
      title: `${state.severity} ${state.title}: postmortem complete`,
      text: `${state.postmortem.actionItems.length} action items. ${state.postmortemPath ?? fileName}`,
      fields: { severity: state.severity },
    });
    await sendOutbox();
    controls.setPhase('closed');
    await condition(allHandlersFinished);
    recordIncidentClosed(state.severity, 'closed');
    return {
      workflowId: state.workflowId,
      incidentKey: state.incidentKey,
      outcome: 'closed',
      ...(state.postmortemPath ? { postmortemPath: state.postmortemPath } : {}),
      postmortem: markdown,
      actionItems: state.postmortem.actionItems,
    };
  }
}
