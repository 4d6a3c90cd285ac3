/**
 * Spot storm: N simultaneous interruption warnings posted to the router of a local stack.
 *
 *   npx tsx bench/spot-storm.ts [--n 100,500,1000] [--scenarios clean,limits,worker-kill] [--workers 1,2] [--cold-coordinator] [--coordinator-worker]
 *
 * For each worker count, scenario and N (`limits` only at the largest N up to 500), on a fresh local
 * stack of that many workers (FLEETOPS_STACK_WORKERS) (stack/up.ts started by testkit/local-stack.ts:
 * scratch run directory, free ports):
 *  - N extra container instances join cluster `demo`, one `web` service task each, plus spare
 *    instances for the moved tasks; the simulator's ECS scheduler moves service tasks 2 s after DRAINING;
 *  - the drain coordinator is running before the storm, as in production where it is long-lived
 *    (`--cold-coordinator`: started by the storm's first signal, as on a fresh deploy), in every worker
 *    process or (`--coordinator-worker`) in one more process that polls its queue alone;
 *  - N warnings (time = now) go to `POST /events` in arrays of 100, and each instance is scheduled for
 *    termination 120 s later (simulator spot-interruption), as AWS would;
 *  - figures: p50/p99/max of event→DRAINING (when the simulator answered the UpdateContainerInstancesState call, as the limits time their calls)
 *    and event→drained (workflow close time), the share drained before the deadline, AWS calls per
 *    instance by API, worker RSS (max, sampled);
 *  - the limit: a plain script that makes the same DRAINING calls straight to the same endpoint, all at
 *    once, right after the storm: from the instance ids as fleetops starts (list and describe the
 *    cluster, then 10 a call), given the ARNs 10 instances a call as the coordinator batches them, and
 *    one call per instance; the ratio of event→DRAINING p99 to the batched p99 is reported.
 * `limits`: the simulator's rate limits set to AWS-like ECS limits (UpdateContainerInstancesState and
 * DescribeContainerInstances 20/s with a burst of 40 — our reading of the ECS API throttling table for
 * these "cluster resource" actions; ECS does not publish exact per-action figures for all of them) and
 * 5 % injected 5xx on every ECS call.
 *
 * `worker-kill`: the first worker's process group is SIGKILLed once a tenth of the drains have ended (the
 * rest in flight); the stack's supervisor starts it again (as an orchestrator would) and the drains it
 * held go on, on the other worker or the new one: workflow tasks after their 10 s timeout, sticky tasks
 * after theirs, waits after their 10 s heartbeat timeout. The time until the new worker polls is reported.
 * CPU is counted per process, the killed worker's up to the kill and its replacement's from its start.
 * Prints the figures and writes them to artifacts/bench/spot-storm.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { TASK_QUEUE_CRITICAL } from '../common/task-queues';
import { ROOT } from '../stack/settings';
import type { Scenario, StormResult } from './spot-storm/figures';
import { storm } from './spot-storm/storm';

// The emulator accepts any credentials; fixed fake ones keep real AWS credentials out of the bench.
process.env.AWS_ACCESS_KEY_ID = 'fleetops-local';
process.env.AWS_SECRET_ACCESS_KEY = 'fleetops-local';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const ns = arg('n', '100,500,1000').split(',').map(Number);
  const scenarios = arg('scenarios', 'clean,limits,worker-kill').split(',') as Scenario[];
  const workerCounts = arg('workers', '1').split(',').map(Number);
  const coldCoordinator = process.argv.includes('--cold-coordinator');
  const coordinatorWorker = process.argv.includes('--coordinator-worker');
  const results: StormResult[] = [];
  for (const workers of workerCounts) for (const scenario of scenarios) {
    for (const n of scenario === 'limits' ? ns.filter((x) => x === Math.max(...ns.filter((y) => y <= 500))) : ns) {
      process.stdout.write(`storm: N=${n} ${scenario}, ${workers} worker(s)${coordinatorWorker ? ' and a coordinator worker' : ''} ...\n`);
      const r = await storm(n, scenario, workers, { coldCoordinator, coordinatorWorker });
      results.push(r);
      write(results);
      process.stdout.write(
        `  event→workflow start p50 ${r.eventToStartMs.p50} ms, p99 ${r.eventToStartMs.p99} ms; event→DRAINING p50 ${r.eventToDrainingMs.p50} ms, p99 ${r.eventToDrainingMs.p99} ms, max ${r.eventToDrainingMs.max} ms; ` +
          `event→drained p50 ${r.eventToDrainedMs.p50} ms, p99 ${r.eventToDrainedMs.p99} ms; drained before deadline ${(r.drainedBeforeDeadline * 100).toFixed(1)} %; ` +
          `plain DRAINING p99 ${r.plainFromIdsMs.p99} ms from the instance ids, ${r.plainDrainingCallMs.p99} ms 10 a call, ${r.plainSingleCallMs.p99} ms one a call (ratio to 10 a call ${r.p99RatioToPlain.toFixed(1)}; not set ${r.plainFailed.fromIds}, ${r.plainFailed.batched} and ${r.plainFailed.single}); worker RSS max ${r.workerRssMaxMiB ?? '?'} MiB\n` +
          (r.workerDownSeconds !== undefined ? `  worker back polling ${r.workerDownSeconds.toFixed(1)} s after the kill\n` : '') +
          `  drain-queue workflow pollers: normal p50 ${r.pollers.normal.p50} (min ${r.pollers.normal.min}), sticky p50 ${r.pollers.sticky.p50}\n` +
          `  CPU seconds over ${r.stormSeconds.toFixed(0)} s: ${JSON.stringify(r.cpuSeconds)}; product (Temporal + worker + router) per drain ${r.productCpuPerDrain} s\n` +
          (r.coordinator
            ? `  coordinator ${JSON.stringify(r.coordinator.counts)}; calls: queue p50 ${r.coordinator.calls.queueMs.p50} ms, p99 ${r.coordinator.calls.queueMs.p99} ms; run p50 ${r.coordinator.calls.runMs.p50} ms, max ${r.coordinator.calls.runMs.max} ms; instances per call p50 ${r.coordinator.calls.instances.p50}, max ${r.coordinator.calls.instances.max} (${r.coordinator.calls.instances.count} calls)\n`
            : '') +
          `  capacity workflows: ${r.capacity.runs} run(s), ${r.capacity.events} history events\n` +
          `  router 503s retried: ${r.routerRetries503}\n` +
          `  outcomes ${JSON.stringify(r.outcomes)}; set-draining step ${JSON.stringify(r.setDraining)}\n  calls per instance ${JSON.stringify(r.awsCallsPerInstance)}\n` +
          Object.entries(r.breakdownMs)
            .map(([k, p]) => {
              const u = k.startsWith('count:') ? '' : ' ms';
              return `  ${k}: p50 ${p.p50}${u}, p99 ${p.p99}${u}, max ${p.max}${u} (${p.count})\n`;
            })
            .join(''),
      );
    }
  }
  process.stdout.write('written to artifacts/bench/spot-storm.json\n');
}

/** The figures so far (after each storm: a long grid stopped half way keeps what it measured), with the load at each storm's end. */
function write(results: StormResult[]): void {
  const dir = join(ROOT, 'artifacts', 'bench');
  mkdirSync(dir, { recursive: true });
  loads.push(loadavg()[0]!);
  writeFileSync(
    join(dir, 'spot-storm.json'),
    `${JSON.stringify({ at: new Date().toISOString(), cpus: cpus().length, loadavg1mAtEachEnd: loads, taskQueue: TASK_QUEUE_CRITICAL, results }, null, 2)}\n`,
  );
}
const loads: number[] = [];

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
