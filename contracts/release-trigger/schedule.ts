import type { Client } from '@temporalio/client';
import type { DeployWhen } from '../deploy-trigger/start';
import { createNumberedSchedule, type CreatedSchedule } from '../deploy-trigger/schedule';
import { releaseTriggerInputSchema, type ReleaseTriggerInput } from './input';
import { RELEASE_SCHEDULE_PREFIX, releaseScheduleId, releaseScheduleOptions } from './start';

/**
 * A scheduled release's Schedule as every client makes and reads it (`fleetops release start …
 * --at/--cron`, `schedules cancel`). The request has passed the checks of a release started now
 * (releaseStartFor) before it comes here; who may do it is each edge's to decide.
 */

export interface ReleaseScheduleRequest {
  trigger: Omit<ReleaseTriggerInput, 'scheduleId'>;
  when: DeployWhen;
  /** Ends the id; default the next free number of the release's schedules. */
  name?: string;
  /** Entries that identify the request (a Slack replay key): a Schedule carrying them is this request's own. */
  memo?: Record<string, string>;
  /** For tests, whose workers poll a queue of their own. */
  taskQueue?: string;
}

/** Makes the Schedule `release-schedule-<id>-<name or n>`; throws as createNumberedSchedule does. */
export function createReleaseSchedule(client: Client, req: ReleaseScheduleRequest): Promise<CreatedSchedule> {
  const { id } = req.trigger.request;
  return createNumberedSchedule(client, {
    prefix: releaseScheduleId(id, ''),
    what: `release ${id}`,
    options: (scheduleId, memo) =>
      releaseScheduleOptions(scheduleId, { ...req.trigger, scheduleId }, req.when, { ...(memo ? { memo } : {}), ...(req.taskQueue ? { taskQueue: req.taskQueue } : {}) }),
    ...(req.name !== undefined ? { name: req.name } : {}),
    ...(req.memo !== undefined ? { memo: req.memo } : {}),
  });
}

/** Whether an id is a scheduled release's: a Schedule of another application is not fleetops' to touch. */
export const isReleaseScheduleId = (scheduleId: string): boolean => scheduleId.startsWith(RELEASE_SCHEDULE_PREFIX);

/**
 * What a scheduled release's Schedule starts: its trigger's input, read from the Schedule's action;
 * undefined when it is not a release trigger's. Throws ScheduleNotFoundError when there is no such Schedule.
 */
export async function releaseScheduleInput(client: Client, scheduleId: string): Promise<ReleaseTriggerInput | undefined> {
  const { action } = await client.schedule.getHandle(scheduleId).describe();
  const parsed = releaseTriggerInputSchema.safeParse(action.type === 'startWorkflow' ? action.args?.[0] : undefined);
  return parsed.success ? parsed.data : undefined;
}
