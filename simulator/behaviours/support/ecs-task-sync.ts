import { DescribeTasksCommand, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import type { BehaviourContext } from '../../behaviour';
import { live, type SimTask, type TrackedService } from './ecs-model';
import type { ServiceTargets } from './ecs-service-targets';
import type { TaskDefinitions } from './ecs-task-definitions';
import { privateIp, type EcsTasks } from './ecs-tasks';
import { instancesOf } from './placement';

/**
 * What others do to a tracked service's tasks in moto, noticed as ECS would: a task someone stopped
 * is stopped for the service too, and a task someone started in the service's group
 * (`group: service:<name>`, as RunTask and StartTask
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StartTask.html) let a caller set) counts
 * as the service's. The scheduler's own replacements (its deployment id as `startedBy`) are registered
 * in the service's target groups like the tasks it places.
 */

export interface EcsTaskSyncDeps {
  now: () => number;
  taskDefinitions: TaskDefinitions;
  targets: ServiceTargets;
  tasks: EcsTasks;
}

export function createEcsTaskSync({ now, taskDefinitions, targets, tasks }: EcsTaskSyncDeps) {
  /** Tasks listed under a tracked startedBy that belong to another group: not looked at again. */
  const foreign = new Set<string>();

  /** Takes a task someone else started in the service's group (moto's record) as the service's. */
  async function adopt(ctx: BehaviourContext, svc: TrackedService, t: Task): Promise<void> {
    if (!t.taskArn || svc.tasks.some((k) => k.taskArn === t.taskArn)) return;
    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    const ours = svc.deployments.find((d) => d.id === t.startedBy);
    const d = ours ?? svc.deployments.find((x) => x.taskDefinition === t.taskDefinitionArn) ?? primary;
    if (!d) return;
    const info = await taskDefinitions.info(ctx, svc.region, t.taskDefinitionArn ?? d.taskDefinition);
    const instance = (await instancesOf(ctx.aws(svc.region).ecs, svc.cluster)).find((i) => i.containerInstanceArn === t.containerInstanceArn);
    const task: SimTask = {
      taskArn: t.taskArn,
      taskDefinitionArn: t.taskDefinitionArn ?? d.taskDefinition,
      deploymentId: d.id,
      startedBy: t.startedBy ?? '',
      containerInstanceArn: t.containerInstanceArn ?? '',
      targetId: info.networkMode === 'awsvpc' ? privateIp(t) : (instance?.ec2InstanceId ?? ''),
      lastStatus: 'RUNNING',
      createdAtMs: now(),
      startedAtMs: now(),
      containerName: info.containers[0]?.name ?? 'app',
      bindings: tasks.bindingsFor(info, svc.cluster, t.containerInstanceArn ?? ''),
      adopted: !ours,
      failing: await taskDefinitions.failingRule(ctx, svc.region, t.taskDefinitionArn ?? d.taskDefinition),
    };
    svc.tasks.push(task);
    if (ours) {
      // The scheduler's own replacement (the drain's task moves keep the deployment id): ECS registers it.
      await targets.registerTargets(ctx, svc, task);
    } else if (t.startedBy) {
      svc.adoptedStartedBy.add(t.startedBy);
    }
  }

  /** Notices what others did in moto: the service's tasks they stopped, and tasks they started for it. */
  async function sync(ctx: BehaviourContext, svc: TrackedService): Promise<void> {
    const ecs = ctx.aws(svc.region).ecs;
    const listed = new Set<string>();
    for (const startedBy of new Set([...svc.deployments.map((d) => d.id), ...svc.adoptedStartedBy])) {
      let nextToken: string | undefined;
      do {
        const page = await ecs.send(new ListTasksCommand({ cluster: svc.cluster, startedBy, desiredStatus: 'RUNNING', nextToken }));
        for (const a of page.taskArns ?? []) listed.add(a);
        nextToken = page.nextToken;
      } while (nextToken);
    }
    const gone = svc.tasks.filter((t) => live(t) && !listed.has(t.taskArn));
    const unknown = [...listed].filter((a) => !foreign.has(a) && !svc.tasks.some((t) => t.taskArn === a));
    const arns = [...gone.map((t) => t.taskArn), ...unknown];
    const described = new Map<string, Task>();
    for (let i = 0; i < arns.length; i += 100) {
      const out = await ecs.send(new DescribeTasksCommand({ cluster: svc.cluster, tasks: arns.slice(i, i + 100) }));
      for (const t of out.tasks ?? []) described.set(t.taskArn ?? '', t);
    }
    for (const t of gone) {
      const m = described.get(t.taskArn);
      await tasks.stopTask(ctx, svc, t, m?.stopCode ?? 'UserInitiated', m?.stoppedReason || 'Task stopped', { inMoto: false });
    }
    for (const a of unknown) {
      const m = described.get(a);
      if (!m || m.group !== `service:${svc.serviceName}`) {
        foreign.add(a);
        continue;
      }
      await adopt(ctx, svc, m);
    }
  }

  return {
    adopt,
    sync,
    clear(): void {
      foreign.clear();
    },
  };
}
