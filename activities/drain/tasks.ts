import { RunTaskCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import type { DryRunCall } from '../../contracts/controls';
import { FailureType } from '../../common/failures';
import { mutatingAwsCall } from '../aws/dry-run';
import { clientsFor } from '../deps';
import { collect, taskId, type DrainContext } from './context';
import { orchestratorOf, rerunParams } from './rerun';
import { clusterInstanceSubnets, type InstanceSubnet } from './rerun-subnets';
import type { TaskCounts } from './shared-calls';
import type { MoveStandaloneTasksInput, MoveStandaloneTasksResult, WaitForTasksInput, WaitForTasksResult } from './types';

/** The tasks on a draining instance: standalone ones moved off it, and the wait until none is left. */

/** How often a waiting activity heartbeats, independent of polling (a throttled poll must not look like a dead worker). */
const WAIT_HEARTBEAT_MS = 3_000;

export function createTaskActivities({ deps, callsFor }: DrainContext) {
  return {
    async moveStandaloneTasks(input: MoveStandaloneTasksInput): Promise<MoveStandaloneTasksResult> {
      const dryRunCalls: DryRunCall[] = [];
      const aws = clientsFor(deps, input.cluster);
      const calls = callsFor(input.cluster);
      // The same ListTasks as the deregister step's, shared when both run together (moveWorkOff).
      const arns = await calls.tasksOn(input.cluster, input.containerInstanceArn);
      const tasks: Task[] = await Promise.all(arns.map((arn) => calls.describeTask(input.cluster, arn)));
      const live = tasks.filter((t) => t.desiredStatus !== 'STOPPED');
      const isService = (t: Task) => (t.group ?? '').startsWith('service:');
      const standalone = live.filter((t) => !isService(t));
      // Read once for every awsvpc task of this instance, and only if there is one.
      let subnets: Promise<InstanceSubnet[]> | undefined;
      const elsewhere = () => (subnets ??= clusterInstanceSubnets(aws, input.cluster, input.instanceId));
      const result: MoveStandaloneTasksResult = { stopped: [], rerun: [], rerunFailed: [], orchestrated: [], serviceTasks: live.filter(isService).length, dryRunCalls };

      for (const task of standalone) {
        const arn = task.taskArn ?? '';
        const by = orchestratorOf(task);
        if (by) result.orchestrated?.push({ task: taskId(arn), by });
        else if (input.rerun && task.taskDefinitionArn) {
          const token = createHash('sha256').update(`${input.idempotencyKey}/${arn}`).digest('hex').slice(0, 64);
          const params = await rerunParams(aws, input.cluster, task, input.instanceId, token, elsewhere);
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
        const unwatch = callsFor(input.cluster).watchTasks(input.cluster, input.containerInstanceArn, (u) => {
          if (u instanceof Error) return done(u);
          last = u;
          // Empty: the answer goes back now, with no heartbeat before it (a heartbeat is a call to
          // Temporal, and in a storm most waits end at their first reading).
          if (u.running + u.pending === 0) return done(counts(u));
          ctx.heartbeat(u);
        });
        const beat = setInterval(() => ctx.heartbeat(last), WAIT_HEARTBEAT_MS);
        const stopTimer = setTimeout(() => {
          if (last) done(counts(last));
          else done(ApplicationFailure.retryable('no task count arrived before the stop time', FailureType.AwsUnavailable));
        }, Math.max(0, input.stopAtEpochMs - Date.now()));
        ctx.cancelled.catch((err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
      });
    },
  };
}
