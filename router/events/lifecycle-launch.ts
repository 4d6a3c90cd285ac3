import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { launchStartOptions } from '../../contracts/launch/start';
import type { LaunchInput } from '../../contracts/launch/input';
import { clustersAt, routesByAccount, workflowPlacement } from '../../config/placement';
import { dryRunOf, ignore, targetOf } from '../routing/decision';
import { defineEventKind } from './kind';

/**
 * `aws.autoscaling` / `EC2 Instance-launch Lifecycle Action`: the ASG holds a new instance in
 * Pending:Wait until the hook is completed or its heartbeat timeout runs out ("Amazon EventBridge
 * events for Amazon EC2 Auto Scaling"). fleetops completes it CONTINUE once the instance is an ACTIVE
 * container instance of its cluster, ABANDON when it does not join in time (workflows/launch/); a
 * launch into the group's warm pool (Destination WarmPool) CONTINUE at once.
 */
export const lifecycleLaunch = defineEventKind({
  kind: 'lifecycle-launch',
  source: 'aws.autoscaling',
  detailType: 'EC2 Instance-launch Lifecycle Action',
  detail: z.looseObject({
    LifecycleActionToken: z.string().min(1).max(255),
    AutoScalingGroupName: z.string().min(1).max(255),
    LifecycleHookName: z.string().min(1).max(255),
    EC2InstanceId: ec2InstanceIdSchema,
    LifecycleTransition: z.literal('autoscaling:EC2_INSTANCE_LAUNCHING'),
    NotificationMetadata: z.string().max(4096).optional(),
    // Where the instance comes from and goes ("Warm pool example events and patterns"): Destination
    // WarmPool is a launch into the warm pool, which stops it (Warmed:Stopped) instead of joining the cluster.
    Origin: z.enum(['EC2', 'AutoScalingGroup', 'WarmPool']).optional(),
    Destination: z.enum(['EC2', 'AutoScalingGroup', 'WarmPool']).optional(),
  }),
  rule: {
    id: 'LifecycleLaunchRule',
    does: 'launch workflow (CONTINUE when ACTIVE, ABANDON after the configured time)',
    bus: 'default',
    note: "Carries the launch hook's test notification too (lifecycle-test-notification: ignored).",
  },
  /**
   * A launch action for a group that is one of a cluster's `asg` pools: the launch workflow completes
   * it once the instance joins the cluster. Groups the config does not name are not ours.
   */
  route: ({ envelope, detail: d }, config, opts) => {
    // Many accounts: only a cluster in the event's account and region can own the group (group names repeat across accounts).
    const here = routesByAccount(config) ? new Set(clustersAt(config, envelope)) : undefined;
    const owner = Object.entries(config.clusters).find(
      ([name, c]) => (!here || here.has(name)) && c.pools.some((p) => p.kind === 'asg' && p.autoScalingGroupName === d.AutoScalingGroupName),
    );
    if (!owner) {
      const where = here ? ` in account ${envelope.account}, region ${envelope.region}` : '';
      return ignore(`no cluster in the config${where} has Auto Scaling group ${d.AutoScalingGroupName} as a pool`);
    }
    const [cluster, settings] = owner;
    const input: LaunchInput = {
      instanceId: d.EC2InstanceId,
      cluster,
      lifecycle: { hookName: d.LifecycleHookName, asgName: d.AutoScalingGroupName, actionToken: d.LifecycleActionToken },
      eventId: envelope.id,
      eventTime: envelope.time,
      timeoutSeconds: settings.capacity.registrationTimeoutSeconds,
      heartbeatSeconds: settings.drain.lifecycleHeartbeatSeconds,
      ...(d.Destination === 'WarmPool' ? { destination: 'WarmPool' as const } : {}),
      ...dryRunOf(opts),
    };
    return { action: 'start', ...targetOf(launchStartOptions(input, workflowPlacement(config, envelope))) };
  },
});
