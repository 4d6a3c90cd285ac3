/**
 * The suite's one way to wait for a state: ask `check` until it returns a value (anything but
 * `undefined` or `false`), and fail with what was awaited and the last value seen when `timeoutMs`
 * passes. Tests never sleep a fixed time; they wait for the state they need.
 *
 *   const s = await until('the drain to be DRAINING', async () => {
 *     const st = await handle.query(statusQuery);
 *     return st.phase === 'draining' ? st : undefined;
 *   });
 */
export interface UntilOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Time between two checks (default 100 ms). */
  intervalMs?: number;
  /** Describes the last value seen, for the timeout message. */
  describe?: () => string;
  /**
   * Fail at once with an error `check` throws (default false: the error is kept as the last error
   * and `check` is asked again). For checks that throw on purpose: a state that can no longer
   * change (a process that exited, a workflow that ended elsewhere) or an assertion that must
   * hold on every check.
   */
  failOnError?: boolean;
}

export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, opts: UntilOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      lastError = undefined;
    } catch (err) {
      if (opts.failOnError) throw err;
      // A check may fail while the state settles (a query during a continue-as-new); the last error is reported.
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const last = opts.describe ? `; last seen: ${opts.describe()}` : '';
      const error = lastError ? `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}${error}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls `read` until `done` holds for its value, and returns that value. */
export async function untilValue<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, opts: Omit<UntilOptions, 'describe'> = {}): Promise<T> {
  let last: T | undefined;
  let seen = false;
  return until(
    what,
    async () => {
      const v = await read();
      last = v;
      seen = true;
      return done(v) ? { v } : undefined;
    },
    { ...opts, describe: () => (seen ? JSON.stringify(last, null, 1).slice(0, 3000) : 'nothing') },
  ).then((r) => r.v);
}
