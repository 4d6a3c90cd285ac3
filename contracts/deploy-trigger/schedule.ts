import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';
import { deployTriggerInputSchema, type DeployTriggerInput } from './input';
import { DEPLOY_SCHEDULE_PREFIX, deployScheduleId, deployScheduleOptions, type DeployWhen } from './start';

/**
 * A scheduled deploy's Schedule as every client makes and reads it (`fleetops deploy … --at/--cron`,
 * Slack's `/fleetops deploy … at|cron`, `schedules cancel` on both). The request has passed the checks
 * of a deploy started now (deployStartFor) before it comes here; who may do it is each edge's to decide.
 */

/** Numbered ids tried before giving up, when others are creating schedules of the same service at once. */
const NUMBER_ATTEMPTS = 5;

export interface DeployScheduleRequest {
  trigger: Omit<DeployTriggerInput, 'scheduleId'>;
  when: DeployWhen;
  /** Ends the id; default the next free number of the service's schedules. */
  name?: string;
  /**
   * Memo entries that identify the request (Slack's replay key): a Schedule that already carries them
   * is this request's own, made by an earlier copy of it, and no second one is made.
   */
  memo?: Record<string, string>;
}

export interface CreatedSchedule {
  scheduleId: string;
  /** Its first time; undefined when it has none. */
  next: Date | undefined;
  /** The Schedule was made by an earlier copy of the request (DeployScheduleRequest.memo); nothing was made now. */
  replayed: boolean;
}

/** The named Schedule exists already (and is not this request's). */
export class DeployScheduleExists extends Error {
  override readonly name = 'DeployScheduleExists';
  constructor(readonly scheduleId: string) {
    super(`a schedule ${scheduleId} exists already`);
  }
}

export class NoFreeScheduleNumber extends Error {
  override readonly name = 'NoFreeScheduleNumber';
}

/** Makes the Schedule; its id ends with the name, or the next free number of the service's schedules. */
export function createDeploySchedule(client: Client, req: DeployScheduleRequest): Promise<CreatedSchedule> {
  const { cluster, service } = req.trigger.request;
  return createNumberedSchedule(client, {
    prefix: deployScheduleId(cluster, service, ''),
    what: `${cluster}/${service}`,
    options: (scheduleId, memo) => deployScheduleOptions(scheduleId, { ...req.trigger, scheduleId }, req.when, memo ? { memo } : {}),
    ...(req.name !== undefined ? { name: req.name } : {}),
    ...(req.memo !== undefined ? { memo: req.memo } : {}),
  });
}

export interface NumberedScheduleRequest {
  /** The ids' common start (`deploy-schedule-<cluster>-<service>-`); the name or a number ends each. */
  prefix: string;
  /** What the Schedules are of, for the error when no number is free. */
  what: string;
  options: (scheduleId: string, memo: Record<string, string> | undefined) => ScheduleOptions;
  name?: string;
  /** As DeployScheduleRequest.memo: entries that identify the request, so a copy of it makes nothing. */
  memo?: Record<string, string>;
}

/**
 * Makes a Schedule whose id is `prefix` and the name, or the next free number of those of `prefix`
 * (scheduled deploys, scheduled releases). Throws DeployScheduleExists when the named id is another
 * request's, NoFreeScheduleNumber when every number tried was taken meanwhile.
 */
export async function createNumberedSchedule(client: Client, req: NumberedScheduleRequest): Promise<CreatedSchedule> {
  const mine = (memo: Record<string, unknown> | undefined): boolean => req.memo !== undefined && Object.entries(req.memo).every(([k, v]) => memo?.[k] === v);
  const made = async (scheduleId: string, replayed: boolean): Promise<CreatedSchedule> => {
    const next = (await client.schedule.getHandle(scheduleId).describe()).info.nextActionTimes[0];
    return { scheduleId, next, replayed };
  };
  /** True when made; false when the id is taken by another request's Schedule; the replay's own otherwise. */
  const create = async (scheduleId: string): Promise<boolean | CreatedSchedule> => {
    try {
      await client.schedule.create(req.options(scheduleId, req.memo));
      return true;
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      if (req.memo && mine((await client.schedule.getHandle(scheduleId).describe()).memo)) return made(scheduleId, true);
      return false;
    }
  };
  if (req.name !== undefined) {
    const id = `${req.prefix}${req.name}`;
    const r = await create(id);
    if (r === false) throw new DeployScheduleExists(id);
    return r === true ? made(id, false) : r;
  }
  // The list is eventually consistent: a number just taken may not be listed, so a clash tries the next.
  let highest = 0;
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(req.prefix)) continue;
    if (mine(s.memo)) return made(s.scheduleId, true);
    const n = Number(s.scheduleId.slice(req.prefix.length));
    if (Number.isInteger(n) && n > highest) highest = n;
  }
  for (let i = 0, n = highest + 1; i < NUMBER_ATTEMPTS; i += 1, n += 1) {
    const id = `${req.prefix}${n}`;
    const r = await create(id);
    if (r === true) return made(id, false);
    if (r !== false) return r;
  }
  throw new NoFreeScheduleNumber(`could not find a free schedule number for ${req.what}`);
}

/** Whether an id is a scheduled deploy's: a Schedule of another application is not fleetops' to touch. */
export const isDeployScheduleId = (scheduleId: string): boolean => scheduleId.startsWith(DEPLOY_SCHEDULE_PREFIX);

/**
 * What a scheduled deploy's Schedule starts: its trigger's input, read from the Schedule's action (what
 * will run, not the memo written beside it); undefined when it is not a deploy trigger's. Throws
 * ScheduleNotFoundError when there is no such Schedule.
 */
export async function deployScheduleInput(client: Client, scheduleId: string): Promise<DeployTriggerInput | undefined> {
  const { action } = await client.schedule.getHandle(scheduleId).describe();
  const parsed = deployTriggerInputSchema.safeParse(action.type === 'startWorkflow' ? action.args?.[0] : undefined);
  return parsed.success ? parsed.data : undefined;
}
