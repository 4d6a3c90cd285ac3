import { PutMetricAlarmCommand, type PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import type { AwsClients } from '../../activities/aws/clients';
import { DEMO } from './demo';

/** The alarms the demo config routes (scale out, scale in, the 5xx incident) and the latency alarm of its sev3 route. */
export async function ensureAlarms(aws: AwsClients, loadBalancerArn: string, targetGroupArn: string) {
  // ALB metric dimensions are the ARN suffixes ("app/<name>/<id>", "targetgroup/<name>/<id>").
  const lbDimension = loadBalancerArn.split(':loadbalancer/')[1] ?? DEMO.loadBalancer;
  const tgDimension = targetGroupArn.split(':')[5] ?? DEMO.targetGroup;
  const alarms: PutMetricAlarmCommandInput[] = [
    {
      AlarmName: DEMO.alarms.scaleOut,
      AlarmDescription: 'demo cluster is short of CPU to place tasks: fleetops scales out (alarm route in fleetops.yaml)',
      Namespace: 'AWS/ECS',
      MetricName: 'CPUReservation',
      Dimensions: [{ Name: 'ClusterName', Value: DEMO.cluster }],
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 3,
      Threshold: 75,
      ComparisonOperator: 'GreaterThanThreshold',
    },
    {
      AlarmName: DEMO.alarms.scaleIn,
      AlarmDescription: 'demo cluster has idle capacity: fleetops scales in',
      Namespace: 'AWS/ECS',
      MetricName: 'CPUReservation',
      Dimensions: [{ Name: 'ClusterName', Value: DEMO.cluster }],
      Statistic: 'Average',
      Period: 300,
      EvaluationPeriods: 3,
      Threshold: 25,
      ComparisonOperator: 'LessThanThreshold',
    },
    {
      AlarmName: DEMO.alarms.incident,
      AlarmDescription: 'web answers 5xx: fleetops opens an incident',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Dimensions: [
        { Name: 'LoadBalancer', Value: lbDimension },
        { Name: 'TargetGroup', Value: tgDimension },
      ],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 2,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
    {
      AlarmName: DEMO.latencyAlarm,
      AlarmDescription: 'web answers slowly: fleetops opens a sev3 incident for cluster demo',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'TargetResponseTime',
      Dimensions: [
        { Name: 'LoadBalancer', Value: lbDimension },
        { Name: 'TargetGroup', Value: tgDimension },
      ],
      ExtendedStatistic: 'p99',
      Period: 60,
      EvaluationPeriods: 3,
      Threshold: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
  ];
  // PutMetricAlarm creates or replaces: idempotent by name.
  for (const alarm of alarms) await aws.cloudwatch.send(new PutMetricAlarmCommand(alarm));
  return { ...DEMO.alarms };
}
