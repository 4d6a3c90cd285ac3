import type { DeployState } from './state';

/** The status's one-line summary for the deploy's phase (what the Web UI and `fleetops status` show). */
export function deploySummary(s: DeployState): string {
  const { input, canaryTaskDefinition, step, awaiting, finalReason } = s;
  const target = `${input.cluster}/${input.service}`;
  const what = input.image ?? input.taskDefinition ?? '?';
  const prefix = s.dryRun ? '[dry run] ' : '';
  switch (s.phase) {
    case 'preflight':
      return `${prefix}${target}: checking incidents, stable health and alarms before deploying ${what}`;
    case 'creating-canary':
      return `${prefix}${target}: creating ${s.canaryService} on ${canaryTaskDefinition ?? what}`;
    case 'shifting-traffic':
    case 'baking':
      return `${prefix}${target}: canary at ${s.canaryWeight}% (${s.canaryDesiredCount} tasks), step ${(step?.index ?? 0) + 1}/${step?.total ?? '?'} ${step?.kind ?? ''}`;
    case 'inconclusive':
      return `${prefix}${target}: analysis inconclusive, waiting for approve or abort until ${awaiting?.timeoutAt ?? '?'}`;
    case 'awaiting-approval':
      return `${prefix}${target}: gate, waiting for approve or abort until ${awaiting?.timeoutAt ?? '?'} (then ${awaiting?.onTimeout ?? 'rollback'})`;
    case 'post-promotion-bake':
      return `${prefix}${target}: runs ${canaryTaskDefinition ?? what}; baking under alarms and checks before letting ${s.stable?.taskDefinition ?? 'the previous revision'} go`;
    case 'promoting':
      return `${prefix}${target}: promoting ${canaryTaskDefinition ?? what} to the main service`;
    case 'rolling-back':
      return `${prefix}${target}: rolling back: ${finalReason ?? ''}`;
    default:
      return `${prefix}${target}: ${s.phase}: ${finalReason ?? ''}`;
  }
}
