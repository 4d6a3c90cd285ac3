import type { DeployWhen } from '../../contracts/deploy-trigger/start';
import { describeWhen } from '../../contracts/deploy-trigger/start';
import { DeployScheduleExists, NoFreeScheduleNumber } from '../../contracts/deploy-trigger/schedule';
import type { ReleaseRequest } from '../../contracts/release/input';
import { createReleaseSchedule } from '../../contracts/release-trigger/schedule';
import { RUN_SUFFIX_LENGTH } from '../../contracts/release-trigger/start';
import type { CommandContext } from '../context';
import { failedError, usageError } from '../errors';

/**
 * `fleetops release start … --at/--cron`: the request has passed the same checks as a release started
 * now (releaseStartFor), under the same authority; the Schedule's trigger checks it again when it runs
 * and starts `release-<id>-<yyyymmdd-hhmm>` (a release id is used once, so each run has its own).
 */
export async function scheduleRelease(ctx: CommandContext, request: ReleaseRequest, when: DeployWhen, name: string | undefined): Promise<void> {
  // Each run's id appends the minute; the whole must still be a release id.
  if (request.id.length > 100 - RUN_SUFFIX_LENGTH) throw usageError(`a scheduled release's id is at most ${100 - RUN_SUFFIX_LENGTH} characters: each run appends -<yyyymmdd-hhmm>`);
  const client = await ctx.client();
  let scheduleId: string;
  let next: Date | undefined;
  try {
    ({ scheduleId, next } = await createReleaseSchedule(client, { trigger: { request }, when, ...(name !== undefined ? { name } : {}) }));
  } catch (err) {
    if (err instanceof DeployScheduleExists) {
      throw failedError(`${err.message}: cancel it (fleetops schedules cancel ${err.scheduleId}) or choose another --name`, { scheduleId: err.scheduleId, duplicate: true });
    }
    if (err instanceof NoFreeScheduleNumber) throw failedError(`${err.message}; give --name`);
    throw err;
  }
  ctx.workflowId = scheduleId;
  ctx.print({ scheduleId, when: describeWhen(when), next: next?.toISOString() ?? null, request }, [
    `scheduled ${scheduleId}: release ${request.id} (${request.change}), ${describeWhen(when)}${request.dryRun ? ' (dry run)' : ''}`,
    `  next run: ${next ? next.toISOString() : 'none'}`,
    `  list: fleetops schedules    cancel: fleetops schedules cancel ${scheduleId}`,
    `  each run starts release-${request.id}-<yyyymmdd-hhmm> with the checks of any release; its waves wait for approval, frozen ones hold`,
  ]);
}
