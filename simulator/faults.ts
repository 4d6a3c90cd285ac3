import { z } from 'zod';
import { canonicalService } from './protocol';

/**
 * Fault rules and per-service rate limits. A rule matches calls by service and action (globs, `*`
 * matches anything) and fires with a probability, optionally only after the first `after` matches and
 * at most `count` times. Latency rules delay the call and let evaluation continue; the first matching
 * rule of any other kind decides the call.
 */

const globField = z.string().min(1).default('*');

export const faultSchema = z.discriminatedUnion('kind', [
  /** The service's own throttling error (JSON ThrottlingException, EC2 RequestLimitExceeded, Query Throttling). */
  z.object({ kind: z.literal('throttle') }),
  /** Any AWS error; `code` defaults by status (500 InternalError/InternalFailure, 503 Unavailable...). */
  z.object({
    kind: z.literal('error'),
    status: z.number().int().min(400).max(599),
    code: z.string().min(1).optional(),
    message: z.string().optional(),
  }),
  /** The connection is reset after the request was read: the SDK sees a network error, no response. */
  z.object({ kind: z.literal('reset') }),
  /** The call is forwarded after `ms` milliseconds. */
  z.object({ kind: z.literal('latency'), ms: z.number().int().min(0).max(300_000) }),
]);
export type Fault = z.infer<typeof faultSchema>;

export const faultRuleInputSchema = z.object({
  id: z.string().min(1).optional(),
  service: globField,
  action: globField,
  fault: faultSchema,
  probability: z.number().min(0).max(1).default(1),
  /** Fire at most this many times, then stay in the list inert (its `fired` shows it was used up). */
  count: z.number().int().positive().optional(),
  /** Let this many matching calls through before firing. */
  after: z.number().int().min(0).default(0),
});
export type FaultRuleInput = z.input<typeof faultRuleInputSchema>;

export interface FaultRule extends z.infer<typeof faultRuleInputSchema> {
  id: string;
  matched: number;
  fired: number;
}

export const rateLimitInputSchema = z.object({
  service: z.string().min(1),
  /** `*` (default) shares one bucket across the service's actions; a name gives that action its own. */
  action: z.string().min(1).default('*'),
  /** Sustained rate: tokens added per second. */
  ratePerSec: z.number().positive(),
  /** Bucket size: calls allowed in a burst from full. */
  burst: z.number().int().positive(),
});
export type RateLimitInput = z.input<typeof rateLimitInputSchema>;
export type RateLimit = z.infer<typeof rateLimitInputSchema>;

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

export function globMatches(glob: string, value: string): boolean {
  return glob === '*' || globToRegExp(glob).test(value);
}

export interface FaultDecision {
  /** Total latency from matching latency rules. */
  latencyMs: number;
  /** The deciding non-latency fault, if any fired. */
  fault?: { rule: FaultRule; fault: Exclude<Fault, { kind: 'latency' }> };
  /** Ids of every rule that fired (latency included), for the call record. */
  fired: string[];
}

export class FaultRules {
  private rules: FaultRule[] = [];
  private nextId = 1;

  constructor(private readonly random: () => number = Math.random) {}

  add(input: FaultRuleInput): FaultRule {
    const parsed = faultRuleInputSchema.parse(input);
    const rule: FaultRule = {
      ...parsed,
      service: parsed.service === '*' ? '*' : canonicalService(parsed.service),
      id: parsed.id ?? `rule-${this.nextId++}`,
      matched: 0,
      fired: 0,
    };
    this.rules = [...this.rules.filter((r) => r.id !== rule.id), rule];
    return rule;
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  decide(service: string, action: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0, fired: [] };
    for (const rule of this.rules) {
      if (decision.fault) break;
      if (!globMatches(rule.service, service) || !globMatches(rule.action, action)) continue;
      rule.matched += 1;
      if (rule.matched <= rule.after) continue;
      if (rule.count !== undefined && rule.fired >= rule.count) continue;
      if (rule.probability < 1 && this.random() >= rule.probability) continue;
      rule.fired += 1;
      decision.fired.push(rule.id);
      if (rule.fault.kind === 'latency') decision.latencyMs += rule.fault.ms;
      else decision.fault = { rule, fault: rule.fault };
    }
    return decision;
  }
}

interface Bucket {
  limit: RateLimit;
  tokens: number;
  updatedMs: number;
}

/** Token buckets per service, or per service+action where a limit names the action. */
export class RateLimiter {
  private buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  set(input: RateLimitInput): RateLimit {
    const parsed = rateLimitInputSchema.parse(input);
    const limit = { ...parsed, service: canonicalService(parsed.service) };
    this.buckets.set(`${limit.service}/${limit.action}`, { limit, tokens: limit.burst, updatedMs: this.now() });
    return limit;
  }

  remove(service: string, action = '*'): boolean {
    return this.buckets.delete(`${canonicalService(service)}/${action}`);
  }

  clear(): void {
    this.buckets.clear();
  }

  list(): Array<RateLimit & { tokens: number }> {
    return [...this.buckets.values()].map((b) => ({ ...b.limit, tokens: this.refill(b) }));
  }

  /** Takes a token for the call; false means the bucket is empty and the call is throttled. */
  take(service: string, action: string): boolean {
    // The action's own bucket if it has one, else the service's shared one.
    const bucket = this.buckets.get(`${service}/${action}`) ?? this.buckets.get(`${service}/*`);
    if (!bucket) return true;
    if (this.refill(bucket) < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private refill(b: Bucket): number {
    const now = this.now();
    b.tokens = Math.min(b.limit.burst, b.tokens + ((now - b.updatedMs) / 1000) * b.limit.ratePerSec);
    b.updatedMs = now;
    return b.tokens;
  }
}
