import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createIncidentActivities } from '../../activities/incident';
import { abortUpdate, statusQuery } from '../../contracts/controls';
import { incidentStartOptions } from '../../contracts/incident/start';
import { alarmIncidentWorkflowId } from '../../common/workflow-ids';
import type { IncidentAlarmEvent } from '../../contracts/incident/input';
import { alarmEventSignal, timelineQuery, type IncidentStatus } from '../../contracts/incident/messages';
import { ALARM_ENTRIES_KEPT } from '../../workflows/incident/alarm-timeline';
import { incident } from '../../workflows/incident/workflow';
import { untilValue } from '../../testkit/poll';
import { bundledWorkflows, createTimeSkippingEnv, uniqueTaskQueue } from '../harness/temporal';
import { incidentTestConfig, recordingNotify } from './fixtures';
import { createWorker } from '../harness/workers';

/**
 * A flapping alarm must not grow the incident's state without bound. Every change was a
 * timeline entry carried across continue-as-new in the next run's input; 10,000 changes made that
 * input about 1.5 MB, and a few more would pass Temporal's 2 MB payload limit, so the incident could
 * no longer continue. Here 10,000 alarm changes arrive as signals, through two continue-as-new.
 */

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const MIN = 60_000;
const status = async (h: WorkflowHandle): Promise<IncidentStatus> => (await h.query(statusQuery)) as IncidentStatus;

function statusWhen(h: WorkflowHandle, ok: (s: IncidentStatus) => boolean, what: string, ms = 60_000): Promise<IncidentStatus> {
  return untilValue(what, () => status(h), ok, { timeoutMs: ms, intervalMs: 100 });
}

describe('a flapping alarm (time-skipping)', () => {
  it('10,000 alarm changes keep the timeline and the carried input bounded, with every change counted', async () => {
    const config = incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'fleetops-flap-')) });
    const taskQueue = uniqueTaskQueue('incident-flap');
    const activities = { ...createIncidentActivities({ config, temporal: { client: env.client, namespace: 'default' } }), notify: recordingNotify().notify,
      // The time-skipping server has no visibility list to find an earlier run in.
      previousIncident: async () => null,
    };
    const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities });
    await worker.runUntil(async () => {
      const alarmName = `disk-flap-${Date.now().toString(36)}`;
      const t0 = await env.currentTimeMs();
      const change = (i: number): IncidentAlarmEvent => ({
        alarmName,
        state: i % 2 === 0 ? 'ALARM' : 'OK',
        eventId: `flap-${i}`,
        time: new Date(t0 + i * MIN).toISOString(),
        reason: `Threshold Crossed: 1 datapoint [${i % 2 === 0 ? 91 : 42}.0] was ${i % 2 === 0 ? 'greater' : 'not greater'} than the threshold (90.0)`,
      });
      const first = await env.client.workflow.signalWithStart(incident, {
        ...incidentStartOptions(alarmIncidentWorkflowId(alarmName), { title: 'Disk above 90%', severity: 'sev4', source: { kind: 'alarm', alarmName } }),
        taskQueue,
        signal: alarmEventSignal,
        signalArgs: [change(0)],
      });
      const current = env.client.workflow.getHandle(first.workflowId);
      const total = 10_000;
      const batch = 100;
      for (let start = 1; start < total; start += batch) {
        const ids = Array.from({ length: Math.min(batch, total - start) }, (_, k) => start + k);
        // Signals go to whichever run is current (continue-as-new keeps the workflow id).
        await Promise.all(ids.map((i) => current.signal(alarmEventSignal, change(i))));
        const sent = start + ids.length;
        await statusWhen(current, (s) => s.alarmEvents >= Math.floor((sent - 4 * batch) / 2), `alarm ${sent} handled`, 120_000);
      }
      const done = await statusWhen(current, (s) => s.alarmEvents === total / 2, 'all 5,000 ALARM changes counted', 120_000);

      // Bounded: the first ALARM_ENTRIES_KEPT changes as they came, then one summary entry for the alarm.
      const timeline = await current.query(timelineQuery);
      const alarms = timeline.filter((e) => e.kind === 'alarm');
    expect(alarms).toHaveLength(ALARM_ENTRIES_KEPT + 1);
      expect(done.timelineEntries).toBeLessThan(ALARM_ENTRIES_KEPT + 10);
      expect(alarms[0]?.text).toContain(`alarm ${alarmName} in ALARM`);
      const last = new Date(t0 + (total - 1) * MIN).toISOString();
      // Signals sent together arrive in any order: whichever came after the first ALARM_ENTRIES_KEPT are
      // counted in the summary, whose last change is the latest one; no change is lost.
      const summary = alarms.at(-1)?.text ?? '';
      const rest = total - ALARM_ENTRIES_KEPT;
      const counted = new RegExp(`^alarm ${alarmName} changed state ${rest} more times between \\S+ and ${last} \\((\\d+) ALARM, (\\d+) OK\\)`).exec(summary);
      expect(counted).not.toBeNull();
      const keptAlarms = alarms.slice(0, -1).filter((e) => / in ALARM/.test(e.text)).length;
      expect(keptAlarms + Number(counted?.[1])).toBe(total / 2);
      expect(Number(counted?.[1]) + Number(counted?.[2])).toBe(rest);
      expect(summary).toContain(`summarised to keep the incident's state bounded; last OK at ${last}: ${change(total - 1).reason}`);

      // The run went on through continue-as-new, and what it carried stayed small.
      const started = (await current.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      expect(started?.continuedExecutionRunId).toBeTruthy();
      const firstRun = await env.client.workflow.getHandle(first.workflowId, started?.firstExecutionRunId ?? undefined).describe();
      expect(firstRun.status.name).toBe('CONTINUED_AS_NEW');
      const carriedBytes = started?.input?.payloads?.reduce((n, p) => n + (p.data?.length ?? 0), 0) ?? 0;
      console.log(`[flapping alarm] 10,000 changes: ${alarms.length} alarm entries, carried input ${carriedBytes} bytes`);
      expect(carriedBytes).toBeLessThan(200_000);

      await current.executeUpdate(abortUpdate, { args: [{ reason: 'test done' }] });
      // Replayed here rather than committed: the last run's history holds its share of the 10,000 signals (1.9 MB).
      await Worker.runReplayHistory({ ...bundledWorkflows() }, await current.fetchHistory(), current.workflowId);
    });
  }, 600_000);
});
