import { z } from 'zod';
import { ignore } from '../routing/decision';
import { defineEventKind } from './kind';

/**
 * The test message Auto Scaling sends when a lifecycle hook is created ("PutLifecycleHook",
 * NotificationTargetARN: test messages carry `"Event": "autoscaling:TEST_NOTIFICATION"`; tools that
 * relay it through EventBridge put it in `LifecycleTransition`). It names no instance and no action:
 * routed as `ignored`, never an error, so it never ends in a dead-letter queue. It shares its
 * detail-types with the lifecycle actions and is told apart by `when`, before their stricter details.
 */
export const TEST_NOTIFICATION = 'autoscaling:TEST_NOTIFICATION';

export const lifecycleTestNotification = defineEventKind({
  kind: 'lifecycle-test-notification',
  source: 'aws.autoscaling',
  detailType: ['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action'],
  when: (detail) => detail.LifecycleTransition === TEST_NOTIFICATION || detail.Event === TEST_NOTIFICATION,
  detail: z.looseObject({ AutoScalingGroupName: z.string().max(255).optional() }),
  rule: { sharedWith: ['lifecycle-launch', 'lifecycle-terminate'] },
  route: ({ detail }) => ignore(`autoscaling:TEST_NOTIFICATION for ${detail.AutoScalingGroupName ?? 'a lifecycle hook'} (sent when a hook is created)`),
});
