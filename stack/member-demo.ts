import { CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';
import { createAwsClients, type AwsClients } from '../activities/aws/clients';
import { deployMemberKit } from './events-kit';
import { workerRoleArnIn } from './worker-role';

/**
 * The local stack's second account, only when asked for (`FLEETOPS_STACK_ACCOUNTS=2 make up`): one
 * fleetops for two accounts, as docs/operating.md ("Many accounts and regions") runs it. In member account 222222222222, region us-west-2:
 * the member kit (deploy/aws/fleetops-member.yaml: rules forwarding to the central bus, the role the
 * worker assumes with its external id), and cluster `demo-member` with two container instances and an
 * on-demand ASG pool. The simulator's behaviours model the default account only, so this cluster is
 * moto as it is: drains work (no tasks run there), a scale-out raises the group but nothing joins the
 * cluster by itself.
 */
export const MEMBER_DEMO = {
  account: '222222222222',
  region: 'us-west-2',
  cluster: 'demo-member',
  autoScalingGroup: 'demo-member-on-demand',
  launchTemplate: 'demo-member-node',
  roleName: 'fleetops-member',
  externalId: 'fleetops-local-member',
} as const;

export const memberRoleArn = `arn:aws:iam::${MEMBER_DEMO.account}:role/${MEMBER_DEMO.roleName}`;

/** An SDK client acting in `account` in moto (`x-moto-account-id`), as that account's administrator. */
function inAccount<C extends { middlewareStack: { add: (...args: never[]) => void } }>(client: C, account: string): C {
  (client.middlewareStack.add as (mw: unknown, opts: unknown) => void)(
    (next: (args: unknown) => Promise<unknown>) => async (args: { request: { headers: Record<string, string> } }) => {
      args.request.headers['x-moto-account-id'] = account;
      return next(args);
    },
    { step: 'build', name: 'fleetopsMemberAccount' },
  );
  return client;
}

/** Deploys the member kit and seeds the member cluster; returns its instance ids. */
export async function seedMemberDemo(endpoint: string, centralAccount: string, centralRegion: string): Promise<string[]> {
  const cfn = inAccount(new CloudFormationClient({ region: MEMBER_DEMO.region, endpoint, maxAttempts: 3 }), MEMBER_DEMO.account);
  try {
    await deployMemberKit(cfn, {
      stackName: 'fleetops-member',
      parameters: {
        CentralEventBusArn: `arn:aws:events:${centralRegion}:${centralAccount}:event-bus/default`,
        // The central kit's worker role (stack fleetops): the local worker runs with a session of it (stack/worker-role.ts).
        WorkerRoleArn: workerRoleArnIn(centralAccount),
        EcsClusterArns: `arn:aws:ecs:${MEMBER_DEMO.region}:${MEMBER_DEMO.account}:cluster/${MEMBER_DEMO.cluster}`,
        ExternalId: MEMBER_DEMO.externalId,
        MemberRoleName: MEMBER_DEMO.roleName,
      },
    });
  } finally {
    cfn.destroy();
  }
  const aws: AwsClients = createAwsClients({ region: MEMBER_DEMO.region, endpoint, sdkMaxAttempts: 3 });
  for (const c of [aws.ecs, aws.ec2, aws.autoscaling]) inAccount(c, MEMBER_DEMO.account);
  try {
    await aws.ecs.send(new CreateClusterCommand({ clusterName: MEMBER_DEMO.cluster }));
    const image = (await aws.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
    const lt = await aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: MEMBER_DEMO.launchTemplate, LaunchTemplateData: { ImageId: image, InstanceType: 'm5.large' }, TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'fleetops:pool', Value: 'on-demand' }] }] }));
    await aws.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: MEMBER_DEMO.autoScalingGroup,
        Tags: [{ Key: 'fleetops:pool', Value: 'on-demand', PropagateAtLaunch: true }],
        LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId, Version: '$Latest' },
        MinSize: 0,
        MaxSize: 10,
        DesiredCapacity: 0,
        AvailabilityZones: [`${MEMBER_DEMO.region}a`],
      }),
    );
    const instances: string[] = [];
    for (const az of ['a', 'b']) {
      const run = await aws.ec2.send(
        new RunInstancesCommand({ ImageId: image, InstanceType: 'm5.large', MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: `${MEMBER_DEMO.region}${az}` } }),
      );
      const instanceId = run.Instances![0]!.InstanceId!;
      // As the ECS agent registers its instance.
      await aws.ecs.send(new RegisterContainerInstanceCommand({ cluster: MEMBER_DEMO.cluster, instanceIdentityDocument: JSON.stringify({ instanceId }) }));
      instances.push(instanceId);
    }
    return instances;
  } finally {
    aws.destroy();
  }
}

/** The member cluster's section of the rendered demo config. */
export const memberClusterConfig = () => ({
  region: MEMBER_DEMO.region,
  roleArn: memberRoleArn,
  externalId: MEMBER_DEMO.externalId,
  pools: [{ name: 'on-demand', kind: 'asg', autoScalingGroupName: MEMBER_DEMO.autoScalingGroup }],
});
