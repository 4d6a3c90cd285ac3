/**
 * What AWS authorises for each call fleetops makes: the IAM action, the resource ARNs and the condition
 * keys, as the AWS Service Authorization Reference lists them ("Actions, resources, and condition keys
 * for Amazon ECS / Amazon EC2 / Amazon EC2 Auto Scaling / Elastic Load Balancing V2 / Amazon CloudWatch /
 * Amazon SQS / Amazon S3 / AWS STS / AWS Price List"), plus what AWS authorises with a call beyond its own action:
 *  - tags on create: `ecs:TagResource` with `ecs:CreateAction` (ECS Developer Guide, "Grant permission
 *    to tag resources on creation") and `ec2:CreateTags` with `ec2:CreateAction` (EC2 User Guide,
 *    "Grant permission to tag Amazon EC2 resources during creation");
 *  - `iam:PassRole` with the role passed (IAM User Guide, "Grant a user permissions to pass a role"):
 *    a task definition's task and execution roles, a launch template's instance profile role;
 *  - what EC2 checks when CreateFleet launches on the caller's behalf (`ec2:RunInstances` with
 *    `ec2:LaunchTemplate`; EC2 User Guide, "EC2 Fleet prerequisites").
 * ONE entry per action the product calls (the `ProductAction` union): the call log refuses a product
 * call with no entry, so a new call in the code fails the IAM proof until it is described here.
 */
import type { Lookup } from './lookup';

export interface Authorisation {
  action: string;
  /** A resource ARN, or `*` for an action with no resource types. */
  resource: string;
  context: Record<string, string | string[]>;
}

export interface CallShape {
  params: Record<string, unknown>;
  account: string;
  region: string;
}

export type ProductAction =
  | 'autoscaling:CompleteLifecycleAction' | 'autoscaling:DescribeAutoScalingGroups' | 'autoscaling:DescribeLifecycleHooks'
  | 'autoscaling:DescribeScalingActivities' | 'autoscaling:RecordLifecycleActionHeartbeat' | 'autoscaling:SetDesiredCapacity'
  | 'autoscaling:TerminateInstanceInAutoScalingGroup' | 'autoscaling:UpdateAutoScalingGroup'
  | 'cloudwatch:DescribeAlarms' | 'cloudwatch:GetMetricData'
  | 'ec2:CreateFleet' | 'ec2:DescribeInstances' | 'ec2:DescribeNetworkInterfaces' | 'ec2:DescribeSpotFleetInstances'
  | 'ec2:DescribeSpotFleetRequestHistory' | 'ec2:DescribeSpotFleetRequests' | 'ec2:DescribeSpotPriceHistory'
  | 'ec2:ModifySpotFleetRequest' | 'ec2:TerminateInstances'
  | 'ecs:CreateService' | 'ecs:DeleteService' | 'ecs:DescribeContainerInstances' | 'ecs:DescribeServices'
  | 'ecs:DescribeTaskDefinition' | 'ecs:DescribeTasks' | 'ecs:ListContainerInstances' | 'ecs:ListTasks'
  | 'ecs:RegisterTaskDefinition' | 'ecs:RunTask' | 'ecs:StopTask' | 'ecs:UpdateContainerInstancesState' | 'ecs:UpdateService'
  | 'elasticloadbalancing:DeregisterTargets' | 'elasticloadbalancing:DescribeRules' | 'elasticloadbalancing:DescribeTargetGroupAttributes'
  | 'elasticloadbalancing:DescribeTargetGroups' | 'elasticloadbalancing:DescribeTargetHealth' | 'elasticloadbalancing:ModifyRule'
  | 'sqs:ChangeMessageVisibility' | 'sqs:DeleteMessage' | 'sqs:DeleteMessageBatch' | 'sqs:GetQueueAttributes' | 'sqs:GetQueueUrl'
  | 'sqs:ListMessageMoveTasks' | 'sqs:ReceiveMessage' | 'sqs:StartMessageMoveTask'
  | 'pricing:GetProducts' | 's3:PutObject' | 'sts:AssumeRole';

type Entry = (call: CallShape, lookup: Lookup) => Promise<Authorisation[]> | Authorisation[];

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
/** A Query-protocol list (`InstanceId.1`, `InstanceIds.member.1`) or a JSON array. */
export function listParam(params: Record<string, unknown>, name: string): string[] {
  const direct = params[name];
  if (Array.isArray(direct)) return direct.map(String);
  const re = new RegExp(`^${name}\\.(?:member\\.)?(\\d+)$`);
  return Object.entries(params)
    .map(([k, v]) => [re.exec(k)?.[1], v] as const)
    .filter(([n]) => n !== undefined)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, v]) => String(v));
}

const arn = (c: CallShape, service: string, resource: string, region = c.region) => `arn:aws:${service}:${region}:${c.account}:${resource}`;
const none = (action: string, context: Authorisation['context'] = {}): Authorisation[] => [{ action, resource: '*', context }];

// ---- ECS: a cluster's name or ARN, and ARNs of its services, tasks, container instances ----
const clusterName = (v: unknown) => (str(v) || 'default').replace(/^arn:[^:]+:ecs:[^:]*:\d*:cluster\//, '');
const clusterArn = (c: CallShape) => arn(c, 'ecs', `cluster/${clusterName(c.params.cluster)}`);
const serviceArn = (c: CallShape, service: unknown) => {
  const s = str(service);
  return s.startsWith('arn:') ? s : arn(c, 'ecs', `service/${clusterName(c.params.cluster)}/${s}`);
};
const inCluster = (c: CallShape, action: string, resource: string, more: Authorisation['context'] = {}): Authorisation => ({ action, resource, context: { 'ecs:cluster': clusterArn(c), ...more } });
const ecsChild = (c: CallShape, kind: 'task' | 'container-instance', id: string) => (id.startsWith('arn:') ? id : arn(c, 'ecs', `${kind}/${clusterName(c.params.cluster)}/${id}`));
const ecsTags = (v: unknown): Record<string, string> => Object.fromEntries(((Array.isArray(v) ? v : []) as { key?: string; value?: string }[]).map((t) => [String(t.key), String(t.value ?? '')]));
const requestTags = (tags: Record<string, string>): Authorisation['context'] => ({
  ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
  ...(Object.keys(tags).length ? { 'aws:TagKeys': Object.keys(tags) } : {}),
});
const resourceTags = (tags: Record<string, string>): Authorisation['context'] => Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
/** ECS authorises tags on create with ecs:TagResource on the created resource (ecs:CreateAction). */
const ecsTagOnCreate = (resource: string, createAction: string, tags: Record<string, string>): Authorisation[] =>
  Object.keys(tags).length ? [{ action: 'ecs:TagResource', resource, context: { 'ecs:CreateAction': createAction, ...requestTags(tags) } }] : [];
const passRoles = (roles: (string | undefined)[], service: string): Authorisation[] =>
  [...new Set(roles.filter((r): r is string => Boolean(r)))].map((role) => ({ action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': service } }));
const taskDefArn = (c: CallShape, td: string) => (td.startsWith('arn:') ? td : arn(c, 'ecs', `task-definition/${td}`));

// ---- EC2, Auto Scaling, ELBv2, SQS ----
const instanceArn = (c: CallShape, id: string) => arn(c, 'ec2', `instance/${id}`);
const asgArn = (c: CallShape, name: string) => arn(c, 'autoscaling', `autoScalingGroup:*:autoScalingGroupName/${name}`);
const asgAuth = async (c: CallShape, lookup: Lookup, action: string, group: string): Promise<Authorisation[]> => {
  const tags = await lookup.asgTags(c, group);
  const ctx = { ...resourceTags(tags), ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`autoscaling:ResourceTag/${k}`, v])) };
  return [{ action, resource: asgArn(c, group), context: ctx }];
};
/** A queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`, or the emulator's) as an ARN. */
const queueArn = (c: CallShape, url: unknown) => {
  const m = /\/(\d{12})\/([^/?]+)$/.exec(str(url));
  return m ? arn({ ...c, account: m[1]! }, 'sqs', m[2]!) : arn(c, 'sqs', str(url));
};
const onQueue = (action: string): Entry => (c) => [{ action, resource: queueArn(c, c.params.QueueUrl), context: {} }];

export const AUTHORISATIONS: Record<ProductAction, Entry> = {
  'autoscaling:CompleteLifecycleAction': (c, l) => asgAuth(c, l, 'autoscaling:CompleteLifecycleAction', str(c.params.AutoScalingGroupName)),
  'autoscaling:RecordLifecycleActionHeartbeat': (c, l) => asgAuth(c, l, 'autoscaling:RecordLifecycleActionHeartbeat', str(c.params.AutoScalingGroupName)),
  'autoscaling:SetDesiredCapacity': (c, l) => asgAuth(c, l, 'autoscaling:SetDesiredCapacity', str(c.params.AutoScalingGroupName)),
  'autoscaling:UpdateAutoScalingGroup': (c, l) => asgAuth(c, l, 'autoscaling:UpdateAutoScalingGroup', str(c.params.AutoScalingGroupName)),
  'autoscaling:TerminateInstanceInAutoScalingGroup': async (c, l) => {
    const group = await l.asgOfInstance(c, str(c.params.InstanceId));
    return asgAuth(c, l, 'autoscaling:TerminateInstanceInAutoScalingGroup', group ?? '*');
  },
  'autoscaling:DescribeAutoScalingGroups': () => none('autoscaling:DescribeAutoScalingGroups'),
  'autoscaling:DescribeLifecycleHooks': () => none('autoscaling:DescribeLifecycleHooks'),
  'autoscaling:DescribeScalingActivities': () => none('autoscaling:DescribeScalingActivities'),
  // DescribeAlarms is listed on alarm ARNs, but checked against `*` unless AlarmNames are given.
  'cloudwatch:DescribeAlarms': (c) => {
    const names = listParam(c.params, 'AlarmNames');
    return names.length ? names.map((n) => ({ action: 'cloudwatch:DescribeAlarms', resource: arn(c, 'cloudwatch', `alarm:${n}`), context: {} })) : none('cloudwatch:DescribeAlarms');
  },
  'cloudwatch:GetMetricData': () => none('cloudwatch:GetMetricData'),
  'ec2:CreateFleet': async (c, l) => {
    const lt = await l.launchTemplate(c, str(c.params['LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateId']), str(c.params['LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateName']));
    const ltArn = arn(c, 'ec2', `launch-template/${lt?.id ?? '*'}`);
    const tags: Record<string, string> = {};
    for (let i = 1; c.params[`TagSpecification.1.Tag.${i}.Key`] !== undefined; i++) tags[str(c.params[`TagSpecification.1.Tag.${i}.Key`])] = str(c.params[`TagSpecification.1.Tag.${i}.Value`]);
    const fromLt = { 'ec2:LaunchTemplate': ltArn };
    const ltTags = resourceTags(lt?.tags ?? {});
    return [
      { action: 'ec2:CreateFleet', resource: arn(c, 'ec2', 'fleet/*'), context: {} },
      { action: 'ec2:CreateFleet', resource: ltArn, context: ltTags },
      { action: 'ec2:RunInstances', resource: arn(c, 'ec2', 'instance/*'), context: { ...fromLt, ...requestTags(tags) } },
      { action: 'ec2:RunInstances', resource: ltArn, context: { ...fromLt, 'ec2:IsLaunchTemplateResource': 'true', ...ltTags } },
      ...(Object.keys(tags).length ? [{ action: 'ec2:CreateTags', resource: arn(c, 'ec2', 'instance/*'), context: { 'ec2:CreateAction': 'CreateFleet', ...requestTags(tags) } }] : []),
      ...passRoles([lt?.instanceRole], 'ec2.amazonaws.com'),
    ];
  },
  'ec2:DescribeInstances': () => none('ec2:DescribeInstances'),
  'ec2:DescribeNetworkInterfaces': () => none('ec2:DescribeNetworkInterfaces'),
  'ec2:DescribeSpotFleetInstances': () => none('ec2:DescribeSpotFleetInstances'),
  'ec2:DescribeSpotFleetRequestHistory': () => none('ec2:DescribeSpotFleetRequestHistory'),
  'ec2:DescribeSpotFleetRequests': () => none('ec2:DescribeSpotFleetRequests'),
  'ec2:DescribeSpotPriceHistory': () => none('ec2:DescribeSpotPriceHistory'),
  'ec2:ModifySpotFleetRequest': (c) => [{ action: 'ec2:ModifySpotFleetRequest', resource: arn(c, 'ec2', `spot-fleet-request/${str(c.params.SpotFleetRequestId)}`), context: {} }],
  'ec2:TerminateInstances': async (c, l) => {
    const ids = listParam(c.params, 'InstanceId');
    return Promise.all(ids.map(async (id) => ({ action: 'ec2:TerminateInstances', resource: instanceArn(c, id), context: resourceTags(await l.instanceTags(c, id)) })));
  },
  'ecs:CreateService': async (c, l) => {
    const service = serviceArn(c, c.params.serviceName);
    const tags = ecsTags(c.params.tags);
    const td = await l.taskDefinition(c, str(c.params.taskDefinition));
    return [
      inCluster(c, 'ecs:CreateService', service, { 'ecs:task-definition': td?.arn ?? taskDefArn(c, str(c.params.taskDefinition)), ...requestTags(tags) }),
      ...ecsTagOnCreate(service, 'CreateService', tags),
      ...passRoles([td?.taskRoleArn, td?.executionRoleArn], 'ecs-tasks.amazonaws.com'),
    ];
  },
  'ecs:UpdateService': async (c, l) => [inCluster(c, 'ecs:UpdateService', serviceArn(c, c.params.service), resourceTags(await l.ecsTags(c, serviceArn(c, c.params.service))))],
  'ecs:DeleteService': async (c, l) => [inCluster(c, 'ecs:DeleteService', serviceArn(c, c.params.service), resourceTags(await l.ecsTags(c, serviceArn(c, c.params.service))))],
  'ecs:DescribeServices': (c) => listParam(c.params, 'services').map((s) => inCluster(c, 'ecs:DescribeServices', serviceArn(c, s))),
  'ecs:DescribeTaskDefinition': () => none('ecs:DescribeTaskDefinition'),
  'ecs:RegisterTaskDefinition': (c) => {
    const resource = arn(c, 'ecs', `task-definition/${str(c.params.family)}:*`);
    const tags = ecsTags(c.params.tags);
    return [
      { action: 'ecs:RegisterTaskDefinition', resource, context: requestTags(tags) },
      ...ecsTagOnCreate(resource, 'RegisterTaskDefinition', tags),
      ...passRoles([str(c.params.taskRoleArn), str(c.params.executionRoleArn)], 'ecs-tasks.amazonaws.com'),
    ];
  },
  'ecs:RunTask': async (c, l) => {
    const td = await l.taskDefinition(c, str(c.params.taskDefinition));
    const tags = ecsTags(c.params.tags);
    return [
      inCluster(c, 'ecs:RunTask', td?.arn ?? taskDefArn(c, str(c.params.taskDefinition)), requestTags(tags)),
      ...ecsTagOnCreate(arn(c, 'ecs', `task/${clusterName(c.params.cluster)}/*`), 'RunTask', tags),
      ...passRoles([td?.taskRoleArn, td?.executionRoleArn], 'ecs-tasks.amazonaws.com'),
    ];
  },
  'ecs:StopTask': (c) => [inCluster(c, 'ecs:StopTask', ecsChild(c, 'task', str(c.params.task)))],
  'ecs:DescribeTasks': (c) => listParam(c.params, 'tasks').map((t) => inCluster(c, 'ecs:DescribeTasks', ecsChild(c, 'task', t))),
  'ecs:ListTasks': (c) => [inCluster(c, 'ecs:ListTasks', arn(c, 'ecs', `container-instance/${clusterName(c.params.cluster)}/*`))],
  'ecs:ListContainerInstances': (c) => [{ action: 'ecs:ListContainerInstances', resource: clusterArn(c), context: {} }],
  'ecs:DescribeContainerInstances': (c) =>
    listParam(c.params, 'containerInstances').map((ci) => inCluster(c, 'ecs:DescribeContainerInstances', ecsChild(c, 'container-instance', ci))),
  'ecs:UpdateContainerInstancesState': (c) =>
    listParam(c.params, 'containerInstances').map((ci) => inCluster(c, 'ecs:UpdateContainerInstancesState', ecsChild(c, 'container-instance', ci))),
  'elasticloadbalancing:ModifyRule': async (c, l) => [{ action: 'elasticloadbalancing:ModifyRule', resource: str(c.params.RuleArn), context: resourceTags(await l.elbTags(c, str(c.params.RuleArn))) }],
  'elasticloadbalancing:DeregisterTargets': (c) => [{ action: 'elasticloadbalancing:DeregisterTargets', resource: str(c.params.TargetGroupArn), context: {} }],
  'elasticloadbalancing:DescribeRules': () => none('elasticloadbalancing:DescribeRules'),
  'elasticloadbalancing:DescribeTargetGroupAttributes': () => none('elasticloadbalancing:DescribeTargetGroupAttributes'),
  'elasticloadbalancing:DescribeTargetGroups': () => none('elasticloadbalancing:DescribeTargetGroups'),
  'elasticloadbalancing:DescribeTargetHealth': () => none('elasticloadbalancing:DescribeTargetHealth'),
  'sqs:ChangeMessageVisibility': onQueue('sqs:ChangeMessageVisibility'),
  // SQS authorises the batch forms as their single actions (SQS Developer Guide, "Amazon SQS API permissions").
  'sqs:DeleteMessage': onQueue('sqs:DeleteMessage'),
  'sqs:DeleteMessageBatch': onQueue('sqs:DeleteMessage'),
  'sqs:GetQueueAttributes': onQueue('sqs:GetQueueAttributes'),
  'sqs:GetQueueUrl': (c) => [{ action: 'sqs:GetQueueUrl', resource: arn({ ...c, account: str(c.params.QueueOwnerAWSAccountId) || c.account }, 'sqs', str(c.params.QueueName)), context: {} }],
  'sqs:ReceiveMessage': onQueue('sqs:ReceiveMessage'),
  'sqs:ListMessageMoveTasks': (c) => [{ action: 'sqs:ListMessageMoveTasks', resource: str(c.params.SourceArn), context: {} }],
  // A message move runs with the caller's permissions (SQS Developer Guide, "Configure queue permissions
  // for dead-letter queue redrive"): start, receive, delete and read attributes on the source (the
  // dead-letter queue), send on the destination; with no DestinationArn, the messages go back to their
  // original source queues (StartMessageMoveTask, "DestinationArn"): the queues whose redrive policy
  // names this one.
  'sqs:StartMessageMoveTask': async (c, l) => {
    const source = str(c.params.SourceArn);
    const [, , , region = c.region, account = c.account, name = ''] = source.split(':');
    const destinations = str(c.params.DestinationArn) ? [str(c.params.DestinationArn)] : await l.deadLetterSources({ account, region }, name);
    return [
      ...['sqs:StartMessageMoveTask', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'].map((action) => ({ action, resource: source, context: {} })),
      ...destinations.map((d) => ({ action: 'sqs:SendMessage', resource: d, context: {} })),
    ];
  },
  // "Actions, resources, and condition keys for AWS Price List": GetProducts has no resource types.
  'pricing:GetProducts': () => none('pricing:GetProducts'),
  's3:PutObject': (c) => [{ action: 's3:PutObject', resource: `arn:aws:s3:::${str(c.params.Bucket)}/${str(c.params.Key)}`, context: {} }],
  // The role's trust policy decides too (a resource policy); the kit's asks for the external id.
  'sts:AssumeRole': (c) => {
    const context: Authorisation['context'] = str(c.params.ExternalId) ? { 'sts:ExternalId': str(c.params.ExternalId) } : {};
    return [{ action: 'sts:AssumeRole', resource: str(c.params.RoleArn), context }];
  },
};

export function isProductAction(key: string): key is ProductAction {
  return Object.prototype.hasOwnProperty.call(AUTHORISATIONS, key);
}
