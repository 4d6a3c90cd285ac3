import type { AnalysisCheck } from './types';

/**
 * The plan's metric checks, each already judged by the activity (activities/deploy/analysis.ts
 * `judgeMetric`): a failure counts against the failure limit; no data asks a human.
 */
export const metricsCheck: AnalysisCheck<'metrics'> = {
  timeline: (metrics = []) => `metrics ${metrics.map((m) => `${m.name}=${m.verdict}`).join(', ') || 'none'}`,
  judge: (metrics = []) => ({
    counted: metrics.filter((m) => m.verdict === 'fail').map((m) => `${m.name}: ${m.reason}`),
    inconclusive: metrics.filter((m) => m.verdict === 'inconclusive').map((m) => `${m.name}: ${m.reason}`),
  }),
};
