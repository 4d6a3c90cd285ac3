import type { FaultRule, FaultRuleInput, RateLimit, RateLimitInput } from './faults';
import type { CallFilter, RecordedCall } from './call-record';

/**
 * Typed client for the simulator's control API (`/_sim/`), for tests, the local stack and scripts.
 * Services may be named by signing name (`monitoring`, `elasticloadbalancing`) or alias (`cloudwatch`,
 * `elbv2`).
 */
export interface SimControl {
  /** Adds rules (a rule with an existing id replaces it); returns them as stored, with ids. */
  setFaults(...rules: FaultRuleInput[]): Promise<FaultRule[]>;
  /** All rules, or the one with `id`. */
  clearFaults(id?: string): Promise<void>;
  faults(): Promise<FaultRule[]>;
  setRateLimit(limit: RateLimitInput): Promise<RateLimit>;
  /** All limits, or the one for service (+action). */
  clearRateLimits(service?: string, action?: string): Promise<void>;
  calls(filter?: CallFilter): Promise<RecordedCall[]>;
  clearCalls(): Promise<void>;
  /** moto state and all simulator state (rules, limits, record, behaviours). */
  reset(): Promise<void>;
  /** Runs behaviour ticks now (all, or the named behaviour's); returns the names that ran. */
  tick(behaviour?: string): Promise<string[]>;
  /** A behaviour's own route: `request('POST', 'ecs-scheduler/pause', {...})` → `/_sim/ecs-scheduler/pause`. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export function createSimControl(endpoint: string): SimControl {
  const base = endpoint.replace(/\/+$/, '');
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${base}/_sim/${path.replace(/^\/+/, '')}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const error = (parsed as { error?: string } | undefined)?.error ?? text;
      throw new Error(`simulator ${method} /_sim/${path}: HTTP ${res.status}: ${error}`);
    }
    return parsed as T;
  }
  return {
    request,
    async setFaults(...rules) {
      return (await request<{ rules: FaultRule[] }>('POST', 'faults', { rules })).rules;
    },
    async clearFaults(id) {
      await request('DELETE', id ? `faults/${encodeURIComponent(id)}` : 'faults');
    },
    async faults() {
      return (await request<{ rules: FaultRule[] }>('GET', 'faults')).rules;
    },
    async setRateLimit(limit) {
      return (await request<{ limit: RateLimit }>('PUT', 'rate-limits', limit)).limit;
    },
    async clearRateLimits(service, action) {
      const q = service ? `?${new URLSearchParams({ service, ...(action ? { action } : {}) })}` : '';
      await request('DELETE', `rate-limits${q}`);
    },
    async calls(filter = {}) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(filter)) if (v !== undefined) q.set(k, String(v));
      const qs = q.toString();
      return (await request<{ calls: RecordedCall[] }>('GET', `calls${qs ? `?${qs}` : ''}`)).calls;
    },
    async clearCalls() {
      await request('DELETE', 'calls');
    },
    async reset() {
      await request('POST', 'reset');
    },
    async tick(behaviour) {
      return (await request<{ ran: string[] }>('POST', `tick${behaviour ? `?behaviour=${encodeURIComponent(behaviour)}` : ''}`)).ran;
    },
  };
}
