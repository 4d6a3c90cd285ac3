import {
  CancelMessageMoveTaskCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';
import { until } from '../../testkit/poll';
import { createQueues, depth, sendAll } from '../../testkit/router/sqs-harness';

/**
 * Dead-letter queue redrive in the simulator (simulator/behaviours/sqs-message-move.ts), as the SQS
 * API reference describes StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask.
 */

jest.setTimeout(60_000);

const emu = useEmulator(() => startEmulator());

const arnOf = async (sqs: SQSClient, url: string) =>
  (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn as string;

async function redrivable(sqs: SQSClient, name: string, messages: number) {
  const q = await createQueues(sqs, name, { visibilityTimeout: 5, maxReceiveCount: 3 });
  await sendAll(sqs, q.dlqUrl, Array.from({ length: messages }, (_, i) => JSON.stringify({ n: i })));
  return { ...q, arn: await arnOf(sqs, q.url), dlqArn: await arnOf(sqs, q.dlqUrl) };
}

const latest = async (sqs: SQSClient, sourceArn: string, max = 1) => (await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: max }))).Results ?? [];

describe('SQS message move tasks', () => {
  it('moves every message back to the original source queue (no DestinationArn) with body and attributes; ListMessageMoveTasks reports COMPLETED with counts', async () => {
    const sqs = emu.aws.sqs;
    const q = await redrivable(sqs, 'move-all', 25);
    await sqs.send(new SendMessageCommand({ QueueUrl: q.dlqUrl, MessageBody: 'with attributes', MessageAttributes: { kind: { DataType: 'String', StringValue: 'spot' } } }));
    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: q.dlqArn }));
    expect(TaskHandle).toEqual(expect.any(String));
    await until('task completed', async () => (await latest(sqs, q.dlqArn))[0]?.Status === 'COMPLETED', { timeoutMs: 20_000, intervalMs: 100 });
    const [task] = await latest(sqs, q.dlqArn);
    expect(task).toEqual({
      Status: 'COMPLETED',
      SourceArn: q.dlqArn,
      ApproximateNumberOfMessagesMoved: 26,
      ApproximateNumberOfMessagesToMove: 26,
      StartedTimestamp: expect.any(Number),
    });
    // No TaskHandle once the task is over; no DestinationArn when the start named none.
    expect(await depth(sqs, q.dlqUrl)).toEqual({ visible: 0, inFlight: 0, total: 0 });
    expect((await depth(sqs, q.url)).visible).toBe(26);
    const bodies: string[] = [];
    let attributed: unknown;
    while (bodies.length < 26) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }));
      for (const m of got.Messages ?? []) {
        bodies.push(m.Body ?? '');
        if (m.Body === 'with attributes') attributed = m.MessageAttributes;
      }
    }
    expect(bodies.sort()).toEqual([...Array.from({ length: 25 }, (_, i) => JSON.stringify({ n: i })), 'with attributes'].sort());
    expect(attributed).toEqual({ kind: { DataType: 'String', StringValue: 'spot' } });
  });

  it('one active task per source queue: a second start while one runs is refused (InvalidParameterValue); cancelling stops it (CANCELLED), moved messages stay moved', async () => {
    const sqs = emu.aws.sqs;
    const q = await redrivable(sqs, 'one-at-a-time', 30);
    // 5 a second: the task is still running when the second start comes.
    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: q.dlqArn, DestinationArn: q.arn, MaxNumberOfMessagesPerSecond: 5 }));
    const second = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: q.dlqArn, DestinationArn: q.arn })).catch((err: Error) => err);
    expect(second).toMatchObject({ name: 'InvalidParameterValue', message: 'There is already a task running. Only one active task is allowed for a source queue arn at a given time.' });
    const [running] = await latest(sqs, q.dlqArn, 10);
    expect(running).toMatchObject({ Status: 'RUNNING', TaskHandle, DestinationArn: q.arn, MaxNumberOfMessagesPerSecond: 5, ApproximateNumberOfMessagesToMove: 30 });
    // Only one task was started: the refused start left nothing behind.
    expect(await latest(sqs, q.dlqArn, 10)).toHaveLength(1);

    await until('some moved', async () => ((await latest(sqs, q.dlqArn))[0]?.ApproximateNumberOfMessagesMoved ?? 0) >= 5, { timeoutMs: 10_000, intervalMs: 100 });
    const cancelled = await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
    expect(cancelled.ApproximateNumberOfMessagesMoved).toBeGreaterThanOrEqual(5);
    await until('cancelled', async () => (await latest(sqs, q.dlqArn))[0]?.Status === 'CANCELLED', { timeoutMs: 10_000, intervalMs: 100 });
    const [done] = await latest(sqs, q.dlqArn);
    // The rate held: 30 messages at 5 a second would take 6 s; it was cancelled well before.
    expect(done!.ApproximateNumberOfMessagesMoved).toBeLessThan(30);
    const moved = done!.ApproximateNumberOfMessagesMoved!;
    expect((await depth(sqs, q.url)).visible).toBe(moved);
    expect((await depth(sqs, q.dlqUrl)).visible).toBe(30 - moved);
    const again = await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle })).catch((err: Error) => err);
    expect(again).toMatchObject({ name: 'UnsupportedOperation' });

    // Once the first is over, a new task may start.
    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: q.dlqArn }));
    await until('rest moved', async () => (await latest(sqs, q.dlqArn))[0]?.Status === 'COMPLETED', { timeoutMs: 20_000, intervalMs: 100 });
    expect((await depth(sqs, q.url)).visible).toBe(30);
    expect((await latest(sqs, q.dlqArn, 10)).map((t) => t.Status)).toEqual(['COMPLETED', 'CANCELLED']);
  });

  it('refuses a source that no queue uses as its dead-letter queue (InvalidParameterValue), and a source or destination that does not exist (ResourceNotFoundException); nothing moves', async () => {
    const sqs = emu.aws.sqs;
    const q = await redrivable(sqs, 'refusals', 3);
    const plain = (await sqs.send(new CreateQueueCommand({ QueueName: 'not-a-dlq' }))).QueueUrl as string;
    await sendAll(sqs, plain, ['a', 'b']);
    const plainArn = await arnOf(sqs, plain);

    const cases: [Record<string, unknown>, string, string][] = [
      [{ SourceArn: plainArn, DestinationArn: q.arn }, 'InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.'],
      // The events queue itself has a redrive policy but is nobody's dead-letter queue.
      [{ SourceArn: q.arn }, 'InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.'],
      [{ SourceArn: q.dlqArn.replace(/[^:]+$/, 'no-such-queue') }, 'ResourceNotFoundException', "The resource that you specified for the SourceArn parameter doesn't exist."],
      [{ SourceArn: q.dlqArn, DestinationArn: q.arn.replace(/[^:]+$/, 'no-such-queue') }, 'ResourceNotFoundException', "The resource that you specified for the DestinationArn parameter doesn't exist."],
      [{ SourceArn: q.dlqArn, MaxNumberOfMessagesPerSecond: 501 }, 'InvalidParameterValue', 'Value 501 for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500, if provided.'],
      [{ SourceArn: q.dlqArn, DestinationArn: q.dlqArn }, 'InvalidParameterValue', 'Source queue arn and destination queue arn cannot be the same.'],
    ];
    for (const [input, name, message] of cases) {
      const err = await sqs.send(new StartMessageMoveTaskCommand(input as never)).catch((e: Error) => e);
      expect({ input, name: (err as Error).name, message: (err as Error).message }).toEqual({ input, name, message });
    }
    await emu.sim.tick('sqs-message-move');
    expect(await latest(sqs, q.dlqArn, 10)).toEqual([]);
    expect(await latest(sqs, plainArn, 10)).toEqual([]);
    expect((await depth(sqs, plain)).visible).toBe(2);
    expect((await depth(sqs, q.dlqUrl)).visible).toBe(3);
    expect((await depth(sqs, q.url)).total).toBe(0);
    const unknown = await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: 'bm8gc3VjaCB0YXNr' })).catch((e: Error) => e);
    expect(unknown).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
