import type { AnalysisCheck } from './types';

/** The plan's CloudWatch alarms: one in ALARM fails the canary; no data or a missing alarm asks a human. */
export const alarmsCheck: AnalysisCheck<'alarms'> = {
  timeline: (alarms = []) => `alarms ${alarms.map((a) => `${a.name}=${a.state}`).join(', ') || 'none'}`,
  judge(alarms = []) {
    const firing = alarms.filter((a) => a.state === 'ALARM');
    return {
      fail: firing.length > 0 ? `alarm ${firing.map((a) => `${a.name} in ALARM${a.reason ? ` (${a.reason})` : ''}`).join(', ')}` : undefined,
      inconclusive: alarms.filter((a) => a.state === 'INSUFFICIENT_DATA' || a.state === 'MISSING').map((a) => `alarm ${a.name} ${a.state}`),
    };
  },
};
