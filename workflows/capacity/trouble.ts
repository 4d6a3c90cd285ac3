import { workflowInfo } from '@temporalio/workflow';
import { AUTOMATION_INCIDENT_SEVERITY } from '../../common/incident/severity';
import { failureMessage } from '../lib/failure-message';
import { notify, openIncidentFromAutomation } from './activity-options';
import { failureThresholds, hasWork, recordFailure } from './failure';
import type { CapacityRun } from './run';
import { iso } from './state';

/**
 * What the capacity workflow does when an AWS step fails past its activity retries (a throttling
 * storm, an outage, a policy that denies a call): it never fails. The error goes on status, every
 * pending request stays, the step is retried on the workflow's own timer with backoff
 * (state.recordFailure), a notification goes out once the episode lasts `errorNotifyAfterSeconds`,
 * and an incident opens once it lasts `errorIncidentAfterSeconds` with work held back.
 */
export async function onStepFailure(run: CapacityRun, step: string, err: unknown): Promise<void> {
  const { state, controls, cluster } = run;
  const f = recordFailure(state, step, failureMessage(err, { activityType: true }));
  controls.setPhase('backing-off');
  const pending = state.status(controls.phase).pending;
  state.summary = `AWS error in ${step} since ${iso(f.since)} (${f.attempts} attempt(s)): ${f.message}; keeping ${pending.out} out / ${pending.in} in units pending, retrying at ${iso(f.retryAt)}`;
  const lasted = f.lastAt - f.since;
  const { notifyMs, incidentMs } = failureThresholds(state);
  const info = workflowInfo();
  if (!f.notified && lasted >= notifyMs) {
    try {
      await notify({
        kind: 'capacity',
        workflowId: info.workflowId,
        title: `${state.dryRun ? '[dry run] ' : ''}capacity ${cluster}: AWS calls failing for ${Math.round(lasted / 1000)} s`,
        text: state.summary,
        idempotencyKey: `${info.workflowId}/${info.firstExecutionRunId}/aws-error/${f.since}`,
        fields: { step, attempts: String(f.attempts), since: iso(f.since) },
      });
      f.notified = true;
    } catch (notifyErr) {
      state.decide({ action: 'aws-error', reason: `notification failed: ${failureMessage(notifyErr)}` });
    }
  }
  if (f.incident === undefined && lasted >= incidentMs && hasWork(state)) {
    const title = `Capacity of ${cluster} cannot make progress`;
    const at = iso(f.lastAt);
    try {
      const opened = await openIncidentFromAutomation({
        title,
        severity: AUTOMATION_INCIDENT_SEVERITY.capacity,
        summary: `${step} has failed since ${iso(f.since)} (${f.attempts} attempts): ${f.message}`,
        origin: { workflowId: info.workflowId, workflowKind: 'capacity' },
        key: `${info.workflowId}/${info.firstExecutionRunId}/aws-error/${f.since}`,
        entries: [
          { time: at, author: info.workflowId, kind: 'automation', text: `${step} failing since ${iso(f.since)}: ${f.message}` },
          { time: at, author: info.workflowId, kind: 'automation', text: `pending: ${pending.out} out, ${pending.in} in, ${pending.unmet} unmet units; ${state.carried.cleanups?.length ?? 0} owed step(s)` },
        ],
      });
      f.incident = opened.workflowId;
      state.decide({ action: 'aws-error', reason: `incident ${opened.workflowId} opened: ${step} failing for ${Math.round(lasted / 1000)} s` });
    } catch (incidentErr) {
      state.decide({ action: 'aws-error', reason: `incident not opened: ${failureMessage(incidentErr)}` });
    }
  }
}
