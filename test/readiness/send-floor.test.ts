import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { signalFloor } from '../../activities/readiness';
import { capacityStartOptions } from '../../contracts/capacity/start';

/**
 * The floor's signal-with-start of `capacity-<cluster>`: two windows raising together race to start
 * it, and a server that answers the loser "already started" (the time-skipping test server does)
 * must not fail the send: the workflow runs by then, so the second try signals it.
 */

const { workflowType, ...start } = capacityStartOptions('prod');
const floor = { action: 'release' as const, windowId: 'readiness-prod-sale', reason: 'test' };

describe('signalFloor', () => {
  it('sends once with the capacity start options (reuse policy ALLOW_DUPLICATE, no conflict policy)', async () => {
    const calls: unknown[] = [];
    await signalFloor({ signalWithStart: async (...a: unknown[]) => (calls.push(a), undefined as never) }, workflowType, start, floor);
    expect(calls).toEqual([[workflowType, expect.objectContaining({ workflowId: 'capacity-prod', workflowIdReusePolicy: 'ALLOW_DUPLICATE', signal: expect.objectContaining({ name: 'readinessFloor' }), signalArgs: [floor] })]]);
    expect((calls[0] as [string, Record<string, unknown>])[1]).not.toHaveProperty('workflowIdConflictPolicy');
  });

  it('tries again once when it lost the race to start the workflow', async () => {
    let n = 0;
    await signalFloor(
      {
        signalWithStart: async () => {
          n += 1;
          if (n === 1) throw new WorkflowExecutionAlreadyStartedError('Workflow execution already started', 'capacity-prod', workflowType);
          return undefined as never;
        },
      },
      workflowType,
      start,
      floor,
    );
    expect(n).toBe(2);
  });

  it('passes any other failure to the activity retry', async () => {
    const boom = new Error('unavailable');
    await expect(signalFloor({ signalWithStart: () => Promise.reject(boom) }, workflowType, start, floor)).rejects.toBe(boom);
  });
});
