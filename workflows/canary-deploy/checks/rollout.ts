import type { AnalysisCheck } from './types';

/** The canary service's own ECS deployment: FAILED (e.g. the circuit breaker tripped) fails the canary. */
export const rolloutCheck: AnalysisCheck<'canary'> = {
  timeline: () => undefined,
  judge: (canary) =>
    canary?.rolloutState === 'FAILED' ? { fail: `canary deployment FAILED: ${canary.rolloutStateReason ?? 'no reason given'}` } : {},
};
