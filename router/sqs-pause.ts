import { TemporalRefusedError, type TemporalUnavailableError } from './temporal-errors';
import type { EventPipeline } from './handle-events';

/**
 * The SQS consumer's pause (router/sqs-consumer.ts). While Temporal does not answer, or answers but
 * refuses the router rather than an event (an expired API key or certificate, a missing namespace, a
 * search attribute not registered: router/temporal-errors.ts classifies), the consumer stops
 * receiving: events wait on the queue, their receive counts untouched, instead of ageing into the
 * dead-letter queue (maxReceiveCount receives would take only maxReceiveCount × the visibility
 * timeout). A probe (DescribeNamespace: it needs the credentials and the namespace a start needs)
 * asks every `probeIntervalMs`, doubling to `maxProbeIntervalMs`, until it passes or the consumer stops.
 */

export interface ReceivingPauseOptions extends Pick<EventPipeline, 'log' | 'metrics' | 'dispatcher'> {
  probeIntervalMs?: number;
  maxProbeIntervalMs?: number;
  /** Aborted when the consumer stops: a probe wait ends at once. */
  signal: AbortSignal;
  stopping: () => boolean;
  /** Called when the pause ends, either way: the receivers waiting on it go on. */
  ended: () => void;
}

/** Codes that all mean "no answer": a probe flipping between them is the same outage. */
const NO_ANSWER = new Set(['UNAVAILABLE', 'CANCELLED', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED']);
const sameCause = (a: string, b: string | undefined) => a === b || (NO_ANSWER.has(a) && b !== undefined && NO_ANSWER.has(b));

/** Waits `ms`, or less when the signal aborts. */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export class ReceivingPause {
  /** Set while Temporal does not answer: resolves true when it does again, false when stopping. */
  private resumed: Promise<boolean> | undefined;
  /** Wait before the next probe: grows while probes fail and across pauses, back to probeIntervalMs once a message is carried out. */
  private probeDelayMs: number | undefined;
  /** The code of the last pause, until a message is carried out: a pause with the same code is the same outage, resumed too early. */
  private outage: string | undefined;

  constructor(private readonly opts: ReceivingPauseOptions) {}

  /** The pause under way, if any: true when Temporal answers again, false when the consumer stops first. */
  get current(): Promise<boolean> | undefined {
    return this.resumed;
  }

  /** A message went through: the next pause is a new outage, probed from the first interval again. */
  carriedOut(): void {
    this.outage = undefined;
    this.probeDelayMs = undefined;
  }

  /** Pauses receiving until a probe of Temporal succeeds; false when the consumer stops first. */
  until(why: TemporalUnavailableError | TemporalRefusedError): Promise<boolean> {
    if (this.opts.stopping()) return Promise.resolve(false);
    this.resumed ??= this.probeUntilAnswered(why);
    return this.resumed;
  }

  private async probeUntilAnswered(why: TemporalUnavailableError | TemporalRefusedError): Promise<boolean> {
    const { log, metrics, dispatcher, signal, stopping } = this.opts;
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
    while (!stopping() && !answered) {
      this.probeDelayMs ??= first;
      await sleep(this.probeDelayMs, signal);
      if (stopping()) break;
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
    this.opts.ended();
    return answered;
  }
}
