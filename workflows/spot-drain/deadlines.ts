import { INTERRUPTION_WARNING_MS } from '../../common/interruption';
import type { DrainEvent } from '../../contracts/spot-drain/input';
import type { DrainSettings } from '../../activities/drain/types';

/** The deadline each event kind sets, and the drain settings before the cluster is known. */

/** An interruption warning gives two minutes (common/interruption.ts). */
export const WARNING_DEADLINE_MS = INTERRUPTION_WARNING_MS;

/** Drain settings until the cluster is resolved (same as the config schema's defaults). */
export const DEFAULT_DRAIN: DrainSettings = {
  rerunStandaloneTasks: true,
  rebalanceDeadlineSeconds: 600,
  lifecycleDeadlineSeconds: 900,
  maxDeregistrationDelaySeconds: 30,
  lifecycleHeartbeatSeconds: 60,
};

/** The deadline one event sets: computed from its kind, or the one it states when that is earlier. */
export function eventDeadlineMs(e: DrainEvent, drain: DrainSettings): number {
  // The instance coming back after a stop sets no deadline.
  if (e.kind === 'instance-running') return Number.POSITIVE_INFINITY;
  const at = Date.parse(e.eventTime);
  const computed =
    e.kind === 'interruption-warning' || e.kind === 'instance-stopping'
      ? at + WARNING_DEADLINE_MS
      : e.kind === 'lifecycle-terminate'
        ? at + drain.lifecycleDeadlineSeconds * 1000
        : e.kind === 'instance-gone'
          ? // The instance is gone: nothing is left to wait for, the drain closes now.
            at
          : // A scale-in or a scheduled change has no deadline of its own; the relaxed rebalance budget bounds it.
            at + drain.rebalanceDeadlineSeconds * 1000;
  const stated = e.deadline ? Date.parse(e.deadline) : NaN;
  return Number.isFinite(stated) ? Math.min(stated, computed) : computed;
}

