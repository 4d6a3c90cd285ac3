import type { Message } from '@aws-sdk/client-sqs';
import { asgNotificationToEnvelope, isAsgNotification } from './events/asg-notification';

/** What a queue of the kit carries (router/sqs-consumer.ts): EventBridge envelopes, or the ASG's own lifecycle notifications. */
export type QueueFeed = 'eventbridge' | 'asg-notifications';

export type MessageBody = { ok: true; body: unknown } | { ok: false; error: string; reason: 'json' | 'validation' };

/**
 * The message body as an EventBridge envelope (or a batch of them), or the reason it is poison
 * (including the wrong format for this queue). An ASG notification takes the account of the queue
 * it arrived on (`queueAccount`), never its body's, and the router's region when it names none.
 */
export function messageBody(message: Message, feed: QueueFeed, at: { queueAccount: string | undefined; region: string }): MessageBody {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch (err) {
    return { ok: false, error: `body: not valid JSON (${(err as Error).message.slice(0, 200)})`, reason: 'json' };
  }
  if (feed === 'eventbridge') {
    if (isAsgNotification(body)) return { ok: false, error: 'an Auto Scaling notification is not from EventBridge: this queue takes EventBridge events only (a lifecycle hook notifies the lifecycle queue)', reason: 'validation' };
    return { ok: true, body };
  }
  if (!isAsgNotification(body)) return { ok: false, error: 'not an Auto Scaling notification: the lifecycle queue takes the notifications of lifecycle hooks only', reason: 'validation' };
  if (!at.queueAccount) return { ok: false, error: "Auto Scaling notification: the lifecycle queue's account is unknown", reason: 'validation' };
  const converted = asgNotificationToEnvelope(body, { account: at.queueAccount, region: at.region });
  return converted.ok ? { ok: true, body: converted.envelope } : { ok: false, error: `Auto Scaling notification: ${converted.error}`, reason: 'validation' };
}
