/**
 * Coalesces concurrent calls into batch calls. Items added under the same key within `lingerMs` (or
 * until `maxBatch` items are waiting) go out in one `flush`; each caller gets its own item's result
 * or error. In a storm the drain activities turn N UpdateContainerInstancesState calls into N/10 and
 * N DescribeTasks calls into N/100 (activities/drain/shared-calls.ts); the router turns the warnings of
 * concurrent SQS messages into one signal to the drain coordinator (router/head-start.ts).
 * No I/O of its own.
 */
export interface BatcherOptions<K, I, R> {
  maxBatch: number;
  /** The longest the first item of a batch waits for more. */
  lingerMs: number;
  /**
   * With it, a batch goes out as soon as no item has been added for this long (and at the latest
   * `lingerMs` after its first item): items that keep arriving close together share one batch.
   */
  quietMs?: number;
  /** Returns one result or Error per item, in the same order. A thrown error fails the whole batch. */
  flush(key: K, items: I[]): Promise<(R | Error)[]>;
}

interface Pending<I, R> {
  item: I;
  resolve(r: R): void;
  reject(e: unknown): void;
}

export class KeyedBatcher<K, I, R> {
  private readonly queues = new Map<K, { items: Pending<I, R>[]; timer?: NodeJS.Timeout; firstAt: number }>();

  constructor(private readonly opts: BatcherOptions<K, I, R>) {}

  add(key: K, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let q = this.queues.get(key);
      if (!q) {
        q = { items: [], firstAt: Date.now() };
        this.queues.set(key, q);
      }
      q.items.push({ item, resolve, reject });
      if (q.items.length >= this.opts.maxBatch) this.flushNow(key);
      else if (this.opts.quietMs === undefined) q.timer ??= setTimeout(() => this.flushNow(key), this.opts.lingerMs);
      else {
        clearTimeout(q.timer);
        const due = Math.min(this.opts.quietMs, q.firstAt + this.opts.lingerMs - Date.now());
        q.timer = setTimeout(() => this.flushNow(key), Math.max(0, due));
      }
    });
  }

  private flushNow(key: K): void {
    const q = this.queues.get(key);
    if (!q) return;
    if (q.timer) clearTimeout(q.timer);
    this.queues.delete(key);
    for (let i = 0; i < q.items.length; i += this.opts.maxBatch) {
      const chunk = q.items.slice(i, i + this.opts.maxBatch);
      this.opts.flush(key, chunk.map((p) => p.item)).then(
        (results) => chunk.forEach((p, j) => {
          const r = results[j];
          if (r instanceof Error) p.reject(r);
          else if (r === undefined) p.reject(new Error('batch returned no result for this item'));
          else p.resolve(r);
        }),
        (err: unknown) => chunk.forEach((p) => p.reject(err)),
      );
    }
  }
}

/**
 * How old a snapshot `any()` hands out may be: older readings are refreshed first. An instance read
 * DRAINING with no tasks minutes ago may have come back ACTIVE with tasks since.
 */
export const SNAPSHOT_MAX_AGE_MS = 30_000;

/** Runs `refresh` at most once at a time and at most every `minIntervalMs`, sharing its result. */
export class SharedSnapshot<T> {
  private current?: { startedAt: number; value: T };
  private inFlight?: { startedAt: number; promise: Promise<T> };
  private lastStart = 0;

  constructor(
    private readonly refresh: () => Promise<T>,
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A snapshot no older than `maxAgeMs`, refreshing only when there is none that young. */
  async any(maxAgeMs = SNAPSHOT_MAX_AGE_MS): Promise<T> {
    const since = this.now() - maxAgeMs;
    return this.current && this.current.startedAt >= since ? this.current.value : this.takenAfter(since);
  }

  /** A snapshot whose refresh started at or after `t`: callers that arrive together share one refresh. */
  async takenAfter(t: number): Promise<T> {
    if (this.current && this.current.startedAt >= t) return this.current.value;
    if (this.inFlight && this.inFlight.startedAt >= t) return this.inFlight.promise;
    if (this.inFlight) await this.inFlight.promise.catch(() => undefined);
    if (this.current && this.current.startedAt >= t) return this.current.value;
    if (this.inFlight && this.inFlight.startedAt >= t) return this.inFlight.promise;
    const wait = this.lastStart + this.minIntervalMs - this.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (this.inFlight && this.inFlight.startedAt >= t) return this.inFlight.promise;
    const startedAt = this.now();
    this.lastStart = startedAt;
    const promise = this.refresh().then(
      (value) => {
        if (!this.current || this.current.startedAt <= startedAt) this.current = { startedAt, value };
        return value;
      },
    );
    const entry = { startedAt, promise };
    this.inFlight = entry;
    promise.finally(() => {
      if (this.inFlight === entry) this.inFlight = undefined;
    }).catch(() => undefined);
    return promise;
  }
}

/** `items` in consecutive slices of at most `size` (an API's per-call limit, or a polite burst). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
