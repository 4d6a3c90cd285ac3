import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import type { AwsClients } from '../../activities/aws/clients';
import { POOL_TAG_POOL } from '../../activities/capacity/types';
import { ASG_TYPE, DEMO } from './demo';
import { azsOf, must, nameTag } from './resource-helpers';

/** The demo's VPC over three AZs, its security group and the launch template every pool launches from. */

export async function ensureNetwork(aws: AwsClients, region: string) {
  const found = await aws.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: [DEMO.vpcName] }] }));
  let vpcId = found.Vpcs?.[0]?.VpcId;
  if (!vpcId) {
    const created = await aws.ec2.send(
      new CreateVpcCommand({ CidrBlock: '10.20.0.0/16', TagSpecifications: [nameTag('vpc', DEMO.vpcName)] }),
    );
    vpcId = must(created.Vpc?.VpcId, 'VPC id');
  }
  const subnets: Record<string, string> = {};
  const existing = await aws.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
  for (const s of existing.Subnets ?? []) if (s.AvailabilityZone && s.SubnetId) subnets[s.AvailabilityZone] = s.SubnetId;
  for (const [i, az] of azsOf(region).entries()) {
    if (subnets[az]) continue;
    const created = await aws.ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        AvailabilityZone: az,
        CidrBlock: `10.20.${i + 1}.0/24`,
        TagSpecifications: [nameTag('subnet', `${DEMO.vpcName}-${az}`)],
      }),
    );
    subnets[az] = must(created.Subnet?.SubnetId, 'subnet id');
  }

  const sgs = await aws.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [DEMO.securityGroup] },
      ],
    }),
  );
  let securityGroupId = sgs.SecurityGroups?.[0]?.GroupId;
  if (!securityGroupId) {
    const created = await aws.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: DEMO.securityGroup, Description: 'fleetops demo container instances', VpcId: vpcId }),
    );
    securityGroupId = must(created.GroupId, 'security group id');
    // ECS dynamic host ports, reachable from the ALB inside the VPC.
    await aws.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: securityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 32768, ToPort: 65535, IpRanges: [{ CidrIp: '10.20.0.0/16' }] }],
      }),
    );
  }
  return { vpcId, subnets, securityGroupId };
}

/** A pool's launch template: `name`, tagged with `pool`, whose user data joins its instances to `cluster`. */
export interface LaunchTemplateSpec {
  name: string;
  pool: string;
  cluster: string;
}

const DEMO_TEMPLATE: LaunchTemplateSpec = { name: DEMO.launchTemplate, pool: DEMO.pools.ec2Fleet, cluster: DEMO.cluster };

export async function ensureLaunchTemplate(aws: AwsClients, securityGroupId: string, spec: LaunchTemplateSpec = DEMO_TEMPLATE): Promise<string> {
  try {
    const found = await aws.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [spec.name] }));
    const id = found.LaunchTemplates?.[0]?.LaunchTemplateId;
    if (id) return id;
  } catch (err) {
    if (!/NotFound/i.test((err as Error).name)) throw err;
  }
  const images = await aws.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const imageId = must(images.Images?.find((i) => i.ImageId)?.ImageId, 'AMI');
  const created = await aws.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: spec.name,
      // The pools' templates carry fleetops:pool: the kit's roles launch only from those (deploy/aws/).
      TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: POOL_TAG_POOL, Value: spec.pool }] }],
      LaunchTemplateData: {
        ImageId: imageId,
        InstanceType: ASG_TYPE,
        SecurityGroupIds: [securityGroupId],
        // What joins a real instance to the cluster, and what the simulator's booting instances read
        // (ECS_CLUSTER); the seed registers its own instances itself.
        UserData: Buffer.from(`#!/bin/bash\necho ECS_CLUSTER=${spec.cluster} >> /etc/ecs/ecs.config\n`).toString('base64'),
      },
    }),
  );
  return must(created.LaunchTemplate?.LaunchTemplateId, 'launch template id');
}
