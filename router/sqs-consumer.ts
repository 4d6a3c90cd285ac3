import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { dispatchAll, validateBody, type EventPipeline } from './handle-events';

/**
 * Consumes the queue EventBridge feeds (FLEETOPS_EVENTS_QUEUE_URL). A message is deleted only after
 * its start or signal succeeded or was a duplicate (or no route wanted it); anything else stays on the
 * queue: a Temporal failure is retried when the message becomes visible again, and a message that
 * cannot be parsed ("poison") is left for the queue's redrive policy to move to the dead-letter queue.
 */
export interface SqsConsumerOptions extends EventPipeline {
  sqs: SQSClient;
  queueUrl: string;
  /** Messages being worked on at once, across receive batches. */
  maxInFlight?: number;
  waitTimeSeconds?: number;
  /** The queue's visibility timeout; read from the queue when unset. */
  visibilityTimeoutSeconds?: number;
  /** Called once per message handled (bench/router.ts measures send-to-done latency with it). */
  onSettled?: (settled: { messageId: string | undefined; sentAtMs: number; doneAtMs: number; outcome: 'deleted' | 'poison' | 'retry' }) => void;
}

const RECEIVE_BATCH = 10;
/** Deletes wait this long for company, so up to 10 go in one DeleteMessageBatch call. */
const DELETE_LINGER_MS = 20;

interface PendingDelete {
  receiptHandle: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class SqsConsumer {
  private stopping = false;
  private readonly abort = new AbortController();
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private loop: Promise<void> | undefined;
  private visibilityTimeoutSeconds = 30;
  private hasRedrivePolicy = false;
  private pendingDeletes: PendingDelete[] = [];
  private deleteTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SqsConsumerOptions) {}

  async start(): Promise<void> {
    await this.readQueueAttributes();
    this.loop = this.receiveLoop();
  }

  /** Stops receiving (a long poll in progress is aborted) and waits for messages in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.loop;
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async readQueueAttributes(): Promise<void> {
    const { log } = this.opts;
    try {
      const res = await this.opts.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: this.opts.queueUrl, AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'] }),
      );
      this.visibilityTimeoutSeconds = this.opts.visibilityTimeoutSeconds ?? Number(res.Attributes?.VisibilityTimeout ?? 30);
      this.hasRedrivePolicy = Boolean(res.Attributes?.RedrivePolicy);
    } catch (err) {
      log.warn({ err: String(err) }, 'cannot read queue attributes; assuming a 30 s visibility timeout and no redrive policy');
      this.visibilityTimeoutSeconds = this.opts.visibilityTimeoutSeconds ?? 30;
    }
    if (!this.hasRedrivePolicy) {
      log.warn({ queueUrl: this.opts.queueUrl }, 'the events queue has no redrive policy: poison messages stay on it until they expire');
    }
  }

  private async receiveLoop(): Promise<void> {
    const maxInFlight = this.opts.maxInFlight ?? 20;
    const longPollSeconds = this.opts.waitTimeSeconds ?? 20;
    // After a full batch the queue probably holds more: short-poll until a batch comes back short.
    // (Real SQS ends a long poll as soon as messages exist; moto sits out the whole wait.)
    let waitSeconds = longPollSeconds;
    while (!this.stopping) {
      if (this.inFlight + RECEIVE_BATCH > maxInFlight) {
        await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
        continue;
      }
      let messages: Message[];
      try {
        const res = await this.opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.opts.queueUrl,
            MaxNumberOfMessages: RECEIVE_BATCH,
            WaitTimeSeconds: waitSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = res.Messages ?? [];
        waitSeconds = messages.length === RECEIVE_BATCH ? 0 : longPollSeconds;
      } catch (err) {
        if (this.stopping) break;
        this.opts.log.warn({ err: String(err) }, 'SQS receive failed; retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      for (const message of messages) {
        this.inFlight += 1;
        this.opts.metrics.sqsMessages.inc({ outcome: 'received' });
        void this.settle(message).finally(() => {
          this.inFlight -= 1;
          for (const wake of this.idleWaiters.splice(0)) wake();
        });
      }
    }
  }

  private async settle(message: Message): Promise<void> {
    const outcome = await this.handle(message);
    this.opts.onSettled?.({
      messageId: message.MessageId,
      sentAtMs: Number(message.Attributes?.SentTimestamp ?? 0),
      doneAtMs: Date.now(),
      outcome,
    });
  }

  private async handle(message: Message): Promise<'deleted' | 'poison' | 'retry'> {
    const { log, metrics } = this.opts;
    let body: unknown;
    try {
      body = JSON.parse(message.Body ?? '');
    } catch (err) {
      await this.poison(message, `body: not valid JSON (${(err as Error).message.slice(0, 200)})`, 'json');
      return 'poison';
    }
    const validated = validateBody(this.opts, body);
    if (!validated.ok) {
      await this.poison(message, validated.error, 'validation');
      return 'poison';
    }

    const extender = this.extendVisibilityWhileSlow(message);
    try {
      const results = await dispatchAll(this.opts, validated.routed, 'sqs');
      await this.deleteMessage(message.ReceiptHandle as string);
      metrics.sqsMessages.inc({ outcome: 'deleted' });
      log.debug({ messageId: message.MessageId, results }, 'message carried out and deleted');
      return 'deleted';
    } catch (err) {
      // Left on the queue: it becomes visible again after the visibility timeout and is retried.
      metrics.sqsMessages.inc({ outcome: 'retry' });
      log.warn({ messageId: message.MessageId, err: err instanceof Error ? err.message : String(err) }, 'message not carried out; left for redelivery');
      return 'retry';
    } finally {
      clearInterval(extender);
    }
  }

  private deleteMessage(receiptHandle: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingDeletes.push({ receiptHandle, resolve, reject });
      if (this.pendingDeletes.length >= RECEIVE_BATCH) this.flushDeletes();
      else this.deleteTimer ??= setTimeout(() => this.flushDeletes(), DELETE_LINGER_MS);
    });
  }

  private flushDeletes(): void {
    clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
    while (this.pendingDeletes.length > 0) {
      const batch = this.pendingDeletes.splice(0, RECEIVE_BATCH);
      this.opts.sqs
        .send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.opts.queueUrl,
            Entries: batch.map((d, i) => ({ Id: String(i), ReceiptHandle: d.receiptHandle })),
          }),
        )
        .then((res) => {
          const failed = new Map((res.Failed ?? []).map((f) => [f.Id, f]));
          batch.forEach((d, i) => {
            const f = failed.get(String(i));
            if (f) d.reject(new Error(`delete failed: ${f.Code}: ${f.Message ?? ''}`));
            else d.resolve();
          });
        })
        .catch((err: unknown) => {
          for (const d of batch) d.reject(err instanceof Error ? err : new Error(String(err)));
        });
    }
  }

  /** While a start is slow, keep the message invisible so no other consumer starts it twice. */
  private extendVisibilityWhileSlow(message: Message): NodeJS.Timeout {
    const everyMs = Math.max(500, (this.visibilityTimeoutSeconds * 1000) / 2);
    return setInterval(() => {
      this.opts.metrics.sqsVisibilityExtensions.inc();
      this.opts.sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.opts.queueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: this.visibilityTimeoutSeconds,
          }),
        )
        .catch((err: unknown) => this.opts.log.warn({ messageId: message.MessageId, err: String(err) }, 'visibility extension failed'));
    }, everyMs);
  }

  /**
   * Counted and logged on the first receive only; later receives of the same message are the redrive
   * policy at work. With a redrive policy the message is made visible at once so it reaches the DLQ
   * after maxReceiveCount receives instead of maxReceiveCount visibility timeouts.
   */
  private async poison(message: Message, error: string, reason: 'json' | 'validation'): Promise<void> {
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
    if (receiveCount <= 1) {
      this.opts.metrics.invalid.inc({ reason, transport: 'sqs' });
      this.opts.metrics.sqsMessages.inc({ outcome: 'poison' });
      this.opts.log.error({ messageId: message.MessageId, error }, 'poison message left for the dead-letter queue');
    }
    if (!this.hasRedrivePolicy) return;
    try {
      await this.opts.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: this.opts.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }),
      );
    } catch (err) {
      this.opts.log.warn({ messageId: message.MessageId, err: String(err) }, 'could not release poison message');
    }
  }
}
