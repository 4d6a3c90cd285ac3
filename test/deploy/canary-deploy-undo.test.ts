import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common/failures';
import { NEW_TD, OLD_TD, finish, mock, mutations, planOf, run, start, untilPhase, useTimeSkippingEnv } from './deploy-mock';

/**
 * Every change the deploy makes is undone on rollback, including one whose call landed on AWS while
 * the workflow never saw the answer (its retries ran out, or the workflow was cancelled during it):
 * each undo is registered before the call it undoes. Time-skipping server, mocked activities.
 */

useTimeSkippingEnv();

const PROMOTE_PLAN = planOf({ alarms: [], steps: [{ kind: 'setWeight', weight: 20 }, { kind: 'promote' }], promoteTimeoutSeconds: 300 });

describe('canaryDeploy undoes what it changed, answered or not', () => {
  it('rolls the main service back when UpdateService landed but the promotion call failed for good', async () => {
    let mainTd = OLD_TD;
    const m = mock(
      { plan: PROMOTE_PLAN, stableDesired: 4, stableRunning: 4 },
      {
        async updateServiceRevision({ taskDefinition }) {
          mainTd = taskDefinition;
          // The update reached ECS; what failed is everything after it (e.g. the answer, then every retry).
          if (taskDefinition === NEW_TD) throw ApplicationFailure.nonRetryable('ecs:UpdateService: connection reset after send', FailureType.AwsUnavailable);
          return { dryRunCalls: [] };
        },
      },
    );
    const result = await run(m, async (tq) => finish(await start(tq), 'promotion-call-failed-after-landing'));
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toContain('deploy step failed: updateServiceRevision: ecs:UpdateService: connection reset after send');
    expect(mutations(m.log)).toEqual(['createCanaryService', 'scaleService:1', 'updateServiceRevision:web:2', 'updateServiceRevision:web:1', 'deleteCanaryService']);
    expect(mainTd).toBe(OLD_TD);
  });

  it('rolls the main service back when the workflow is cancelled while UpdateService is in flight', async () => {
    let mainTd = OLD_TD;
    let release: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => {
      release = resolve;
    });
    const m = mock(
      { plan: PROMOTE_PLAN, stableDesired: 4, stableRunning: 4 },
      {
        async updateServiceRevision({ taskDefinition }) {
          mainTd = taskDefinition;
          if (taskDefinition === NEW_TD) await inFlight;
          return { dryRunCalls: [] };
        },
      },
    );
    const { outcome, status } = await run(m, async (tq) => {
      const handle = await start(tq);
      const promoting = await untilPhase(handle, 'promoting');
      await handle.cancel();
      const outcome = await handle.result().catch((e: unknown) => e);
      release();
      return { outcome, status: promoting };
    });
    expect(status.phase).toBe('promoting');
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(mutations(m.log)).toEqual(['createCanaryService', 'scaleService:1', 'updateServiceRevision:web:2', 'updateServiceRevision:web:1', 'deleteCanaryService']);
    expect(mainTd).toBe(OLD_TD);
  });
});
