/**
 * Scale-out alarm → last new container instance ACTIVE, with 0, 1 and 2 of the three pools out of
 * capacity, for the capacity workflow, for a naive ladder that asks one pool at a time and waits
 * out its full fulfilment timeout before the next (what hand-written scalers do), and for the
 * healthy pool asked directly (the best any fallback can do), in the same run.
 *
 *   npx tsx bench/capacity-fallback.ts [units=4] [fulfilmentTimeoutSeconds=20] [bootDelaySeconds=3] [failing=0,1,2]
 *
 * AWS is moto behind the simulator with the capacity behaviour: failing pools answer as AWS does
 * (CreateFleet Errors list; a Spot Fleet stays pending_fulfillment and says why only in
 * DescribeSpotFleetRequestHistory), the ASG fulfils after 1 s, and every new instance registers in
 * the cluster `bootDelaySeconds` after launch. Temporal is a dev server; the workflow runs on a real
 * worker with the real activities.
 * Prints the figures and writes artifacts/bench/capacity.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { DescribeContainerInstancesCommand, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { capacityStartOptions } from '../contracts/capacity/start';
import type { CapacityRequest } from '../contracts/capacity/input';
import { capacityRequestSignal, type CapacityWorkflow } from '../contracts/capacity/messages';
import { startEmulator, type Emulator } from '../testkit/emulator';
import { startSdkDevServer } from '../stack/sdk-dev-server';
import { ARTIFACTS_DIR, TEMPORAL_CLI } from '../testkit/paths';
import { until } from '../testkit/poll';
import { CLUSTER, seedCapacityWorld, type Seeded } from '../testkit/capacity-world';

const UNITS = Number(process.argv[2] ?? 4);
const TIMEOUT_S = Number(process.argv[3] ?? 20);
const BOOT_S = Number(process.argv[4] ?? 3);
const FAILING = (process.argv[5] ?? '0,1,2').split(',').map(Number);

interface Figure {
  failingPools: number;
  workflowSeconds: number;
  naiveSeconds: number;
  /** The first healthy pool asked directly, nothing else: the floor for any fallback. */
  healthyPoolSeconds: number;
  ratio: number;
  workflowPoolsAsked: string[];
}

async function activeIds(emu: Emulator): Promise<Set<string>> {
  const arns = (await emu.aws.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns ?? [];
  if (arns.length === 0) return new Set();
  const out = await emu.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: arns }));
  return new Set((out.containerInstances ?? []).filter((c) => c.status === 'ACTIVE').map((c) => c.ec2InstanceId ?? ''));
}

/** Waits until `units` instances beyond `before` are ACTIVE container instances; returns when that happened. */
function untilActive(emu: Emulator, before: Set<string>, units: number, limitMs: number): Promise<number> {
  return until(
    `${units} new ACTIVE container instances`,
    async () => ([...(await activeIds(emu))].filter((id) => !before.has(id)).length >= units ? Date.now() : undefined),
    { timeoutMs: limitMs, intervalMs: 200 },
  );
}

async function prepare(emu: Emulator, failing: number): Promise<Seeded> {
  const world = await seedCapacityWorld(emu, { fulfilmentTimeoutSeconds: TIMEOUT_S });
  // Pool 1 (EC2 Fleet): no spot capacity in any override. Pool 2 (Spot Fleet): cannot grow past its one instance.
  await emu.sim.request('POST', 'capacity/limits', {
    overrides: failing >= 1 ? [{ market: 'spot', available: 0 }] : [{ available: 1_000 }],
    pools: failing >= 2 ? { [world.spotFleetRequestId]: { maxUnits: 1 } } : {},
  });
  await emu.sim.request('POST', 'capacity/config', { bootDelaySeconds: BOOT_S, fulfilmentDelaySeconds: 1, cluster: CLUSTER });
  return world;
}

/** The naive ladder: ask a pool, poll until it delivers or its whole timeout passes, then the next pool (from `first` on). */
async function naiveLadder(world: Seeded, units: number, first = 0): Promise<void> {
  const act = world.activities;
  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment().run(fn, ...args);
  let remaining = units;
  for (const pool of world.config.clusters[CLUSTER]!.pools.slice(first)) {
    if (remaining <= 0) break;
    const snap = await run(act.describeCapacity, { cluster: CLUSTER });
    const ps = snap.state.find((p) => p.name === pool.name)!;
    const started = Date.now();
    const res = await run(act.requestPoolCapacity, {
      cluster: CLUSTER,
      pool: pool.name,
      units: remaining,
      newTargetUnits: ps.targetUnits + remaining,
      excludeOverrides: [],
      clientToken: `naive-${Date.now()}-${pool.name}`,
    });
    const known = new Set(ps.instances.map((i) => i.instanceId));
    let got = res.kind === 'instant' ? res.launchedUnits : 0;
    // No error handling: the script sees only whether instances arrive, so it waits the timeout out.
    while (got < remaining && Date.now() - started < pool.fulfilmentTimeoutSeconds * 1000) {
      await new Promise((r) => setTimeout(r, 1_000));
      const now = await run(act.describeCapacity, { cluster: CLUSTER });
      got = now.state.find((p) => p.name === pool.name)!.instances.filter((i) => !known.has(i.instanceId)).reduce((s, i) => s + i.weight, 0);
    }
    remaining -= got;
  }
}

async function main(): Promise<void> {
  process.env.FLEETOPS_LOG_LEVEL ??= 'error';
  const emu = await startEmulator();
  const temporal = await startSdkDevServer(TEMPORAL_CLI);
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never });
  const figures: Figure[] = [];
  try {
    for (const failing of FAILING) {
      // The workflow.
      const world = await prepare(emu, failing);
      const taskQueue = `bench-capacity-${failing}-${Date.now()}`;
      const worker = await Worker.create({ connection: temporal.nativeConnection, taskQueue, workflowBundle: bundle, activities: world.activities });
      let workflowSeconds = 0;
      let asked: string[] = [];
      await worker.runUntil(async () => {
        const before = await activeIds(emu);
        const request: CapacityRequest = { direction: 'out', units: UNITS, reason: 'bench alarm', source: { kind: 'alarm', alarmName: 'bench-scale-out', eventId: `bench-${failing}` } };
        const t0 = Date.now();
        const start = capacityStartOptions(CLUSTER);
        const handle = await temporal.client.workflow.signalWithStart<CapacityWorkflow, [CapacityRequest]>(start.workflowType, {
          workflowId: `${start.workflowId}-bench-${failing}-${t0}`,
          taskQueue,
          args: start.args,
          signal: capacityRequestSignal,
          signalArgs: [request],
        });
        const t1 = await untilActive(emu, before, UNITS, 10 * TIMEOUT_S * 1000);
        workflowSeconds = (t1 - t0) / 1000;
        const status = (await handle.query('status')) as { decisions: { action: string; pool?: string }[] };
        asked = status.decisions.filter((d) => d.action === 'pool-failed' || d.action === 'pool-delivered').map((d) => `${d.pool}:${d.action}`);
        await handle.terminate('bench over');
      });

      // The naive ladder, against the same starting state.
      const naiveWorld = await prepare(emu, failing);
      const before = await activeIds(emu);
      const t0 = Date.now();
      await naiveLadder(naiveWorld, UNITS);
      const t1 = await untilActive(emu, before, UNITS, 10 * TIMEOUT_S * 1000);
      const naiveSeconds = (t1 - t0) / 1000;

      // The healthy pool (the first that is not failing) asked directly.
      const healthyWorld = await prepare(emu, failing);
      const beforeHealthy = await activeIds(emu);
      const h0 = Date.now();
      await naiveLadder(healthyWorld, UNITS, failing);
      const h1 = await untilActive(emu, beforeHealthy, UNITS, 10 * TIMEOUT_S * 1000);
      const healthyPoolSeconds = (h1 - h0) / 1000;
      const figure = { failingPools: failing, workflowSeconds, naiveSeconds, healthyPoolSeconds, ratio: naiveSeconds / workflowSeconds, workflowPoolsAsked: asked };
      figures.push(figure);
      process.stdout.write(
        `failing pools ${failing}: workflow ${workflowSeconds.toFixed(1)} s, healthy pool alone ${healthyPoolSeconds.toFixed(1)} s (workflow +${(workflowSeconds - healthyPoolSeconds).toFixed(1)} s), ` +
          `naive ladder ${naiveSeconds.toFixed(1)} s, naive/workflow ${figure.ratio.toFixed(2)}x  [${asked.join(', ')}]\n`,
      );
    }
  } finally {
    await temporal.teardown();
    await emu.stop();
  }
  const out = {
    bench: 'capacity-fallback',
    at: new Date().toISOString(),
    units: UNITS,
    fulfilmentTimeoutSeconds: TIMEOUT_S,
    bootDelaySeconds: BOOT_S,
    machine: { cpus: cpus().length, loadavg1: loadavg()[0] },
    figures,
  };
  mkdirSync(join(ARTIFACTS_DIR, 'bench'), { recursive: true });
  writeFileSync(join(ARTIFACTS_DIR, 'bench', 'capacity.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`wrote ${join(ARTIFACTS_DIR, 'bench', 'capacity.json')}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench/capacity-fallback: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
