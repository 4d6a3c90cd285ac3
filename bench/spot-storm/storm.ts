import { UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { Client, Connection } from '@temporalio/client';
import { createAwsClients, type AwsClients } from '../../activities/aws/clients';
import { sweepCluster } from '../../activities/drain/container-instances';
import { INTERRUPTION_WARNING_MS } from '../../common/interruption';
import { drainWorkflowId } from '../../common/workflow-ids';
import { statusQuery } from '../../contracts/controls';
import { drainCoordinatorStartOptions } from '../../contracts/drain-coordinator/start';
import type { SpotDrainResult } from '../../contracts/spot-drain/messages';
import { createSimControl, type SimControl } from '../../simulator/control-client';
import { startLocalStack } from '../../testkit/local-stack';
import { until } from '../../testkit/poll';
import { percentiles, type Scenario, type StormResult } from './figures';
import { breakdown, capacityFigures, coordinatorFigures } from './histories';
import { seedStorm } from './seed-storm';
import { rssMiB, workerPids } from '../../testkit/stack-workers';
import { CpuLedger, drainPollers } from './stack-probes';
import { sendWarnings } from './warnings';

/** One storm of N warnings in one scenario, on a fresh local stack of `workers` workers, and its figures (bench/spot-storm.ts says which). */
export async function storm(n: number, scenario: Scenario, workers = 1, opts: { coldCoordinator?: boolean; coordinatorWorker?: boolean } = {}): Promise<StormResult> {
  const stack = await startLocalStack({ env: { FLEETOPS_STACK_WORKERS: String(workers), ...(opts.coordinatorWorker ? { FLEETOPS_STACK_COORDINATOR_WORKER: '1' } : {}) } });
  const metricsUrl = `http://127.0.0.1:${stack.ports.metrics}/metrics`;
  const aws = createAwsClients({ region: stack.stack.aws.region, endpoint: stack.stack.aws.endpoint, sdkMaxAttempts: 3 });
  const sim: SimControl = createSimControl(stack.stack.aws.endpoint);
  const connection = await Connection.connect({ address: stack.stack.temporal.address });
  const client = new Client({ connection, namespace: stack.stack.temporal.namespace });
  try {
    const { instances, arns } = await seedStorm(aws, n);
    await sim.request('POST', 'ecs-scheduler/config', { replaceDelayMs: 2_000 });
    if (scenario === 'limits') {
      for (const action of ['UpdateContainerInstancesState', 'DescribeContainerInstances']) {
        await sim.setRateLimit({ service: 'ecs', action, ratePerSec: 20, burst: 40 });
      }
      await sim.setFaults({ service: 'ecs', action: '*', fault: { kind: 'error', status: 500 }, probability: 0.05 });
    }
    // The coordinator is long-lived: in production it waits for notices long before a storm (the first
    // warning ever started it, and it continues as new). On a fresh stack it would be started by the
    // storm's first signal; `--cold-coordinator` measures that first storm after a deploy.
    if (!opts.coldCoordinator) await warmCoordinator(client);
    await sim.clearCalls();
    const namespace = stack.stack.temporal.namespace;
    let pids = await until(
      'every worker polling',
      async () => {
        const live = await workerPids(connection, namespace);
        return live.length >= workers ? live : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    let rssMax: number | undefined;
    const pollerSamples = { normal: [] as number[], sticky: [] as number[] };
    const sampler = setInterval(() => {
      for (const pid of pids) {
        const r = rssMiB(pid);
        if (r !== undefined) rssMax = Math.max(rssMax ?? 0, r);
      }
      void drainPollers(metricsUrl).then((p) => {
        if (!p) return;
        pollerSamples.normal.push(p.normal);
        pollerSamples.sticky.push(p.sticky);
      });
    }, 500);

    const cpu = new CpuLedger(() => stack.processes());
    const cpuSampler = setInterval(() => cpu.sample(), 2_000);
    const stormStart = Date.now();
    let ended = 0;
    let workerDownSeconds: number | undefined;
    let killAtSeconds: number | undefined;
    // The kill lands with the storm in full flow: a tenth of the drains ended, the rest on their way.
    const killed =
      scenario !== 'worker-kill'
        ? Promise.resolve()
        : (async () => {
            await until('a tenth of the drains to end', () => ended >= Math.ceil(n / 10), { timeoutMs: 150_000, intervalMs: 50 });
            const before = pids;
            const victim = before[0];
            if (!victim) throw new Error('no worker pid to kill');
            cpu.sample();
            const killedAt = Date.now();
            process.kill(-victim, 'SIGKILL');
            killAtSeconds = (killedAt - stormStart) / 1000;
            process.stdout.write(`  worker ${victim} (of ${before.length}) killed ${killAtSeconds.toFixed(1)} s into the storm, ${ended} drains ended\n`);
            // A failed describe while the worker is down is asked again.
            pids = await until(
              'a new worker to poll',
              async () => {
                const next = await workerPids(connection, namespace);
                return next.some((p) => !before.includes(p)) ? next : undefined;
              },
              { timeoutMs: 120_000, intervalMs: 250 },
            );
            workerDownSeconds = (Date.now() - killedAt) / 1000;
          })();
    const { eventAt, retried503 } = await sendWarnings(stack.stack, sim, instances);

    // Every drain ends by its deadline (+ the incident step for a miss); wait for all of them.
    const results = new Map<string, Settled>();
    await Promise.all(
      instances.map(async (id) => {
        results.set(id, await settled(client, drainWorkflowId(id)));
        ended += 1;
      }),
    );
    const unknown = [...results.values()].filter((r) => r.result === undefined && r.closedAs === undefined);
    if (unknown.length > 0) process.stdout.write(`  ${unknown.length} drain(s) whose end the bench could not read, e.g. ${unknown[0]!.error}\n`);
    await killed;
    clearInterval(sampler);
    clearInterval(cpuSampler);
    const stormSeconds = (Date.now() - stormStart) / 1000;
    const cpuSeconds = cpu.byRole();
    const calls = await sim.calls();

    // The limit, right after the storm while its instances are still registered (they go at 120 s):
    // the same DRAINING calls straight to the endpoint, all at once. First from the instance ids, as
    // fleetops starts (the cluster listed and described 100 a call, then 10 instances a call); then
    // given the container instance ARNs, 10 a call as the coordinator batches them, and one a call.
    await sim.clearRateLimits();
    await sim.clearFaults();
    const fromIds = await plainFromInstanceIds(aws, instances);
    const plain = await plainDraining(aws, arns, 10);
    const plainSingle = await plainDraining(aws, arns, 1);
    const plainP = percentiles(plain.ms);
    const plainSingleP = percentiles(plainSingle.ms);
    const fromIdsP = percentiles(fromIds.ms);

    // DRAINING when the call's answer left the emulator, as the limits time it at their answer.
    const drainingAt = new Map<string, number>();
    for (const c of calls) {
      if (c.service !== 'ecs' || c.action !== 'UpdateContainerInstancesState' || c.status !== 200) continue;
      for (const arn of (c.params.containerInstances as string[] | undefined) ?? []) if (!drainingAt.has(arn)) drainingAt.set(arn, Date.parse(c.time) + c.durationMs);
    }
    const toDraining = instances.map((id, i) => (drainingAt.get(arns[i]!) ?? NaN) - eventAt.get(id)!).filter(Number.isFinite);
    const toStart = instances.map((id) => (results.get(id)?.startedAt ?? NaN) - eventAt.get(id)!).filter(Number.isFinite);
    const toDrained = instances.map((id) => (results.get(id)?.closedAt ?? NaN) - eventAt.get(id)!).filter(Number.isFinite);
    const outcomes: Record<string, number> = {};
    const setDraining: Record<string, number> = {};
    let beforeDeadline = 0;
    for (const id of instances) {
      const r = results.get(id);
      const o = r?.result?.outcome ?? r?.closedAs ?? 'no-result';
      outcomes[o] = (outcomes[o] ?? 0) + 1;
      const d = r?.result?.steps.find((st) => st.name === 'set-draining')?.detail ?? 'none';
      setDraining[d] = (setDraining[d] ?? 0) + 1;
      if (o === 'drained' && r?.closedAt !== undefined && r.closedAt - eventAt.get(id)! <= INTERRUPTION_WARNING_MS) beforeDeadline += 1;
    }
    const perApi: Record<string, number> = {};
    for (const c of calls) {
      if (c.service === 'unknown') continue;
      perApi[`${c.service}:${c.action}`] = (perApi[`${c.service}:${c.action}`] ?? 0) + 1 / n;
    }

    const { phases: breakdownMs, sampleHistory } = await breakdown(client, instances, arns, drainingAt, calls);
    // The timelines run from the first warning.
    const t0 = Math.min(...eventAt.values());
    const coordinator = await coordinatorFigures(client, t0);
    const capacity = await capacityFigures(client);

    const drainingP = percentiles(toDraining);
    // When the cluster sweeps began (a first ListContainerInstances page), their pages were described, and instances became DRAINING.
    const sec = (t: number) => Math.round((t - t0) / 100) / 10;
    const sweepsStartedAtS = calls.filter((c) => c.service === 'ecs' && c.action === 'ListContainerInstances' && !c.params.nextToken).map((c) => sec(Date.parse(c.time)));
    const describesAnsweredAtS = calls.filter((c) => c.service === 'ecs' && c.action === 'DescribeContainerInstances').map((c) => sec(Date.parse(c.time) + c.durationMs));
    const drainingByTenth: Record<string, number> = {};
    for (const t of drainingAt.values()) {
      const tenth = sec(t).toFixed(1);
      drainingByTenth[tenth] = (drainingByTenth[tenth] ?? 0) + 1;
    }
    return {
      n,
      scenario,
      workers,
      coordinatorWorker: opts.coordinatorWorker === true,
      eventToStartMs: percentiles(toStart),
      eventToDrainingMs: drainingP,
      eventToDrainedMs: percentiles(toDrained),
      drainedBeforeDeadline: beforeDeadline / n,
      outcomes,
      setDraining,
      awsCallsPerInstance: Object.fromEntries(Object.entries(perApi).map(([k, v]) => [k, Math.round(v * 100) / 100])),
      workerRssMaxMiB: rssMax === undefined ? null : Math.round(rssMax),
      plainDrainingCallMs: plainP,
      plainSingleCallMs: plainSingleP,
      plainFromIdsMs: fromIdsP,
      plainFailed: { batched: plain.failed, single: plainSingle.failed, fromIds: fromIds.failed },
      p99RatioToPlain: drainingP.p99 / plainP.p99,
      pollers: { normal: percentiles(pollerSamples.normal), sticky: percentiles(pollerSamples.sticky) },
      workerDownSeconds,
      killAtSeconds,
      cpuSeconds,
      stormSeconds,
      breakdownMs,
      sampleHistory,
      awsTimeline: { sweepsStartedAtS, describesAnsweredAtS, drainingByTenth },
      routerRetries503: retried503,
      productCpuPerDrain: Math.round((((cpuSeconds.temporal ?? 0) + (cpuSeconds.worker ?? 0) + (cpuSeconds.router ?? 0)) / n) * 1000) / 1000,
      coordinator,
      capacity,
    };
  } finally {
    await connection.close();
    aws.destroy();
    await stack.stop();
    stack.cleanup();
  }
}

/**
 * Each instance's time to DRAINING when every call goes at once, `perCall` instances a call. An
 * instance the call did not set (an error, or a failure entry: gone already) is counted, so a limit
 * made of error replies shows as one.
 */
async function plainDraining(aws: AwsClients, arns: string[], perCall: number, startedAt?: number): Promise<{ ms: number[]; failed: number }> {
  const calls = Array.from({ length: Math.ceil(arns.length / perCall) }, (_, i) => arns.slice(i * perCall, i * perCall + perCall));
  let failed = 0;
  const each = await Promise.all(
    calls.map(async (containerInstances) => {
      const t = startedAt ?? Date.now();
      try {
        const r = await aws.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'demo', containerInstances, status: 'DRAINING' }));
        failed += r.failures?.length ?? 0;
      } catch {
        failed += containerInstances.length;
      }
      return containerInstances.map(() => Date.now() - t);
    }),
  );
  return { ms: each.flat(), failed };
}

/**
 * From the instance ids to DRAINING with nothing known beforehand, as the coordinator starts: the
 * cluster swept as fleetops sweeps it (sweepCluster: listed 100 a page, each page described at once),
 * then every instance set DRAINING, 10 a call, all at once. Each instance's time runs from the start
 * to its call's answer.
 */
async function plainFromInstanceIds(aws: AwsClients, instanceIds: string[]): Promise<{ ms: number[]; failed: number }> {
  const t = Date.now();
  const swept = await sweepCluster(aws, 'demo');
  const found = instanceIds.map((id) => swept.get(id)?.containerInstanceArn).filter((arn): arn is string => !!arn);
  const r = await plainDraining(aws, found, 10, t);
  return { ms: r.ms, failed: r.failed + instanceIds.length - found.length };
}

/** Starts the drain coordinator as the router would, with no notices, and waits until it has run its first workflow task. */
async function warmCoordinator(client: Client): Promise<void> {
  const { workflowType, args, ...options } = drainCoordinatorStartOptions();
  const handle = await client.workflow.start(workflowType, { ...options, args });
  await until('the drain coordinator waiting for notices', () => handle.query(statusQuery).then(() => true), { timeoutMs: 60_000, intervalMs: 100 });
}

interface Settled {
  result?: SpotDrainResult;
  /** A drain that ended without a result (failed, terminated, timed out): its status. */
  closedAs?: string;
  closedAt?: number;
  startedAt?: number;
  /** The client's last error when the end could not be read at all. */
  error?: string;
}

/**
 * How a drain ended. A client call that fails under the storm's load (the result's long poll, a
 * describe) is asked again, so "no result" means the bench could not read it, never a guess.
 */
async function settled(client: Client, workflowId: string): Promise<Settled> {
  const handle = client.workflow.getHandle(workflowId);
  let error = '';
  for (let attempt = 1; attempt <= 10; attempt += 1) {
    try {
      const result = (await handle.result()) as SpotDrainResult;
      const d = await handle.describe();
      return { result, closedAt: d.closeTime?.getTime(), startedAt: d.startTime.getTime() };
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const d = await handle.describe().catch(() => undefined);
      if (d && d.status.name !== 'RUNNING' && d.status.name !== 'COMPLETED') {
        return { closedAs: d.status.name, closedAt: d.closeTime?.getTime(), startedAt: d.startTime.getTime(), error };
      }
      await new Promise((r) => setTimeout(r, 1_000 * attempt));
    }
  }
  return { error };
}
