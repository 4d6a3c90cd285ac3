import type { BehaviourFactory } from '../behaviour';
import { asgLifecycle } from './asg-lifecycle';
import { asgScaling } from './asg-scaling';
import { capacityBehaviour } from './capacity';
import { cloudwatchAlarmEvents } from './cloudwatch-alarm-events';
import { ec2StateEvents } from './ec2-state-events';
import { ecsDeploymentsBehaviour } from './ecs-deployments';
import { ecsScheduler } from './ecs-scheduler';
import { elbRules } from './elb-rules';
import { elbTargetDraining } from './elb-target-draining';
import { poolReplacements } from './pool-replacements';
import { spotInterruption } from './spot-interruption';
import { stsAssumeRole } from './sts-assume-role';

/**
 * Every behaviour module the simulator loads, in the order their `intercept` and `afterResponse`
 * hooks run. Add a module as `simulator/behaviours/<name>.ts` exporting a `BehaviourFactory` and
 * list it here.
 */
export const BEHAVIOURS: readonly BehaviourFactory[] = [
  ecsDeploymentsBehaviour,
  ecsScheduler,
  asgLifecycle,
  asgScaling,
  spotInterruption,
  capacityBehaviour,
  ec2StateEvents,
  cloudwatchAlarmEvents,
  elbRules,
  stsAssumeRole,
  elbTargetDraining,
  poolReplacements,
];
