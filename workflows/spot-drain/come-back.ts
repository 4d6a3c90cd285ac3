import { condition } from '@temporalio/workflow';
import { AFTER_DEADLINE_BUDGET_MS } from './activity-options';
import type { DrainTarget } from './state';
import { step, type DrainContext } from './steps';

/**
 * A stopped or hibernated instance comes back (a spot `stop`/`hibernate` interruption resumes when
 * capacity returns, "Interruption behavior", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/interruption-behavior.html;
 * a stopped instance is started again). Its container instance keeps its DRAINING status across the
 * stop, so ECS would place nothing on it: when EC2 says it is `running` again, the drain sets it
 * ACTIVE. The drain waits for that (one durable timer) at most RETURN_WAIT_MAX_MS; a termination
 * meanwhile ends the wait.
 */

export const RETURN_WAIT_MAX_MS = 7 * 24 * 3_600_000;

export async function awaitReturn(ctx: DrainContext, t: DrainTarget): Promise<void> {
  const { state, controls } = ctx;
  if (!state.comesBack()) return;
  if (state.dryRun) {
    state.skip('reactivate', 'dry run: the instance was not set DRAINING');
    return;
  }
  controls.setPhase('waiting-for-return');
  await condition(() => state.returned() || !state.comesBack(), RETURN_WAIT_MAX_MS);
  if (!state.comesBack()) {
    state.skip('reactivate', 'the instance was terminated: it does not come back');
    return;
  }
  if (!state.returned()) {
    state.skip('reactivate', `not running again within ${RETURN_WAIT_MAX_MS / 86_400_000} days: left DRAINING`);
    return;
  }
  const r = await step(
    ctx,
    'reactivate',
    (a) => a.setContainerInstanceActive({ cluster: t.cluster, containerInstanceArn: t.containerInstanceArn, dryRun: state.dryRun }),
    () => 'running again: container instance ACTIVE',
    AFTER_DEADLINE_BUDGET_MS,
  );
  state.record(r.ok ? r.value : undefined);
  controls.setPhase(state.outcome ?? 'drained');
}
