import { Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DeployActivities } from '../../activities/deploy';
import type { ServiceSnapshot } from '../../activities/deploy/types';
import type { Notification } from '../../activities/notifications';
import { createReleaseActivities, type FrozenCluster, type ReleaseActivities } from '../../activities/release';
import type { CanaryAnalysis } from '../../common/deploy';
import { statusQuery } from '../../contracts/controls';
import type { DeployApproval } from '../../contracts/canary-deploy/input';
import type { ReleaseInput, ReleaseTarget } from '../../contracts/release/input';
import type { ReleaseStatus, ReleaseWorkflow } from '../../contracts/release/messages';
import { releaseStartOptions } from '../../contracts/release/start';
import { until } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer, createTimeSkippingEnv, uniqueTaskQueue } from '../harness/temporal';
import { createWorker } from '../harness/workers';
import { healthyTargets, planOf, snapshot } from '../deploy/deploy-mock';

/**
 * What the release's workflow tests share: a time-skipping server per file, and a mocked world of many
 * services for the real canary deploys the release starts as its children (test/deploy/deploy-mock.ts
 * keeps one service; here each `<cluster>/<service>` has its own main and canary service). The
 * release's own activities are the real ones against the test server (deployRuns describes the
 * deploys), except the freeze lookup, which the world answers.
 */

let env: TestWorkflowEnvironment;

export function useTimeSkippingEnv(): () => TestWorkflowEnvironment {
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => env;
}

/**
 * The dev server instead, in real time (with FAST_PLAN). Continue-as-new in the middle of a wave is
 * tested there: on the time-skipping test server, once a release had continued as new with deploys
 * running, time stopped skipping (every workflow waited on a timer, and a 10 s sleep did not end).
 */
export function useDevServer(): () => TestWorkflowEnvironment {
  beforeAll(async () => {
    env = await connectDevServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => env;
}

/** Every release deploy's plan: a canary at half weight, a bake under one alarm, a gate (which the wave's approval passes), promotion. */
export const PLAN = planOf({
  alarms: ['5xx'],
  steps: [{ kind: 'setWeight', weight: 50 }, { kind: 'bake', seconds: 120 }, { kind: 'gate' }, { kind: 'promote' }],
  postPromotionBakeSeconds: 0,
  analysisIntervalSeconds: 60,
});

export const oldTd = (service: string) => `arn:aws:ecs:us-east-1:123456789012:task-definition/${service}:1`;
export const newTd = (service: string) => `arn:aws:ecs:us-east-1:123456789012:task-definition/${service}:2`;

/** Bob approves every service; Alice asks for the releases. */
export const APPROVALS: DeployApproval[] = [{ approvers: { people: [{ name: 'bob', identities: ['cli:bob', 'slack:UBOB'] }], groups: [] }, requester: ['cli:alice'] }];

export interface ReleaseWorld {
  /** `<cluster>/<service>` whose canary's alarm fires: its deploy rolls back. */
  failing: Set<string>;
  /** Clusters frozen now, with the reason. */
  frozen: Map<string, string>;
}

export interface ReleaseMock {
  activities: DeployActivities & ReleaseActivities & { notify(n: Notification): Promise<{ sent: string[]; skipped: string[] }> };
  world: ReleaseWorld;
  /** `<cluster>/<service>` → its main service's task definition now. */
  mainTd: Map<string, string>;
  /** Deploys started per service (plan lookups), to show none was started twice. */
  started: Map<string, number>;
  /** Canary services alive at once, at most, per cluster and overall. */
  maxCanaries: { overall: number; perCluster: Map<string, number> };
  notified: string[];
}

/** A plan that runs in seconds of real time: a one-second bake, analysed and polled every second. */
export const FAST_PLAN = planOf({
  alarms: ['5xx'],
  steps: [{ kind: 'setWeight', weight: 50 }, { kind: 'bake', seconds: 1 }, { kind: 'gate' }, { kind: 'promote' }],
  postPromotionBakeSeconds: 0,
  analysisIntervalSeconds: 1,
  servicePollSeconds: 1,
});

/** A plan with no bake at all: a canary at half weight, then promotion, for tests about the release, not the deploys. */
export const INSTANT_PLAN = planOf({ alarms: [], steps: [{ kind: 'setWeight', weight: 50 }, { kind: 'promote' }], postPromotionBakeSeconds: 0, servicePollSeconds: 1 });

export function releaseMock(plan = PLAN): ReleaseMock {
  const world: ReleaseWorld = { failing: new Set(), frozen: new Map() };
  const mainTd = new Map<string, string>();
  const canaries = new Map<string, ServiceSnapshot>();
  const started = new Map<string, number>();
  const maxCanaries = { overall: 0, perCluster: new Map<string, number>() };
  const notified: string[] = [];
  const key = (cluster: string, service: string) => `${cluster}/${service.replace(/-canary$/, '')}`;
  const tdOf = (k: string) => mainTd.get(k) ?? oldTd(k.split('/')[1]!);
  const alive = () => {
    const per = new Map<string, number>();
    for (const k of canaries.keys()) per.set(k.split('/')[0]!, (per.get(k.split('/')[0]!) ?? 0) + 1);
    maxCanaries.overall = Math.max(maxCanaries.overall, canaries.size);
    for (const [c, n] of per) maxCanaries.perCluster.set(c, Math.max(maxCanaries.perCluster.get(c) ?? 0, n));
  };

  const deploy: DeployActivities = {
    async resolveDeployPlan({ cluster, service }) {
      started.set(key(cluster, service), (started.get(key(cluster, service)) ?? 0) + 1);
      return { plan, canaryService: `${service}-canary` };
    },
    async findBlockingIncidents() {
      return [];
    },
    async findFreezingWindows() {
      return [];
    },
    async describeDeployService({ cluster, service }) {
      if (service.endsWith('-canary')) return canaries.get(key(cluster, service)) ?? null;
      return snapshot(service, tdOf(key(cluster, service)), 4);
    },
    async describeServiceTargets({ cluster, service }) {
      return healthyTargets(canaries.get(key(cluster, service))?.desiredCount ?? 0);
    },
    async describeAlarmStates({ alarmNames }) {
      return alarmNames.map((name) => ({ name, state: 'OK' as const }));
    },
    async analyzeCanary({ cluster, service, alarms }): Promise<CanaryAnalysis> {
      const firing = world.failing.has(key(cluster, service));
      return {
        at: new Date().toISOString(),
        alarms: alarms.map((name) => ({ name, state: firing ? 'ALARM' : 'OK', ...(firing ? { reason: 'Threshold Crossed: 5xx above 1%' } : {}) })),
        metrics: [],
        stoppedTasks: [],
        canary: { runningCount: 1, desiredCount: 1, rolloutState: 'COMPLETED' },
      };
    },
    async resolveDeployRevision({ service, image, taskDefinition }) {
      // An image's tag is its revision number: `<service>:2` for `registry.example/<service>:2`.
      const arn = taskDefinition ?? `arn:aws:ecs:us-east-1:123456789012:task-definition/${service}:${image?.split(':').pop() ?? '0'}`;
      return { taskDefinitionArn: arn, registered: taskDefinition === undefined, dryRunCalls: [] };
    },
    async createCanaryService({ cluster, service, canaryService, taskDefinition, desiredCount }) {
      canaries.set(key(cluster, service), snapshot(canaryService, taskDefinition, desiredCount));
      alive();
      return { dryRunCalls: [] };
    },
    async scaleService({ cluster, service, desiredCount }) {
      const c = canaries.get(key(cluster, service));
      if (c && service.endsWith('-canary')) canaries.set(key(cluster, service), snapshot(c.serviceName, c.taskDefinition, desiredCount));
      return { dryRunCalls: [] };
    },
    async deleteCanaryService({ cluster, canaryService }) {
      canaries.delete(key(cluster, canaryService));
      return { dryRunCalls: [] };
    },
    async updateServiceRevision({ cluster, service, taskDefinition }) {
      mainTd.set(key(cluster, service), taskDefinition);
      return { dryRunCalls: [] };
    },
    async readListenerRule() {
      throw new Error('release tests deploy without a listener rule');
    },
    async setTrafficWeight({ canaryWeight }) {
      return { stableWeight: 100 - canaryWeight, canaryWeight, dryRunCalls: [] };
    },
    async restoreListenerRule() {
      return { stableWeight: 100, canaryWeight: 0, dryRunCalls: [] };
    },
    async requestDeployIncident(req) {
      return { workflowId: `incident-deploy-rollback-failed-${req.deployRunId.slice(0, 8)}` };
    },
  };
  // A plain client: the time-skipping one unlocks time skipping around every result() it awaits, which
  // would race the test's own sleeps from inside an activity.
  const release = createReleaseActivities({ temporal: { client: new Client({ connection: env.connection }), namespace: 'default' } });
  return {
    activities: {
      ...deploy,
      ...release,
      async findFrozenClusters({ clusters }): Promise<FrozenCluster[]> {
        return clusters.filter((c) => world.frozen.has(c)).map((cluster) => ({ cluster, reason: world.frozen.get(cluster)! }));
      },
      async notify(n: Notification) {
        notified.push(n.title);
        return { sent: ['ops'], skipped: [] };
      },
    },
    world,
    mainTd,
    started,
    maxCanaries,
    notified,
  };
}

let releaseCounter = 0;

/** Services `<cluster>/<name>` as release targets, each approved by Bob. */
export function targets(...names: string[]): ReleaseTarget[] {
  return names.map((n) => {
    const [cluster, service] = n.split('/') as [string, string];
    return { cluster, service, image: `registry.example/${service}:2`, approval: 0 };
  });
}

/** A release's input: Alice asks, Bob approves; ids unique per test (the services are the test's own too). */
const RUN_TAG = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);

export function releaseInput(over: Partial<ReleaseInput> & Pick<ReleaseInput, 'targets'>): ReleaseInput {
  releaseCounter += 1;
  // Unique on the shared dev server: jest runs several files in one process, each counting from 1.
  return { id: `r${process.pid}-${RUN_TAG}-${releaseCounter}`, change: 'base image 2', requestedBy: 'cli:alice', approvals: APPROVALS, pollSeconds: 10, ...over };
}

export async function startRelease(input: ReleaseInput, taskQueue: string): Promise<WorkflowHandle<ReleaseWorkflow>> {
  const { workflowType, ...options } = releaseStartOptions(input);
  return env.client.workflow.start<ReleaseWorkflow>(workflowType, { ...options, taskQueue });
}

export async function statusOf(handle: WorkflowHandle): Promise<ReleaseStatus> {
  return (await handle.query(statusQuery)) as ReleaseStatus;
}

/**
 * Until the release's status satisfies `done`. On the time-skipping server it advances workflow time
 * in 10 s steps, for 360 steps (an hour of workflow time; each check advances the clock itself); on
 * the dev server it looks every 250 ms for 45 s.
 */
export async function untilStatus(handle: WorkflowHandle, what: string, done: (s: ReleaseStatus) => boolean): Promise<ReleaseStatus> {
  let steps = 0;
  const skipping = env.supportsTimeSkipping;
  return until(
    what,
    async () => {
      const s = await statusOf(handle);
      if (done(s)) return s;
      if (steps === (skipping ? 360 : 180)) throw new Error(`release never reached: ${what}; status: ${JSON.stringify({ ...s, services: s.services.map((x) => `${x.cluster}/${x.service} ${x.state}`) })}`);
      steps += 1;
      await (skipping ? env.sleep('10 seconds') : new Promise((r) => setTimeout(r, 250)));
      return undefined;
    },
    { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 0, failOnError: true },
  );
}

/** Runs `fn` with a worker (release and deploy workflows, the mocked activities) on a task queue of the test's own. */
export async function run<T>(m: ReleaseMock, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = uniqueTaskQueue('release');
  const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities: m.activities });
  return worker.runUntil(fn(taskQueue));
}

/** Each service's state, `<cluster>/<service> <state>`, in release order. */
export const states = (s: ReleaseStatus): string[] => s.services.map((x) => `${x.cluster}/${x.service} ${x.state}`);
