import { GetQueueAttributesCommand, ListMessageMoveTasksCommand, StartMessageMoveTaskCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CommandContext } from '../context';
import { failedError } from '../errors';

/**
 * `fleetops events dlq --replay`: SQS's own dead-letter queue redrive. StartMessageMoveTask moves the
 * messages from the dead-letter queue to the events queue (the same body and attributes; the router
 * then consumes them as any message), and ListMessageMoveTasks is read until the task is over. Not
 * through the router: it works while the router is down or its token unknown, and the router's pause
 * on Temporal outages covers the moved messages too. A message that is still invalid comes back to the
 * dead-letter queue after maxReceiveCount receives; `fleetops events dlq` lists why before a replay.
 */

export interface RedriveOptions {
  dlqUrl: string;
  /** The events queue; when unknown SQS moves each message back to the queue it came from. */
  queueUrl?: string;
  /** MaxNumberOfMessagesPerSecond (1-500); SQS picks the rate when unset. */
  rate?: number;
  /** How often progress is read (default 1 s). */
  pollMs?: number;
}

const arnOf = async (sqs: SQSClient, url: string): Promise<string> => {
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  if (!arn) throw failedError(`${url} has no QueueArn`);
  return arn;
};

export async function redrive(ctx: CommandContext, sqs: SQSClient, opts: RedriveOptions): Promise<void> {
  const sourceArn = await arnOf(sqs, opts.dlqUrl);
  const destinationArn = opts.queueUrl ? await arnOf(sqs, opts.queueUrl) : undefined;
  let taskHandle: string | undefined;
  try {
    taskHandle = (
      await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn, MaxNumberOfMessagesPerSecond: opts.rate }))
    ).TaskHandle;
  } catch (err) {
    const e = err as Error;
    throw failedError(`SQS did not start the move from ${sourceArn}: ${e.name}: ${e.message}`, { sourceArn, destinationArn: destinationArn ?? null });
  }
  if (!ctx.json) ctx.io.stderr(`moving messages from ${sourceArn} to ${destinationArn ?? 'their original queues'}\n`);
  let lastMoved = -1;
  for (;;) {
    const [task] = (await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }))).Results ?? [];
    if (!task) throw failedError(`SQS lists no move task for ${sourceArn}`);
    const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
    const toMove = task.ApproximateNumberOfMessagesToMove ?? 0;
    if (task.Status === 'RUNNING' || task.Status === 'CANCELLING') {
      if (!ctx.json && moved !== lastMoved) ctx.io.stderr(`  ${moved} of ${toMove} moved\n`);
      lastMoved = moved;
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1_000));
      continue;
    }
    const result = { dlqUrl: opts.dlqUrl, sourceArn, destinationArn: destinationArn ?? null, taskHandle: taskHandle ?? null, status: task.Status, moved, toMove };
    if (task.Status === 'FAILED') throw failedError(`the move from ${sourceArn} failed after ${moved} of ${toMove}: ${task.FailureReason ?? 'no reason given'}`, result);
    if (task.Status === 'CANCELLED') throw failedError(`the move from ${sourceArn} was cancelled after ${moved} of ${toMove}`, result);
    ctx.print(result, [`moved ${moved} of ${toMove} message(s) from ${sourceArn} to ${destinationArn ?? 'their original queues'} (${task.Status})`]);
    return;
  }
}
