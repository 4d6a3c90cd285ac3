import { KeyedBatcher } from '../common/batching';
import type { Logger } from '../common/logger';
import { atOnceNotices, coordinatorSignal, type AtOnceNotice } from './at-once';
import { isTemporalOutage, type Dispatcher } from './dispatch';
import type { RouterMetrics, Transport } from './metrics';
import type { RouteDecision } from './routes';

/**
 * Sends the drain coordinator its share of the events (router/at-once.ts) ahead of the drains' own
 * starts. The SQS consumer carries out each message on its own, and a storm comes as many requests
 * at once, so notices that keep arriving less than `QUIET_MS` apart go out together (for at most
 * `LINGER_MS`): one signal for a receive of 10, not 10 signals. A storm's warnings should reach the
 * coordinator in as few signals as its calls take: its first workflow task sends what it has, and
 * notices that arrive after it wait for its next task, which queues behind the storm's own drains
 * in the worker (0.3 s at N = 1,000 on 2 cores, bench/spot-storm).
 *
 * Temporal down fails the caller's batch as any call would (the sender retries it); any other failure
 * is logged and counted, and the drains go on without the head start.
 */
const QUIET_MS = 20;
const LINGER_MS = 100;
/** Notices in one signal, as many as the coordinator sends in one call; a signal's payload stays far below Temporal's limits (about 200 bytes each). */
const MAX_NOTICES = 1_000;

export class HeadStart {
  private readonly batcher: KeyedBatcher<string, AtOnceNotice, true>;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
    private readonly metrics: RouterMetrics,
    transport: Transport,
  ) {
    this.batcher = new KeyedBatcher<string, AtOnceNotice, true>({
      maxBatch: MAX_NOTICES,
      lingerMs: LINGER_MS,
      quietMs: QUIET_MS,
      flush: async (_key, items) => {
        const { batchId, decision } = coordinatorSignal(items[0]!.placement, items.map((i) => i.notice));
        try {
          const { action } = await this.dispatcher.carryOut(batchId, decision, transport);
          this.metrics.headStart.inc({ outcome: action === 'duplicate' ? 'duplicate' : 'sent', transport }, items.length);
        } catch (err) {
          this.metrics.headStart.inc({ outcome: 'failed', transport }, items.length);
          // Temporal down or refusing the router: the events wait (the SQS consumer pauses) rather than go on without it.
          if (isTemporalOutage(err)) throw err;
          this.log.warn({ workflowId: decision.workflowId, transport, err: err instanceof Error ? err.message : String(err) }, 'drain coordinator not signalled; each drain sets its own instance DRAINING');
        }
        return items.map(() => true as const);
      },
    });
  }

  /** Resolves once the decisions' notices reached their coordinator (or could not, for a reason other than Temporal being down). */
  async send(decisions: readonly RouteDecision[]): Promise<void> {
    await Promise.all(atOnceNotices(decisions).map((n) => this.batcher.add(n.key, n)));
  }
}

const perDispatcher = new WeakMap<Dispatcher, Map<Transport, HeadStart>>();

/** One HeadStart per dispatcher and transport (the HTTP edge and the SQS consumer have their own dispatchers and deadlines). */
export function headStartFor(dispatcher: Dispatcher, log: Logger, metrics: RouterMetrics, transport: Transport): HeadStart {
  let byTransport = perDispatcher.get(dispatcher);
  if (!byTransport) perDispatcher.set(dispatcher, (byTransport = new Map()));
  let h = byTransport.get(transport);
  if (!h) byTransport.set(transport, (h = new HeadStart(dispatcher, log, metrics, transport)));
  return h;
}
