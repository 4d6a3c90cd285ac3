import type { BehaviourFactory } from '../behaviour';
import { asgCapacityRebalance } from './asg-capacity-rebalance';
import { asgLifecycle } from './asg-lifecycle';
import { asgScaling } from './asg-scaling';
import { capacityBehaviour } from './capacity';
import { cloudformationParameters } from './cloudformation-parameters';
import { cloudwatchAlarmEvents } from './cloudwatch-alarm-events';
import { ec2StateEvents } from './ec2-state-events';
import { ecsDeploymentsBehaviour } from './ecs-deployments';
import { ecsScheduler } from './ecs-scheduler';
import { elbRules } from './elb-rules';
import { elbTargetDraining } from './elb-target-draining';
import { elbTargetHealth } from './elb-target-health';
import { poolReplacements } from './pool-replacements';
import { priceList } from './price-list';
import { spotInterruption } from './spot-interruption';
import { spotPriceHistory } from './spot-price-history';
import { sqsMessageMove } from './sqs-message-move';
import { stsAssumeRole } from './sts-assume-role';

/**
 * Every behaviour module the simulator loads, in the order their `intercept` and `afterResponse`
 * hooks run. Add a module as `simulator/behaviours/<name>.ts` exporting a `BehaviourFactory` and
 * list it here. This list models nothing itself; each module's header names the AWS page it follows:
 *  - ecs-deployments, ecs-scheduler: Amazon ECS Developer Guide, "Deploy Amazon ECS services by
 *    replacing tasks" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html)
 *    and "Draining Amazon ECS container instances"
 *    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-draining.html);
 *  - asg-lifecycle, asg-scaling, asg-capacity-rebalance: Amazon EC2 Auto Scaling User Guide, "Amazon
 *    EC2 Auto Scaling lifecycle hooks" (https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html),
 *    "Use Capacity Rebalancing to handle Amazon EC2 Spot interruptions", and
 *    TerminateInstanceInAutoScalingGroup / SetDesiredCapacity in the API reference (asg-scaling
 *    refuses first, so a refused call starts no lifecycle action);
 *  - spot-interruption, pool-replacements, capacity: Amazon EC2 User Guide, "Spot Instance
 *    interruptions" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-interruptions.html) and
 *    the Spot Fleet / EC2 Fleet request types;
 *  - elb-rules, elb-target-draining: Elastic Load Balancing, ModifyRule in the ELBv2 API reference and
 *    "Deregistration delay" (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay);
 *  - elb-target-health: "Health checks for Application Load Balancer target groups", TargetHealth in
 *    the ELBv2 API reference, and CreateService in the Amazon ECS API reference;
 *  - ec2-state-events, cloudwatch-alarm-events: the EventBridge event pages of EC2 and CloudWatch;
 *  - sts-assume-role: AssumeRole in the AWS STS API reference and "How to use an external ID";
 *  - sqs-message-move: StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask in the
 *    Amazon SQS API reference (dead-letter queue redrive);
 *  - spot-price-history: DescribeSpotPriceHistory in the Amazon EC2 API Reference
 *    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSpotPriceHistory.html);
 *  - price-list: GetProducts in the AWS Price List Service API Reference
 *    (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html);
 *  - cloudformation-parameters: AWS CloudFormation User Guide, "CloudFormation template Parameters
 *    syntax" (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html).
 * Behaviours that act on the default account only unless marked `allAccounts` (see behaviour.ts).
 */
export const BEHAVIOURS: readonly BehaviourFactory[] = [
  ecsDeploymentsBehaviour,
  ecsScheduler,
  asgScaling,
  asgCapacityRebalance,
  asgLifecycle,
  spotInterruption,
  capacityBehaviour,
  ec2StateEvents,
  cloudwatchAlarmEvents,
  elbRules,
  stsAssumeRole,
  elbTargetDraining,
  elbTargetHealth,
  poolReplacements,
  sqsMessageMove,
  cloudformationParameters,
  spotPriceHistory,
  priceList,
];
