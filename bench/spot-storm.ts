/**
 * Spot storm: N simultaneous interruption warnings posted to the router of a local stack.
 *
 *   npx tsx bench/spot-storm.ts [--n 100,500,1000] [--scenarios clean,limits,worker-kill]
 *
 * For each N and scenario, on a fresh local stack (stack/up.ts started by testkit/local-stack.ts:
 * scratch run directory, free ports):
 *  - N extra container instances join cluster `demo`, one `web` service task each, plus spare
 *    instances for the moved tasks; the simulator's ECS scheduler moves service tasks 2 s after DRAINING;
 *  - N warnings (time = now) go to `POST /events` in arrays of 100, and each instance is scheduled for
 *    termination 120 s later (simulator spot-interruption), as AWS would;
 *  - figures: p50/p99/max of event→DRAINING (the simulator's record of UpdateContainerInstancesState)
 *    and event→drained (workflow close time), the share drained before the deadline, AWS calls per
 *    instance by API, worker RSS (max, sampled);
 *  - the limit: a plain script that makes the same DRAINING calls straight to the same endpoint, one
 *    call per instance, all at once; the ratio of p99s is reported.
 * `limits`: the simulator's rate limits set to AWS-like ECS limits (UpdateContainerInstancesState and
 * DescribeContainerInstances 20/s with a burst of 40 — our reading of the ECS API throttling table for
 * these "cluster resource" actions; ECS does not publish exact per-action figures for all of them) and
 * 5 % injected 5xx on every ECS call.
 *
 * `worker-kill`: the worker process group is SIGKILLed 20 s into the storm; the stack's supervisor starts
 * it again (as an orchestrator would) and the new worker picks up every drain: workflow tasks after
 * their 10 s timeout, sticky tasks after theirs, waits after their 10 s heartbeat timeout. The time
 * until the new worker polls is reported.
 * Prints the figures and writes them to artifacts/bench/spot-storm.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { ListTaskDefinitionsCommand, RegisterContainerInstanceCommand, StartTaskCommand, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { Client, Connection } from '@temporalio/client';
import { createAwsClients, type AwsClients } from '../activities/aws/clients';
import { TASK_QUEUE_CRITICAL } from '../common/task-queues';
import { INTERRUPTION_WARNING_MS } from '../common/interruption';
import { drainWorkflowId } from '../common/workflow-ids';
import { createSimControl, type SimControl } from '../simulator/control-client';
import { ROOT } from '../stack/settings';
import { startLocalStack } from '../testkit/local-stack';
import { until } from '../testkit/poll';
import type { SpotDrainResult } from '../contracts/spot-drain/messages';
import { tsToMs } from '@temporalio/common/lib/time';
import { defaultPayloadConverter } from '@temporalio/common';
import { statusQuery } from '../contracts/controls';
import { drainCoordinatorWorkflowId } from '../common/workflow-ids';
import type { DrainCoordinatorStatus } from '../contracts/drain-coordinator/messages';
import { temporal } from '@temporalio/proto';

// The emulator accepts any credentials; fixed fake ones keep real AWS credentials out of the bench.
process.env.AWS_ACCESS_KEY_ID = 'fleetops-local';
process.env.AWS_SECRET_ACCESS_KEY = 'fleetops-local';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

type Scenario = 'clean' | 'limits' | 'worker-kill';

interface Percentiles {
  min: number;
  p50: number;
  p99: number;
  max: number;
  count: number;
}

interface StormResult {
  n: number;
  scenario: Scenario;
  /** Router + Temporal: event to the drain workflow's start. */
  eventToStartMs: Percentiles;
  eventToDrainingMs: Percentiles;
  eventToDrainedMs: Percentiles;
  drainedBeforeDeadline: number;
  outcomes: Record<string, number>;
  awsCallsPerInstance: Record<string, number>;
  workerRssMaxMiB: number | null;
  plainDrainingCallMs: Percentiles;
  p99RatioToPlain: number;
  /** Workflow-task pollers on the drain queue, sampled every 500 ms during the storm. */
  pollers: { normal: Percentiles; sticky: Percentiles };
  /** worker-kill: seconds from the kill until the new worker polled the drain task queue. */
  workerDownSeconds?: number;
  /** CPU seconds each stack process used from the first event to the last drain's end, and that span. */
  cpuSeconds: Record<string, number>;
  stormSeconds: number;
  /** Where event→DRAINING goes, from the workflow histories and the simulator's call record. */
  breakdownMs: Record<string, Percentiles>;
  /** Requests of 100 events the router answered 503 (Temporal slower than 2 s), sent again after Retry-After. */
  routerRetries503: number;
  /** Temporal + worker + router CPU seconds per drain (the product's cost; moto and the simulator apart). */
  productCpuPerDrain: number;
  /** The drain coordinator's counts at the end (workflows/drain-coordinator/), and its calls' queue and run times. */
  coordinator?: { counts: Record<string, number>; calls: { queueMs: Percentiles; runMs: Percentiles; instances: Percentiles } };
}

const EventType = temporal.api.enums.v1.EventType;

/**
 * Per-drain phases up to DRAINING, from each workflow's history: the first workflow task (queue wait
 * and run), the resolve activity (queue wait, run), the workflow task that schedules set-draining,
 * set-draining's queue wait and the time from its start to the DRAINING call reaching the simulator
 * (the coordinator's batch wait); plus moto's time per call by API.
 */
async function breakdown(
  client: Client,
  instances: string[],
  arns: string[],
  drainingAt: Map<string, number>,
  calls: { service: string; action: string; durationMs: number }[],
): Promise<Record<string, Percentiles>> {
  const phases: Record<string, number[]> = {};
  const add = (k: string, v: number | undefined) => {
    if (v !== undefined && Number.isFinite(v)) (phases[k] ??= []).push(v);
  };
  for (let i = 0; i < instances.length; i += 50) {
    await Promise.all(
      instances.slice(i, i + 50).map(async (id, j) => {
        const history = await client.workflow.getHandle(drainWorkflowId(id)).fetchHistory();
        const ev = history.events ?? [];
        const at = (e: (typeof ev)[number] | undefined) => (e ? tsToMs(e.eventTime) : undefined);
        const started = at(ev[0]);
        const wftSched = ev.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
        const wftStart = ev.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
        const wftDone = ev.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
        // Counts, not milliseconds: what one drain costs the server.
        add('count: history events per drain', ev.length);
        add('count: workflow tasks per drain', ev.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length);
        add('wft1.queue', (at(wftStart) ?? NaN) - (at(wftSched) ?? NaN));
        add('wft1.run', (at(wftDone) ?? NaN) - (at(wftStart) ?? NaN));
        const activity = (name: string) => {
          const sched = ev.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === name);
          if (!sched) return undefined;
          const sid = Number(sched.eventId);
          const start = ev.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === sid);
          const done = ev.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === sid);
          return { sched: at(sched)!, start: at(start), done: at(done), doneIdx: done ? ev.indexOf(done) : -1 };
        };
        const resolve = activity('resolveDrainTarget');
        const draining = activity('setContainerInstanceDraining');
        if (started !== undefined && resolve) add('start→resolve scheduled', resolve.sched - started);
        if (resolve) {
          add('resolve.queue', (resolve.start ?? NaN) - resolve.sched);
          add('resolve.run', (resolve.done ?? NaN) - (resolve.start ?? NaN));
        }
        if (resolve?.done !== undefined && draining) add('resolve done→set-draining scheduled', draining.sched - resolve.done);
        if (draining) {
          add('set-draining.queue', (draining.start ?? NaN) - draining.sched);
          add('set-draining start→call', (drainingAt.get(arns[i + j]!) ?? NaN) - (draining.start ?? NaN));
        }
      }),
    );
  }
  for (const c of calls) add(`moto ${c.service}:${c.action}`, c.durationMs);
  return Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, percentiles(v)]));
}

/** The coordinator's counts, and per setDrainingAtOnce call its queue wait, run time and size, from its history. */
async function coordinatorFigures(client: Client): Promise<StormResult['coordinator']> {
  const handle = client.workflow.getHandle(drainCoordinatorWorkflowId());
  let status: DrainCoordinatorStatus;
  try {
    status = (await handle.query(statusQuery)) as DrainCoordinatorStatus;
  } catch {
    return undefined;
  }
  const queue: number[] = [];
  const run: number[] = [];
  const sizes: number[] = [];
  // Every run of the id (it may have continued as new during the storm).
  for await (const wf of client.workflow.list({ query: `WorkflowId = "${drainCoordinatorWorkflowId()}"` })) {
    const ev = (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events ?? [];
    const byId = new Map(ev.map((e) => [Number(e.eventId), e]));
    for (const e of ev) {
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        const sched = byId.get(Number(e.activityTaskStartedEventAttributes?.scheduledEventId));
        if (sched) queue.push(tsToMs(e.eventTime) - tsToMs(sched.eventTime));
      }
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const started = byId.get(Number(e.activityTaskCompletedEventAttributes?.startedEventId));
        if (started) run.push(tsToMs(e.eventTime) - tsToMs(started.eventTime));
      }
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        const input = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0];
        const parsed = input ? (defaultPayloadConverter.fromPayload(input) as { instanceIds?: string[] }) : undefined;
        sizes.push(parsed?.instanceIds?.length ?? 0);
      }
    }
  }
  return { counts: status.counts as Record<string, number>, calls: { queueMs: percentiles(queue), runMs: percentiles(run), instances: percentiles(sizes) } };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function percentiles(values: number[]): Percentiles {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => (v.length ? v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)]! : NaN);
  return { p50: at(0.5), p99: at(0.99), max: v.length ? v[v.length - 1]! : NaN, count: v.length, min: v.length ? v[0]! : NaN };
}

/** N storm instances with one service task each, and spare ACTIVE instances for the moved tasks. */
async function seedStorm(aws: AwsClients, n: number): Promise<{ instances: string[]; arns: string[] }> {
  const image = (await aws.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
  const taskDef = (await aws.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'web' }))).taskDefinitionArns?.at(-1);
  if (!image || !taskDef) throw new Error('the demo has no AMI or web task definition');
  const spare = Math.ceil(n / 16);
  const launched: string[] = [];
  for (let left = n + spare; left > 0; left -= 100) {
    const count = Math.min(100, left);
    const r = await aws.ec2.send(new RunInstancesCommand({ ImageId: image, InstanceType: 'm5.large', MinCount: count, MaxCount: count }));
    launched.push(...(r.Instances ?? []).map((i) => i.InstanceId!));
  }
  const register = async (instanceId: string) =>
    (await aws.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'demo', instanceIdentityDocument: JSON.stringify({ instanceId }) })))
      .containerInstance!.containerInstanceArn!;
  const instances = launched.slice(0, n);
  const arns: string[] = [];
  for (let i = 0; i < instances.length; i += 20) {
    const batch = await Promise.all(instances.slice(i, i + 20).map(register));
    arns.push(...batch);
    await Promise.all(
      batch.map((arn) =>
        aws.ecs.send(new StartTaskCommand({ cluster: 'demo', taskDefinition: taskDef, containerInstances: [arn], group: 'service:web', startedBy: 'ecs-svc/1000000000000000001' })),
      ),
    );
  }
  for (const id of launched.slice(n)) await register(id);
  return { instances, arns };
}

/**
 * The live worker's pid from its poller identity (`<pid>@<host>`) on the drain task queue. The server
 * lists pollers seen in the last minutes, a killed worker's too: only a pid that still runs counts.
 */
async function workerPid(connection: Connection, namespace: string): Promise<number | undefined> {
  const res = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: TASK_QUEUE_CRITICAL, kind: 1 }, taskQueueType: 1 });
  for (const p of res.pollers ?? []) {
    const pid = Number((p.identity ?? '').split('@')[0]);
    if (Number.isInteger(pid) && pid > 0 && rssMiB(pid) !== undefined) return pid;
  }
  return undefined;
}

/** The worker's current workflow-task pollers on the drain queue, by kind (sdk-core's temporal_num_pollers gauge). */
async function drainPollers(metricsUrl: string): Promise<{ normal: number; sticky: number } | undefined> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const out = { normal: 0, sticky: 0 };
    for (const line of text.split('\n')) {
      if (!line.startsWith('temporal_num_pollers{') || !line.includes(`task_queue="${TASK_QUEUE_CRITICAL}"`)) continue;
      const value = Number(line.split(' ').pop());
      if (line.includes('poller_type="sticky_workflow_task"')) out.sticky += value;
      else if (line.includes('poller_type="workflow_task"')) out.normal += value;
    }
    return out;
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by each of the stack's processes, by role (from /proc: utime + stime). */
function stackCpuSeconds(processes: { pid: number; cmd: string }[]): Record<string, number> {
  const tick = 100; // USER_HZ on Linux
  const role = (cmd: string): string => {
    if (/\btemporal server start-dev/.test(cmd)) return 'temporal';
    if (/moto_server|moto\.server/.test(cmd)) return 'moto';
    if (/simulator\/main/.test(cmd)) return 'simulator';
    if (/router\/main/.test(cmd)) return 'router';
    if (/workers\/main/.test(cmd)) return 'worker';
    return 'other';
  };
  const out: Record<string, number> = {};
  for (const { pid, cmd } of processes) {
    try {
      const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      out[role(cmd)] = (out[role(cmd)] ?? 0) + (Number(f[11]) + Number(f[12])) / tick;
    } catch {
      // the process ended since it was listed
    }
  }
  return out;
}

function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function storm(n: number, scenario: Scenario): Promise<StormResult> {
  const stack = await startLocalStack();
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
    await sim.clearCalls();
    let pid = await workerPid(connection, stack.stack.temporal.namespace);
    let rssMax: number | undefined;
    const pollerSamples = { normal: [] as number[], sticky: [] as number[] };
    const sampler = setInterval(() => {
      const r = pid ? rssMiB(pid) : undefined;
      if (r !== undefined) rssMax = Math.max(rssMax ?? 0, r);
      void drainPollers(metricsUrl).then((p) => {
        if (!p) return;
        pollerSamples.normal.push(p.normal);
        pollerSamples.sticky.push(p.sticky);
      });
    }, 500);

    const cpuBefore = stackCpuSeconds(stack.processes());
    const stormStart = Date.now();
    let workerDownSeconds: number | undefined;
    const killed =
      scenario !== 'worker-kill'
        ? Promise.resolve()
        : (async () => {
            await new Promise((r) => setTimeout(r, 20_000));
            const victim = pid;
            if (!victim) throw new Error('no worker pid to kill');
            const killedAt = Date.now();
            process.kill(-victim, 'SIGKILL');
            process.stdout.write(`  worker ${victim} killed ${((killedAt - stormStart) / 1000).toFixed(1)} s into the storm\n`);
            // A failed describe while the worker is down is asked again.
            pid = await until(
              'the worker to come back',
              async () => {
                const next = await workerPid(connection, stack.stack.temporal.namespace);
                return next && next !== victim ? next : undefined;
              },
              { timeoutMs: 120_000, intervalMs: 250 },
            );
            workerDownSeconds = (Date.now() - killedAt) / 1000;
          })();
    const eventAt = new Map<string, number>();
    let retried503 = 0;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${stack.stack.router.awsEventsToken}` };
    await Promise.all(
      Array.from({ length: Math.ceil(n / 100) }, async (_, b) => {
        const ids = instances.slice(b * 100, b * 100 + 100);
        const now = Date.now();
        const body = ids.map((id) => {
          eventAt.set(id, now);
          return {
            version: '0',
            id: `storm-${id}`,
            'detail-type': 'EC2 Spot Instance Interruption Warning',
            source: 'aws.ec2',
            account: '123456789012',
            time: new Date(now).toISOString(),
            region: stack.stack.aws.region,
            resources: [`arn:aws:ec2:${stack.stack.aws.region}:123456789012:instance/${id}`],
            detail: { 'instance-id': id, 'instance-action': 'terminate' },
          };
        });
        // A 503 is retried after its Retry-After, as EventBridge retries a target (the router dedupes by event id).
        for (let attempt = 1; ; attempt += 1) {
          const res = await fetch(`${stack.stack.router.url}/events`, { method: 'POST', headers, body: JSON.stringify(body) });
          if (res.status === 202) break;
          const text = await res.text();
          if (res.status !== 503 || attempt >= 20) throw new Error(`router answered ${res.status}: ${text}`);
          retried503 += 1;
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
        }
        await Promise.all(ids.map((instanceId) => sim.request('POST', 'spot-interruption/schedule', { instanceId, afterSeconds: 120 })));
      }),
    );

    // Every drain ends by its deadline (+ the incident step for a miss); wait for all of them.
    const results = new Map<string, { result?: SpotDrainResult; closedAt?: number; startedAt?: number }>();
    await Promise.all(
      instances.map(async (id) => {
        const handle = client.workflow.getHandle(drainWorkflowId(id));
        try {
          const result = (await handle.result()) as SpotDrainResult;
          const d = await handle.describe();
          results.set(id, { result, closedAt: d.closeTime?.getTime(), startedAt: d.startTime.getTime() });
        } catch {
          results.set(id, {});
        }
      }),
    );
    await killed;
    clearInterval(sampler);
    const stormSeconds = (Date.now() - stormStart) / 1000;
    const cpuAfter = stackCpuSeconds(stack.processes());
    const cpuSeconds = Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, Math.round((v - (cpuBefore[k] ?? 0)) * 10) / 10]));

    const calls = await sim.calls();
    const drainingAt = new Map<string, number>();
    for (const c of calls) {
      if (c.service !== 'ecs' || c.action !== 'UpdateContainerInstancesState' || c.status !== 200) continue;
      for (const arn of (c.params.containerInstances as string[] | undefined) ?? []) if (!drainingAt.has(arn)) drainingAt.set(arn, Date.parse(c.time));
    }
    const toDraining = instances.map((id, i) => (drainingAt.get(arns[i]!) ?? NaN) - eventAt.get(id)!).filter(Number.isFinite);
    const toStart = instances.map((id) => (results.get(id)?.startedAt ?? NaN) - eventAt.get(id)!).filter(Number.isFinite);
    const toDrained = instances.map((id) => (results.get(id)?.closedAt ?? NaN) - eventAt.get(id)!).filter(Number.isFinite);
    const outcomes: Record<string, number> = {};
    let beforeDeadline = 0;
    for (const id of instances) {
      const r = results.get(id);
      const o = r?.result?.outcome ?? 'no-result';
      outcomes[o] = (outcomes[o] ?? 0) + 1;
      if (o === 'drained' && r?.closedAt !== undefined && r.closedAt - eventAt.get(id)! <= INTERRUPTION_WARNING_MS) beforeDeadline += 1;
    }
    const perApi: Record<string, number> = {};
    for (const c of calls) {
      if (c.service === 'unknown') continue;
      perApi[`${c.service}:${c.action}`] = (perApi[`${c.service}:${c.action}`] ?? 0) + 1 / n;
    }

    const breakdownMs = await breakdown(client, instances, arns, drainingAt, calls);
    const coordinator = await coordinatorFigures(client);

    // The limit: one DRAINING call per instance straight to the endpoint, all at once.
    await sim.clearRateLimits();
    await sim.clearFaults();
    const plain = await Promise.all(
      arns.map(async (arn) => {
        const t = Date.now();
        await aws.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'demo', containerInstances: [arn], status: 'DRAINING' })).catch(() => undefined);
        return Date.now() - t;
      }),
    );
    const plainP = percentiles(plain);
    const drainingP = percentiles(toDraining);
    return {
      n,
      scenario,
      eventToStartMs: percentiles(toStart),
      eventToDrainingMs: drainingP,
      eventToDrainedMs: percentiles(toDrained),
      drainedBeforeDeadline: beforeDeadline / n,
      outcomes,
      awsCallsPerInstance: Object.fromEntries(Object.entries(perApi).map(([k, v]) => [k, Math.round(v * 100) / 100])),
      workerRssMaxMiB: rssMax === undefined ? null : Math.round(rssMax),
      plainDrainingCallMs: plainP,
      p99RatioToPlain: drainingP.p99 / plainP.p99,
      pollers: { normal: percentiles(pollerSamples.normal), sticky: percentiles(pollerSamples.sticky) },
      workerDownSeconds,
      cpuSeconds,
      stormSeconds,
      breakdownMs,
      routerRetries503: retried503,
      productCpuPerDrain: Math.round((((cpuSeconds.temporal ?? 0) + (cpuSeconds.worker ?? 0) + (cpuSeconds.router ?? 0)) / n) * 1000) / 1000,
      coordinator,
    };
  } finally {
    await connection.close();
    aws.destroy();
    await stack.stop();
    stack.cleanup();
  }
}

async function main(): Promise<void> {
  const ns = arg('n', '100,500,1000').split(',').map(Number);
  const scenarios = arg('scenarios', 'clean,limits,worker-kill').split(',') as Scenario[];
  const results: StormResult[] = [];
  for (const scenario of scenarios) {
    for (const n of scenario !== 'clean' ? ns.filter((x) => x === Math.max(...ns.filter((y) => y <= 500))) : ns) {
      process.stdout.write(`storm: N=${n} ${scenario} ...\n`);
      const r = await storm(n, scenario);
      results.push(r);
      process.stdout.write(
        `  event→workflow start p50 ${r.eventToStartMs.p50} ms, p99 ${r.eventToStartMs.p99} ms; event→DRAINING p50 ${r.eventToDrainingMs.p50} ms, p99 ${r.eventToDrainingMs.p99} ms, max ${r.eventToDrainingMs.max} ms; ` +
          `event→drained p50 ${r.eventToDrainedMs.p50} ms, p99 ${r.eventToDrainedMs.p99} ms; drained before deadline ${(r.drainedBeforeDeadline * 100).toFixed(1)} %; ` +
          `plain DRAINING p99 ${r.plainDrainingCallMs.p99} ms (ratio ${r.p99RatioToPlain.toFixed(1)}); worker RSS max ${r.workerRssMaxMiB ?? '?'} MiB\n` +
          (r.workerDownSeconds !== undefined ? `  worker back polling ${r.workerDownSeconds.toFixed(1)} s after the kill\n` : '') +
          `  drain-queue workflow pollers: normal p50 ${r.pollers.normal.p50} (min ${r.pollers.normal.min}), sticky p50 ${r.pollers.sticky.p50}\n` +
          `  CPU seconds over ${r.stormSeconds.toFixed(0)} s: ${JSON.stringify(r.cpuSeconds)}; product (Temporal + worker + router) per drain ${r.productCpuPerDrain} s\n` +
          (r.coordinator
            ? `  coordinator ${JSON.stringify(r.coordinator.counts)}; calls: queue p50 ${r.coordinator.calls.queueMs.p50} ms, p99 ${r.coordinator.calls.queueMs.p99} ms; run p50 ${r.coordinator.calls.runMs.p50} ms, max ${r.coordinator.calls.runMs.max} ms; instances per call p50 ${r.coordinator.calls.instances.p50}, max ${r.coordinator.calls.instances.max} (${r.coordinator.calls.instances.count} calls)\n`
            : '') +
          `  router 503s retried: ${r.routerRetries503}\n` +
          `  outcomes ${JSON.stringify(r.outcomes)}\n  calls per instance ${JSON.stringify(r.awsCallsPerInstance)}\n` +
          Object.entries(r.breakdownMs)
            .map(([k, p]) => {
              const u = k.startsWith('count:') ? '' : ' ms';
              return `  ${k}: p50 ${p.p50}${u}, p99 ${p.p99}${u}, max ${p.max}${u} (${p.count})\n`;
            })
            .join(''),
      );
    }
  }
  const dir = join(ROOT, 'artifacts', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'spot-storm.json'),
    `${JSON.stringify({ at: new Date().toISOString(), cpus: cpus().length, loadavg1m: loadavg()[0], taskQueue: TASK_QUEUE_CRITICAL, results }, null, 2)}\n`,
  );
  process.stdout.write('written to artifacts/bench/spot-storm.json\n');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
