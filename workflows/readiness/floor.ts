import { workflowInfo } from '@temporalio/workflow';
import { AUTOMATION_INCIDENT_SEVERITY } from '../../common/incident/severity';
import { floorUnits, onDemandUnits } from '../../common/readiness-floor';
import { failureMessage } from '../lib/failure-message';
import { describeCapacity, notify, openIncidentFromAutomation, sendReadinessFloor } from './activity-options';
import type { ReadinessWindow } from './window';

/** The window's steps that act: raise, hold again, release the floor; check it is ACTIVE; tell and escalate. */

const iso = (ms: number) => new Date(ms).toISOString();

/** Tells the level's people; a failed notification is noted and the window goes on. */
export async function tell(w: ReadinessWindow, what: string, title: string, text: string): Promise<void> {
  const info = workflowInfo();
  try {
    await notify({
      kind: 'readiness',
      workflowId: info.workflowId,
      title: `readiness ${w.input.cluster} level ${w.level.level}: ${title}`,
      text,
      idempotencyKey: `${info.workflowId}/${info.firstExecutionRunId}/${what}/${w.version}`,
      fields: { window: `${iso(w.start)} → ${iso(w.end)}`, reason: w.reason, ...(w.level.notify.length ? { told: w.level.notify.join(', ') } : {}) },
    });
  } catch (err) {
    w.note(`notification "${title}" failed: ${failureMessage(err)}`);
  }
}

/** Raises (or sends again after a change) the floor the level asks for; a factor is of the units the cluster runs now. */
export async function holdFloor(w: ReadinessWindow): Promise<void> {
  const spec = w.level.floor;
  if (!spec) {
    w.floorUnits = undefined;
    return;
  }
  let current = 0;
  if ('factor' in spec) {
    const snap = await describeCapacity({ cluster: w.input.cluster });
    current = snap.state.reduce((s, p) => s + p.actualUnits, 0);
  }
  const units = floorUnits(spec, current);
  const od = onDemandUnits(units, w.level.onDemandShare);
  await sendReadinessFloor({
    cluster: w.input.cluster,
    floor: { action: 'hold', windowId: workflowInfo().workflowId, units, onDemandUnits: od, until: iso(w.end), reason: `readiness level ${w.level.level}: ${w.reason}`.slice(0, 1000) },
  });
  w.floorUnits = units;
  w.onDemandUnits = od;
  w.note(`floor ${units} units (${od} on-demand) held until ${iso(w.end)}${'factor' in spec ? ` (${spec.factor} × ${current} units running)` : ''}`);
}

export async function releaseFloor(w: ReadinessWindow, why: string): Promise<void> {
  if (w.floorUnits === undefined) return;
  await sendReadinessFloor({ cluster: w.input.cluster, floor: { action: 'release', windowId: workflowInfo().workflowId, reason: why } });
  w.note(`floor released: ${why}`);
}

/** Whether the floor's units are ACTIVE container instances (and its on-demand units on-demand). */
export async function floorActive(w: ReadinessWindow): Promise<boolean> {
  if (w.floorUnits === undefined) return true;
  const snap = await describeCapacity({ cluster: w.input.cluster });
  const active = snap.state.reduce((s, p) => s + p.activeUnits, 0);
  const activeOnDemand = snap.state.filter((p) => p.market === 'on-demand').reduce((s, p) => s + p.activeUnits, 0);
  w.activeUnits = active;
  return active >= w.floorUnits && activeOnDemand >= (w.onDemandUnits ?? 0);
}

/** Half the lead time gone and the floor not ACTIVE: people are told. */
export async function escalateByNotification(w: ReadinessWindow): Promise<void> {
  w.notifiedAt = Date.now();
  w.note(`floor not ACTIVE at half the lead time: ${w.activeUnits ?? 0} of ${w.floorUnits} units`);
  await tell(w, 'floor-late', 'floor not reached at half the lead time', `${w.activeUnits ?? 0} of ${w.floorUnits} units ACTIVE; the window starts ${iso(w.start)}.`);
}

/** Still not ACTIVE three quarters into the lead time: a sev2 incident, as capacity's own. */
export async function escalateByIncident(w: ReadinessWindow): Promise<void> {
  const info = workflowInfo();
  const at = iso(Date.now());
  const title = `Readiness floor of ${w.input.cluster} not reached before its window`;
  try {
    const opened = await openIncidentFromAutomation({
      title,
      severity: AUTOMATION_INCIDENT_SEVERITY.readiness,
      summary: `Level ${w.level.level} (${w.reason}) needs ${w.floorUnits} units ACTIVE by ${iso(w.start)}; ${w.activeUnits ?? 0} are.`,
      origin: { workflowId: info.workflowId, workflowKind: 'readiness' },
      key: `${info.workflowId}/${info.firstExecutionRunId}/floor-not-reached/${w.version}`,
      entries: [{ time: at, author: info.workflowId, kind: 'automation', text: `${w.activeUnits ?? 0} of ${w.floorUnits} units ACTIVE, window starts ${iso(w.start)}` }],
    });
    w.incident = opened.workflowId;
    w.note(`incident ${opened.workflowId} opened: floor not reached`);
  } catch (err) {
    w.incident = '';
    w.note(`incident not opened: ${failureMessage(err)}`);
  }
}
