import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Reading the events queue's dead-letter queue: found from the queue's redrive policy, then its depth
 * and messages. The router watches it for its metrics (router/dlq.ts) and `fleetops events dlq` lists
 * and moves its messages, so both edges read it with this code.
 */

export interface DeadLetterQueue {
  url: string;
  arn: string;
  /** Receives after which SQS moves a message there. */
  maxReceiveCount: number;
}

/** The dead-letter queue the redrive policy of `queueUrl` names, or undefined when it has none. */
export async function deadLetterQueueOf(sqs: SQSClient, queueUrl: string): Promise<DeadLetterQueue | undefined> {
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  const policy = attrs.Attributes?.RedrivePolicy;
  if (!policy) return undefined;
  const { deadLetterTargetArn: arn, maxReceiveCount } = JSON.parse(policy) as { deadLetterTargetArn: string; maxReceiveCount: number | string };
  // arn:aws:sqs:<region>:<account>:<name>
  const [, , , , account, name] = arn.split(':');
  const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))).QueueUrl;
  if (!url) throw new Error(`dead-letter queue ${arn} has no URL`);
  return { url, arn, maxReceiveCount: Number(maxReceiveCount) };
}

/** Visible and in-flight messages, as SQS approximates them. */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const a = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    )
  ).Attributes;
  return Number(a?.ApproximateNumberOfMessages ?? 0) + Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/**
 * Messages on the queue without taking them: received with a visibility timeout of 0, so they stay
 * visible. SQS returns a sample per receive; `rounds` receives of 10 are made, stopping early when a
 * round brings nothing new. Each peek adds one to a message's ApproximateReceiveCount.
 */
export async function peekMessages(sqs: SQSClient, url: string, rounds = 10): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (let i = 0; i < rounds; i++) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp'],
      }),
    );
    const before = seen.size;
    for (const m of res.Messages ?? []) if (m.MessageId) seen.set(m.MessageId, m);
    if (seen.size === before) break;
  }
  return [...seen.values()];
}
