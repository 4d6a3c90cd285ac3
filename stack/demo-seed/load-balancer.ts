import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  type CreateListenerCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../activities/aws/clients';
import { ensureCertificate } from '../certificate';
import { DEMO, DEMO_OIDC } from './demo';
import { must } from './resource-helpers';

/**
 * web's ALB: HTTP redirecting to HTTPS (an ACM certificate), a listener rule that authenticates users
 * (authenticate-oidc) before a weighted forward to the stable target group, and an empty canary target
 * group beside it.
 */

async function ensureTargetGroup(aws: AwsClients, vpcId: string, name: string): Promise<string> {
  try {
    const found = await aws.elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }));
    const arn = found.TargetGroups?.[0]?.TargetGroupArn;
    if (arn) return arn;
  } catch (err) {
    if (!/NotFound/i.test((err as Error).name)) throw err;
  }
  const created = await aws.elbv2.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: vpcId,
      TargetType: 'instance',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: DEMO.healthCheckIntervalSeconds,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
    }),
  );
  return must(created.TargetGroups?.[0]?.TargetGroupArn, 'target group ARN');
}

async function ensureListener(aws: AwsClients, loadBalancerArn: string, input: CreateListenerCommandInput): Promise<string> {
  const listeners = await aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }));
  const found = listeners.Listeners?.find((l) => l.Port === input.Port)?.ListenerArn;
  if (found) return found;
  return must((await aws.elbv2.send(new CreateListenerCommand(input))).Listeners?.[0]?.ListenerArn, 'listener ARN');
}

export async function ensureLoadBalancer(aws: AwsClients, region: string, endpoint: string | undefined, vpcId: string, subnets: Record<string, string>, securityGroupId: string) {
  let loadBalancerArn: string | undefined;
  try {
    const found = await aws.elbv2.send(new DescribeLoadBalancersCommand({ Names: [DEMO.loadBalancer] }));
    loadBalancerArn = found.LoadBalancers?.[0]?.LoadBalancerArn;
  } catch (err) {
    if (!/NotFound/i.test((err as Error).name)) throw err;
  }
  if (!loadBalancerArn) {
    const created = await aws.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: DEMO.loadBalancer,
        Subnets: Object.values(subnets),
        SecurityGroups: [securityGroupId],
        Scheme: 'internet-facing',
        Type: 'application',
      }),
    );
    loadBalancerArn = must(created.LoadBalancers?.[0]?.LoadBalancerArn, 'load balancer ARN');
  }
  const targetGroupArn = await ensureTargetGroup(aws, vpcId, DEMO.targetGroup);
  const canaryTargetGroupArn = await ensureTargetGroup(aws, vpcId, DEMO.canaryTargetGroup);

  await ensureListener(aws, loadBalancerArn, {
    LoadBalancerArn: loadBalancerArn,
    Protocol: 'HTTP',
    Port: 80,
    DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
  });
  const certificateArn = await ensureCertificate({ region, endpoint, domain: DEMO.domain });
  const listenerArn = await ensureListener(aws, loadBalancerArn, {
    LoadBalancerArn: loadBalancerArn,
    Protocol: 'HTTPS',
    Port: 443,
    Certificates: [{ CertificateArn: certificateArn }],
    DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'no route' } }],
  });
  const rules = await aws.elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn }));
  let listenerRuleArn = rules.Rules?.find((r) => !r.IsDefault)?.RuleArn;
  if (!listenerRuleArn) {
    const created = await aws.elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: 10,
        // The kit's roles modify only rules tagged fleetops:service (deploy/aws/).
        Tags: [{ Key: 'fleetops:service', Value: 'web' }],
        Conditions: [{ Field: 'host-header', Values: [DEMO.domain] }],
        Actions: [
          { Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: DEMO_OIDC },
          {
            Type: 'forward',
            Order: 2,
            ForwardConfig: {
              // The canary group at weight 0: a load balancer uses it, so ECS can create the canary service in it.
              TargetGroups: [
                { TargetGroupArn: targetGroupArn, Weight: 100 },
                { TargetGroupArn: canaryTargetGroupArn, Weight: 0 },
              ],
              TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
            },
          },
        ],
      }),
    );
    listenerRuleArn = must(created.Rules?.[0]?.RuleArn, 'listener rule ARN');
  }
  return { loadBalancerArn, targetGroupArn, canaryTargetGroupArn, listenerArn, listenerRuleArn };
}
