import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../common/logger';
import { deadLetterQueueOf } from '../common/dead-letter-queue';
import { startDlqMonitor, type DlqMonitor } from './dlq';
import { accountOfQueue } from './events/asg-notification';
import type { RouterMetrics } from './metrics';
import type { QueueFeed } from './sqs-message';

/** What the SQS consumer (router/sqs-consumer.ts) learns about its queue before it receives. */
export interface QueueSetup {
  visibilityTimeoutSeconds: number;
  hasRedrivePolicy: boolean;
  /** The queue's account (its QueueArn, else its URL): the account of the ASG notifications it carries. */
  queueAccount: string | undefined;
  /** Watches the dead-letter queue of the redrive policy, when there is one and `dlqPollMs` > 0. */
  dlqMonitor?: DlqMonitor;
}

export interface QueueSetupOptions {
  sqs: SQSClient;
  queueUrl: string;
  log: Logger;
  metrics: RouterMetrics;
  feed?: QueueFeed;
  visibilityTimeoutSeconds?: number;
  dlqPollMs?: number;
}

/** The queue's attributes, with the defaults a queue that cannot be read gets (each said in the log). */
export async function readQueueSetup(opts: QueueSetupOptions): Promise<QueueSetup> {
  const { log, sqs, queueUrl } = opts;
  let visibilityTimeoutSeconds: number;
  let hasRedrivePolicy = false;
  let queueAccount: string | undefined;
  try {
    const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout', 'RedrivePolicy', 'QueueArn'] }));
    visibilityTimeoutSeconds = opts.visibilityTimeoutSeconds ?? Number(res.Attributes?.VisibilityTimeout ?? 30);
    hasRedrivePolicy = Boolean(res.Attributes?.RedrivePolicy);
    queueAccount = accountOfQueue(res.Attributes?.QueueArn ?? '');
  } catch (err) {
    log.warn({ err: String(err) }, 'cannot read queue attributes; assuming a 30 s visibility timeout and no redrive policy');
    visibilityTimeoutSeconds = opts.visibilityTimeoutSeconds ?? 30;
  }
  queueAccount ??= accountOfQueue(queueUrl);
  if (opts.feed === 'asg-notifications' && !queueAccount) log.warn({ queueUrl }, "cannot tell the lifecycle queue's account: its notifications are refused as invalid");
  const setup: QueueSetup = { visibilityTimeoutSeconds, hasRedrivePolicy, queueAccount };
  if (!hasRedrivePolicy) {
    log.warn({ queueUrl }, 'the queue has no redrive policy: poison messages stay on it until they expire');
    return setup;
  }
  const dlqPollMs = opts.dlqPollMs ?? 30_000;
  if (dlqPollMs <= 0) return setup;
  try {
    const dlq = await deadLetterQueueOf(sqs, queueUrl);
    if (dlq) setup.dlqMonitor = startDlqMonitor({ sqs, dlqUrl: dlq.url, metrics: opts.metrics, log, intervalMs: dlqPollMs });
  } catch (err) {
    log.warn({ err: String(err) }, 'cannot find the dead-letter queue; its metrics stay unset');
  }
  return setup;
}
