import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isTemporalOutage, TemporalRefusedError, type TemporalUnavailableError } from './dispatch';
import { deadLetterQueueOf } from '../common/dead-letter-queue';
import { startDlqMonitor, type DlqMonitor } from './dlq';
import { accountOfQueue, asgNotificationToEnvelope, isAsgNotification } from './events/asg-notification';
import { dispatchAll, validateBody, type EventPipeline } from './handle-events';

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
 * While Temporal does not answer, or answers but refuses the router rather than an event (an expired
 * API key or certificate, a missing namespace, a search attribute not registered: router/dispatch.ts
 * classifies), the consumer stops receiving: events wait on the queue, their receive counts untouched,
 * instead of ageing into the dead-letter queue (maxReceiveCount receives would take only
 * maxReceiveCount × the visibility timeout). A probe (DescribeNamespace: it needs the credentials and
 * the namespace a start needs) asks every `probeIntervalMs`, doubling to `maxProbeIntervalMs`.
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
 * Deletes are batched. Every receive sets the visibility timeout itself.
 */
export interface SqsConsumerOptions extends EventPipeline {
  sqs: SQSClient;
  queueUrl: string;
  /** What sends to the queue, and so which format it takes (default `eventbridge`). */
  feed?: 'eventbridge' | 'asg-notifications';
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

const RECEIVE_BATCH = 10;
/** Deletes wait this long for company, so up to 10 go in one DeleteMessageBatch call. */
const DELETE_LINGER_MS = 20;

interface PendingDelete {
  receiptHandle: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Codes that all mean "no answer": a probe flipping between them is the same outage. */
const NO_ANSWER = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED']);
const sameCause = (a: string, b: string | undefined) => a === b || (NO_ANSWER.has(a) && b !== undefined && NO_ANSWER.has(b));

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export class SqsConsumer {
  private stopping = false;
  private readonly abort = new AbortController();
  /** Messages being carried out plus places reserved by receives in flight (what maxInFlight bounds). */
  private inFlight = 0;
  /** Messages received and not yet settled (a delete may still be under way): what stop() waits for. */
  private unsettled = 0;
  private waiters: (() => void)[] = [];
  private loops: Promise<void>[] = [];
  private visibilityTimeoutSeconds = 30;
  private hasRedrivePolicy = false;
  /** The queue's account (its QueueArn, else its URL): the account of the ASG notifications it carries. */
  private queueAccount: string | undefined;
  private pendingDeletes: PendingDelete[] = [];
  private deleteTimer: NodeJS.Timeout | undefined;
  /** Set while Temporal does not answer: resolves true when it does again, false when stopping. */
  private resumed: Promise<boolean> | undefined;
  private dlqMonitor: DlqMonitor | undefined;
  /** Wait before the next probe: grows while probes fail and across pauses, back to probeIntervalMs once a message is carried out. */
  private probeDelayMs: number | undefined;
  /** The code of the last pause, until a message is carried out: a pause with the same code is the same outage, resumed too early. */
  private outage: string | undefined;

  constructor(private readonly opts: SqsConsumerOptions) {}

  get maxInFlight(): number {
    return this.opts.maxInFlight ?? 40;
  }

  get receivers(): number {
    return this.opts.receivers ?? Math.min(4, Math.max(1, Math.ceil(this.maxInFlight / 20)));
  }

  get paused(): boolean {
    return this.resumed !== undefined;
  }

  async start(): Promise<void> {
    await this.readQueueAttributes();
    this.loops = Array.from({ length: this.receivers }, () => this.receiveLoop());
  }

  /** Stops receiving (long polls in progress are aborted) and waits for messages in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.dlqMonitor?.stop();
    await Promise.all(this.loops);
    this.flushDeletes();
    while (this.unsettled > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** The dead-letter queue gauges, read now (tests; the monitor reads them every dlqPollMs). */
  async refreshDlqMetrics(): Promise<void> {
    await this.dlqMonitor?.refresh();
  }

  private async readQueueAttributes(): Promise<void> {
    const { log, sqs, queueUrl } = this.opts;
    try {
      const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout', 'RedrivePolicy', 'QueueArn'] }));
      this.visibilityTimeoutSeconds = this.opts.visibilityTimeoutSeconds ?? Number(res.Attributes?.VisibilityTimeout ?? 30);
      this.hasRedrivePolicy = Boolean(res.Attributes?.RedrivePolicy);
      this.queueAccount = accountOfQueue(res.Attributes?.QueueArn ?? '');
    } catch (err) {
      log.warn({ err: String(err) }, 'cannot read queue attributes; assuming a 30 s visibility timeout and no redrive policy');
      this.visibilityTimeoutSeconds = this.opts.visibilityTimeoutSeconds ?? 30;
    }
    this.queueAccount ??= accountOfQueue(queueUrl);
    if (this.opts.feed === 'asg-notifications' && !this.queueAccount) log.warn({ queueUrl }, "cannot tell the lifecycle queue's account: its notifications are refused as invalid");
    if (!this.hasRedrivePolicy) {
      log.warn({ queueUrl }, 'the queue has no redrive policy: poison messages stay on it until they expire');
      return;
    }
    const dlqPollMs = this.opts.dlqPollMs ?? 30_000;
    if (dlqPollMs <= 0) return;
    try {
      const dlq = await deadLetterQueueOf(sqs, queueUrl);
      if (dlq) this.dlqMonitor = startDlqMonitor({ sqs, dlqUrl: dlq.url, metrics: this.opts.metrics, log, intervalMs: dlqPollMs });
    } catch (err) {
      log.warn({ err: String(err) }, 'cannot find the dead-letter queue; its metrics stay unset');
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async receiveLoop(): Promise<void> {
    const longPollSeconds = this.opts.waitTimeSeconds ?? 20;
    // After a full batch the queue probably holds more: no wait until a batch comes back short.
    let waitSeconds = 0;
    while (!this.stopping) {
      if (this.resumed) {
        await this.resumed;
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
            VisibilityTimeout: this.visibilityTimeoutSeconds,
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

  /** The message body as an EventBridge envelope (or a batch of them), or the reason it is poison (including the wrong format for this queue). */
  private parse(message: Message): { ok: true; body: unknown } | { ok: false; error: string; reason: 'json' | 'validation' } {
    let body: unknown;
    try {
      body = JSON.parse(message.Body ?? '');
    } catch (err) {
      return { ok: false, error: `body: not valid JSON (${(err as Error).message.slice(0, 200)})`, reason: 'json' };
    }
    if ((this.opts.feed ?? 'eventbridge') === 'eventbridge') {
      if (isAsgNotification(body)) return { ok: false, error: 'an Auto Scaling notification is not from EventBridge: this queue takes EventBridge events only (a lifecycle hook notifies the lifecycle queue)', reason: 'validation' };
      return { ok: true, body };
    }
    if (!isAsgNotification(body)) return { ok: false, error: 'not an Auto Scaling notification: the lifecycle queue takes the notifications of lifecycle hooks only', reason: 'validation' };
    if (!this.queueAccount) return { ok: false, error: "Auto Scaling notification: the lifecycle queue's account is unknown", reason: 'validation' };
    const converted = asgNotificationToEnvelope(body, { account: this.queueAccount, region: this.opts.config.aws.region });
    return converted.ok ? { ok: true, body: converted.envelope } : { ok: false, error: `Auto Scaling notification: ${converted.error}`, reason: 'validation' };
  }

  private async handle(message: Message, carriedOut: () => void): Promise<'deleted' | 'poison' | 'retry'> {
    const { log, metrics } = this.opts;
    const parsed = this.parse(message);
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
          this.outage = undefined;
          this.probeDelayMs = undefined;
          break;
        } catch (err) {
          // Not this event's fault: hold the message (still invisible) and stop receiving until calls succeed.
          if (!isTemporalOutage(err)) throw err;
          if (!(await this.untilTemporalAnswers(err))) {
            await this.handBack(message);
            throw err;
          }
        }
      }
      const deleted = this.deleteMessage(message.ReceiptHandle as string);
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

  /** Pauses receiving until a probe of Temporal succeeds; false when the consumer stops first. */
  private untilTemporalAnswers(why: TemporalUnavailableError | TemporalRefusedError): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    this.resumed ??= (async () => {
      const { log, metrics, dispatcher } = this.opts;
      const first = this.opts.probeIntervalMs ?? 1_000;
      const max = Math.max(first, this.opts.maxProbeIntervalMs ?? 5_000);
      metrics.sqsReceivingPaused.set(1);
      // The same cause again before any message went through is the same outage: counted and logged once.
      const again = sameCause(why.code, this.outage);
      this.outage = why.code;
      if (!again) metrics.sqsReceivingPauses.inc({ code: why.code });
      const refused = why instanceof TemporalRefusedError;
      const line = refused
        ? `Temporal refuses the router (${why.code}): SQS receiving paused, events wait on the queue`
        : 'Temporal unavailable: SQS receiving paused, events wait on the queue';
      if (again) log.debug({ code: why.code, err: why.message }, `${line} (again)`);
      else log.warn({ code: why.code, err: why.message }, line);
      const since = Date.now();
      let answered = false;
      while (!this.stopping && !answered) {
        this.probeDelayMs ??= first;
        await sleep(this.probeDelayMs, this.abort.signal);
        if (this.stopping) break;
        const probe = await dispatcher.probe(2_000);
        answered = probe.ok;
        if (probe.ok) break;
        this.probeDelayMs = Math.min(max, this.probeDelayMs * 2);
        if (!sameCause(probe.code, this.outage)) {
          // Still paused, for another reason now (the key was rotated, the namespace is still missing): say so.
          this.outage = probe.code;
          metrics.sqsReceivingPauses.inc({ code: probe.code });
          log.warn({ code: probe.code, err: probe.error }, `Temporal still refuses the router, now ${probe.code}: SQS receiving stays paused`);
        }
      }
      metrics.sqsReceivingPaused.set(0);
      this.resumed = undefined;
      if (answered) (again ? log.debug.bind(log) : log.info.bind(log))({ code: why.code, pausedMs: Date.now() - since }, 'Temporal answers again: SQS receiving resumed');
      this.wake();
      return answered;
    })();
    return this.resumed;
  }

  /** A held message, back to the queue now (the consumer stops while paused): not deleted, and no wait for its visibility timeout. */
  private async handBack(message: Message): Promise<void> {
    try {
      await this.opts.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.opts.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    } catch (err) {
      this.opts.log.warn({ messageId: message.MessageId, err: String(err) }, 'could not hand a held message back; it returns after its visibility timeout');
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
      const started = performance.now();
      this.opts.sqs
        .send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.opts.queueUrl,
            Entries: batch.map((d, i) => ({ Id: String(i), ReceiptHandle: d.receiptHandle })),
          }),
        )
        .then((res) => {
          this.opts.metrics.sqsCall.observe({ operation: 'DeleteMessageBatch', outcome: res.Failed?.length ? 'partial' : 'ok' }, (performance.now() - started) / 1000);
          const failed = new Map((res.Failed ?? []).map((f) => [f.Id, f]));
          batch.forEach((d, i) => {
            const f = failed.get(String(i));
            if (f) d.reject(new Error(`delete failed: ${f.Code}: ${f.Message ?? ''}`));
            else d.resolve();
          });
        })
        .catch((err: unknown) => {
          this.opts.metrics.sqsCall.observe({ operation: 'DeleteMessageBatch', outcome: 'error' }, (performance.now() - started) / 1000);
          for (const d of batch) d.reject(err instanceof Error ? err : new Error(String(err)));
        });
    }
  }

  /** While a message is in hand (a slow start, Temporal down), keep it invisible so nobody else takes it and its receive count stays. */
  private extendVisibilityWhileHeld(message: Message): NodeJS.Timeout {
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
