/**
 * A release across many services on the local stack, against what bounds it and what it replaces:
 *
 *   npx tsx bench/release.ts [--services 50] [--waves 5,50%,100%] [--bake 10] [--analysis 5]
 *                            [--max-concurrent 25] [--sequential 10]
 *
 * On a fresh local stack (stack/up.ts by testkit/local-stack.ts: scratch run directory, free ports)
 * whose config template adds a generated cluster `bench` of `--services` one-task services
 * (bench/release/bench-cluster.ts; plan: one canary task, a bake of `--bake` s analysed every
 * `--analysis` s, a gate, promotion), seeded in the emulator once the stack is up:
 *  - one release of a new image to every bench service in `--waves`, up to `--max-concurrent` deploys
 *    at once (and on the one cluster), each wave approved the moment it waits;
 *  - its floor: the bakes the plan says, per wave the longest, summed over the waves;
 *  - the same deploys one after another (another image), each approved at its gate the moment it
 *    waits: `--sequential` of them (all when it is the service count), extrapolated to every service
 *    from their mean when fewer;
 *  - Temporal history events per service: the release's (every run) plus its deploys', over the services.
 * Prints the figures and writes them to artifacts/bench/release.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { Client, Connection } from '@temporalio/client';
import { createAwsClients } from '../activities/aws/clients';
import { loadConfig } from '../config/load';
import type { WaveSize } from '../contracts/release/input';
import { ROOT } from '../stack/settings';
import { startLocalStack } from '../testkit/local-stack';
import { BENCH, benchPlan, instancesFor, seedBenchCluster, writeBenchTemplate } from './release/bench-cluster';
import { historyBreakdown, runRelease, runSequential, type DeployRun } from './release/runs';

// The emulator accepts any credentials; fixed fake ones keep real AWS credentials out of the bench.
process.env.AWS_ACCESS_KEY_ID = 'fleetops-local';
process.env.AWS_SECRET_ACCESS_KEY = 'fleetops-local';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const s = (ms: number) => Math.round(ms / 100) / 10;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
const durations = (runs: DeployRun[]) => runs.map((r) => r.closeMs - r.startMs);

async function main(): Promise<void> {
  const n = Number(arg('services', '50'));
  const waves: WaveSize[] = arg('waves', '5,50%,100%')
    .split(',')
    .map((w) => (/^\d+$/.test(w) ? Number(w) : w) as WaveSize);
  const bake = Number(arg('bake', '10'));
  const analysis = Number(arg('analysis', '5'));
  const maxConcurrent = Number(arg('max-concurrent', '25'));
  const sample = Math.min(n, Number(arg('sequential', '10')));

  const scratch = mkdtempSync(join(tmpdir(), 'fleetops-bench-release-'));
  const template = join(scratch, 'fleetops.template.yaml');
  writeBenchTemplate(template, n, benchPlan(bake, analysis));
  const local = await startLocalStack({ env: { FLEETOPS_STACK_CONFIG_TEMPLATE: template } });
  const aws = createAwsClients({ region: local.stack.aws.region, endpoint: local.stack.aws.endpoint, sdkMaxAttempts: 3 });
  const connection = await Connection.connect({ address: local.stack.temporal.address });
  const client = new Client({ connection, namespace: local.stack.temporal.namespace });
  try {
    process.stdout.write(`stack ready in ${s(local.readyMs)} s; seeding cluster ${BENCH.cluster}: ${n} services on ${instancesFor(n)} container instances ...\n`);
    const seedStart = Date.now();
    await seedBenchCluster(aws, local.stack.aws.region, n);
    process.stdout.write(`  seeded and steady in ${s(Date.now() - seedStart)} s\n`);
    const config = loadConfig(join(local.runDir, 'fleetops.yaml'));

    const release = await runRelease(client, config, { id: `bench-${Date.now()}`, image: `${BENCH.image}:1.28.0`, waves, maxConcurrent, maxPerCluster: maxConcurrent });
    if (release.outcome !== 'completed') throw new Error(`bench: the release ended ${release.outcome}`);
    // The floor: what the plan makes each deploy wait on purpose (bakes), per wave the longest.
    const plannedBake = (service: string) => {
      const plan = config.services.find((x) => x.cluster === BENCH.cluster && x.name === service)!.canary;
      return plan.steps.reduce((t, st) => t + (st.kind === 'bake' ? st.seconds : 0), 0) + plan.postPromotionBakeSeconds;
    };
    const floorMs = release.waves.reduce((t, w) => t + 1000 * Math.max(...release.deploys.filter((d) => d.wave === w.wave).map((d) => plannedBake(d.service))), 0);
    const inRelease = durations(release.deploys);
    const childEvents = release.deploys.reduce((t, d) => t + d.historyEvents, 0);
    process.stdout.write(
      `release of ${n} services in ${release.waves.length} waves (${release.waves.map((w) => w.size).join('/')}, up to ${maxConcurrent} at once): ${s(release.wallMs)} s; ` +
        `floor (bakes, per wave the longest) ${s(floorMs)} s, ratio ${(release.wallMs / floorMs).toFixed(2)}\n` +
        release.waves.map((w) => `  wave ${w.wave}: ${w.size} deploys, approved at ${s(w.waitedMs)} s, ran ${s(w.ranMs)} s (longest deploy ${s(w.longestDeployMs)} s)\n`).join('') +
        `  a deploy in the release: p50 ${s(percentile(inRelease, 50))} s, max ${s(Math.max(...inRelease))} s\n` +
        `  history events: release ${release.releaseHistoryEvents} (${release.runs} run(s)), deploys ${childEvents}; per service ${((release.releaseHistoryEvents + childEvents) / n).toFixed(1)}\n`,
    );

    const services = config.services.filter((x) => x.cluster === BENCH.cluster).map((x) => x.name).slice(0, sample);
    const sequential = await runSequential(client, config, services, `${BENCH.image}:1.28.1`);
    const alone = durations(sequential.deploys);
    const meanMs = alone.reduce((a, b) => a + b, 0) / alone.length;
    // Between two deploys the bench notices the end and starts the next: counted, as an operator's would be.
    const perDeployMs = sequential.wallMs / sample;
    const allMs = sample === n ? sequential.wallMs : perDeployMs * n;
    process.stdout.write(
      `the same deploys one after another: ${sample} in ${s(sequential.wallMs)} s (a deploy alone: mean ${s(meanMs)} s, p50 ${s(percentile(alone, 50))} s, max ${s(Math.max(...alone))} s); ` +
        `${sample === n ? '' : `extrapolated to ${n}: `}${s(allMs)} s, ${(allMs / release.wallMs).toFixed(1)}× the release\n` +
        `  history events per deploy alone: ${(sequential.deploys.reduce((t, d) => t + d.historyEvents, 0) / sample).toFixed(1)}\n`,
    );

    // One deploy of each kind, event by event kind: what a deploy's history is made of.
    const inside = release.deploys[0]!;
    const breakdown = {
      releaseRun: await historyBreakdown(client, release.workflowId),
      deployInRelease: await historyBreakdown(client, inside.workflowId, inside.runId),
      deployAlone: await historyBreakdown(client, sequential.deploys[0]!.workflowId, sequential.deploys[0]!.runId),
    };
    process.stdout.write(Object.entries(breakdown).map(([k, v]) => `  history of ${k}: ${JSON.stringify(v)}\n`).join(''));
    const containerInstances = (await aws.ecs.send(new ListContainerInstancesCommand({ cluster: BENCH.cluster }))).containerInstanceArns?.length ?? 0;
    process.stdout.write(`  cluster ${BENCH.cluster}: ${containerInstances} container instances at the end (seeded ${instancesFor(n)})\n`);
    const report = {
      at: new Date().toISOString(),
      cpus: cpus().length,
      loadavg1m: loadavg()[0],
      stackReadyMs: local.readyMs,
      containerInstances,
      services: n,
      plan: { bakeSeconds: bake, analysisIntervalSeconds: analysis },
      waves,
      maxConcurrent,
      historyBreakdown: breakdown,
      release: { ...release, floorMs, deployMs: { p50: percentile(inRelease, 50), max: Math.max(...inRelease) }, historyEventsPerService: (release.releaseHistoryEvents + childEvents) / n },
      sequential: { sample, wallMs: sequential.wallMs, meanDeployMs: meanMs, extrapolated: sample !== n, allMs, deploys: sequential.deploys },
    };
    const dir = join(ROOT, 'artifacts', 'bench');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'release.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`load average at the end: ${loadavg()[0].toFixed(1)} on ${cpus().length} cores; written to artifacts/bench/release.json\n`);
  } finally {
    await connection.close();
    aws.destroy();
    await local.stop();
    local.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
