import type { _InstanceType } from '@aws-sdk/client-ec2';

/** The demo environment's names and sizes (stack/seed.ts seeds it; config/demo.fleetops.yaml names the same). */

export const DEMO = {
  cluster: 'demo',
  service: 'web',
  vpcName: 'fleetops-demo',
  launchTemplate: 'demo-node',
  securityGroup: 'demo-node',
  ec2FleetTag: 'demo-spot-ec2-fleet',
  spotFleetTag: 'demo-spot-diversified',
  autoScalingGroup: 'demo-on-demand',
  loadBalancer: 'demo-alb',
  targetGroup: 'demo-web',
  canaryTargetGroup: 'demo-web-canary',
  domain: 'web.demo.fleetops.example',
  /** ALB health checks every 5 s (the shortest ELB allows; a real service often keeps the 30 s default). */
  healthCheckIntervalSeconds: 5,
  /**
   * How long ECS ignores failed health checks of a new task: as long as the target group takes to call
   * a failing target unhealthy (2 checks 5 s apart), so a task that never passes is stopped as soon as
   * ELB says so, and the demo's unhealthy-canary rollback takes seconds less.
   */
  healthCheckGracePeriodSeconds: 10,
  taskFamily: 'web',
  desiredCount: 4,
  alarms: { scaleOut: 'demo-scale-out', scaleIn: 'demo-scale-in', incident: 'demo-incident-5xx' },
  /** Routed to a sev3 incident for cluster demo (config/demo.fleetops.yaml): escalating it freezes demo's deploys. */
  latencyAlarm: 'demo-latency-high',
  /** incidents.postmortemBucket in config/demo.fleetops.yaml. */
  postmortemBucket: 'fleetops-demo-postmortems',
  /** Two instances per pool: six container instances in all. */
  instancesPerPool: 2,
  /** Pool names in config/demo.fleetops.yaml (stack/demo-config.ts checks they match). */
  pools: { ec2Fleet: 'spot-ec2-fleet', spotFleet: 'spot-diversified', asg: 'on-demand' },
  /**
   * New instances become ACTIVE container instances this long after launch (a real one takes a minute
   * or more), and Spot Fleet / ASG raises are fulfilled after this delay: long enough to watch in the
   * demo, short enough for end-to-end tests.
   */
  capacitySimulation: { bootDelaySeconds: 3, fulfilmentDelaySeconds: 1 },
} as const;

/** Instance types per pool; the EC2 Fleet's list matches the overrides in config/demo.fleetops.yaml. */
export const EC2_FLEET_TYPES: _InstanceType[] = ['m5.large', 'm5a.large', 'm5.xlarge'];
export const SPOT_FLEET_TYPES: _InstanceType[] = ['c5.large', 'c5a.large'];
export const ASG_TYPE: _InstanceType = 'm5.large';
/** The demo identity provider in front of web (authenticate-oidc); nothing answers there, the ALB is emulated. */
export const DEMO_OIDC = {
  Issuer: 'https://login.demo.fleetops.example',
  AuthorizationEndpoint: 'https://login.demo.fleetops.example/authorize',
  TokenEndpoint: 'https://login.demo.fleetops.example/token',
  UserInfoEndpoint: 'https://login.demo.fleetops.example/userinfo',
  ClientId: 'fleetops-demo-web',
  ClientSecret: 'demo-oidc-client-secret',
  OnUnauthenticatedRequest: 'authenticate' as const,
};
