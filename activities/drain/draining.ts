import { UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DryRunCall } from '../../contracts/controls';
import { FailureType } from '../../common/failures';
import { mutatingAwsCall } from '../aws/dry-run';
import { clientsFor } from '../deps';
import { collect, type DrainContext } from './context';
import type {
  AtOnceOutcome,
  BudgetedDrainingResult,
  DrainPlacement,
  MutationReport,
  ResolvedDrainTarget,
  SetDrainingAtOnceInput,
  SetDrainingAtOnceResult,
  SetDrainingInput,
  SetDrainingResult,
} from './types';

/** Finding an instance's container instance and setting it DRAINING (or ACTIVE again). */

/** How long the drain coordinator's call goes on retrying the instances of its batch that were throttled. */
const AT_ONCE_RETRY_WINDOW_MS = 8_000;

export function createDrainingActivities({ deps, callsFor, resolveTarget }: DrainContext) {
  return {
    resolveDrainTarget({ instanceId, ...where }: { instanceId: string } & DrainPlacement): Promise<ResolvedDrainTarget> {
      return resolveTarget(instanceId, where);
    },

    /**
     * The drain coordinator's one call (workflows/drain-coordinator/): every instance of a batch of
     * warnings found and set DRAINING together, through the same sweeps and 10-a-call batches as the
     * drains', so the time to DRAINING is one sweep and one round of calls whatever the batch size.
     * Only an ACTIVE container instance is changed; each instance's own drain still resolves it and
     * sets DRAINING unless it finds this call did (shared-calls.ts, `drainingSet`), so an instance
     * that fails here loses only the head start.
     */
    async setDrainingAtOnce({ instanceIds, ...where }: SetDrainingAtOnceInput): Promise<SetDrainingAtOnceResult> {
      const targets = new Map<string, ResolvedDrainTarget>();
      const lastError = new Map<string, unknown>();
      const once = async (instanceId: string, askedAt: number): Promise<AtOnceOutcome> => {
        try {
          let t = targets.get(instanceId);
          if (!t) targets.set(instanceId, (t = await resolveTarget(instanceId, where, askedAt)));
          if (!t.found) return { instanceId, outcome: 'not-in-cluster' };
          if (t.status === 'DRAINING' || t.drainingSet) return { instanceId, outcome: 'already-draining', cluster: t.cluster };
          if (t.status !== 'ACTIVE') return { instanceId, outcome: 'not-active', cluster: t.cluster, detail: t.status };
          await callsFor(t.cluster).setDraining(t.cluster, t.containerInstanceArn);
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
        () => callsFor(input.cluster).setDraining(input.cluster, input.containerInstanceArn),
      );
      collect(dryRunCalls, m);
      // A retried activity whose first call landed is indistinguishable from a repeated drain: both are fine.
      return { alreadyDraining: Context.current().info.attempt > 1, dryRunCalls };
    },

    /** DRAINING for a voluntary drain, only within the cluster's disruption budget; `granted: false` means wait and ask again. */
    async setDrainingWithinBudget(input: SetDrainingInput & { budget: number }): Promise<BudgetedDrainingResult> {
      if (input.dryRun) {
        const call = { action: 'ecs:UpdateContainerInstancesState', params: { cluster: input.cluster, containerInstances: [input.containerInstanceArn], status: 'DRAINING' } };
        return { granted: true, draining: 0, dryRunCalls: [call] };
      }
      const r = await callsFor(input.cluster).setDrainingWithinBudget(input.cluster, input.containerInstanceArn, input.budget);
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
        // This worker's sweeps taken before now read it as it was (DRAINING): resolves read it ACTIVE.
        callsFor(input.cluster).noteStatusSet(input.cluster, input.containerInstanceArn, 'ACTIVE');
        callsFor(input.cluster).forgetDraining(input.containerInstanceArn);
      }
      return { dryRunCalls };
    },
  };
}
