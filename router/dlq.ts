import type { SQSClient } from '@aws-sdk/client-sqs';
import { peekMessages, queueDepth } from '../common/dead-letter-queue';
import type { Logger } from '../common/logger';
import type { RouterMetrics } from './metrics';

/**
 * The router's watch on the events queue's dead-letter queue (common/dead-letter-queue.ts finds and
 * reads it): its depth and oldest message age as metrics, and a warning when messages arrive.
 */

export interface DlqMonitor {
  /** Reads depth and oldest age now (also done every interval). */
  refresh(): Promise<void>;
  stop(): void;
}

/** Keeps fleetops_router_dlq_messages and fleetops_router_dlq_oldest_message_age_seconds current. */
export function startDlqMonitor(opts: { sqs: SQSClient; dlqUrl: string; metrics: RouterMetrics; log: Logger; intervalMs: number }): DlqMonitor {
  const { sqs, dlqUrl, metrics, log } = opts;
  let running: Promise<void> | undefined;
  let lastDepth = 0;
  const refresh = (): Promise<void> =>
    (running ??= (async () => {
      try {
        const depth = await queueDepth(sqs, dlqUrl);
        metrics.dlqDepth.set(depth);
        const oldest = depth === 0 ? undefined : Math.min(...(await peekMessages(sqs, dlqUrl, 5)).map((m) => Number(m.Attributes?.SentTimestamp ?? Date.now())));
        metrics.dlqOldestAge.set(oldest === undefined || !Number.isFinite(oldest) ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
        if (depth > lastDepth) log.warn({ dlqUrl, depth }, 'the events dead-letter queue holds messages: `fleetops events dlq` lists them, --replay moves them back to the events queue');
        lastDepth = depth;
      } catch (err) {
        log.warn({ dlqUrl, err: String(err) }, 'could not read the dead-letter queue');
      } finally {
        running = undefined;
      }
    })());
  void refresh();
  const timer = setInterval(() => void refresh(), opts.intervalMs);
  timer.unref();
  return { refresh, stop: () => clearInterval(timer) };
}
