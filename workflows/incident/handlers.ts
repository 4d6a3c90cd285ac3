import { ActivityFailure, ApplicationFailure, condition, log, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { FleetopsSeverity } from '../../common/search-attributes';
import type { IncidentAlarmEvent, IncidentFacts } from '../../contracts/incident/input';
import {
  addActionItemUpdate,
  addLessonUpdate,
  alarmEventSignal,
  assignUpdate,
  changeSeverityUpdate,
  checkUpdate,
  editPostmortemUpdate,
  incidentFactsSignal,
  linkActionItemUpdate,
  markReviewHeldUpdate,
  noteUpdate,
  postmortemQuery,
  resolveUpdate,
  timelineQuery,
} from '../../contracts/incident/messages';
import { incidentPolicy } from './activity-options';
import { renderPostmortem } from './postmortem';
import { fileUnlinkedActionItems } from './side-effects';
import type { IncidentState } from './state';
import { statusOf } from './status';
import {
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
  applyReviewHeld,
  applySeverityChange,
} from './transitions';
import {
  actionItemProblem,
  assignProblem,
  checkProblem,
  lessonRequestProblem,
  linkActionItemProblem,
  noteProblem,
  postmortemFieldsProblem,
  resolveProblem,
  reviewHeldProblem,
  severityChangeProblem,
} from './validation';

/**
 * The incident's signal, update and query handlers: each validates with validation.ts, applies with
 * transitions.ts and calls `changed()` so the main loop re-plans its timers. Installed before the
 * workflow's first await, so the event of a signal-with-start lands in the first activation.
 */

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

export function installIncidentHandlers(state: IncidentState, changed: () => void): void {
  const status = () => statusOf(state, Date.now());

  /**
   * An update that arrives before the severity config is loaded (a new incident's first workflow
   * task: update-with-start, or an update sent right after the start) is accepted and waits for the
   * config; then its full check runs, and a refusal fails the update, not the workflow task. Once the
   * config is loaded, the validator checks everything before acceptance, as it always did, and the
   * handler runs as before.
   */
  function setUpdate<Res, Req>(
    update: UpdateDefinition<Res, [Req]>,
    problem: (s: IncidentState, req: Req | undefined) => string | undefined,
    apply: (req: Req) => Res | Promise<Res>,
    description: string,
  ): void {
    setHandler(
      update,
      (req: Req): Res | Promise<Res> => {
        if (state.policy) return apply(req);
        return condition(() => state.policy !== undefined).then(() => {
          const p = problem(state, req);
          if (p) throw ApplicationFailure.nonRetryable(p, FailureType.InvalidRequest);
          return apply(req);
        });
      },
      {
        validator: (req: Req): void => {
          if (state.policy) reject(problem(state, req));
        },
        description,
      },
    );
  }

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

  setUpdate(
    assignUpdate,
    assignProblem,
    (req) => {
      applyAssign(state, req, Date.now());
      changed();
      return status();
    },
    'Set or change a role: { role: onCall|commander|scribe, person, by }.',
  );
  setUpdate(
    noteUpdate,
    noteProblem,
    (req) => {
      applyNote(state, req, Date.now());
      changed();
      return status();
    },
    'Add a timeline entry: { text, by, kind?: note|status-update }. A status-update restarts the status reminder cadence.',
  );
  setUpdate(
    checkUpdate,
    checkProblem,
    async (req) => {
      if (req.item === 'action-items-filed') {
        await fileUnlinkedActionItems(state);
        // State may have moved while filing; a plain Error here would fail the workflow task, not the update.
        const problem = checkProblem(state, req);
        if (problem) throw ApplicationFailure.nonRetryable(problem, FailureType.InvalidRequest);
      }
      applyCheck(state, req, Date.now());
      changed();
      return status();
    },
    'Check a checklist item: { item, by, note?, link? }. Items go in order; some need a field or a state ' +
        '(mitigated: commander for sev1/sev2 and note; channel-opened: link; action-items-filed: files GitHub issues when configured).',
  );
  setUpdate(
    resolveUpdate,
    resolveProblem,
    (req) => {
      applyResolve(state, req, Date.now());
      changed();
      return status();
    },
    'Resolve the incident: { by, text }. Needs every earlier response item checked; starts the postmortem clock.',
  );
  setUpdate(
    editPostmortemUpdate,
    postmortemFieldsProblem,
    (req) => {
      applyPostmortemFields(state, req, Date.now());
      changed();
      return status();
    },
    'Write postmortem sections: { by, summary?, impact?, rootCause?, trigger?, resolution?, detection? }.',
  );
  setUpdate(
    addLessonUpdate,
    lessonRequestProblem,
    (req) => {
      applyLesson(state, req, Date.now());
      changed();
      return status();
    },
    'Add a lesson: { by, kind: went-well|went-wrong|lucky, text }.',
  );
  setUpdate(
    addActionItemUpdate,
    actionItemProblem,
    (req) => {
      const item = applyActionItem(state, req, Date.now());
      changed();
      return item;
    },
    'Add an action item: { by, type: mitigate|prevent|process, text, owner, trackingLink? }; returns it with its id.',
  );
  setUpdate(
    linkActionItemUpdate,
    linkActionItemProblem,
    (req) => {
      const item = applyLinkActionItem(state, req, Date.now());
      changed();
      return item;
    },
    'Set or change the tracking link of an action item: { by, id, trackingLink }.',
  );
  setUpdate(
    changeSeverityUpdate,
    severityChangeProblem,
    async (req) => {
      state.changingSeverity = true;
      let policy;
      try {
        policy = await incidentPolicy(req.severity);
      } catch (err) {
        const cause = err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
        throw ApplicationFailure.nonRetryable(`loading the ${req.severity} policy failed: ${cause}`, FailureType.InvalidRequest);
      } finally {
        state.changingSeverity = false;
      }
      // The incident may have closed or changed while the policy loaded.
      const problem = severityChangeProblem(state, req);
      if (problem) throw ApplicationFailure.nonRetryable(problem, FailureType.InvalidRequest);
      applySeverityChange(state, req, policy, Date.now());
      // The deploy freeze and the Web UI read the current severity from here.
      upsertSearchAttributes([{ key: FleetopsSeverity, value: state.severity }]);
      changed();
      return status();
    },
    'Escalate or de-escalate: { severity: sev1..sev4, by, reason }. Merges the new checklist (done items stay done), ' +
        'switches the reminder cadence, updates FleetopsSeverity (deploy freeze) and paging.',
  );
  setUpdate(
    markReviewHeldUpdate,
    reviewHeldProblem,
    (req) => {
      applyReviewHeld(state, req, Date.now());
      changed();
      return status();
    },
    'The postmortem review was held: { by, note?, link? }. Stops the review reminders; closes the incident if every postmortem item is checked.',
  );
  setHandler(postmortemQuery, () => renderPostmortem(state), { description: 'The postmortem as Markdown, rendered from the current state.' });
  setHandler(timelineQuery, () => state.timeline, { description: 'The timeline entries in the order they were recorded.' });
}
