import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { z } from 'zod';
import type { BehaviourContext, BehaviourRouteResponse } from '../../behaviour';
import { describeDeployment, type FailingRevision } from './ecs-model';
import type { EcsWorld } from './ecs-world';

/**
 * The ecs-deployments behaviour's control routes and the settings they change: how long a placed
 * task takes to run, which revisions fail, and alarm state changes scheduled for later (a deploy's
 * alarm going off mid-canary), applied with SetAlarmState as the CloudWatch API reference describes
 * it (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html).
 */

export interface AlarmChange {
  alarmName: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
  atMs: number;
  region: string;
  done: boolean;
}

/** With `cluster`, `rolloutMs` is that cluster's alone (tests running side by side on one emulator each keep their own). */
const configSchema = z
  .object({ rolloutMs: z.number().int().nonnegative().optional(), cluster: z.string().min(1).optional() })
  .strict()
  .refine((c) => c.cluster === undefined || c.rolloutMs !== undefined, { message: 'cluster needs rolloutMs', path: ['rolloutMs'] });
const failingSchema = z
  .object({
    match: z.string().min(1),
    mode: z.enum(['exit', 'unhealthy']).default('exit'),
    stopCode: z.string().default('EssentialContainerExited'),
    reason: z.string().default('Essential container in task exited'),
  })
  .strict();
const alarmScheduleSchema = z
  .object({
    alarmName: z.string().min(1),
    state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
    reason: z.string().default('simulated state change'),
    afterMs: z.number().int().nonnegative(),
    region: z.string().default('us-east-1'),
  })
  .strict();

const DEFAULT_ROLLOUT_MS = 1_000;

export interface EcsControl {
  rolloutMs: number;
  /** Clusters (by name) whose tasks take their own time to run, instead of `rolloutMs`. */
  readonly clusterRolloutMs: Map<string, number>;
  readonly failing: FailingRevision[];
  readonly alarmChanges: AlarmChange[];
}

export function newEcsControl(): EcsControl {
  return { rolloutMs: DEFAULT_ROLLOUT_MS, clusterRolloutMs: new Map(), failing: [], alarmChanges: [] };
}

export function resetEcsControl(control: EcsControl): void {
  control.rolloutMs = DEFAULT_ROLLOUT_MS;
  control.clusterRolloutMs.clear();
  control.failing.length = 0;
  control.alarmChanges.length = 0;
}

/** Applies the scheduled alarm state changes that are due. */
export async function applyAlarmChanges(ctx: BehaviourContext, control: EcsControl, now: () => number): Promise<void> {
  for (const change of control.alarmChanges) {
    if (change.done || now() < change.atMs) continue;
    change.done = true;
    try {
      await ctx.aws(change.region).cloudwatch.send(new SetAlarmStateCommand({ AlarmName: change.alarmName, StateValue: change.state, StateReason: change.reason }));
    } catch (err) {
      ctx.log.warn({ err, alarm: change.alarmName }, 'scheduled alarm state change failed');
    }
  }
}

export function controlRoute(req: { method: string; path: string; body: unknown }, control: EcsControl, world: EcsWorld, now: () => number): BehaviourRouteResponse | undefined {
  const { services, targets } = world;
  const bad = (error: string): BehaviourRouteResponse => ({ status: 400, body: { error } });
  switch (`${req.method} ${req.path}`) {
    case 'PUT /config': {
      const parsed = configSchema.safeParse(req.body ?? {});
      if (!parsed.success) return bad(parsed.error.message);
      const { rolloutMs, cluster } = parsed.data;
      if (cluster !== undefined) control.clusterRolloutMs.set(cluster, rolloutMs!);
      else control.rolloutMs = rolloutMs ?? control.rolloutMs;
      return { status: 200, body: { rolloutMs: control.rolloutMs, clusters: Object.fromEntries(control.clusterRolloutMs) } };
    }
    case 'POST /failing-revisions': {
      const parsed = failingSchema.safeParse(req.body);
      if (!parsed.success) return bad(parsed.error.message);
      control.failing.push(parsed.data);
      return { status: 200, body: { failing: control.failing } };
    }
    case 'POST /alarm-schedule': {
      const parsed = alarmScheduleSchema.safeParse(req.body);
      if (!parsed.success) return bad(parsed.error.message);
      const { afterMs, ...rest } = parsed.data;
      control.alarmChanges.push({ ...rest, atMs: now() + afterMs, done: false });
      return { status: 200, body: { scheduled: control.alarmChanges.filter((c) => !c.done).length } };
    }
    case 'GET /services':
      return {
        status: 200,
        body: {
          services: [...services.values()].map((s) => ({
            cluster: s.cluster,
            serviceName: s.serviceName,
            desiredCount: s.desiredCount,
            deleted: s.deleted,
            placementFailure: s.placementFailure,
            deployments: s.deployments.map((d) => describeDeployment(d, s)),
            tasks: s.tasks.map((t) => ({
              taskArn: t.taskArn,
              taskDefinitionArn: t.taskDefinitionArn,
              lastStatus: t.lastStatus,
              stopCode: t.stopCode,
              stoppedReason: t.stoppedReason,
              containerInstanceArn: t.containerInstanceArn,
              targets: targets.ofTask(t.taskArn).map((x) => ({ targetGroupArn: x.targetGroupArn, id: x.id, port: x.port })),
            })),
          })),
        },
      };
    default:
      return undefined;
  }
}
