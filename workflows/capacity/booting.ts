import { isCancellation } from '@temporalio/workflow';
import type { LaunchedInstance } from '../../activities/capacity/types';
import { failureMessage } from '../lib/failure-message';
import { waits } from './activity-options';
import type { Booting } from './carried';
import type { CapacityState } from './state';

/** After a failed wait, the next one starts no sooner than this (a broken wait must not spin the loop). */
const REWATCH_AFTER_MS = 30_000;

/**
 * New instances boot while the workflow goes on serving requests: a plan hands what it launched to
 * `booting` (carried, so a continued run watches them too) and returns; one
 * awaitContainerInstancesActive per batch runs beside the loop, and its answer lands as a
 * `registered` decision. A wait that fails leaves its instances booting, watched again later.
 */
export class BootWatch {
  private readonly watching = new Set<string>();
  private notBefore = 0;
  /** Bumped when a wait settles; the loop wakes on it to refresh status. */
  settled = 0;

  constructor(
    private readonly state: CapacityState,
    private readonly cluster: string,
  ) {}

  /** Hands a plan's launched instances over; they may take `timeoutMs` to become ACTIVE. */
  add(instances: LaunchedInstance[], pool: (i: LaunchedInstance) => string, timeoutMs: number): void {
    const st = this.state.carried;
    const deadline = Date.now() + timeoutMs;
    st.booting = [...(st.booting ?? []), ...instances.map((i) => ({ instanceId: i.instanceId, pool: pool(i), weight: i.weight, deadline }))];
    this.start();
  }

  /** When a failed wait may be started again (Infinity: nothing to restart). */
  wakeAt(): number {
    const unwatched = (this.state.carried.booting ?? []).some((b) => !this.watching.has(b.instanceId));
    return unwatched ? this.notBefore : Infinity;
  }

  /** Starts one wait for every booting instance no wait covers yet. */
  start(): void {
    const { state, cluster } = this;
    if (Date.now() < this.notBefore) return;
    const batch = (state.carried.booting ?? []).filter((b) => !this.watching.has(b.instanceId));
    if (batch.length === 0) return;
    batch.forEach((b) => this.watching.add(b.instanceId));
    const timeoutSeconds = Math.max(1, Math.ceil((Math.max(...batch.map((b) => b.deadline)) - Date.now()) / 1000));
    waits.awaitContainerInstancesActive({ cluster, instanceIds: batch.map((b) => b.instanceId), timeoutSeconds }).then(
      (r) => this.done(batch, r.active, r.missing, timeoutSeconds),
      (err: unknown) => {
        if (isCancellation(err)) return;
        batch.forEach((b) => this.watching.delete(b.instanceId));
        this.notBefore = Date.now() + REWATCH_AFTER_MS;
        state.decide({ action: 'aws-error', reason: `waiting for ${batch.length} booting instance(s) failed: ${failureMessage(err, { activityType: true })}; watching again` });
        this.settled += 1;
      },
    );
  }

  private done(batch: Booting[], active: string[], missing: string[], timeoutSeconds: number): void {
    const { state, cluster } = this;
    const ids = new Set(batch.map((b) => b.instanceId));
    state.carried.booting = (state.carried.booting ?? []).filter((b) => !ids.has(b.instanceId));
    batch.forEach((b) => this.watching.delete(b.instanceId));
    state.decide({
      action: 'registered',
      units: batch.filter((b) => active.includes(b.instanceId)).reduce((s, b) => s + b.weight, 0),
      reason:
        missing.length === 0
          ? `${active.length} new instance(s) ACTIVE in ${cluster}`
          : `${missing.length} instance(s) not ACTIVE after ${timeoutSeconds}s: ${missing.join(', ')}`,
    });
    this.settled += 1;
  }
}
