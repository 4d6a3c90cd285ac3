import type { DeployRequest } from '../../contracts/canary-deploy/input';
import { createDeploySchedule, DeployScheduleExists, NoFreeScheduleNumber } from '../../contracts/deploy-trigger/schedule';
import { describeWhen, type DeployWhen } from '../../contracts/deploy-trigger/start';
import type { CommandContext } from '../context';
import { failedError } from '../errors';

/**
 * `fleetops deploy … --at/--cron`: the request has passed the same checks as a deploy started now
 * (deployStartFor: the service, the image policy), under the same authority (whoever may start the
 * deploy may schedule it); the Schedule's trigger checks it again when it runs. Its id ends with
 * `--name`, or the next free number of the service's schedules (contracts/deploy-trigger/schedule.ts).
 */
export async function scheduleDeploy(ctx: CommandContext, request: DeployRequest, when: DeployWhen, name: string | undefined): Promise<void> {
  const client = await ctx.client();
  const { cluster, service } = request;
  let scheduleId: string;
  let next: Date | undefined;
  try {
    ({ scheduleId, next } = await createDeploySchedule(client, { trigger: { request }, when, ...(name !== undefined ? { name } : {}) }));
  } catch (err) {
    if (err instanceof DeployScheduleExists) {
      throw failedError(`${err.message}: cancel it (fleetops schedules cancel ${err.scheduleId}) or choose another --name`, { scheduleId: err.scheduleId, duplicate: true });
    }
    if (err instanceof NoFreeScheduleNumber) throw failedError(`${err.message}; give --name`);
    throw err;
  }
  ctx.workflowId = scheduleId;
  const target = request.image ?? request.taskDefinition ?? '';
  ctx.print({ scheduleId, when: describeWhen(when), next: next?.toISOString() ?? null, request }, [
    `scheduled ${scheduleId}: ${cluster}/${service} -> ${target}, ${describeWhen(when)}${request.dryRun ? ' (dry run)' : ''}`,
    `  next run: ${next ? next.toISOString() : 'none'}`,
    `  list: fleetops schedules    cancel: fleetops schedules cancel ${scheduleId}`,
    `  it starts deploy-${cluster}-${service} then, with the checks of any deploy (freeze, image policy, approvals)`,
  ]);
}
