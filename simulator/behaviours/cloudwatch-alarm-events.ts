import { DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import type { Behaviour, BehaviourFactory, SimRequest } from '../behaviour';
import { DEFAULT_ACCOUNT } from '../events';

/**
 * CloudWatch alarm state changes, as CloudWatch publishes them to EventBridge: "Alarm events and
 * EventBridge" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html)
 * — `CloudWatch Alarm State Change` on every change of state (not while a state lasts), detail
 * `{alarmName, state, previousState, configuration}`, the alarm's ARN in `resources`. moto keeps alarm
 * state but publishes nothing. This behaviour publishes when SetAlarmState through the simulator
 * changes an alarm's state ("SetAlarmState ... temporarily sets the state of an alarm": the way to
 * make an alarm fire on demand, in AWS and here); SetAlarmState to the state it already has publishes
 * nothing, as in AWS. moto does not evaluate alarms against PutMetricData, so metrics alone never
 * change a state here.
 */

const CW_TIME = (d: Date) => d.toISOString().replace('Z', '+0000');

function stateOf(a: MetricAlarm | undefined, fallbackTime: Date) {
  return {
    value: a?.StateValue ?? 'INSUFFICIENT_DATA',
    reason: a?.StateReason ?? '',
    timestamp: CW_TIME(a?.StateUpdatedTimestamp ?? fallbackTime),
  };
}

export const cloudwatchAlarmEvents: BehaviourFactory = () => {
  /** The alarm as it was before each SetAlarmState in flight. */
  const before = new WeakMap<SimRequest, MetricAlarm | undefined>();

  const behaviour: Behaviour = {
    name: 'cloudwatch-alarm-events',

    async intercept(req, ctx) {
      if (req.service !== 'monitoring' || req.action !== 'SetAlarmState') return undefined;
      const name = String(req.params.AlarmName ?? '');
      const region = req.region === 'unknown' ? undefined : req.region;
      const out = await ctx.aws(region).cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] })).catch(() => undefined);
      before.set(req, out?.MetricAlarms?.[0]);
      return undefined;
    },

    async afterResponse(req, res, ctx) {
      if (req.service !== 'monitoring' || req.action !== 'SetAlarmState' || res.status >= 300 || !before.has(req)) return;
      const previous = before.get(req);
      const value = String(req.params.StateValue ?? '');
      if (!previous || previous.StateValue === value) return;
      const now = new Date();
      const region = req.region === 'unknown' ? 'us-east-1' : req.region;
      const alarmArn = previous.AlarmArn ?? `arn:aws:cloudwatch:${region}:${DEFAULT_ACCOUNT}:alarm:${previous.AlarmName}`;
      await ctx.events.publish({
        source: 'aws.cloudwatch',
        detailType: 'CloudWatch Alarm State Change',
        resources: [alarmArn],
        region,
        time: now,
        detail: {
          alarmName: previous.AlarmName,
          state: {
            value,
            reason: String(req.params.StateReason ?? ''),
            ...(req.params.StateReasonData ? { reasonData: String(req.params.StateReasonData) } : {}),
            timestamp: CW_TIME(now),
          },
          previousState: stateOf(previous, now),
          configuration: {
            ...(previous.AlarmDescription ? { description: previous.AlarmDescription } : {}),
            metrics: previous.MetricName
              ? [
                  {
                    id: previous.AlarmName,
                    metricStat: {
                      metric: {
                        namespace: previous.Namespace,
                        name: previous.MetricName,
                        dimensions: Object.fromEntries((previous.Dimensions ?? []).map((d) => [d.Name, d.Value])),
                      },
                      period: previous.Period,
                      stat: previous.Statistic ?? previous.ExtendedStatistic,
                    },
                    returnData: true,
                  },
                ]
              : (previous.Metrics ?? []),
          },
        },
      });
    },

    reset() {},
  };
  return behaviour;
};
