import type { ScheduleOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { FleetopsCluster, FleetopsKind } from '../../common/search-attributes';
import { WORKFLOWS } from '../registry';
import type { ReadinessTriggerInput } from './input';

/** The readiness trigger's workflow type as registered (contracts/registry.ts). */
export const READINESS_TRIGGER_WORKFLOW_TYPE = WORKFLOWS.readinessTrigger.type;

/** Every recurring readiness window's Schedule id starts so; `fleetops schedules` lists them by it. */
export const READINESS_SCHEDULE_PREFIX = 'readiness-schedule-';

/** `readiness-schedule-<cluster>-<id>`: one Schedule per recurring window and cluster (`<id>` is `ics-<key>`). */
export const readinessScheduleId = (cluster: string, id: string): string => `${READINESS_SCHEDULE_PREFIX}${cluster}-${id}`;

/** What an import reads back from a recurring window's memo (written at create, never changed): how it finds the Schedules of its calendar. */
export interface ReadinessScheduleMemo {
  cluster: string;
  /** The event's key (contracts/readiness/ical.ts). */
  icsKey: string;
  /** The feed that keeps it, if any. */
  icsFeed?: string;
}

const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const;

/** One exact UTC second as a calendar spec: its year included, so it never comes round again. */
function exactly(t: Date, comment: string) {
  return {
    year: t.getUTCFullYear(),
    month: MONTHS[t.getUTCMonth()]!,
    dayOfMonth: t.getUTCDate(),
    hour: t.getUTCHours(),
    minute: t.getUTCMinutes(),
    second: t.getUTCSeconds(),
    comment,
  };
}

/**
 * The Schedule of a recurring readiness window on one cluster: one exact calendar time per occurrence
 * in the horizon, `aheadMs` before its raise (start minus the level's lead time). Its action starts
 * the readiness trigger (workflows/readiness-trigger/), which starts the due occurrences' windows
 * `readiness-<cluster>-ics-<key>-<yyyymmdd-hhmm>` (a Schedule appends a timestamp to the ids it
 * starts, so a window cannot be its action) and rolls the horizon on. Overlap BUFFER_ONE: a run is over
 * in seconds, and one that waits is still due. A time missed (the server down) is taken up to a day
 * late: the trigger starts only windows not over. `taskQueue` is for tests.
 */
export function readinessScheduleOptions(input: ReadinessTriggerInput, aheadMs: number, opts: { taskQueue?: string } = {}): ScheduleOptions {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: WORKFLOWS.readinessTrigger.kind },
    { key: FleetopsCluster, value: input.cluster },
  ];
  const memo: ReadinessScheduleMemo = { cluster: input.cluster, icsKey: input.key, ...(input.defaults.feed !== undefined ? { icsFeed: input.defaults.feed } : {}) };
  const what = `recurring readiness window on ${input.cluster}, level ${input.level}: ${input.summary}`.slice(0, 200);
  return {
    scheduleId: input.scheduleId,
    spec: { calendars: input.raiseAt.map((t) => exactly(new Date(Date.parse(t) - aheadMs), `raise at ${t}`)) },
    state: { note: what },
    policies: { overlap: 'BUFFER_ONE', catchupWindow: '1 day' },
    memo: { ...memo },
    typedSearchAttributes,
    action: {
      type: 'startWorkflow',
      workflowType: READINESS_TRIGGER_WORKFLOW_TYPE,
      workflowId: input.scheduleId,
      taskQueue: opts.taskQueue ?? WORKFLOWS.readinessTrigger.taskQueue,
      args: [input],
      typedSearchAttributes,
      staticSummary: what,
    },
  };
}
