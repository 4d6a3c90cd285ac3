import type { ScheduleOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { FleetopsCluster, FleetopsKind, FleetopsService } from '../../common/search-attributes';
import { WORKFLOWS } from '../registry';
import type { DeployTriggerInput } from './input';

/** The deploy trigger's workflow type as registered (contracts/registry.ts). */
export const DEPLOY_TRIGGER_WORKFLOW_TYPE = WORKFLOWS.deployTrigger.type;

/** Every scheduled deploy's Schedule id starts so; `fleetops schedules` lists them by it. */
export const DEPLOY_SCHEDULE_PREFIX = 'deploy-schedule-';

/** `deploy-schedule-<cluster>-<service>-<n or name>`: one Schedule per scheduled deploy of a service. */
export const deployScheduleId = (cluster: string, service: string, suffix: string | number): string =>
  `${DEPLOY_SCHEDULE_PREFIX}${cluster}-${service}-${suffix}`;

/** When a scheduled deploy runs: once, at an instant, or at every time of a cron expression. */
export type DeployWhen = { at: Date } | { cron: string; timezone?: string };

/** What `fleetops schedules` reads back from a scheduled deploy's memo (written at create). */
export interface DeployScheduleMemo {
  cluster: string;
  service: string;
  /** The image or task definition it deploys. */
  target: string;
  requestedBy?: string;
  /** `at <ISO time>` or `cron <expr> [<timezone>]`. */
  when: string;
}

const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const;

/**
 * The spec and state of a one-off or recurring Schedule. A one-off is a calendar spec naming one UTC
 * second (its year included, so it never comes round again) and `remainingActions: 1`, so it takes
 * one action whatever happens to the spec; Temporal keeps it (with nothing upcoming) until cancelled.
 */
export function specFor(when: DeployWhen): Pick<ScheduleOptions, 'spec' | 'state'> {
  if ('at' in when) {
    const t = when.at;
    return {
      spec: {
        calendars: [
          {
            year: t.getUTCFullYear(),
            month: MONTHS[t.getUTCMonth()]!,
            dayOfMonth: t.getUTCDate(),
            hour: t.getUTCHours(),
            minute: t.getUTCMinutes(),
            second: t.getUTCSeconds(),
            comment: `once, at ${t.toISOString()}`,
          },
        ],
      },
      state: { remainingActions: 1 },
    };
  }
  return { spec: { cronExpressions: [when.cron], ...(when.timezone ? { timezone: when.timezone } : {}) }, state: {} };
}

export const describeWhen = (when: DeployWhen): string => ('at' in when ? `at ${when.at.toISOString()}` : `cron ${when.cron}${when.timezone ? ` ${when.timezone}` : ''}`);

/**
 * The Schedule of a scheduled deploy (`client.schedule.create(…)`): its action starts the deploy
 * trigger (workflows/deploy-trigger/), which starts `deploy-<cluster>-<service>` itself, so the deploy's
 * id and duplicate rule are those of any deploy (a Schedule appends a timestamp to the ids it starts).
 * Overlap SKIP: a trigger is over in seconds, and two at once would only refuse each other. A missed
 * time is taken up to ten minutes late (the catch-up window), never hours later, when nobody expects it.
 * `taskQueue` is for tests, whose workers poll a queue of their own; `memo`, entries beside the
 * Schedule's own (a Slack request's replay key, contracts/deploy-trigger/schedule.ts).
 */
export function deployScheduleOptions(scheduleId: string, input: DeployTriggerInput, when: DeployWhen, opts: { taskQueue?: string; memo?: Record<string, string> } = {}): ScheduleOptions {
  const { request } = input;
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: WORKFLOWS.deployTrigger.kind },
    { key: FleetopsCluster, value: request.cluster },
    { key: FleetopsService, value: request.service },
  ];
  const target = request.image ?? request.taskDefinition ?? '';
  const memo: DeployScheduleMemo = {
    cluster: request.cluster,
    service: request.service,
    target,
    ...(request.requestedBy !== undefined ? { requestedBy: request.requestedBy } : {}),
    when: describeWhen(when),
  };
  const { spec, state } = specFor(when);
  return {
    scheduleId,
    spec,
    state: { ...state, note: `scheduled deploy of ${request.cluster}/${request.service} to ${target}` },
    policies: { overlap: 'SKIP', catchupWindow: '10 minutes' },
    memo: { ...opts.memo, ...memo },
    typedSearchAttributes,
    action: {
      type: 'startWorkflow',
      workflowType: DEPLOY_TRIGGER_WORKFLOW_TYPE,
      workflowId: scheduleId,
      taskQueue: opts.taskQueue ?? WORKFLOWS.deployTrigger.taskQueue,
      args: [input],
      typedSearchAttributes,
      staticSummary: `Scheduled deploy of ${request.cluster}/${request.service} to ${target}`,
    },
  };
}
