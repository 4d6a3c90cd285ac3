import { DescribeAlarmsCommand, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { awsCall } from '../aws/errors';
import { clientsFor, type ActivityDeps } from '../deps';
import { describeService } from './services';
import { stoppedOnTheirOwn } from './tasks';
import type { AlarmState, AlarmStateValue, CanaryAnalysis, MetricResult } from '../../common/deploy';
import type { MetricCheck } from '../../config/schema';
import type { AnalyzeCanaryInput } from './types';

function substitute(dimensions: Record<string, string>, names: { canary: string; stable: string }, as: 'canary' | 'stable') {
  return Object.entries(dimensions).map(([Name, v]) => ({
    Name,
    Value: v.replaceAll('{canary}', as === 'canary' ? names.canary : names.stable).replaceAll('{stable}', names.stable),
  }));
}

function mean(values: number[] | undefined): number | undefined {
  if (!values || values.length === 0) return undefined;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * One check's verdict. The value is the mean over the window's periods (one noisy period should not
 * fail a canary; the failure limit counts repeated failures). No data is inconclusive, never a pass.
 * Against stable, a stable value of 0 makes any canary value above 0 a failure.
 */
export function judgeMetric(check: MetricCheck, value: number | undefined, stableValue: number | undefined): MetricResult {
  const base = { name: check.name, value, stableValue };
  if (value === undefined) return { ...base, verdict: 'inconclusive', reason: `no data for ${check.namespace}/${check.metricName}` };
  if (check.maxValue !== undefined && value > check.maxValue) {
    return { ...base, verdict: 'fail', reason: `${check.metricName} ${value} above ${check.maxValue}` };
  }
  if (check.maxRatioToStable !== undefined) {
    if (stableValue === undefined) return { ...base, verdict: 'inconclusive', reason: `no stable data for ${check.metricName} to compare with` };
    if (value > stableValue * check.maxRatioToStable) {
      return { ...base, verdict: 'fail', reason: `${check.metricName} ${value} above ${check.maxRatioToStable} x stable ${stableValue}` };
    }
  }
  return { ...base, verdict: 'pass', reason: `${check.metricName} ${value} within limits` };
}

export function createAnalysisActivities(deps: ActivityDeps) {
  // Alarms and metrics are in the deploy's cluster's account and region (the worker's own when no cluster is given).
  const cloudwatch = (cluster: string | undefined) => (cluster ? clientsFor(deps, cluster) : deps.aws).cloudwatch;

  async function alarmStates(cluster: string | undefined, alarmNames: string[]): Promise<AlarmState[]> {
    if (alarmNames.length === 0) return [];
    const found = new Map<string, AlarmState>();
    // DescribeAlarms takes at most 100 names per call.
    for (let i = 0; i < alarmNames.length; i += 100) {
      const out = await awsCall('cloudwatch:DescribeAlarms', () =>
        cloudwatch(cluster).send(new DescribeAlarmsCommand({ AlarmNames: alarmNames.slice(i, i + 100), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] })),
      );
      for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (a.AlarmName) found.set(a.AlarmName, { name: a.AlarmName, state: (a.StateValue ?? 'INSUFFICIENT_DATA') as AlarmStateValue, reason: a.StateReason });
      }
    }
    return alarmNames.map((name) => found.get(name) ?? { name, state: 'MISSING', reason: 'no such alarm' });
  }

  async function metricResults(input: AnalyzeCanaryInput, nowMs: number): Promise<MetricResult[]> {
    if (input.metricChecks.length === 0) return [];
    const names = { canary: input.canaryService, stable: input.service };
    const queries: MetricDataQuery[] = [];
    input.metricChecks.forEach((c, i) => {
      const stat = (as: 'canary' | 'stable'): MetricDataQuery => ({
        Id: `${as}${i}`,
        MetricStat: {
          Metric: { Namespace: c.namespace, MetricName: c.metricName, Dimensions: substitute(c.dimensions, names, as) },
          Period: c.periodSeconds,
          Stat: c.stat,
        },
        ReturnData: true,
      });
      queries.push(stat('canary'));
      if (c.maxRatioToStable !== undefined) queries.push(stat('stable'));
    });
    const longestPeriod = Math.max(...input.metricChecks.map((c) => c.periodSeconds));
    const windowMs = Math.max(input.windowSeconds, longestPeriod) * 1000;
    const values = new Map<string, number[]>();
    let nextToken: string | undefined;
    // GetMetricData takes at most 500 queries; a plan has a handful, so one page of queries suffices.
    do {
      const out = await awsCall('cloudwatch:GetMetricData', () =>
        cloudwatch(input.cluster).send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: new Date(nowMs - windowMs),
            // EndTime is exclusive and truncated to whole seconds; a minute ahead keeps the datapoints
            // stamped just now (and small clock skew) inside the window. Nothing is stamped in the future.
            EndTime: new Date(nowMs + 60_000),
            NextToken: nextToken,
          }),
        ),
      );
      for (const r of out.MetricDataResults ?? []) {
        if (r.Id) values.set(r.Id, [...(values.get(r.Id) ?? []), ...(r.Values ?? [])]);
      }
      nextToken = out.NextToken;
    } while (nextToken);
    return input.metricChecks.map((c, i) => judgeMetric(c, mean(values.get(`canary${i}`)), mean(values.get(`stable${i}`))));
  }

  return {
    /** Current state of named alarms; names CloudWatch does not know come back as MISSING. */
    async describeAlarmStates(input: { cluster?: string; alarmNames: string[] }): Promise<AlarmState[]> {
      return alarmStates(input.cluster, input.alarmNames);
    },

    /**
     * One analysis measurement: a field per check kind (common/deploy.ts `CanaryChecks`): the plan's
     * alarms, its metric checks, canary tasks that stopped on their own, the canary's ECS rollout.
     * The workflow judges each field (workflows/canary-deploy/checks/).
     */
    async analyzeCanary(input: AnalyzeCanaryInput): Promise<CanaryAnalysis> {
      const nowMs = Date.now();
      const [alarms, metrics, stoppedTasks, canary] = await Promise.all([
        alarmStates(input.cluster, input.alarms),
        metricResults(input, nowMs),
        stoppedOnTheirOwn(deps, input.cluster, input.canaryService, input.sinceMs),
        describeService(deps, input.cluster, input.canaryService),
      ]);
      const primary = canary?.deployments?.find((d) => d.status === 'PRIMARY');
      return {
        at: new Date(nowMs).toISOString(),
        alarms,
        metrics,
        stoppedTasks,
        canary: canary
          ? {
              runningCount: canary.runningCount ?? 0,
              desiredCount: canary.desiredCount ?? 0,
              rolloutState: primary?.rolloutState,
              rolloutStateReason: primary?.rolloutStateReason,
            }
          : null,
      };
    },
  };
}
