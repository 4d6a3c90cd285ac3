import type { ScheduleOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { FleetopsKind } from '../../common/search-attributes';
import { describeWhen, specFor, type DeployWhen } from '../deploy-trigger/start';
import { WORKFLOWS } from '../registry';
import type { ReleaseTriggerInput } from './input';

/** The release trigger's workflow type as registered (contracts/registry.ts). */
export const RELEASE_TRIGGER_WORKFLOW_TYPE = WORKFLOWS.releaseTrigger.type;

/** Every scheduled release's Schedule id starts so; `fleetops schedules` lists them by it. */
export const RELEASE_SCHEDULE_PREFIX = 'release-schedule-';

/** `release-schedule-<id>-<n or name>`: one Schedule per scheduled release. */
export const releaseScheduleId = (id: string, suffix: string | number): string => `${RELEASE_SCHEDULE_PREFIX}${id}-${suffix}`;

/** What a run's release id appends to the scheduled one: `-yyyymmdd-hhmm`. */
export const RUN_SUFFIX_LENGTH = '-yyyymmdd-hhmm'.length;

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * The release id of a run at `ms` (UTC): `<id>-<yyyymmdd-hhmm>`. A release id is used once, so each run
 * needs its own; the minute makes it readable, and two runs in one minute are one release (the second
 * is refused as a duplicate).
 */
export function releaseRunId(id: string, ms: number): string {
  const d = new Date(ms);
  return `${id}-${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
}

/** What `fleetops schedules` reads back from a scheduled release's memo (written at create). */
export interface ReleaseScheduleMemo {
  release: string;
  change: string;
  requestedBy?: string;
  /** `at <ISO time>` or `cron <expr> [<timezone>]`. */
  when: string;
}

/**
 * The Schedule of a scheduled release: its action starts the release trigger
 * (workflows/release-trigger/), which starts `release-<id>-<yyyymmdd-hhmm>` itself through the release's
 * own start path. Overlap SKIP and a ten-minute catch-up window, as a scheduled deploy's
 * (contracts/deploy-trigger/start.ts). `taskQueue` is for tests; `memo`, entries beside the Schedule's own.
 */
export function releaseScheduleOptions(scheduleId: string, input: ReleaseTriggerInput, when: DeployWhen, opts: { taskQueue?: string; memo?: Record<string, string> } = {}): ScheduleOptions {
  const { request } = input;
  const typedSearchAttributes: SearchAttributePair[] = [{ key: FleetopsKind, value: WORKFLOWS.releaseTrigger.kind }];
  const memo: ReleaseScheduleMemo = {
    release: request.id,
    change: request.change,
    ...(request.requestedBy !== undefined ? { requestedBy: request.requestedBy } : {}),
    when: describeWhen(when),
  };
  const { spec, state } = specFor(when);
  return {
    scheduleId,
    spec,
    state: { ...state, note: `scheduled release ${request.id}: ${request.change}`.slice(0, 200) },
    policies: { overlap: 'SKIP', catchupWindow: '10 minutes' },
    memo: { ...opts.memo, ...memo },
    typedSearchAttributes,
    action: {
      type: 'startWorkflow',
      workflowType: RELEASE_TRIGGER_WORKFLOW_TYPE,
      workflowId: scheduleId,
      taskQueue: opts.taskQueue ?? WORKFLOWS.releaseTrigger.taskQueue,
      args: [input],
      typedSearchAttributes,
      staticSummary: `Scheduled release ${request.id}: ${request.change}`.slice(0, 200),
    },
  };
}
