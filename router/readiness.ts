import type { Logger } from '../common/logger';
import type { Dispatcher } from './dispatch';

/**
 * GET /readyz's answer, shared: one Temporal call answers every probe that arrives while it is under
 * way and for `cacheMs` after, so a flood of probes (an unauthenticated endpoint) makes at most one
 * call a second. The answer says ready or not, never why: the reason (a host name, a TLS error) goes
 * to the log, once per call.
 */
export const READINESS_CACHE_MS = 1_000;

export type Readiness = { ok: true } | { ok: false };

export interface ReadinessOptions {
  dispatcher: Pick<Dispatcher, 'ready'>;
  log: Logger;
  /** Deadline of the Temporal call. */
  callTimeoutMs: number;
  /** An answer by then, whatever the call does (the call itself may run on to its deadline). */
  answerWithinMs: number;
  cacheMs?: number;
  /** Calls still running, for the router to wait for at shutdown. */
  background?: Set<Promise<unknown>>;
}

export function cachedReadiness(opts: ReadinessOptions): () => Promise<Readiness> {
  const cacheMs = opts.cacheMs ?? READINESS_CACHE_MS;
  let current: { answer: Promise<Readiness>; settledAt?: number } | undefined;
  return () => {
    if (current && (current.settledAt === undefined || Date.now() - current.settledAt < cacheMs)) return current.answer;
    const asking = opts.dispatcher.ready(opts.callTimeoutMs);
    opts.background?.add(asking);
    void asking.then(() => opts.background?.delete(asking));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<{ ok: false; error: string }>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, error: `no answer to GetSystemInfo within ${opts.answerWithinMs} ms` }), opts.answerWithinMs);
    });
    const entry: { answer: Promise<Readiness>; settledAt?: number } = {
      answer: Promise.race([asking, late]).then((r) => {
        clearTimeout(timer);
        entry.settledAt = Date.now();
        if (r.ok) return { ok: true as const };
        opts.log.warn({ err: r.error }, 'not ready: Temporal does not answer');
        return { ok: false as const };
      }),
    };
    current = entry;
    return entry.answer;
  };
}
