import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { DeployRequest } from '../../contracts/canary-deploy/input';
import type { DeployTriggerInput } from '../../contracts/deploy-trigger/input';
import { deployScheduleId, deployScheduleOptions, describeWhen, type DeployWhen } from '../../contracts/deploy-trigger/start';
import type { CommandContext } from '../context';
import { failedError } from '../errors';

/** Numbered ids tried before giving up, when others are creating schedules of the same service at once. */
const NUMBER_ATTEMPTS = 5;

/** The highest `<n>` among the service's numbered schedule ids (0 when none). */
async function highestNumber(client: Client, cluster: string, service: string): Promise<number> {
  const prefix = deployScheduleId(cluster, service, '');
  let highest = 0;
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(prefix)) continue;
    const n = Number(s.scheduleId.slice(prefix.length));
    if (Number.isInteger(n) && n > highest) highest = n;
  }
  return highest;
}

/**
 * `fleetops deploy … --at/--cron`: the request has passed the same checks as a deploy started now
 * (deployStartFor: the service, the image policy), under the same authority (whoever may start the
 * deploy may schedule it); the Schedule's trigger checks it again when it runs. Its id ends with
 * `--name`, or the next free number of the service's schedules.
 */
export async function scheduleDeploy(ctx: CommandContext, request: DeployRequest, when: DeployWhen, name: string | undefined): Promise<void> {
  const client = await ctx.client();
  const { cluster, service } = request;
  const create = async (scheduleId: string): Promise<boolean> => {
    const input: DeployTriggerInput = { request, scheduleId };
    try {
      await client.schedule.create(deployScheduleOptions(scheduleId, input, when));
      return true;
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) return false;
      throw err;
    }
  };
  let scheduleId: string | undefined;
  if (name !== undefined) {
    const id = deployScheduleId(cluster, service, name);
    if (!(await create(id))) throw failedError(`a schedule ${id} exists already: cancel it (fleetops schedules cancel ${id}) or choose another --name`, { scheduleId: id, duplicate: true });
    scheduleId = id;
  } else {
    // The list is eventually consistent: a number just taken may not be listed, so a clash tries the next.
    let n = (await highestNumber(client, cluster, service)) + 1;
    for (let i = 0; i < NUMBER_ATTEMPTS && scheduleId === undefined; i += 1, n += 1) {
      const id = deployScheduleId(cluster, service, n);
      if (await create(id)) scheduleId = id;
    }
    if (scheduleId === undefined) throw failedError(`could not find a free schedule number for ${cluster}/${service}; give --name`);
  }
  ctx.workflowId = scheduleId;
  const description = await client.schedule.getHandle(scheduleId).describe();
  const next = description.info.nextActionTimes[0];
  const target = request.image ?? request.taskDefinition ?? '';
  ctx.print({ scheduleId, when: describeWhen(when), next: next?.toISOString() ?? null, request }, [
    `scheduled ${scheduleId}: ${cluster}/${service} -> ${target}, ${describeWhen(when)}${request.dryRun ? ' (dry run)' : ''}`,
    `  next run: ${next ? next.toISOString() : 'none'}`,
    `  list: fleetops schedules    cancel: fleetops schedules cancel ${scheduleId}`,
    `  it starts deploy-${cluster}-${service} then, with the checks of any deploy (freeze, image policy, approvals)`,
  ]);
}
