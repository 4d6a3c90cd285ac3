/**
 * A readiness window that freezes deploys, as the deploy's preflight and a scheduled deploy's trigger
 * find it (activities/deploy/readiness-freeze.ts) and word their refusal. Plain values: the deploy
 * workflow imports it.
 */
export interface FreezingWindow {
  workflowId: string;
  /** The window's level, end and reason, as its `status` answers them (absent if it did not answer). */
  level?: number;
  end?: string;
  reason?: string;
}

/** The refusal a deploy gets while windows freeze its cluster: each window with its own reason. */
export function readinessFreezeReason(cluster: string, windows: readonly FreezingWindow[]): string {
  const list = windows.map((w) => `${w.workflowId}${w.level !== undefined ? ` (level ${w.level} until ${w.end}: ${w.reason})` : ''}`).join(', ');
  return `deploys to ${cluster} are frozen during readiness windows: ${list}`;
}
