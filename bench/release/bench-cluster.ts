import { readFileSync, writeFileSync } from 'node:fs';
import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand, type Service } from '@aws-sdk/client-ecs';
import { parseDocument } from 'yaml';
import type { AwsClients } from '../../activities/aws/clients';
import { POOL_TAG_CLUSTER, POOL_TAG_POOL } from '../../activities/capacity/types';
import type { CanaryPlan } from '../../config/schema';
import { DEMO_CONFIG_TEMPLATE } from '../../stack/demo-config';
import { ensureCluster } from '../../stack/demo-seed/cluster';
import { ensureLaunchTemplate, ensureNetwork } from '../../stack/demo-seed/network';
import { must } from '../../stack/demo-seed/resource-helpers';

/**
 * The bench's cluster, generated: `bench` with `n` one-task services (svc-01 …), none written by hand.
 * The stack renders a config template with the cluster and its services added to the demo's (the
 * worker reads its config once, at start), and the bench seeds the AWS side once the stack is up, in
 * the demo's VPC: an on-demand Auto Scaling group whose instances join `bench`, and the services.
 */

export const BENCH = {
  cluster: 'bench',
  pool: 'bench-on-demand',
  launchTemplate: 'bench-node',
  image: 'public.ecr.aws/nginx/nginx',
  /** Each task's room: a container instance in the emulator holds 4096 CPU units, so 32 of these. */
  task: { cpu: 128, memory: 256 },
} as const;

export const benchServiceName = (i: number): string => `svc-${String(i + 1).padStart(2, '0')}`;

/**
 * The bench services' canary plan: shop's (config/demo.fleetops.yaml), with a bake of `bakeSeconds`
 * analysed every `analysisSeconds`: one canary task beside the one stable task, a gate the release's
 * wave approval passes, promotion, no post-promotion bake.
 */
export function benchPlan(bakeSeconds: number, analysisSeconds: number): Partial<CanaryPlan> {
  return {
    steps: [{ kind: 'setWeight', weight: 50 }, { kind: 'bake', seconds: bakeSeconds }, { kind: 'gate', timeoutSeconds: 1800 }, { kind: 'promote' }],
    analysisIntervalSeconds: analysisSeconds,
    postPromotionBakeSeconds: 0,
    servicePollSeconds: 1,
    promoteTimeoutSeconds: 300,
  };
}

/** Writes the demo's config template with cluster `bench` and its `n` services added; the stack renders it (FLEETOPS_STACK_CONFIG_TEMPLATE). */
export function writeBenchTemplate(path: string, n: number, plan: Partial<CanaryPlan>): void {
  const doc = parseDocument(readFileSync(DEMO_CONFIG_TEMPLATE, 'utf8'));
  doc.setIn(['clusters', BENCH.cluster], doc.createNode({ pools: [{ name: BENCH.pool, kind: 'asg', market: 'on-demand', autoScalingGroupName: BENCH.pool }] }));
  for (let i = 0; i < n; i++) {
    doc.addIn(['services'], doc.createNode({ cluster: BENCH.cluster, name: benchServiceName(i), images: [BENCH.image], canary: plan }));
  }
  writeFileSync(path, doc.toString({ lineWidth: 0 }));
}

/** Container instances for `n` services: each service's task, its canary and its promoted task at once, with a spare. */
export const instancesFor = (n: number): number => Math.ceil((n * 3) / Math.floor(4096 / BENCH.task.cpu)) + 1;

async function steady(aws: AwsClients, names: string[]): Promise<Service[]> {
  const out: Service[] = [];
  for (let i = 0; i < names.length; i += 10) {
    const d = await aws.ecs.send(new DescribeServicesCommand({ cluster: BENCH.cluster, services: names.slice(i, i + 10) }));
    out.push(...(d.services ?? []));
  }
  return out;
}

/** Seeds cluster `bench` and its `n` services in the emulator and waits until every service is steady. */
export async function seedBenchCluster(aws: AwsClients, region: string, n: number, timeoutMs = 180_000): Promise<{ instances: string[]; services: string[] }> {
  const network = await ensureNetwork(aws, region);
  const launchTemplateId = await ensureLaunchTemplate(aws, network.securityGroupId, { name: BENCH.launchTemplate, pool: BENCH.pool, cluster: BENCH.cluster });
  await aws.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: BENCH.pool,
      LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
      MinSize: 0,
      MaxSize: 100,
      DesiredCapacity: instancesFor(n),
      VPCZoneIdentifier: Object.values(network.subnets).join(','),
      Tags: [
        { Key: POOL_TAG_CLUSTER, Value: BENCH.cluster, PropagateAtLaunch: true },
        { Key: POOL_TAG_POOL, Value: BENCH.pool, PropagateAtLaunch: true },
      ],
    }),
  );
  const group = (await aws.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [BENCH.pool] }))).AutoScalingGroups?.[0];
  const instances = (group?.Instances ?? []).map((i) => must(i.InstanceId, 'instance id')).sort();
  await ensureCluster(aws, region, instances, BENCH.cluster);

  const services = Array.from({ length: n }, (_, i) => benchServiceName(i));
  for (let i = 0; i < services.length; i += 10) {
    await Promise.all(
      services.slice(i, i + 10).map(async (name) => {
        const td = await aws.ecs.send(
          new RegisterTaskDefinitionCommand({
            family: `${BENCH.cluster}-${name}`,
            networkMode: 'bridge',
            requiresCompatibilities: ['EC2'],
            containerDefinitions: [{ name, image: `${BENCH.image}:1.27`, cpu: BENCH.task.cpu, memory: BENCH.task.memory, essential: true }],
          }),
        );
        await aws.ecs.send(
          new CreateServiceCommand({
            cluster: BENCH.cluster,
            serviceName: name,
            taskDefinition: must(td.taskDefinition?.taskDefinitionArn, 'task definition ARN'),
            desiredCount: 1,
            launchType: 'EC2',
            deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: false } },
            placementStrategy: [{ type: 'spread', field: 'instanceId' }],
          }),
        );
      }),
    );
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await steady(aws, services);
    const ready = all.filter((s) => s.runningCount === s.desiredCount && s.deployments?.length === 1 && s.deployments[0]?.rolloutState === 'COMPLETED');
    if (ready.length === n) break;
    if (Date.now() > deadline) throw new Error(`bench: ${ready.length} of ${n} services steady after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return { instances, services };
}
