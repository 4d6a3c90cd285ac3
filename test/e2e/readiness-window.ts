import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import type { AwsClients } from '../../activities/aws/clients';
import { POOL_TAG_POOL } from '../../activities/capacity/types';

/**
 * The readiness window of the stack's end-to-end test, on cluster `shop`: the calendar it imports,
 * and a background sampler of shop's container instances (every 2 s) that also makes things happen
 * at set moments of the window (a spot interruption warning, a scale-in alarm), so the window runs
 * beside the file's other cases and costs no wall time of its own.
 */

/** One event as a calendar application exports it (RFC 5545: CRLF lines, UTC times). */
export function calendar(ev: { uid: string; start: number; end: number; summary: string }): string {
  const utc = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//fleetops e2e//shop sale//EN',
    'BEGIN:VEVENT',
    `UID:${ev.uid}`,
    `DTSTAMP:${utc(Date.now())}`,
    `DTSTART:${utc(ev.start)}`,
    `DTEND:${utc(ev.end)}`,
    `SUMMARY:${ev.summary}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

/** shop as ECS and EC2 describe it at one moment. */
export interface ReadinessSample {
  at: string;
  /** Milliseconds since the window's start (negative before it). */
  sinceStartMs: number;
  /** ACTIVE container instances' units (every shop type weighs 1) by pool, and in all. */
  activeByPool: Record<string, number>;
  active: number;
  activeOnDemand: number;
  /** Instance ids, by container instance status, and the pool of each (its fleetops:pool tag). */
  activeIds: string[];
  poolOf: Record<string, string>;
  drainingIds: string[];
}

/** Something the sampler does once the window has run `afterStartMs` (negative: before the start). */
export interface WindowAction {
  name: string;
  afterStartMs: number;
  run: () => Promise<void>;
}

export interface SamplerOptions {
  aws: AwsClients;
  cluster: string;
  /** pool name → market, from the config. */
  markets: Record<string, string>;
  windowStart: number;
  intervalMs?: number;
  actions?: WindowAction[];
}

export class ShopSampler {
  readonly samples: ReadinessSample[] = [];
  readonly errors: string[] = [];
  /** When each action ran (epoch ms), or its error. */
  readonly done = new Map<string, { at: number; error?: string }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: SamplerOptions) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.once().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs ?? 2_000);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** The shop as it is now (also what the test reads outside the sampler). */
  async read(): Promise<ReadinessSample> {
    const { aws, cluster, markets, windowStart } = this.opts;
    const at = Date.now();
    const arns = (await aws.ecs.send(new ListContainerInstancesCommand({ cluster }))).containerInstanceArns ?? [];
    const cis = arns.length ? ((await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: arns }))).containerInstances ?? []) : [];
    const ids = cis.map((c) => c.ec2InstanceId ?? '').filter(Boolean);
    const pools = new Map<string, string>();
    if (ids.length) {
      const d = await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      for (const i of (d.Reservations ?? []).flatMap((r) => r.Instances ?? [])) pools.set(i.InstanceId ?? '', i.Tags?.find((t) => t.Key === POOL_TAG_POOL)?.Value ?? 'unknown');
    }
    const activeIds = cis.filter((c) => c.status === 'ACTIVE').map((c) => c.ec2InstanceId ?? '');
    const activeByPool: Record<string, number> = {};
    for (const id of activeIds) {
      const pool = pools.get(id) ?? 'unknown';
      activeByPool[pool] = (activeByPool[pool] ?? 0) + 1;
    }
    return {
      at: new Date(at).toISOString(),
      sinceStartMs: at - windowStart,
      activeByPool,
      active: activeIds.length,
      activeOnDemand: Object.entries(activeByPool).filter(([p]) => markets[p] === 'on-demand').reduce((s, [, n]) => s + n, 0),
      activeIds: activeIds.sort(),
      poolOf: Object.fromEntries(pools),
      drainingIds: cis.filter((c) => c.status === 'DRAINING').map((c) => c.ec2InstanceId ?? '').sort(),
    };
  }

  private async once(): Promise<void> {
    try {
      this.samples.push(await this.read());
    } catch (err) {
      this.errors.push(`${new Date().toISOString()}: ${(err as Error).message}`);
    }
    const since = Date.now() - this.opts.windowStart;
    for (const a of this.opts.actions ?? []) {
      if (this.done.has(a.name) || since < a.afterStartMs) continue;
      const at = Date.now();
      try {
        await a.run();
        this.done.set(a.name, { at });
      } catch (err) {
        this.done.set(a.name, { at, error: (err as Error).message });
      }
    }
  }

  write(path: string, extra: Record<string, unknown>): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify({ ...extra, samples: this.samples, errors: this.errors }, null, 2)}\n`);
  }
}

/** Units over time as text, one entry per change: "-44s 2, -38s 4 (2 on-demand), …". */
export function unitsOverTime(samples: ReadinessSample[]): string {
  const out: string[] = [];
  let last = '';
  for (const s of samples) {
    const key = `${s.active} (${s.activeOnDemand} on-demand${s.drainingIds.length ? `, ${s.drainingIds.length} draining` : ''})`;
    if (key === last) continue;
    last = key;
    out.push(`${Math.round(s.sinceStartMs / 1000)}s ${key}`);
  }
  return out.join(', ');
}
