import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { drainCoordinatorWorkflowId, drainWorkflowId } from '../../common/workflow-ids';
import { statusQuery } from '../../contracts/controls';
import type { DrainCoordinatorStatus } from '../../contracts/drain-coordinator/messages';
import { WORKFLOWS } from '../../contracts/registry';
import { percentiles, type Percentiles, type StormResult } from './figures';

/** Figures read from the storm's workflow histories: where each drain's time went, and the coordinator's calls. */

const EventType = temporal.api.enums.v1.EventType;

/**
 * Per-drain phases up to DRAINING, from each workflow's history: the first workflow task (queue wait
 * and run), the resolve activity (queue wait, run), the workflow task that schedules set-draining,
 * set-draining's queue wait and the time from its start to the DRAINING call reaching the simulator
 * (the coordinator's batch wait); plus moto's time per call by API.
 */
export async function breakdown(
  client: Client,
  instances: string[],
  arns: string[],
  drainingAt: Map<string, number>,
  calls: { service: string; action: string; durationMs: number }[],
): Promise<{ phases: Record<string, Percentiles>; sampleHistory: string[] }> {
  const phases: Record<string, number[]> = {};
  const sample: string[] = [];
  const add = (k: string, v: number | undefined) => {
    if (v !== undefined && Number.isFinite(v)) (phases[k] ??= []).push(v);
  };
  for (let i = 0; i < instances.length; i += 50) {
    await Promise.all(
      instances.slice(i, i + 50).map(async (id, j) => {
        const history = await client.workflow.getHandle(drainWorkflowId(id)).fetchHistory();
        const ev = history.events ?? [];
        const at = (e: (typeof ev)[number] | undefined) => (e ? tsToMs(e.eventTime) : undefined);
        const started = at(ev[0]);
        const wftSched = ev.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
        const wftStart = ev.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
        const wftDone = ev.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
        // Counts, not milliseconds: what one drain costs the server.
        add('count: history events per drain', ev.length);
        add('count: workflow tasks per drain', ev.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length);
        // What a drain's history is made of, by event type (markers by their name: local activity, patch).
        const byType = new Map<string, number>();
        for (const e of ev) {
          const type = (EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
          const key = type === 'MARKER_RECORDED' ? `MARKER_RECORDED ${e.markerRecordedEventAttributes?.markerName ?? ''}` : type;
          byType.set(key, (byType.get(key) ?? 0) + 1);
        }
        for (const [k, v] of byType) add(`count: events ${k}`, v);
        if (i + j === 0) sample.push(...ev.map(describeEvent));
        add('wft1.queue', (at(wftStart) ?? NaN) - (at(wftSched) ?? NaN));
        add('wft1.run', (at(wftDone) ?? NaN) - (at(wftStart) ?? NaN));
        const activity = (name: string) => {
          const sched = ev.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === name);
          if (!sched) return undefined;
          const sid = Number(sched.eventId);
          const start = ev.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === sid);
          const done = ev.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === sid);
          return { sched: at(sched)!, start: at(start), done: at(done), doneIdx: done ? ev.indexOf(done) : -1 };
        };
        const resolve = activity('resolveDrainTarget');
        const draining = activity('setContainerInstanceDraining');
        if (started !== undefined && resolve) add('start→resolve scheduled', resolve.sched - started);
        if (resolve) {
          add('resolve.queue', (resolve.start ?? NaN) - resolve.sched);
          add('resolve.run', (resolve.done ?? NaN) - (resolve.start ?? NaN));
        }
        if (resolve?.done !== undefined && draining) add('resolve done→set-draining scheduled', draining.sched - resolve.done);
        if (draining) {
          add('set-draining.queue', (draining.start ?? NaN) - draining.sched);
          add('set-draining start→call', (drainingAt.get(arns[i + j]!) ?? NaN) - (draining.start ?? NaN));
        }
      }),
    );
  }
  for (const c of calls) add(`moto ${c.service}:${c.action}`, c.durationMs);
  return { phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, percentiles(v)])), sampleHistory: sample };
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A marker's name and what it records: a local activity's type (and the container instance status a resolve read), a patch's id. */
function markerWhat(e: HistoryEvent): string | undefined {
  const m = e.markerRecordedEventAttributes;
  if (!m) return undefined;
  const decode = (key: string): Record<string, unknown> | undefined => {
    const p = m.details?.[key]?.payloads?.[0];
    try {
      return p ? (defaultPayloadConverter.fromPayload(p) as Record<string, unknown>) : undefined;
    } catch {
      return undefined; // not JSON: the name alone
    }
  };
  const d = decode('data') ?? decode('patch_data');
  const status = decode('result')?.status;
  return `${m.markerName ?? ''} ${String(d?.activity_type ?? d?.id ?? '')}${typeof status === 'string' ? ` (${status})` : ''}`;
}

/** One line per event of a drain's history: its type and what it is about (the sample the bench writes). */
function describeEvent(e: HistoryEvent): string {
  const type = (EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
  const what =
    e.activityTaskScheduledEventAttributes?.activityType?.name ??
    markerWhat(e) ??
    (e.upsertWorkflowSearchAttributesEventAttributes ? Object.keys(e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {}).join(',') : undefined) ??
    e.workflowExecutionSignaledEventAttributes?.signalName ??
    e.timerStartedEventAttributes?.timerId ??
    '';
  return `${String(e.eventId)} ${type}${what ? ` ${what}` : ''}`;
}

/** The coordinator's counts, and per setDrainingAtOnce call its queue wait, run time and size, from its history. */
export async function coordinatorFigures(client: Client, stormStartMs: number): Promise<StormResult['coordinator']> {
  const handle = client.workflow.getHandle(drainCoordinatorWorkflowId());
  let status: DrainCoordinatorStatus;
  try {
    status = (await handle.query(statusQuery)) as DrainCoordinatorStatus;
  } catch {
    return undefined;
  }
  const queue: number[] = [];
  const run: number[] = [];
  const sizes: number[] = [];
  const timeline: string[] = [];
  const at = (e: temporal.api.history.v1.IHistoryEvent | undefined) => (e ? `${((tsToMs(e.eventTime) - stormStartMs) / 1000).toFixed(2)}` : '?');
  // Every run of the id (it may have continued as new during the storm).
  for await (const wf of client.workflow.list({ query: `WorkflowId = "${drainCoordinatorWorkflowId()}"` })) {
    const ev = (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events ?? [];
    const byId = new Map(ev.map((e) => [Number(e.eventId), e]));
    for (const e of ev) {
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
        const input = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
        const parsed = input ? (defaultPayloadConverter.fromPayload(input) as unknown[]) : [];
        timeline.push(`signal ${Array.isArray(parsed) ? parsed.length : '?'} at ${at(e)} s`);
      }
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        const sched = byId.get(Number(e.activityTaskStartedEventAttributes?.scheduledEventId));
        if (sched) queue.push(tsToMs(e.eventTime) - tsToMs(sched.eventTime));
      }
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const started = byId.get(Number(e.activityTaskCompletedEventAttributes?.startedEventId));
        if (started) run.push(tsToMs(e.eventTime) - tsToMs(started.eventTime));
        const sched = byId.get(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        timeline.push(`call scheduled ${at(sched)} s, started ${at(started)} s, completed ${at(e)} s`);
      }
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        const input = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0];
        const parsed = input ? (defaultPayloadConverter.fromPayload(input) as { instanceIds?: string[] }) : undefined;
        sizes.push(parsed?.instanceIds?.length ?? 0);
      }
    }
  }
  return { counts: status.counts as Record<string, number>, calls: { queueMs: percentiles(queue), runMs: percentiles(run), instances: percentiles(sizes) }, timeline };
}

/** The capacity workflows' history events (every run) and the drains' requests among them: what asking for replacements cost. */
export async function capacityFigures(client: Client): Promise<{ runs: number; events: number }> {
  let runs = 0;
  let events = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowType = "${WORKFLOWS.capacity.type}"` })) {
    runs += 1;
    // Visibility's count is written at the close; a running one is described.
    events += (await client.workflow.getHandle(wf.workflowId, wf.runId).describe()).historyLength;
  }
  return { runs, events };
}
