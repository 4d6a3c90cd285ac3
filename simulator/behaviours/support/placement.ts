import { DescribeContainerInstancesCommand, ListContainerInstancesCommand, type ECSClient } from '@aws-sdk/client-ecs';

/**
 * ECS task placement for the simulator, as the ECS Developer Guide describes it:
 *  - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement.html: only ACTIVE
 *    container instances with the CPU, memory and host ports the task needs are candidates; a task
 *    that fits nowhere is not placed (the service reports the placement failure and tries again);
 *  - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-strategies.html:
 *    `spread` (instanceId / host / any attribute, e.g. attribute:ecs.availability-zone) evens out the
 *    service's tasks over the field's values, `binpack` (cpu / memory) takes the instance with the
 *    least of it left, `random`; strategies apply in order. A service without a strategy is spread
 *    over Availability Zones (then instances);
 *  - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-constraints.html:
 *    `distinctInstance` puts each of the service's tasks on a different instance. `memberOf` (cluster
 *    query language) is not modelled: such a constraint is ignored.
 * Room is what moto reports as a container instance's remaining resources (moto decrements them on
 * StartTask/RunTask and gives them back on StopTask). Dynamic host ports (hostPort 0 in bridge mode)
 * never conflict; moto books them as port "0", which is why they are not checked against its list.
 */

export interface PlacementStrategy {
  type?: string;
  field?: string;
}

export interface PlacementConstraint {
  type?: string;
  expression?: string;
}

export interface TaskNeeds {
  cpu: number;
  memory: number;
  /** Fixed host ports (0, dynamic, excluded). */
  hostPorts: number[];
}

export interface InstanceRoom {
  containerInstanceArn: string;
  ec2InstanceId: string;
  status: string;
  attributes: Record<string, string>;
  cpu: number;
  memory: number;
  /** Host ports moto has booked on the instance. */
  ports: Set<string>;
}

export const AZ_ATTRIBUTE = 'ecs.availability-zone';
const DEFAULT_SERVICE_STRATEGY: PlacementStrategy[] = [
  { type: 'spread', field: `attribute:${AZ_ATTRIBUTE}` },
  { type: 'spread', field: 'instanceId' },
];

/** The cluster's container instances with what each has left (moto's remainingResources). */
export async function instancesOf(ecs: ECSClient, cluster: string): Promise<InstanceRoom[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListContainerInstancesCommand({ cluster, nextToken }));
    arns.push(...(page.containerInstanceArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const out: InstanceRoom[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const d = await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: arns.slice(i, i + 100) }));
    for (const ci of d.containerInstances ?? []) {
      const res = (name: string) => ci.remainingResources?.find((r) => r.name === name);
      out.push({
        containerInstanceArn: ci.containerInstanceArn ?? '',
        ec2InstanceId: ci.ec2InstanceId ?? '',
        status: ci.status ?? 'UNKNOWN',
        attributes: Object.fromEntries((ci.attributes ?? []).map((a) => [a.name ?? '', a.value ?? ''])),
        cpu: res('CPU')?.integerValue ?? 0,
        memory: res('MEMORY')?.integerValue ?? 0,
        ports: new Set(res('PORTS')?.stringSetValue ?? []),
      });
    }
  }
  return out;
}

function fieldValue(i: InstanceRoom, field: string | undefined): string {
  if (!field || field === 'instanceId' || field === 'host') return i.containerInstanceArn;
  const attr = field.startsWith('attribute:') ? field.slice('attribute:'.length) : field;
  return i.attributes[attr] ?? '';
}

/** Why nothing fits, in the words of ECS's `RESOURCE:*` placement failure reasons. */
function shortage(instances: InstanceRoom[], needs: TaskNeeds): string {
  const active = instances.filter((i) => i.status === 'ACTIVE');
  if (active.length === 0) return 'no ACTIVE container instance in the cluster';
  if (!active.some((i) => i.memory >= needs.memory)) return 'RESOURCE:MEMORY';
  if (!active.some((i) => i.cpu >= needs.cpu)) return 'RESOURCE:CPU';
  if (!active.some((i) => needs.hostPorts.every((p) => !i.ports.has(String(p))))) return 'RESOURCE:PORTS';
  return 'RESOURCE:MEMORY and CPU on one instance';
}

/**
 * The instance a task of a service goes on, or why none fits. `placed` are the container instance
 * ARNs of the service's tasks that are already placed (live), for spread and distinctInstance.
 */
export function chooseInstance(
  instances: InstanceRoom[],
  needs: TaskNeeds,
  placed: string[],
  strategies: PlacementStrategy[] | undefined,
  constraints: PlacementConstraint[] | undefined,
): { instance: InstanceRoom } | { reason: string } {
  const distinct = (constraints ?? []).some((c) => c.type === 'distinctInstance');
  const fits = instances.filter(
    (i) =>
      i.status === 'ACTIVE' &&
      i.cpu >= needs.cpu &&
      i.memory >= needs.memory &&
      needs.hostPorts.every((p) => !i.ports.has(String(p))) &&
      !(distinct && placed.includes(i.containerInstanceArn)),
  );
  if (fits.length === 0) {
    const free = instances.filter((i) => !(distinct && placed.includes(i.containerInstanceArn)));
    if (distinct && free.every((i) => i.status !== 'ACTIVE') && instances.some((i) => i.status === 'ACTIVE')) {
      return { reason: 'distinctInstance: every ACTIVE instance already runs a task of the service' };
    }
    return { reason: shortage(free, needs) };
  }
  const order = strategies && strategies.length > 0 ? strategies : DEFAULT_SERVICE_STRATEGY;
  const byArn = new Map(instances.map((i) => [i.containerInstanceArn, i]));
  const keyOf = (i: InstanceRoom): number[] =>
    order.map((s) => {
      if (s.type === 'spread') return placed.filter((arn) => byArn.get(arn) && fieldValue(byArn.get(arn)!, s.field) === fieldValue(i, s.field)).length;
      if (s.type === 'binpack') return s.field?.toLowerCase() === 'cpu' ? i.cpu : i.memory;
      return Math.random();
    });
  const sorted = fits
    .map((i) => ({ i, k: keyOf(i) }))
    .sort((a, b) => {
      for (let n = 0; n < a.k.length; n++) if (a.k[n] !== b.k[n]) return a.k[n]! - b.k[n]!;
      return a.i.containerInstanceArn.localeCompare(b.i.containerInstanceArn);
    });
  return { instance: sorted[0]!.i };
}
