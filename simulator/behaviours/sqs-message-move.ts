import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Behaviour, BehaviourContext, BehaviourFactory, SimRequest } from '../behaviour';
import { awsErrorResponse, awsSuccessResponse, type SimResponse } from '../protocol';

/**
 * SQS dead-letter queue redrive ("message move tasks"), which moto does not implement. Follows the
 * Amazon SQS API Reference pages StartMessageMoveTask
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html),
 * ListMessageMoveTasks (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ListMessageMoveTasks.html),
 * CancelMessageMoveTask (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CancelMessageMoveTask.html)
 * and ListMessageMoveTasksResultEntry:
 *  - the source must be a queue that some queue's RedrivePolicy names as its dead-letter queue, else
 *    InvalidParameterValue "Source queue must be configured as a Dead Letter Queue."; a source or
 *    destination that does not exist is ResourceNotFoundException;
 *  - without DestinationArn the messages go back to their original source queues. moto does not
 *    record which queue dead-lettered a message, so here that is the one queue whose RedrivePolicy
 *    names the source; with several, the task ends FAILED with a FailureReason that says to pass
 *    DestinationArn (the simulator's limit, not AWS's);
 *  - MaxNumberOfMessagesPerSecond, 1 to 500, caps the rate; without it the move goes as fast as moto answers;
 *  - only one active task per source queue: a second start while one runs is InvalidParameterValue;
 *  - a task is RUNNING, then COMPLETED (ApproximateNumberOfMessagesToMove, the visible messages at
 *    start, moved, or the source ran dry), CANCELLING and CANCELLED (CancelMessageMoveTask, RUNNING
 *    tasks only; moved messages stay moved), or FAILED with FailureReason;
 *  - ListMessageMoveTasks lists a source's most recent tasks, newest first, MaxResults 1 (default)
 *    to 10; TaskHandle only on a RUNNING task, DestinationArn and MaxNumberOfMessagesPerSecond only
 *    when the start named them.
 * Moving a message is what the pages describe, done with moto's own SQS API: receive from the
 * source, send to the destination with the same body and message attributes, delete from the source.
 * Messages in flight on the source (received, invisible) are not moved. Work happens on the
 * behaviour's tick (every 100 ms, or `POST /_sim/tick`). The JSON protocol only (the SDKs' and CLI's).
 */

type Status = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

interface Task {
  handle: string;
  sourceArn: string;
  sourceUrl: string;
  region: string;
  destinationArn?: string;
  /** Where messages go: DestinationArn's queue, or the source's original queue; undefined when that cannot be told. */
  destinationUrl?: string;
  rate?: number;
  status: Status;
  moved: number;
  toMove: number;
  startedAt: number;
  failureReason?: string;
}

const ARN = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([\w-]{1,80}(?:\.fifo)?)$/;
/** Messages one tick may move per task when no rate is set. */
const PER_TICK = 100;

class SqsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function queueUrlOf(sqs: SQSClient, arn: string, param: string): Promise<string> {
  const m = ARN.exec(arn);
  if (!m) throw new SqsError('InvalidParameterValue', `You must use this format to specify the ${param}: arn:<partition>:<service>:<region>:<account-id>:<resource-id>`);
  try {
    const res = await sqs.send(new GetQueueUrlCommand({ QueueName: m[3], QueueOwnerAWSAccountId: m[2] }));
    if (res.QueueUrl) return res.QueueUrl;
  } catch {
    // Not there: answered below as AWS answers it.
  }
  throw new SqsError('ResourceNotFoundException', `The resource that you specified for the ${param} parameter doesn't exist.`);
}

/** The queues whose RedrivePolicy names `dlqArn` as their dead-letter queue. */
async function queuesDeadLetteringTo(sqs: SQSClient, dlqArn: string): Promise<string[]> {
  const urls = (await sqs.send(new ListQueuesCommand({ MaxResults: 1000 }))).QueueUrls ?? [];
  const sources: string[] = [];
  for (const url of urls) {
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] })).catch(() => undefined);
    const policy = attrs?.Attributes?.RedrivePolicy;
    if (!policy) continue;
    try {
      if ((JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn === dlqArn) sources.push(url);
    } catch {
      // A policy moto would not have stored.
    }
  }
  return sources;
}

const encodeHandle = (taskId: string, sourceArn: string) => Buffer.from(JSON.stringify({ taskId, sourceArn })).toString('base64');

export const sqsMessageMove: BehaviourFactory = () => {
  /** Every task, oldest first. */
  const tasks: Task[] = [];
  const active = (sourceArn: string) => tasks.find((t) => t.sourceArn === sourceArn && (t.status === 'RUNNING' || t.status === 'CANCELLING'));

  async function start(req: SimRequest, ctx: BehaviourContext): Promise<SimResponse> {
    const p = req.params;
    const sourceArn = typeof p.SourceArn === 'string' ? p.SourceArn : undefined;
    if (!sourceArn) throw new SqsError('MissingParameter', 'The request must contain the parameter SourceArn.');
    const rate = p.MaxNumberOfMessagesPerSecond;
    if (rate !== undefined && (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 1 || rate > 500)) {
      throw new SqsError('InvalidParameterValue', `Value ${String(rate)} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500, if provided.`);
    }
    const region = ARN.exec(sourceArn)?.[1] ?? req.region;
    const sqs = ctx.aws(region).sqs;
    const sourceUrl = await queueUrlOf(sqs, sourceArn, 'SourceArn');
    const origins = await queuesDeadLetteringTo(sqs, sourceArn);
    if (origins.length === 0) throw new SqsError('InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.');
    const destinationArn = typeof p.DestinationArn === 'string' && p.DestinationArn !== '' ? p.DestinationArn : undefined;
    if (destinationArn === sourceArn) throw new SqsError('InvalidParameterValue', 'Source queue arn and destination queue arn cannot be the same.');
    const destinationUrl = destinationArn ? await queueUrlOf(sqs, destinationArn, 'DestinationArn') : origins.length === 1 ? origins[0] : undefined;
    if (active(sourceArn)) throw new SqsError('InvalidParameterValue', 'There is already a task running. Only one active task is allowed for a source queue arn at a given time.');
    const visible = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: sourceUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    const task: Task = {
      handle: encodeHandle(randomUUID(), sourceArn),
      sourceArn,
      sourceUrl,
      region,
      destinationArn,
      destinationUrl,
      rate: typeof rate === 'number' ? rate : undefined,
      status: 'RUNNING',
      moved: 0,
      toMove: Number(visible.Attributes?.ApproximateNumberOfMessages ?? 0),
      startedAt: Date.now(),
    };
    if (!destinationUrl) {
      task.status = 'FAILED';
      task.failureReason = `the simulator cannot tell which of ${origins.length} source queues dead-lettered a message (moto does not record it): pass DestinationArn`;
    }
    tasks.push(task);
    ctx.log.info({ sourceArn, destinationArn: destinationArn ?? null, toMove: task.toMove, rate: task.rate ?? null }, 'message move task started');
    return awsSuccessResponse(req, { json: { TaskHandle: task.handle } });
  }

  async function list(req: SimRequest, ctx: BehaviourContext): Promise<SimResponse> {
    const p = req.params;
    const sourceArn = typeof p.SourceArn === 'string' ? p.SourceArn : undefined;
    if (!sourceArn) throw new SqsError('MissingParameter', 'The request must contain the parameter SourceArn.');
    const max = p.MaxResults ?? 1;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 10) {
      throw new SqsError('InvalidParameterValue', `Value ${String(max)} for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 and 10.`);
    }
    await queueUrlOf(ctx.aws(ARN.exec(sourceArn)?.[1] ?? req.region).sqs, sourceArn, 'SourceArn');
    const results = tasks
      .filter((t) => t.sourceArn === sourceArn)
      .reverse()
      .slice(0, max)
      .map((t) => ({
        ...(t.status === 'RUNNING' ? { TaskHandle: t.handle } : {}),
        Status: t.status,
        SourceArn: t.sourceArn,
        ...(t.destinationArn ? { DestinationArn: t.destinationArn } : {}),
        ...(t.rate !== undefined ? { MaxNumberOfMessagesPerSecond: t.rate } : {}),
        ApproximateNumberOfMessagesMoved: t.moved,
        ApproximateNumberOfMessagesToMove: t.toMove,
        ...(t.status === 'FAILED' ? { FailureReason: t.failureReason } : {}),
        StartedTimestamp: t.startedAt,
      }));
    return awsSuccessResponse(req, { json: { Results: results } });
  }

  function cancel(req: SimRequest): SimResponse {
    const handle = typeof req.params.TaskHandle === 'string' ? req.params.TaskHandle : undefined;
    if (!handle) throw new SqsError('MissingParameter', 'The request must contain the parameter TaskHandle.');
    const task = tasks.find((t) => t.handle === handle);
    if (!task) throw new SqsError('ResourceNotFoundException', 'Task does not exist.');
    if (task.status !== 'RUNNING') throw new SqsError('UnsupportedOperation', `Only a RUNNING task can be cancelled; this one is ${task.status}.`);
    task.status = 'CANCELLING';
    return awsSuccessResponse(req, { json: { ApproximateNumberOfMessagesMoved: task.moved } });
  }

  /** Moves what the task may move now: up to its rate since it started, or PER_TICK. */
  async function advance(task: Task, ctx: BehaviourContext): Promise<void> {
    const sqs = ctx.aws(task.region).sqs;
    const allowance = task.rate === undefined ? PER_TICK : Math.min(PER_TICK, Math.floor((task.rate * (Date.now() - task.startedAt)) / 1000) - task.moved);
    let budget = Math.min(allowance, task.toMove - task.moved);
    while (budget > 0 && task.status === 'RUNNING') {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: task.sourceUrl, MaxNumberOfMessages: Math.min(10, budget), VisibilityTimeout: 30, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
      );
      const messages = got.Messages ?? [];
      if (messages.length === 0) break;
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: task.destinationUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '', ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}) })),
        }),
      );
      if (sent.Failed?.length) throw new Error(`sending to the destination failed: ${sent.Failed.map((f) => `${f.Code}: ${f.Message ?? ''}`).join('; ')}`);
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: task.sourceUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
      task.moved += messages.length;
      budget -= messages.length;
    }
    if (task.status === 'CANCELLING') task.status = 'CANCELLED';
    else if (task.moved >= task.toMove) task.status = 'COMPLETED';
    else if (budget > 0) {
      // The source ran dry before the count taken at start (messages in flight, or deleted meanwhile): nothing left to move.
      const left = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: task.sourceUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
      if (Number(left.Attributes?.ApproximateNumberOfMessages ?? 0) === 0) task.status = 'COMPLETED';
    }
    if (task.status !== 'RUNNING') ctx.log.info({ sourceArn: task.sourceArn, status: task.status, moved: task.moved }, 'message move task ended');
  }

  const behaviour: Behaviour = {
    name: 'sqs-message-move',
    async intercept(req, ctx) {
      if (req.service !== 'sqs' || req.protocol !== 'json') return undefined;
      try {
        if (req.action === 'StartMessageMoveTask') return await start(req, ctx);
        if (req.action === 'ListMessageMoveTasks') return await list(req, ctx);
        if (req.action === 'CancelMessageMoveTask') return cancel(req);
        return undefined;
      } catch (err) {
        if (err instanceof SqsError) return awsErrorResponse(req, { status: 400, code: err.code, message: err.message });
        throw err;
      }
    },
    tick: {
      intervalMs: 100,
      async run(ctx) {
        for (const task of tasks) {
          if (task.status !== 'RUNNING' && task.status !== 'CANCELLING') continue;
          try {
            await advance(task, ctx);
          } catch (err) {
            task.status = 'FAILED';
            task.failureReason = err instanceof Error ? err.message : String(err);
            ctx.log.warn({ sourceArn: task.sourceArn, err: task.failureReason }, 'message move task failed');
          }
        }
      },
    },
    reset() {
      tasks.length = 0;
    },
  };
  return behaviour;
};
