import type { SearchAttributePair } from '@temporalio/common';
import { FleetopsCluster, FleetopsKind } from '../../common/search-attributes';
import { drainBudgetWorkflowId } from '../../common/workflow-ids';
import type { DrainBudgetInput } from './input';
import { WORKFLOWS } from '../registry';

/**
 * Start options of a cluster's drain budget, for the drain's activity (update-with-start of
 * `acquireDrainSlot`, contracts/drain-budget/messages.ts) and tests. Long-lived, one per cluster: the
 * first voluntary drain starts it (conflict policy USE_EXISTING: every later ask joins the running
 * one), and a run that ended (aborted, terminated) is replaced by the next ask.
 */
export function drainBudgetStartOptions(cluster: string) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: FleetopsKind, value: WORKFLOWS.drainBudget.kind },
    { key: FleetopsCluster, value: cluster },
  ];
  return {
    workflowType: WORKFLOWS.drainBudget.type,
    workflowId: drainBudgetWorkflowId(cluster),
    taskQueue: WORKFLOWS.drainBudget.taskQueue,
    args: [{ cluster }] as [DrainBudgetInput],
    typedSearchAttributes,
    staticSummary: `Drain budget of ${cluster}: at most its voluntaryDrainBudget of voluntary drains DRAINING at once`,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
  };
}
