import { CompleteLifecycleActionCommand, DescribeLifecycleHooksCommand, RecordLifecycleActionHeartbeatCommand } from '@aws-sdk/client-auto-scaling';
import { ListTasksCommand, RunTaskCommand, StopTaskCommand, UpdateContainerInstancesStateCommand, type Task } from '@aws-sdk/client-ecs';
import { DescribeTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import type { DryRunCall } from '../../contracts/controls';
import { FailureType } from '../../common/failures';
import { FleetopsCluster, FleetopsInstanceId, FleetopsKind, FleetopsSeverity, placementAttributes } from '../../common/search-attributes';
import { capacityStartOptions } from '../../contracts/capacity/start';
import { drainIncidentWorkflowId, memberAccountOf } from '../../common/workflow-ids';
import type { IncidentSeverity } from '../../common/incident/severity';
import type { CapacityRequest } from '../../contracts/capacity/input';
import { instanceWeight } from '../../config/instance-weight';
import { awsCall, isNoActiveLifecycleAction } from '../aws/errors';
import { mutatingAwsCall } from '../aws/dry-run';
import { clientsFor, type ActivityDeps } from '../deps';
import { clusterWorkflowPlacement, clustersAt } from '../../config/placement';
import type { AwsClients } from '../aws/clients';
import { openAutomationIncident } from '../incident/open-from-automation';
import { capacityRequestSignal } from '../../contracts/capacity/messages';
import { DrainCoordinator, type CoordinatorOptions, type TaskCounts } from './coordinator';
import { PoolIndex, type InstancePool } from './pools';
import { orchestratorOf, rerunParams } from './rerun';
import { driverFor } from '../capacity/pools';
import type {
  CapacityReplacementInput,
  CapacityReplacementResult,
  DeregisterTargetsInput,
  DeregisterTargetsResult,
  DrainIncidentFacts,
  DrainPlacement,
  DrainIncidentResult,
  LifecycleActionInput,
  LifecycleCompletion,
  LifecycleHeartbeat,
  LifecycleHookSettings,
  MoveStandaloneTasksInput,
  BudgetedDrainingResult,
  MutationReport,
  ReplacementWaitInput,
  ReplacementWaitResult,
  TerminateDrainedInput,
  MoveStandaloneTasksResult,
  ResolvedDrainTarget,
  SetDrainingInput,
  SetDrainingResult,
  SetDrainingAtOnceInput,
  SetDrainingAtOnceResult,
  AtOnceOutcome,
  WaitForTasksInput,
  WaitForTasksResult,
} from './types';

/**
 * Drain activities. The factory owns one DrainCoordinator, so every drain a worker runs shares its
 * batches, sweeps and pollers (see coordinator.ts). Mutating calls go through `mutatingAwsCall`; in
 * dryRun they are returned instead of made.
 */

/** What the workflow asks for when a drain misses its deadline. */
const DRAIN_INCIDENT_SEVERITY: IncidentSeverity = 'sev3';
/** How long the coordinator's call goes on retrying the instances of its batch that were throttled. */
const AT_ONCE_RETRY_WINDOW_MS = 8_000;
/** How often a waiting activity heartbeats, independent of polling (a throttled poll must not look like a dead worker). */
const WAIT_HEARTBEAT_MS = 3_000;

export interface DrainActivityOptions extends CoordinatorOptions {
  /** Replaces the Temporal client from the activity context (tests of the signal-with-start calls). */
  signalWithStart?: (workflowType: string, opts: SignalWithStartArgs) => Promise<void>;
}

export interface SignalWithStartArgs {
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  signal: string;
  signalArgs: unknown[];
  staticSummary: string;
  searchAttributes: { kind: string; cluster?: string; instanceId?: string; severity?: string; placement?: { account: string; region: string } };
}

const collect = (calls: DryRunCall[], m: { dryRun: boolean } & ({ dryRun: true; call: DryRunCall } | { dryRun: false })) => {
  if (m.dryRun) calls.push(m.call);
};

const taskId = (arn: string) => arn.split('/').pop() ?? arn;

export function createDrainActivities(deps: ActivityDeps, opts: DrainActivityOptions = {}) {
  // One coordinator per set of clients (an account and region): batches, sweeps and the target-group
  // index never mix accounts, and clusters placed together still share them.
  const coordinators = new Map<AwsClients, DrainCoordinator>();
  const coordinatorOf = (aws: AwsClients): DrainCoordinator => {
    let c = coordinators.get(aws);
    if (!c) {
      c = new DrainCoordinator(aws, opts);
      coordinators.set(aws, c);
    }
    return c;
  };
  const coordinatorFor = (cluster: string | undefined): DrainCoordinator => coordinatorOf(cluster ? clientsFor(deps, cluster) : deps.aws);
  /** The configured clusters a drain from `where` may find its instance in (all of them when it does not say). */
  const candidateClusters = (where: DrainPlacement): string[] =>
    where.account && where.region ? clustersAt(deps.config, { account: where.account, region: where.region }) : Object.keys(deps.config.clusters);
  /** Clients for a lifecycle call: the resolved cluster's, else those of a cluster placed where the event came from. */
  const lifecycleClients = (input: { cluster?: string } & DrainPlacement): AwsClients => {
    const cluster = input.cluster ?? (input.account && input.region ? candidateClusters(input)[0] : undefined);
    return cluster ? clientsFor(deps, cluster) : deps.aws;
  };
  const pools = new PoolIndex(deps.aws, deps.config, opts.indexMinIntervalMs ?? 2_000);

  async function signalWithStart(workflowType: string, a: SignalWithStartArgs): Promise<void> {
    if (opts.signalWithStart) return opts.signalWithStart(workflowType, a);
    const attrs = [
      { key: FleetopsKind, value: a.searchAttributes.kind },
      ...(a.searchAttributes.cluster ? [{ key: FleetopsCluster, value: a.searchAttributes.cluster }] : []),
      ...(a.searchAttributes.instanceId ? [{ key: FleetopsInstanceId, value: a.searchAttributes.instanceId }] : []),
      ...(a.searchAttributes.severity ? [{ key: FleetopsSeverity, value: a.searchAttributes.severity }] : []),
      ...placementAttributes(a.searchAttributes.placement),
    ];
    // The worker's own client (SDK 1.24 activity context): signal-with-start both starts the workflow if
    // it is not running and delivers the signal, so the request cannot be lost between the two.
    await Context.current().client.workflow.signalWithStart(workflowType, {
      workflowId: a.workflowId,
      taskQueue: a.taskQueue,
      args: a.args,
      signal: a.signal,
      signalArgs: a.signalArgs,
      staticSummary: a.staticSummary,
      typedSearchAttributes: attrs,
    });
  }

  /** `askedAt`: the cluster sweep must have started after it (one time for a whole batch, so the batch shares one sweep). */
  async function resolveTarget(instanceId: string, where: DrainPlacement, askedAt = Date.now()): Promise<ResolvedDrainTarget> {
    const clusters = candidateClusters(where);
    // Clusters grouped by their clients' coordinator, each group searched by its own sweeps.
    const groups = new Map<DrainCoordinator, string[]>();
    for (const name of clusters) {
      const c = coordinatorFor(name);
      groups.set(c, [...(groups.get(c) ?? []), name]);
    }
    let hit: Awaited<ReturnType<DrainCoordinator['findContainerInstance']>>;
    // A cluster whose role cannot be assumed must not stop the drains of the others placed with it:
    // its failure counts only when the instance is found nowhere else.
    let unassumable: ApplicationFailure | undefined;
    for (const [c, names] of groups) {
      try {
        hit = await c.findContainerInstance(names, instanceId, askedAt);
      } catch (err) {
        if (!(err instanceof ApplicationFailure && err.type === FailureType.AwsRoleNotAssumable)) throw err;
        unassumable ??= err;
      }
      if (hit) break;
    }
    if (!hit && unassumable) throw unassumable;
    if (!hit) return { found: false, searchedClusters: clusters };
    const cluster = deps.config.clusters[hit.cluster]!;
    return {
      found: true,
      cluster: hit.cluster,
      containerInstanceArn: hit.state.containerInstanceArn,
      status: hit.state.status,
      instanceType: hit.state.instanceType,
      runningTasks: hit.state.running,
      pendingTasks: hit.state.pending,
      capacityUnits: instanceWeight(cluster, hit.state.instanceType),
      drain: cluster.drain,
    };
  }

  return {
    resolveDrainTarget({ instanceId, ...where }: { instanceId: string } & DrainPlacement): Promise<ResolvedDrainTarget> {
      return resolveTarget(instanceId, where);
    },

    /**
     * The drain coordinator's one call (workflows/drain-coordinator/): every instance of a batch of
     * warnings found and set DRAINING together, through the same sweeps and 10-a-call batches as the
     * drains', so the time to DRAINING is one sweep and one round of calls whatever the batch size.
     * Only an ACTIVE container instance is changed; each instance's own drain still resolves it and
     * sets DRAINING (a repeat is harmless), so an instance that fails here loses only the head start.
     */
    async setDrainingAtOnce({ instanceIds, ...where }: SetDrainingAtOnceInput): Promise<SetDrainingAtOnceResult> {
      const targets = new Map<string, ResolvedDrainTarget>();
      const lastError = new Map<string, unknown>();
      const once = async (instanceId: string, askedAt: number): Promise<AtOnceOutcome> => {
        try {
          let t = targets.get(instanceId);
          if (!t) targets.set(instanceId, (t = await resolveTarget(instanceId, where, askedAt)));
          if (!t.found) return { instanceId, outcome: 'not-in-cluster' };
          if (t.status === 'DRAINING') return { instanceId, outcome: 'already-draining', cluster: t.cluster };
          if (t.status !== 'ACTIVE') return { instanceId, outcome: 'not-active', cluster: t.cluster, detail: t.status };
          await coordinatorFor(t.cluster).setDraining(t.cluster, t.containerInstanceArn);
          lastError.delete(instanceId);
          return { instanceId, outcome: 'draining', cluster: t.cluster };
        } catch (err) {
          lastError.set(instanceId, err);
          return { instanceId, outcome: 'failed', detail: err instanceof Error ? err.message : String(err) };
        }
      };
      const retryable = (o: AtOnceOutcome) => {
        const err = lastError.get(o.instanceId);
        return o.outcome === 'failed' && !(err instanceof ApplicationFailure && err.nonRetryable);
      };
      let askedAt = Date.now();
      const outcomes = new Map((await Promise.all(instanceIds.map((id) => once(id, askedAt)))).map((o) => [o.instanceId, o]));
      // Throttled or 5xx past the SDK's own attempts (ECS limits UpdateContainerInstancesState per
      // account): those instances, and only those, go again within a few seconds, because the
      // activity's own retry would repeat the whole batch and each drain's own call comes much later.
      const until = Date.now() + AT_ONCE_RETRY_WINDOW_MS;
      for (let wait = 250; ; wait *= 2) {
        const again = [...outcomes.values()].filter(retryable);
        if (again.length === 0 || again.length === outcomes.size || Date.now() + wait > until) break;
        await new Promise((r) => setTimeout(r, wait));
        askedAt = Date.now();
        for (const o of await Promise.all(again.map((a) => once(a.instanceId, askedAt)))) outcomes.set(o.instanceId, o);
      }
      const instances = instanceIds.map((id) => outcomes.get(id)!);
      // Nothing went through (throttled, an endpoint down, a role refused): the error as classified,
      // so the activity's retry policy decides. A partial failure is reported per instance.
      if (instances.length > 0 && instances.every((i) => i.outcome === 'failed')) throw lastError.get(instances[0]!.instanceId);
      return { instances };
    },

    async setContainerInstanceDraining(input: SetDrainingInput): Promise<SetDrainingResult> {
      const dryRunCalls: DryRunCall[] = [];
      const m = await mutatingAwsCall(
        input.dryRun,
        'ecs:UpdateContainerInstancesState',
        { cluster: input.cluster, containerInstances: [input.containerInstanceArn], status: 'DRAINING' },
        () => coordinatorFor(input.cluster).setDraining(input.cluster, input.containerInstanceArn),
      );
      collect(dryRunCalls, m);
      // A retried activity whose first call landed is indistinguishable from a repeated drain: both are fine.
      return { alreadyDraining: Context.current().info.attempt > 1, dryRunCalls };
    },

    /**
     * Takes the instance's targets out of every target group, ahead of ECS. The group's settings are
     * never changed: the deregistration delay belongs to the service (its in-flight requests), and a
     * setting changed for one drain would stay changed for the group. It is read and reported only.
     */
    /** DRAINING for a voluntary drain, only within the cluster's disruption budget; `granted: false` means wait and ask again. */
    async setDrainingWithinBudget(input: SetDrainingInput & { budget: number }): Promise<BudgetedDrainingResult> {
      if (input.dryRun) {
        const call = { action: 'ecs:UpdateContainerInstancesState', params: { cluster: input.cluster, containerInstances: [input.containerInstanceArn], status: 'DRAINING' } };
        return { granted: true, draining: 0, dryRunCalls: [call] };
      }
      const r = await coordinatorFor(input.cluster).setDrainingWithinBudget(input.cluster, input.containerInstanceArn, input.budget);
      return { ...r, dryRunCalls: [] };
    },

    /** A stopped instance is back: ACTIVE again, so ECS places tasks on it (the status survived the stop). */
    async setContainerInstanceActive(input: SetDrainingInput): Promise<MutationReport> {
      const dryRunCalls: DryRunCall[] = [];
      const params = { cluster: input.cluster, containerInstances: [input.containerInstanceArn], status: 'ACTIVE' as const };
      const m = await mutatingAwsCall(input.dryRun, 'ecs:UpdateContainerInstancesState', params, () =>
        clientsFor(deps, input.cluster).ecs.send(new UpdateContainerInstancesStateCommand(params)),
      );
      collect(dryRunCalls, m);
      if (!m.dryRun) {
        const failure = m.result.failures?.[0];
        if (failure) throw ApplicationFailure.retryable(`ecs:UpdateContainerInstancesState: ${failure.arn}: ${failure.reason}`, FailureType.AwsUnavailable);
      }
      return { dryRunCalls };
    },

    async deregisterInstanceTargets(input: DeregisterTargetsInput): Promise<DeregisterTargetsResult> {
      const dryRunCalls: DryRunCall[] = [];
      const coordinator = coordinatorFor(input.cluster);
      const aws = input.cluster ? clientsFor(deps, input.cluster) : deps.aws;
      const groups = await coordinator.targetsOf(input.instanceId);
      const result: DeregisterTargetsResult = { targetGroups: [], dryRunCalls };
      await Promise.all(
        groups.map(async (g) => {
          const attrs = await awsCall('elasticloadbalancing:DescribeTargetGroupAttributes', () =>
            aws.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: g.targetGroupArn })),
          );
          const delay = Number(attrs.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value ?? 300);
          for (const target of g.targets) {
            collect(
              dryRunCalls,
              await mutatingAwsCall(input.dryRun, 'elasticloadbalancing:DeregisterTargets', { TargetGroupArn: g.targetGroupArn, Targets: [target] }, () =>
                coordinator.deregister(g.targetGroupArn, target),
              ),
            );
          }
          result.targetGroups.push({ targetGroupArn: g.targetGroupArn, targets: g.targets.length, deregistrationDelaySeconds: delay });
        }),
      );
      return result;
    },

    async moveStandaloneTasks(input: MoveStandaloneTasksInput): Promise<MoveStandaloneTasksResult> {
      const dryRunCalls: DryRunCall[] = [];
      const aws = clientsFor(deps, input.cluster);
      const coordinator = coordinatorFor(input.cluster);
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await awsCall('ecs:ListTasks', () =>
          aws.ecs.send(
            new ListTasksCommand({ cluster: input.cluster, containerInstance: input.containerInstanceArn, desiredStatus: 'RUNNING', nextToken }),
          ),
        );
        arns.push(...(page.taskArns ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      const tasks: Task[] = await Promise.all(arns.map((arn) => coordinator.describeTask(input.cluster, arn)));
      const live = tasks.filter((t) => t.desiredStatus !== 'STOPPED');
      const isService = (t: Task) => (t.group ?? '').startsWith('service:');
      const standalone = live.filter((t) => !isService(t));
      const result: MoveStandaloneTasksResult = { stopped: [], rerun: [], rerunFailed: [], orchestrated: [], serviceTasks: live.filter(isService).length, dryRunCalls };

      for (const task of standalone) {
        const arn = task.taskArn ?? '';
        const by = orchestratorOf(task);
        if (by) result.orchestrated?.push({ task: taskId(arn), by });
        else if (input.rerun && task.taskDefinitionArn) {
          const token = createHash('sha256').update(`${input.idempotencyKey}/${arn}`).digest('hex').slice(0, 64);
          const params = await rerunParams(aws, input.cluster, task, input.instanceId, token);
          try {
            const m = await mutatingAwsCall(input.dryRun, 'ecs:RunTask', { ...params }, () => aws.ecs.send(new RunTaskCommand(params)));
            collect(dryRunCalls, m);
            if (!m.dryRun) {
              const started = (m.result.tasks ?? []).map((t) => t.taskArn ?? '').filter(Boolean);
              if (started.length > 0) result.rerun.push({ from: arn, to: started });
              else result.rerunFailed.push({ from: arn, reason: m.result.failures?.map((f) => f.reason).join(', ') || 'not placed' });
            }
          } catch (err) {
            // Not placed (no capacity, bad definition): the task still has to leave the dying instance.
            if (err instanceof ApplicationFailure && !err.nonRetryable) throw err;
            result.rerunFailed.push({ from: arn, reason: err instanceof Error ? err.message : String(err) });
          }
        }
        const stop = { cluster: input.cluster, task: arn, reason: input.reason.slice(0, 255) };
        collect(dryRunCalls, await mutatingAwsCall(input.dryRun, 'ecs:StopTask', stop, () => aws.ecs.send(new StopTaskCommand(stop))));
        result.stopped.push(taskId(arn));
      }
      return result;
    },

    async waitForInstanceTasks(input: WaitForTasksInput): Promise<WaitForTasksResult> {
      const ctx = Context.current();
      let last: TaskCounts | undefined = ctx.info.heartbeatDetails as TaskCounts | undefined;
      return new Promise<WaitForTasksResult>((resolve, reject) => {
        const done = (r: WaitForTasksResult | Error) => {
          unwatch();
          clearTimeout(stopTimer);
          clearInterval(beat);
          if (r instanceof Error) reject(r);
          else resolve(r);
        };
        const counts = (c: TaskCounts): WaitForTasksResult => ({ tasksLeft: c.running + c.pending, running: c.running, pending: c.pending });
        const unwatch = coordinatorFor(input.cluster).watchTasks(input.cluster, input.containerInstanceArn, (u) => {
          if (u instanceof Error) return done(u);
          last = u;
          ctx.heartbeat(u);
          if (u.running + u.pending === 0) done(counts(u));
        });
        const beat = setInterval(() => ctx.heartbeat(last), WAIT_HEARTBEAT_MS);
        const stopTimer = setTimeout(() => {
          if (last) done(counts(last));
          else done(ApplicationFailure.retryable('no task count arrived before the stop time', FailureType.AwsUnavailable));
        }, Math.max(0, input.stopAtEpochMs - Date.now()));
        ctx.cancelled.catch((err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
      });
    },

    /**
     * Waits (heartbeating) until a container instance registered at or after `sinceEpochMs` is ACTIVE in
     * the cluster: the replacement a replace-first drain asked for. Returns at the stop time either way.
     */
    async waitForReplacement(input: ReplacementWaitInput): Promise<ReplacementWaitResult> {
      const ctx = Context.current();
      const every = opts.pollIntervalMs ?? 2_000;
      for (;;) {
        ctx.heartbeat();
        const found = await coordinatorFor(input.cluster).activeRegisteredSince(input.cluster, input.sinceEpochMs, input.instanceId);
        if (found) return { arrived: true, containerInstanceArn: found.containerInstanceArn, instanceId: found.ec2InstanceId };
        const rest = input.stopAtEpochMs - Date.now();
        if (rest <= 0) return { arrived: false };
        await Promise.race([new Promise((r) => setTimeout(r, Math.min(every, rest))), ctx.cancelled]);
      }
    },

    /**
     * Takes a drained instance out of its pool for good (the pool driver's remove: an ASG terminates it
     * and lowers its desired count, a Spot Fleet lowers its target first), so it does not sit DRAINING
     * and billed; the replacement the drain asked for keeps the cluster's count.
     */
    async terminateDrainedInstance(input: TerminateDrainedInput): Promise<MutationReport> {
      const clusterConfig = deps.config.clusters[input.cluster];
      const pool = clusterConfig?.pools.find((p) => p.name === input.pool);
      if (!clusterConfig || !pool) throw ApplicationFailure.nonRetryable(`pool ${input.pool} of cluster ${input.cluster} is not configured`, FailureType.InvalidRequest);
      const dryRunCalls = await driverFor(pool).remove({ aws: clientsFor(deps, input.cluster), cluster: input.cluster, clusterConfig }, pool, {
        cluster: input.cluster,
        pool: input.pool,
        instanceId: input.instanceId,
        weight: input.weight,
        dryRun: input.dryRun,
      });
      return { dryRunCalls };
    },

    /** The pool the instance belongs to, and whether that pool replaces an interrupted instance itself. */
    async findInstancePool(input: { cluster: string; instanceId: string }): Promise<InstancePool> {
      return pools.poolOf(input.cluster, input.instanceId, Date.now());
    },

    async requestReplacementCapacity(input: CapacityReplacementInput): Promise<CapacityReplacementResult> {
      const placement = clusterWorkflowPlacement(deps.config, input.cluster);
      const start = capacityStartOptions(input.cluster, placement ? { placement } : {});
      const { workflowId } = start;
      const request: CapacityRequest = {
        direction: 'out',
        units: input.units,
        reason: input.reason,
        source: { kind: 'drain', instanceId: input.instanceId, eventId: input.source },
      };
      if (input.dryRun) {
        return { workflowId, dryRunCalls: [{ action: `fleetops:${capacityRequestSignal.name}`, params: { workflowId, ...request } }] };
      }
      await signalWithStart(start.workflowType, {
        workflowId,
        taskQueue: start.taskQueue,
        args: start.args,
        signal: capacityRequestSignal.name,
        signalArgs: [request],
        staticSummary: start.staticSummary,
        searchAttributes: { kind: 'capacity', cluster: input.cluster, ...(placement ? { placement } : {}) },
      });
      return { workflowId, dryRunCalls: [] };
    },

    /** A heartbeat for an action no longer waiting (completed, or timed out) says so instead of failing: there is nothing left to keep alive. */
    async recordLifecycleHeartbeat(input: LifecycleActionInput): Promise<LifecycleHeartbeat> {
      const params = {
        AutoScalingGroupName: input.lifecycle.asgName,
        LifecycleHookName: input.lifecycle.hookName,
        LifecycleActionToken: input.lifecycle.actionToken,
        InstanceId: input.instanceId,
      };
      const dryRunCalls: DryRunCall[] = [];
      try {
        collect(
          dryRunCalls,
          await mutatingAwsCall(input.dryRun, 'autoscaling:RecordLifecycleActionHeartbeat', params, () =>
            lifecycleClients(input).autoscaling.send(new RecordLifecycleActionHeartbeatCommand(params)),
          ),
        );
      } catch (err) {
        if (isNoActiveLifecycleAction(err)) return { active: false, dryRunCalls };
        throw err;
      }
      return { active: true, dryRunCalls };
    },

    /**
     * CONTINUE. A repeat (this drain completed it before a crash or a lost response, or a run before
     * this one did) finds no active action: the instance is already on its way, which is the goal.
     */
    async completeLifecycleAction(input: LifecycleActionInput): Promise<LifecycleCompletion> {
      const params = {
        AutoScalingGroupName: input.lifecycle.asgName,
        LifecycleHookName: input.lifecycle.hookName,
        LifecycleActionToken: input.lifecycle.actionToken,
        InstanceId: input.instanceId,
        LifecycleActionResult: 'CONTINUE',
      };
      const dryRunCalls: DryRunCall[] = [];
      try {
        collect(
          dryRunCalls,
          await mutatingAwsCall(input.dryRun, 'autoscaling:CompleteLifecycleAction', params, () =>
            lifecycleClients(input).autoscaling.send(new CompleteLifecycleActionCommand(params)),
          ),
        );
      } catch (err) {
        if (isNoActiveLifecycleAction(err)) return { alreadyCompleted: true, dryRunCalls };
        throw err;
      }
      return { alreadyCompleted: false, dryRunCalls };
    },

    /** The hook's own timeouts, so the drain heartbeats well inside HeartbeatTimeout whatever the config says. */
    async describeLifecycleHook(input: { asgName: string; hookName: string; cluster?: string } & DrainPlacement): Promise<LifecycleHookSettings> {
      const out = await awsCall('autoscaling:DescribeLifecycleHooks', () =>
        lifecycleClients(input).autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: input.asgName, LifecycleHookNames: [input.hookName] })),
      );
      const hook = out.LifecycleHooks?.find((h) => h.LifecycleHookName === input.hookName);
      if (!hook) return { found: false };
      return {
        found: true,
        heartbeatTimeoutSeconds: hook.HeartbeatTimeout ?? 3600,
        globalTimeoutSeconds: hook.GlobalTimeout ?? Math.min(100 * (hook.HeartbeatTimeout ?? 3600), 172_800),
        defaultResult: hook.DefaultResult ?? 'ABANDON',
      };
    },

    async requestDrainIncident(facts: DrainIncidentFacts): Promise<DrainIncidentResult> {
      const now = new Date().toISOString();
      const what = facts.what ?? 'deadline-missed';
      const title = what === 'rerun-failed' ? `Drain of ${facts.instanceId}: standalone task(s) not rerun` : `Drain of ${facts.instanceId} missed its deadline`;
      const lines = [
        what === 'rerun-failed'
          ? `${facts.kind} drain of ${facts.instanceId}${facts.cluster ? ` in ${facts.cluster}` : ''} stopped standalone task(s) it could not run again elsewhere`
          : `${facts.kind} drain of ${facts.instanceId}${facts.cluster ? ` in ${facts.cluster}` : ''} missed its deadline ${facts.deadline}`,
        `tasks left: ${facts.tasksLeft}`,
        `done: ${facts.done.join(', ') || 'nothing'}`,
        `not done: ${facts.notDone.join(', ') || 'nothing'}`,
        ...(facts.rerunFailed ?? []).map((f) => `not rerun: ${taskId(f.from)}: ${f.reason}`),
        ...(facts.failure ? [`failure: ${facts.failure}`] : []),
      ];
      const placement = facts.cluster && deps.config.clusters[facts.cluster] ? clusterWorkflowPlacement(deps.config, facts.cluster) : undefined;
      // The worker's own client (SDK 1.24 activity context).
      const { workflowId } = await openAutomationIncident(Context.current().client.workflow, {
        workflowId: drainIncidentWorkflowId(facts.instanceId, memberAccountOf(placement)),
        title,
        severity: DRAIN_INCIDENT_SEVERITY,
        summary: lines.join('\n'),
        origin: { workflowId: facts.workflowId, workflowKind: 'drain' },
        key: `${facts.workflowId}/${what}`,
        entries: lines.map((text) => ({ time: now, author: facts.workflowId, kind: 'automation' as const, text })),
        scope: { cluster: facts.cluster, instanceId: facts.instanceId, ...(placement ? { placement } : {}) },
        staticSummary: title,
      });
      return { requested: true, workflowId, detail: `incident ${workflowId} (${DRAIN_INCIDENT_SEVERITY}) asked for` };
    },
  };
}

export type DrainActivities = ReturnType<typeof createDrainActivities>;
