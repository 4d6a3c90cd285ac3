import { ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { dispatchAll, validateBody, type EventPipeline } from './handle-events';
import { DELETE_BATCH, DeleteBatcher } from './sqs-deletes';
import { messageBody, type QueueFeed } from './sqs-message';
import { ReceivingPause, sleep } from './sqs-pause';
import { readQueueSetup, type QueueSetup } from './sqs-queue';
import { isTemporalOutage } from './temporal-errors';

/**
 * Consumes one queue of the kit (deploy/aws/fleetops-events.yaml), by what feeds it (`feed`):
 *  - `eventbridge`, the events queue (FLEETOPS_EVENTS_QUEUE_URL): EventBridge envelopes only. A
 *    message in the ASG's own notification format is poison there: no EventBridge rule sends one, so
 *    whoever did is not EventBridge;
 *  - `asg-notifications`, the lifecycle queue (FLEETOPS_LIFECYCLE_QUEUE_URL): lifecycle notifications
 *    a hook sends straight to SQS (router/events/asg-notification.ts), only those, each taking its
 *    account from this queue (its QueueArn), not from the body.
 * A message is deleted only after its
 * starts or signals succeeded or were duplicates (or no route wanted it). A message that cannot be
 * parsed ("poison") is left for the queue's redrive policy to move to the dead-letter queue.
 *
 * While Temporal does not answer, or refuses the router rather than an event, the consumer stops
 * receiving, so events wait on the queue instead of ageing into the dead-letter queue
 * (router/sqs-pause.ts says why and how it probes).
 *
 * The messages already in hand are kept invisible (visibility extended) and retried once the probe
 * passes, not handed back to the queue: a hand-back costs each of them a receive when it comes back,
 * and a probe can pass while starts still fail (a search attribute, a permission to start only), so
 * every pause-resume-pause round would cost another one, until the refusal dead-lettered them — the
 * very thing the pause is for. Held, they cost nothing however often that happens, and are carried
 * out the moment calls succeed. Only when the consumer stops while paused (a restart with a rotated
 * key is the usual fix) are they handed back with visibility 0, so the next router takes them at once
 * instead of a visibility timeout later. At most `maxInFlight` messages are held.
 *
 * An error about one event (INVALID_ARGUMENT about its data) fails only its message, which is retried
 * and reaches the dead-letter queue after maxReceiveCount receives as before.
 *
 * Throughput: `receivers` long polls run at once, each taking a batch of 10 only when that many
 * places are free under `maxInFlight`, so the queue is drained as fast as Temporal accepts events.
 * Deletes are batched (router/sqs-deletes.ts). Every receive sets the visibility timeout itself.
 */
export interface SqsConsumerOptions extends EventPipeline {
  sqs: SQSClient;
  queueUrl: string;
  /** What sends to the queue, and so which format it takes (default `eventbridge`). */
  feed?: QueueFeed;
  /**
   * Messages being worked on at once, across receivers (default 40). More only queues inside Temporal:
   * on the bench machine 20, 40 and 100 gave the same throughput, with Temporal calls 3-5 × slower at 100.
   */
  maxInFlight?: number;
  /** Receive calls in flight at once (default: one per 20 places, 1 to 4). */
  receivers?: number;
  /** Long-poll wait of a receive that found the queue empty (default 20 s, SQS's maximum). */
  waitTimeSeconds?: number;
  /** Visibility timeout set on each receive; the queue's own when unset. */
  visibilityTimeoutSeconds?: number;
  /** First wait before Temporal is asked again while receiving is paused (default 1 s); doubles per failed probe. */
  probeIntervalMs?: number;
  /** Longest wait between probes (default 5 s). */
  maxProbeIntervalMs?: number;
  /** How often the dead-letter queue's depth and oldest message are read (default 30 s; 0: never). */
  dlqPollMs?: number;
  /** Called once per message handled (bench/router.ts measures send-to-done latency with it). */
  onSettled?: (settled: { messageId: string | undefined; sentAtMs: number; doneAtMs: number; outcome: 'deleted' | 'poison' | 'retry' }) => void;
}

/** A receive takes at most 10 messages (SQS's limit), the size of a delete batch too. */
const RECEIVE_BATCH = DELETE_BATCH;

export class SqsConsumer {
  private stopping = false;
  private readonly abort = new AbortController();
  /** Messages being carried out plus places reserved by receives in flight (what maxInFlight bounds). */
  private inFlight = 0;
  /** Messages received and not yet settled (a delete may still be under way): what stop() waits for. */
  private unsettled = 0;
  private waiters: (() => void)[] = [];
  private loops: Promise<void>[] = [];
  /** Read from the queue on start (router/sqs-queue.ts). */
  private queue: QueueSetup = { visibilityTimeoutSeconds: 30, hasRedrivePolicy: false, queueAccount: undefined };
  private readonly deletes: DeleteBatcher;
  private readonly pause: ReceivingPause;

  constructor(private readonly opts: SqsConsumerOptions) {
    this.deletes = new DeleteBatcher((Entries) => opts.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: opts.queueUrl, Entries })), opts.metrics);
    this.pause = new ReceivingPause({
      ...opts,
      signal: this.abort.signal,
      stopping: () => this.stopping,
      ended: () => this.wake(),
    });
  }

  get maxInFlight(): number {
    return this.opts.maxInFlight ?? 40;
  }

  get receivers(): number {
    return this.opts.receivers ?? Math.min(4, Math.max(1, Math.ceil(this.maxInFlight / 20)));
  }

  get paused(): boolean {
    return this.pause.current !== undefined;
  }

  async start(): Promise<void> {
    this.queue = await readQueueSetup(this.opts);
    this.loops = Array.from({ length: this.receivers }, () => this.receiveLoop());
  }

  /** Stops receiving (long polls in progress are aborted) and waits for messages in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.queue.dlqMonitor?.stop();
    await Promise.all(this.loops);
    this.deletes.flush();
    while (this.unsettled > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** The dead-letter queue gauges, read now (tests; the monitor reads them every dlqPollMs). */
  async refreshDlqMetrics(): Promise<void> {
    await this.queue.dlqMonitor?.refresh();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async receiveLoop(): Promise<void> {
    const longPollSeconds = this.opts.waitTimeSeconds ?? 20;
    // After a full batch the queue probably holds more: no wait until a batch comes back short.
    let waitSeconds = 0;
    while (!this.stopping) {
      const paused = this.pause.current;
      if (paused) {
        await paused;
        continue;
      }
      const batch = Math.min(RECEIVE_BATCH, this.maxInFlight);
      if (this.inFlight + batch > this.maxInFlight) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      this.inFlight += batch;
      let messages: Message[] = [];
      const started = performance.now();
      try {
        const res = await this.opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.opts.queueUrl,
            MaxNumberOfMessages: batch,
            WaitTimeSeconds: waitSeconds,
            VisibilityTimeout: this.queue.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = res.Messages ?? [];
        if ((res.$metadata.attempts ?? 1) > 1) {
          // The SDK retried the receive: what an earlier attempt took (if it reached SQS) is invisible
          // for the visibility timeout and comes back then, to be carried out late (and found duplicate).
          this.opts.metrics.sqsCall.observe({ operation: 'ReceiveMessage', outcome: 'retried' }, 0);
          this.opts.log.warn({ attempts: res.$metadata.attempts }, 'an SQS receive was retried; messages an earlier attempt took return after the visibility timeout');
        }
        this.opts.metrics.sqsCall.observe({ operation: 'ReceiveMessage', outcome: messages.length ? 'messages' : 'empty' }, (performance.now() - started) / 1000);
        waitSeconds = messages.length === batch ? 0 : longPollSeconds;
      } catch (err) {
        if (!this.stopping) {
          this.opts.metrics.sqsCall.observe({ operation: 'ReceiveMessage', outcome: 'error' }, (performance.now() - started) / 1000);
          this.opts.log.warn({ err: String(err) }, 'SQS receive failed; retrying in 1 s');
          await sleep(1_000, this.abort.signal);
        }
      } finally {
        // Give back the places the batch did not fill.
        this.inFlight -= batch - messages.length;
        this.wake();
      }
      for (const message of messages) {
        this.opts.metrics.sqsMessages.inc({ outcome: 'received' });
        this.unsettled += 1;
        let released = false;
        // The place is free once the message is carried out: its delete goes on in a batch meanwhile.
        const release = () => {
          if (released) return;
          released = true;
          this.inFlight -= 1;
          this.wake();
        };
        void this.settle(message, release).finally(() => {
          release();
          this.unsettled -= 1;
          this.wake();
        });
      }
    }
  }

  private async settle(message: Message, carriedOut: () => void): Promise<void> {
    const outcome = await this.handle(message, carriedOut);
    const sentAtMs = Number(message.Attributes?.SentTimestamp ?? 0);
    const doneAtMs = Date.now();
    if (outcome === 'deleted' && sentAtMs > 0) this.opts.metrics.sqsQueueTime.observe((doneAtMs - sentAtMs) / 1000);
    this.opts.onSettled?.({ messageId: message.MessageId, sentAtMs, doneAtMs, outcome });
  }

  private async handle(message: Message, carriedOut: () => void): Promise<'deleted' | 'poison' | 'retry'> {
    const { log, metrics } = this.opts;
    const parsed = messageBody(message, this.opts.feed ?? 'eventbridge', { queueAccount: this.queue.queueAccount, region: this.opts.config.aws.region });
    const validated = parsed.ok ? validateBody(this.opts, parsed.body) : parsed;
    if (!validated.ok) {
      await this.poison(message, validated.error, parsed.ok ? 'validation' : parsed.reason);
      return 'poison';
    }

    const extender = this.extendVisibilityWhileHeld(message);
    try {
      for (;;) {
        try {
          const results = await dispatchAll(this.opts, validated.routed, 'sqs');
          log.debug({ messageId: message.MessageId, results }, 'message carried out');
          this.pause.carriedOut();
          break;
        } catch (err) {
          // Not this event's fault: hold the message (still invisible) and stop receiving until calls succeed.
          if (!isTemporalOutage(err)) throw err;
          if (!(await this.pause.until(err))) {
            await this.handBack(message);
            throw err;
          }
        }
      }
      const deleted = this.deletes.delete(message.ReceiptHandle as string);
      carriedOut();
      await deleted;
      metrics.sqsMessages.inc({ outcome: 'deleted' });
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

  /** A held message, back to the queue now (the consumer stops while paused): not deleted, and no wait for its visibility timeout. */
  private async handBack(message: Message): Promise<void> {
    try {
      await this.opts.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.opts.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    } catch (err) {
      this.opts.log.warn({ messageId: message.MessageId, err: String(err) }, 'could not hand a held message back; it returns after its visibility timeout');
    }
  }

  /** While a message is in hand (a slow start, Temporal down), keep it invisible so nobody else takes it and its receive count stays. */
  private extendVisibilityWhileHeld(message: Message): NodeJS.Timeout {
    const everyMs = Math.max(500, (this.queue.visibilityTimeoutSeconds * 1000) / 2);
    return setInterval(() => {
      this.opts.metrics.sqsVisibilityExtensions.inc();
      this.opts.sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.opts.queueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: this.queue.visibilityTimeoutSeconds,
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
    if (!this.queue.hasRedrivePolicy) return;
    try {
      await this.opts.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: this.opts.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }),
      );
    } catch (err) {
      this.opts.log.warn({ messageId: message.MessageId, err: String(err) }, 'could not release poison message');
    }
  }
}
