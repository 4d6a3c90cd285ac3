import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { BehaviourContext } from '../../behaviour';
import type { FailingRevision, TaskDefinitionInfo } from './ecs-model';

/**
 * What the ECS scheduler needs of a task definition: its containers, ports and the room a task takes,
 * read once per ARN (revisions never change). Host ports follow "Amazon ECS task networking options
 * for the EC2 launch type"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking.html): bridge mode
 * holds the host ports it names (0: dynamic), host mode the container ports, awsvpc none.
 */
export function createTaskDefinitions(failing: readonly FailingRevision[]) {
  const taskDefinitions = new Map<string, TaskDefinitionInfo>();

  async function info(ctx: BehaviourContext, region: string, arn: string): Promise<TaskDefinitionInfo> {
    const known = taskDefinitions.get(arn);
    if (known) return known;
    const out = await ctx.aws(region).ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    const td = out.taskDefinition;
    const containers = (td?.containerDefinitions ?? []).map((c) => ({
      name: c.name ?? 'app',
      image: c.image ?? '',
      cpu: c.cpu ?? 0,
      memory: c.memory ?? c.memoryReservation ?? 0,
      portMappings: (c.portMappings ?? []).map((m) => ({ containerPort: m.containerPort ?? 0, hostPort: m.hostPort })),
    }));
    const networkMode = td?.networkMode ?? 'bridge';
    const sum = (k: 'cpu' | 'memory') => containers.reduce((a, c) => a + c[k], 0);
    const result: TaskDefinitionInfo = {
      networkMode,
      containers,
      needs: {
        cpu: sum('cpu') || Number(td?.cpu ?? 0),
        memory: sum('memory') || Number(td?.memory ?? 0),
        hostPorts: containers.flatMap((c) =>
          c.portMappings.map((m) => (networkMode === 'bridge' ? (m.hostPort ?? 0) : networkMode === 'host' ? m.containerPort : 0)).filter((p) => p > 0),
        ),
      },
    };
    taskDefinitions.set(arn, result);
    return result;
  }

  /** The failing-revision rule a task definition matches (by ARN or by a container's image), if any. */
  async function failingRule(ctx: BehaviourContext, region: string, taskDefinition: string): Promise<FailingRevision | undefined> {
    if (failing.length === 0) return undefined;
    const td = await info(ctx, region, taskDefinition);
    return failing.find((f) => taskDefinition.includes(f.match) || td.containers.some((c) => c.image.includes(f.match)));
  }

  return {
    info,
    failingRule,
    clear(): void {
      taskDefinitions.clear();
    },
  };
}

export type TaskDefinitions = ReturnType<typeof createTaskDefinitions>;
