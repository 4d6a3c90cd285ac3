import type { AnalysisCheck } from './types';

/** Canary tasks that stopped on their own (exit, failed start, failed health check) fail the canary. */
export const stoppedTasksCheck: AnalysisCheck<'stoppedTasks'> = {
  timeline: (stopped = []) => `stopped canary tasks ${stopped.length}`,
  judge(stopped = []) {
    const t = stopped[0];
    if (!t) return {};
    return { fail: `${stopped.length} canary task(s) stopped unexpectedly: ${t.stopCode ?? 'stopped'}: ${t.stoppedReason}` };
  },
};
