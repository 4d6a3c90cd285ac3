import {
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import type { AwsClients } from '../../activities/aws/clients';
import { DEMO } from './demo';
import { must } from './resource-helpers';

/** How long the seed waits for web to be steady (placed, running, healthy in its target group). */
const SERVICE_STEADY_TIMEOUT_MS = 120_000;

/** Service `web`: its task definition, the service behind the target group, and the wait until it is steady. */
export async function ensureService(aws: AwsClients, targetGroupArn: string) {
  let taskDefinitionArn: string | undefined;
  try {
    const found = await aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: DEMO.taskFamily }));
    taskDefinitionArn = found.taskDefinition?.taskDefinitionArn;
  } catch (err) {
    if (!/ClientException|NotFound/i.test((err as Error).name)) throw err;
  }
  if (!taskDefinitionArn) {
    const created = await aws.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: DEMO.taskFamily,
        networkMode: 'bridge',
        requiresCompatibilities: ['EC2'],
        containerDefinitions: [
          {
            name: 'web',
            image: 'public.ecr.aws/nginx/nginx:1.27',
            cpu: 256,
            memory: 512,
            essential: true,
            // Host port 0: ECS picks a dynamic port, which is what the target group registers.
            portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
          },
        ],
      }),
    );
    taskDefinitionArn = must(created.taskDefinition?.taskDefinitionArn, 'task definition ARN');
  }

  const services = await aws.ecs.send(new DescribeServicesCommand({ cluster: DEMO.cluster, services: [DEMO.service] }));
  let serviceArn = services.services?.find((s) => s.status === 'ACTIVE')?.serviceArn;
  if (!serviceArn) {
    const created = await aws.ecs.send(
      new CreateServiceCommand({
        cluster: DEMO.cluster,
        serviceName: DEMO.service,
        taskDefinition: taskDefinitionArn,
        desiredCount: DEMO.desiredCount,
        launchType: 'EC2',
        loadBalancers: [{ targetGroupArn, containerName: 'web', containerPort: 80 }],
        healthCheckGracePeriodSeconds: DEMO.healthCheckGracePeriodSeconds,
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: false } },
        placementStrategy: [
          { type: 'spread', field: 'attribute:ecs.availability-zone' },
          { type: 'spread', field: 'instanceId' },
        ],
      }),
    );
    serviceArn = must(created.service?.serviceArn, 'service ARN');
  }

  // ECS (the simulator) places the tasks and registers them in the target group; wait until web is steady.
  const deadline = Date.now() + SERVICE_STEADY_TIMEOUT_MS;
  for (;;) {
    const s = (await aws.ecs.send(new DescribeServicesCommand({ cluster: DEMO.cluster, services: [DEMO.service] }))).services?.[0];
    const d = s?.deployments ?? [];
    if (d.length === 1 && d[0]?.rolloutState === 'COMPLETED' && s?.runningCount === s?.desiredCount) break;
    if (Date.now() > deadline) throw new Error(`seed: ${DEMO.service} not steady after ${SERVICE_STEADY_TIMEOUT_MS} ms (${s?.runningCount} of ${s?.desiredCount} running)`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const taskArns = (await aws.ecs.send(new ListTasksCommand({ cluster: DEMO.cluster, serviceName: DEMO.service }))).taskArns ?? [];
  return { serviceArn, taskArns: [...taskArns].sort() };
}
