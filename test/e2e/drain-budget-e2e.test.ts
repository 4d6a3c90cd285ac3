import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, ListContainerInstancesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { POOL_TAG_POOL } from '../../activities/capacity/types';
import type { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { AwsClients } from '../../activities/aws/clients';
import { drainBudgetWorkflowId, drainCoordinatorWorkflowId, drainWorkflowId } from '../../common/workflow-ids';
import { TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT, TASK_QUEUE_DRAIN_COORDINATOR } from '../../common/task-queues';
import { statusQuery } from '../../contracts/controls';
import type { DrainBudgetStatus } from '../../contracts/drain-budget/messages';
import type { DrainStatus, SpotDrainResult } from '../../contracts/spot-drain/messages';
import type { SimControl } from '../../simulator/control-client';
import { STACK_READY_TIMEOUT_MS, type LocalStack } from '../../testkit/local-stack';
import { until } from '../../testkit/poll';
import { queuePollerPids, rssMiB, workerPids } from '../../testkit/stack-workers';
import { closeStack, openStack } from '../harness/local-stack';

/**
 * The voluntary-drain budget across processes, end to end: the local stack with two workers and two
 * routers (FLEETOPS_STACK_WORKERS=2, FLEETOPS_STACK_ROUTERS=2), both routers consuming the one events
 * queue. A wave of rebalance recommendations larger than the demo cluster's budget (2, the default)
 * goes through EventBridge → SQS, each twice; the cluster's DRAINING container instances are sampled
 * throughout. Never more than the budget DRAINING, every drain drained, one drain run per instance.
 * Once the budget's worth of instances is DRAINING, the worker running one of their waits for tasks
 * to move off is SIGKILLed (its whole process group, as the OOM killer or a lost node would): the
 * drains it held go on, on the other worker or the one the stack's supervisor starts in its place (the
 * wait runs again), and none of the guarantees may slip.
 *
 * Every instance of the wave runs a web task (the service is spread over every instance first), so
 * each drain holds its slot for a task move and the wave cannot slip through one empty instance after
 * another: two drains must wait. The wave is two drains deep (the budget's, then the waiters'), each
 * level a task move; the simulated AWS is made quicker where a real account's timings only add wall
 * time (SIMULATED): the ECS scheduler replaces a DRAINING instance's tasks at once, and new capacity
 * boots in a second. What a move needs stays: the replacement task healthy in its target group (two
 * 5 s health checks).
 *
 * The stack also runs the drain coordinator in a worker process of its own
 * (FLEETOPS_STACK_COORDINATOR_WORKER=1, FLEETOPS_WORKER_TASK_QUEUES): the last test checks that only that
 * process polls the coordinator's queue, and that an interruption warning is set DRAINING there.
 */

const BUDGET = 2;
const PENDING_ACTIVITY_STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
const WAVE = 4;
/**
 * How long a drain of the wave may take. Without a kill the wave takes about 37 s (two levels of task
 * moves). The kill adds what the killed worker held, each lost piece taken up after its 10 s timeout:
 * measured 38–47 s in all, the 47 s run with three timeouts in the drains' histories against two. A
 * drain's own deadline is 600 s; this bounds only how long a failing run takes to say so.
 */
const WAVE_LIMIT_MS = 90_000;
jest.setTimeout(STACK_READY_TIMEOUT_MS + WAVE_LIMIT_MS + 60_000);

/** Simulated timings (simulator/behaviours/ecs-scheduler.ts, capacity.ts), against 5 s and 3 s + 1 s by default. */
const SIMULATED = { replaceDelayMs: 0, bootDelaySeconds: 1, fulfilmentDelaySeconds: 0 };
let local: LocalStack;
let aws: AwsClients;
let sim: SimControl;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  ({ local, aws, sim, connection, client } = await openStack({ env: { FLEETOPS_STACK_WORKERS: '2', FLEETOPS_STACK_ROUTERS: '2', FLEETOPS_STACK_COORDINATOR_WORKER: '1' } }));
});

afterAll(() => closeStack({ local, aws, connection }));

/** Container instance status by instance id. */
async function containerInstances(cluster: string): Promise<Map<string, string>> {
  return new Map([...(await withTasks(cluster)).entries()].map(([id, ci]) => [id, ci.status]));
}

/** Container instance status and running tasks by instance id. */
async function withTasks(cluster: string): Promise<Map<string, { status: string; tasks: number }>> {
  const arns = (await aws.ecs.send(new ListContainerInstancesCommand({ cluster }))).containerInstanceArns ?? [];
  const out = new Map<string, { status: string; tasks: number }>();
  if (arns.length === 0) return out;
  const d = await aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: arns }));
  for (const ci of d.containerInstances ?? []) if (ci.ec2InstanceId) out.set(ci.ec2InstanceId, { status: ci.status ?? '', tasks: ci.runningTasksCount ?? 0 });
  return out;
}

/** The pid of a worker (of `workers`) running a drain's wait for its tasks to move off, if one is. */
async function workerWaitingForTasks(instanceIds: string[], workers: number[]): Promise<number | undefined> {
  for (const id of instanceIds) {
    const d = await client.workflow.getHandle(drainWorkflowId(id)).describe();
    for (const a of d.raw.pendingActivities ?? []) {
      // The SDK's default identity is `<pid>@<host>`.
      const pid = Number((a.lastWorkerIdentity ?? '').split('@')[0]);
      if (a.activityType?.name === 'waitForInstanceTasks' && a.state === PENDING_ACTIVITY_STARTED && workers.includes(pid)) return pid;
    }
  }
  return undefined;
}

const rebalance = (instanceId: string) =>
  sim.request('POST', 'events', {
    source: 'aws.ec2',
    detailType: 'EC2 Instance Rebalance Recommendation',
    detail: { 'instance-id': instanceId },
    resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`],
  });

test('two workers, two routers, one worker killed mid-wave: a rebalance wave over the budget never has more than the budget DRAINING, and every drain drains once', async () => {
  const { cluster } = local.stack.demo;
  expect(local.stack.router.urls).toHaveLength(2);
  expect(local.stack.router.urls[0]).toBe(local.stack.router.url);
  for (const url of local.stack.router.urls) expect((await fetch(`${url}/readyz`)).status).toBe(200);

  await sim.request('POST', 'ecs-scheduler/config', { replaceDelayMs: SIMULATED.replaceDelayMs });
  await sim.request('POST', 'capacity/config', { bootDelaySeconds: SIMULATED.bootDelaySeconds, fulfilmentDelaySeconds: SIMULATED.fulfilmentDelaySeconds });

  const before = await containerInstances(cluster);
  // The EC2 Fleet's and the Auto Scaling group's instances: a rebalance replaces first in both (drain-e2e.test.ts (b), (e)).
  const pooled = await aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${POOL_TAG_POOL}`, Values: ['spot-ec2-fleet', 'on-demand'] }, { Name: 'instance-state-name', Values: ['running'] }] }));
  const candidates = new Set((pooled.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!));
  const victims = [...candidates].filter((id) => before.get(id) === 'ACTIVE').slice(0, WAVE);
  expect(victims).toHaveLength(WAVE);
  // A web task on every instance (spread over instances), the victims' included.
  await aws.ecs.send(new UpdateServiceCommand({ cluster, service: local.stack.demo.service, desiredCount: before.size }));
  await until('a web task on every victim', async () => {
    const now = await withTasks(cluster);
    return victims.every((id) => (now.get(id)?.tasks ?? 0) > 0) ? true : undefined;
  }, { timeoutMs: 20_000, intervalMs: 250 });
  const t0 = Date.now();
  // Each recommendation twice: the two routers take messages from the one queue, and both copies
  // must end in the same drain.
  await Promise.all([...victims, ...victims].map(rebalance));

  const workers = await until('both workers polling', async () => {
    const pids = await workerPids(connection, local.stack.temporal.namespace);
    return pids.length === 2 ? pids : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  let killed: number | undefined;
  let killedAt: number | undefined;
  let most = 0;
  let samples = 0;
  let sampling = true;
  // Each drain's state and the DRAINING instances as they changed, for the message when one does not end.
  const timeline: string[] = [];
  let lastLine = '';
  const phases = new Map<string, string>();
  let budgetSeen = '';
  const ended = async (id: string): Promise<SpotDrainResult | undefined> => {
    const b = client.workflow.getHandle(drainBudgetWorkflowId(cluster));
    budgetSeen = `${(await b.describe()).runId} ${JSON.stringify(await b.query(statusQuery))}`;
    const h = client.workflow.getHandle(drainWorkflowId(id));
    const d = await h.describe();
    if (d.status.name === 'RUNNING') {
      const st = (await h.query(statusQuery)) as DrainStatus;
      const ev = (await h.fetchHistory()).events ?? [];
      const sent = ev.flatMap((e, i) => (e.signalExternalWorkflowExecutionInitiatedEventAttributes ? [`#${i} ${e.signalExternalWorkflowExecutionInitiatedEventAttributes.signalName} after ${ev.slice(Math.max(0, i - 6), i).map((x) => x.eventType).join('/')}`] : []));
      phases.set(id, `${st.phase} [${sent.join('; ')}] (${ev.length} events): ${st.steps.map((x) => `${x.name}:${x.status}`).join(', ')}`);
      return undefined;
    }
    const result = (await h.result()) as SpotDrainResult;
    // Said so in the message: the entry seen while it ran would read as if it ran still.
    phases.set(id, `ended ${result.outcome}`);
    return result;
  };
  const results = Promise.all(
    victims.map((id) => until(`the drain of ${id} to end`, () => ended(id), { timeoutMs: WAVE_LIMIT_MS, intervalMs: 500, describe: () => `${JSON.stringify(Object.fromEntries(phases))}; budget ${budgetSeen}; DRAINING over time: ${timeline.join('; ')}` })),
  ).finally(() => (sampling = false));
  while (sampling) {
    const cis = await containerInstances(cluster);
    const draining = [...cis.values()].filter((s) => s === 'DRAINING').length;
    const line = [...cis.entries()].filter(([, s]) => s === 'DRAINING').map(([i]) => i).sort().join(',');
    if (line !== lastLine) timeline.push(`+${Date.now() - t0} ms [${line}]`);
    lastLine = line;
    most = Math.max(most, draining);
    samples += 1;
    if (killedAt === undefined && draining === BUDGET) {
      // Mid-wave, the budget's drains waiting for their tasks to move, the rest for their slots: the
      // worker running one of those waits is the one killed, so the kill cuts work short for sure.
      const holder = await workerWaitingForTasks(victims, workers);
      if (holder !== undefined) {
        process.kill(-holder, 'SIGKILL');
        killed = holder;
        killedAt = Date.now() - t0;
        timeline.push(`+${killedAt} ms worker ${holder} killed`);
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const drained = await results;

  expect(killed).toBeDefined();
  expect(rssMiB(killed!)).toBeUndefined();
  // A drain that did not drain says why in the message: its failure and the steps it left.
  expect(drained.map((r) => (r.outcome === 'drained' ? r.outcome : `${r.outcome}: ${JSON.stringify({ failure: r.failure, notDone: r.notDone })}`))).toEqual(Array(WAVE).fill('drained'));
  expect(most).toBeLessThanOrEqual(BUDGET);
  // The wave was larger than the budget and every drain held its slot for a task move: the drains
  // past the budget waited their turn.
  const waited = drained.filter((r) => r.steps.some((s) => s.name === 'wait-for-budget' && s.status === 'done'));
  expect(waited.length).toBeGreaterThanOrEqual(WAVE - BUDGET);
  // One run per instance, whichever router took which copy.
  for (const id of victims) {
    const runs = [];
    for await (const w of client.workflow.list({ query: `WorkflowId = '${drainWorkflowId(id)}'` })) runs.push(w.runId);
    expect([id, runs.length]).toEqual([id, 1]);
  }
  const budget = (await client.workflow.getHandle(drainBudgetWorkflowId(cluster)).query(statusQuery)) as DrainBudgetStatus;
  expect(budget).toMatchObject({ budget: BUDGET, holders: [], counts: { granted: WAVE, released: WAVE } });
  // What the kill cut short was taken up again: the wait it held ran again (a started event of a
  // later attempt), and any workflow task it held timed out.
  let retried = 0;
  let timedOut = 0;
  for (const id of victims) {
    for (const e of (await client.workflow.getHandle(drainWorkflowId(id)).fetchHistory()).events ?? []) {
      if ((e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) retried += 1;
      if (e.workflowTaskTimedOutEventAttributes || e.activityTaskTimedOutEventAttributes) timedOut += 1;
    }
  }
  expect(retried).toBeGreaterThanOrEqual(1);
  process.stdout.write(
    `[e2e drain budget] ${WAVE} rebalances (each sent twice) over 2 routers and 2 workers, budget ${BUDGET}, worker ${killed} killed at +${killedAt} ms: all drained in ${Date.now() - t0} ms; ` +
      `${retried} activity attempt(s) run again and ${timedOut} timeout(s) in the drains' histories; ` +
      `DRAINING sampled ${samples}× every 200 ms: at most ${most}; ${waited.length} drain(s) waited their turn\n`,
  );
});

test('the coordinator in a process of its own: only it polls the coordinator\'s queue, the others the rest, and a warning is set DRAINING there', async () => {
  const { cluster } = local.stack.demo;
  const { namespace } = local.stack.temporal;
  // After the kill above, the replacement too: two workers on the drains' queue.
  const workers = await until('two workers polling the drains\' queue', async () => {
    const pids = await workerPids(connection, namespace);
    return pids.length === 2 ? pids : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  const [coordinatorWorkflows, coordinatorActivities] = await Promise.all([queuePollerPids(connection, namespace, TASK_QUEUE_DRAIN_COORDINATOR), queuePollerPids(connection, namespace, TASK_QUEUE_DRAIN_COORDINATOR, true)]);
  expect(coordinatorWorkflows).toHaveLength(1);
  expect(coordinatorActivities).toEqual(coordinatorWorkflows);
  const coordinatorPid = coordinatorWorkflows[0]!;
  expect(workers).not.toContain(coordinatorPid);
  for (const q of [TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT]) {
    for (const activities of [false, true]) expect([q, activities, await queuePollerPids(connection, namespace, q, activities)]).toEqual([q, activities, workers]);
  }

  const victim = [...(await containerInstances(cluster)).entries()].find(([, status]) => status === 'ACTIVE')?.[0];
  expect(victim).toBeDefined();
  await sim.request('POST', 'spot-interruption/interrupt', { instanceId: victim, afterSeconds: 60 });
  await until('the warning\'s instance DRAINING', async () => ((await containerInstances(cluster)).get(victim!) === 'DRAINING' ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
  // The coordinator's DRAINING call ran in its own process (the drain, in another, may set it too: they race).
  const ran = await until('the coordinator\'s call to be recorded', async () => {
    const events = (await client.workflow.getHandle(drainCoordinatorWorkflowId()).fetchHistory()).events ?? [];
    const started = events.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.identity ?? ''] : []));
    return started.length > 0 ? started : undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  expect(ran.map((identity) => Number(identity.split('@')[0]))).toEqual(ran.map(() => coordinatorPid));
});
