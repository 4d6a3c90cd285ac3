import { DescribeTargetGroupsCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { loadBalancersByGroup } from './elb-usage';

/**
 * Target health as an Application Load Balancer reports it, for the targets ECS registers for the
 * tasks the simulator runs (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html):
 * a target is `initial` (Elb.InitialHealthChecking) from registration until its first health check,
 * `HealthCheckIntervalSeconds` later; it is then `healthy` if it passes, or, failing every check,
 * `unhealthy` (Target.ResponseCodeMismatch) after `UnhealthyThresholdCount` consecutive failures.
 * No health check runs for a group that no listener forwards to: its targets are `unused`
 * (Target.NotInUse); nor with health checks disabled: `unavailable` (Target.HealthCheckDisabled).
 * moto reports every registered target healthy at once, and keys a group's targets by id alone, so
 * two tasks on one instance (dynamic host ports) overwrite each other there; the registry below keys
 * targets by id and port, as ELB does.
 */

export interface HealthCheck {
  enabled: boolean;
  /** A listener of some load balancer forwards to the group (support/elb-usage.ts). */
  inUse: boolean;
  intervalSeconds: number;
  unhealthyThreshold: number;
}

export interface Target {
  targetGroupArn: string;
  id: string;
  port: number;
  registeredAtMs: number;
  /** The task behind it answers health checks with errors. */
  failing: boolean;
  taskArn: string;
}

export type TargetState = { state: 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'unavailable'; reason?: string; description?: string };

export const NOT_IN_USE: TargetState = { state: 'unused', reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' };
export const HEALTH_CHECK_DISABLED: TargetState = { state: 'unavailable', reason: 'Target.HealthCheckDisabled', description: 'Health checks are disabled' };

export function targetState(t: Target, hc: HealthCheck, nowMs: number): TargetState {
  if (!hc.inUse) return NOT_IN_USE;
  if (!hc.enabled) return HEALTH_CHECK_DISABLED;
  const since = nowMs - t.registeredAtMs;
  const interval = hc.intervalSeconds * 1000;
  if (!t.failing) return since >= interval ? { state: 'healthy' } : { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };
  if (since >= interval * hc.unhealthyThreshold) {
    return { state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [500]' };
  }
  return { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };
}

const DEFAULT_HEALTH_CHECK: HealthCheck = { enabled: true, inUse: true, intervalSeconds: 30, unhealthyThreshold: 2 };
const HEALTH_CHECK_CACHE_MS = 5_000;

/** Targets by (group, id, port), and each group's health check settings (read from moto, briefly cached). */
export class TargetRegistry {
  private readonly targets = new Map<string, Target>();
  private readonly checks = new Map<string, { hc: HealthCheck; atMs: number }>();

  private static key(tg: string, id: string, port: number): string {
    return `${tg}|${id}|${port}`;
  }

  add(t: Target): void {
    this.targets.set(TargetRegistry.key(t.targetGroupArn, t.id, t.port), t);
  }

  remove(tg: string, id: string, port: number): Target | undefined {
    const k = TargetRegistry.key(tg, id, port);
    const t = this.targets.get(k);
    this.targets.delete(k);
    return t;
  }

  get(tg: string, id: string, port: number): Target | undefined {
    return this.targets.get(TargetRegistry.key(tg, id, port));
  }

  ofGroup(tg: string): Target[] {
    return [...this.targets.values()].filter((t) => t.targetGroupArn === tg);
  }

  ofTask(taskArn: string): Target[] {
    return [...this.targets.values()].filter((t) => t.taskArn === taskArn);
  }

  /** Targets of the group on instance/IP `id` (any port). */
  onId(tg: string, id: string): Target[] {
    return this.ofGroup(tg).filter((t) => t.id === id);
  }

  async healthCheck(elbv2: ElasticLoadBalancingV2Client, tg: string, nowMs: number): Promise<HealthCheck> {
    const cached = this.checks.get(tg);
    if (cached && nowMs - cached.atMs < HEALTH_CHECK_CACHE_MS) return cached.hc;
    let hc = cached?.hc ?? DEFAULT_HEALTH_CHECK;
    try {
      const g = (await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg] }))).TargetGroups?.[0];
      if (g) {
        hc = {
          enabled: g.HealthCheckEnabled !== false,
          inUse: ((await loadBalancersByGroup(elbv2)).get(tg)?.size ?? 0) > 0,
          intervalSeconds: g.HealthCheckIntervalSeconds ?? DEFAULT_HEALTH_CHECK.intervalSeconds,
          unhealthyThreshold: g.UnhealthyThresholdCount ?? DEFAULT_HEALTH_CHECK.unhealthyThreshold,
        };
      }
    } catch {
      // A group deleted under a running task: keep the last known settings.
    }
    this.checks.set(tg, { hc, atMs: nowMs });
    return hc;
  }

  /** A listener, rule or group changed: read the settings again on the next look. */
  forgetChecks(): void {
    this.checks.clear();
  }

  clear(): void {
    this.targets.clear();
    this.checks.clear();
  }
}

const escapeXml = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] ?? c);

function memberXml(t: { id: string; port: number }, s: TargetState): string {
  return (
    `<member><HealthCheckPort>traffic-port</HealthCheckPort><Target><Id>${escapeXml(t.id)}</Id><Port>${t.port}</Port></Target>` +
    `<TargetHealth><State>${s.state}</State>${s.reason ? `<Reason>${s.reason}</Reason>` : ''}${s.description ? `<Description>${escapeXml(s.description)}</Description>` : ''}</TargetHealth></member>`
  );
}

/**
 * A DescribeTargetHealth answer with the registry's targets in it: moto's entries for ids the
 * registry has targets on are replaced by the registry's (one per port, with their modelled state);
 * with `requested` targets, only those are answered.
 */
export function rewriteTargetHealth(
  xml: string,
  mine: { id: string; port: number; state: TargetState }[],
  requested: { id: string; port?: number }[] | undefined,
): string {
  const open = xml.indexOf('<TargetHealthDescriptions>');
  const close = xml.indexOf('</TargetHealthDescriptions>');
  if (open < 0 || close < 0) return xml;
  const inner = xml.slice(open + '<TargetHealthDescriptions>'.length, close);
  const members = inner.match(/<member>[\s\S]*?<\/TargetHealth>\s*<\/member>/g) ?? [];
  const ids = new Set(mine.map((m) => m.id));
  const kept = members.filter((m) => !ids.has(/<Id>([^<]*)<\/Id>/.exec(m)?.[1] ?? ''));
  const ours = mine.filter((m) => !requested || requested.some((r) => r.id === m.id && (r.port === undefined || r.port === m.port)));
  // Asked about a port of one of these ids that is not registered (any more): ELB says so.
  const unused = (requested ?? [])
    .filter((r) => ids.has(r.id) && r.port !== undefined && !mine.some((m) => m.id === r.id && m.port === r.port))
    .map((r) => ({ id: r.id, port: r.port!, state: { state: 'unused', reason: 'Target.NotRegistered', description: 'Target is not registered to the target group' } as TargetState }));
  const answered = [...kept, ...[...ours, ...unused].map((m) => memberXml(m, m.state))].join('');
  return `${xml.slice(0, open)}<TargetHealthDescriptions>${answered}${xml.slice(close)}`;
}
