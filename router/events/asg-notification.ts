import { z } from 'zod';
import { formatPath } from '../../config/load';
import type { EventEnvelope } from './envelope';
import { TEST_NOTIFICATION } from './lifecycle-test-notification';

/**
 * A lifecycle notification the Auto Scaling group itself sends to its hook's notification target
 * (an SQS queue), not through EventBridge: "Configure a notification target for lifecycle
 * notifications" (https://docs.aws.amazon.com/autoscaling/ec2/userguide/prepare-for-lifecycle-notifications.html)
 * shows the JSON the queue receives (`Service: "AWS Auto Scaling"`, `RequestId`, `Time`,
 * `LifecycleTransition`, ...; a test message has `Event: "autoscaling:TEST_NOTIFICATION"` and no
 * instance). The SQS consumer of the lifecycle queue (deploy/aws/fleetops-events.yaml's LifecycleQueue)
 * turns it into the EventBridge envelope AWS would have delivered, so one parser and one route serve both.
 *
 * The envelope's account is the queue's own, not the body's AccountId: the body is whatever its sender
 * wrote, while the queue's policy lets only Auto Scaling of the queue's account send to it.
 */

const DETAIL_TYPE: Record<string, string> = {
  'autoscaling:EC2_INSTANCE_LAUNCHING': 'EC2 Instance-launch Lifecycle Action',
  'autoscaling:EC2_INSTANCE_TERMINATING': 'EC2 Instance-terminate Lifecycle Action',
  // A test message names no transition; the launch detail-type carries it to the test-notification kind.
  [TEST_NOTIFICATION]: 'EC2 Instance-launch Lifecycle Action',
};

const asgNotificationSchema = z.looseObject({
  Service: z.literal('AWS Auto Scaling'),
  // Not trusted (the account is the queue's): parsed so a body without it still converts.
  AccountId: z.string().optional(),
  RequestId: z.string(),
  Time: z.string(),
  AutoScalingGroupName: z.string().optional(),
  AutoScalingGroupARN: z.string().optional(),
  LifecycleTransition: z.enum(['autoscaling:EC2_INSTANCE_LAUNCHING', 'autoscaling:EC2_INSTANCE_TERMINATING']).optional(),
  Event: z.literal(TEST_NOTIFICATION).optional(),
});

/** Whether a message body is in the ASG's own format (it has no EventBridge `detail-type`). */
export function isAsgNotification(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && (body as Record<string, unknown>).Service === 'AWS Auto Scaling' && !('detail-type' in body);
}

/**
 * The account of a queue, from its URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`) or ARN
 * (`arn:aws:sqs:<region>:<account>:<name>`). A dead-letter queue is in its source queues' account
 * (SQS requires it), so it stands for the lifecycle queue's account too.
 */
export function accountOfQueue(urlOrArn: string): string | undefined {
  return /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:(\d{12}):/.exec(urlOrArn)?.[1] ?? /^https?:\/\/[^/]+\/(\d{12})\/[^/]+\/?$/.exec(urlOrArn)?.[1];
}

const regionOfArn = (arn: string | undefined): string | undefined => /^arn:aws[a-z-]*:autoscaling:([a-z0-9-]+):/.exec(arn ?? '')?.[1];

/**
 * The envelope for an ASG notification, or an error naming the field. The envelope's fields are
 * validated afterwards like any other event's (account, time, the detail per kind). `account` is the
 * account of the queue it arrived on. `region` is the router's own region when the message does not
 * say (lifecycle actions carry no ARN).
 */
export function asgNotificationToEnvelope(body: Record<string, unknown>, at: { account: string; region: string }): { ok: true; envelope: EventEnvelope } | { ok: false; error: string } {
  const parsed = asgNotificationSchema.safeParse(body);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return { ok: false, error: `${formatPath(i.path)}: ${i.message}` };
  }
  const n = parsed.data;
  const transition = n.Event ?? n.LifecycleTransition;
  if (!transition) return { ok: false, error: 'LifecycleTransition: an Auto Scaling notification needs LifecycleTransition or Event' };
  const { Service: _service, AccountId: _claimed, RequestId, Time, AutoScalingGroupARN, Event: _event, ...detail } = n;
  const time = Number.isFinite(Date.parse(Time)) ? new Date(Date.parse(Time)).toISOString().replace(/\.\d{3}Z$/, 'Z') : Time;
  return {
    ok: true,
    envelope: {
      version: '0',
      id: RequestId,
      'detail-type': DETAIL_TYPE[transition]!,
      source: 'aws.autoscaling',
      account: at.account,
      time,
      region: regionOfArn(AutoScalingGroupARN) ?? at.region,
      resources: AutoScalingGroupARN ? [AutoScalingGroupARN] : [],
      detail: { ...detail, LifecycleTransition: transition },
    },
  };
}
