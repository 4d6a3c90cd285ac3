/**
 * What an authorisation needs that the call itself does not carry: a resource's tags (for
 * `aws:ResourceTag` conditions), the roles in a task definition, a launch template's id and instance
 * profile. Read straight from moto (not through the simulator: never recorded, never faulted), in
 * the call's account (`x-moto-account-id`), before the call runs (a terminated instance keeps its tags,
 * a deleted service does not). Anything not found reads as nothing: the evaluation then decides
 * without it, as AWS would for a resource that is not there.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand, DescribeTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTagsCommand as DescribeElbTagsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeTaskDefinitionCommand, ECSClient, ListTagsForResourceCommand } from '@aws-sdk/client-ecs';
import { GetQueueUrlCommand, ListDeadLetterSourceQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';

export interface Where {
  account: string;
  region: string;
}

export interface TaskDefinitionRoles {
  arn: string;
  taskRoleArn?: string;
  executionRoleArn?: string;
}

export interface LaunchTemplateFacts {
  id: string;
  /** The role of the template's instance profile (a profile and its role share their name, as the console makes them). */
  instanceRole?: string;
  tags: Record<string, string>;
}

export interface Lookup {
  instanceTags(at: Where, instanceId: string): Promise<Record<string, string>>;
  asgTags(at: Where, group: string): Promise<Record<string, string>>;
  asgOfInstance(at: Where, instanceId: string): Promise<string | undefined>;
  ecsTags(at: Where, resourceArn: string): Promise<Record<string, string>>;
  taskDefinition(at: Where, taskDefinition: string): Promise<TaskDefinitionRoles | undefined>;
  launchTemplate(at: Where, id: string, name: string): Promise<LaunchTemplateFacts | undefined>;
  /** The ARNs of the queues whose redrive policy names this dead-letter queue (ListDeadLetterSourceQueues). */
  deadLetterSources(at: Where, queueName: string): Promise<string[]>;
  elbTags(at: Where, resourceArn: string): Promise<Record<string, string>>;
  destroy(): void;
}

interface Clients {
  ec2: EC2Client;
  ecs: ECSClient;
  autoscaling: AutoScalingClient;
  sqs: SQSClient;
  elbv2: ElasticLoadBalancingV2Client;
}

function inAccount<C extends { middlewareStack: { add: (...args: never[]) => void } }>(client: C, account: string): C {
  (client.middlewareStack.add as (mw: unknown, opts: unknown) => void)(
    (next: (args: unknown) => Promise<unknown>) => async (args: { request: { headers: Record<string, string> } }) => {
      args.request.headers['x-moto-account-id'] = account;
      return next(args);
    },
    { step: 'build', name: 'fleetopsIamLookupAccount' },
  );
  return client;
}

const quiet = async <T>(f: () => Promise<T>): Promise<T | undefined> => f().catch(() => undefined);
const tagMap = (tags: { Key?: string; Value?: string; key?: string; value?: string }[] | undefined) =>
  Object.fromEntries((tags ?? []).map((t) => [String(t.Key ?? t.key), String(t.Value ?? t.value ?? '')]));

export function motoLookup(motoUrl: string): Lookup {
  const clients = new Map<string, Clients>();
  const at = ({ account, region }: Where): Clients => {
    const key = `${account}|${region}`;
    let c = clients.get(key);
    if (!c) {
      const common = { region, endpoint: motoUrl, maxAttempts: 1, credentials: { accessKeyId: 'lookup', secretAccessKey: 'lookup' } };
      c = { ec2: inAccount(new EC2Client(common), account), ecs: inAccount(new ECSClient(common), account), autoscaling: inAccount(new AutoScalingClient(common), account), sqs: inAccount(new SQSClient(common), account),
        elbv2: inAccount(new ElasticLoadBalancingV2Client(common), account),
      };
      clients.set(key, c);
    }
    return c;
  };
  return {
    async instanceTags(w, id) {
      const out = await quiet(() => at(w).ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] })));
      return tagMap(out?.Tags);
    },
    async asgTags(w, group) {
      const out = await quiet(() => at(w).autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] })));
      return tagMap(out?.AutoScalingGroups?.[0]?.Tags);
    },
    async asgOfInstance(w, id) {
      const out = await quiet(() => at(w).autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] })));
      return out?.AutoScalingInstances?.[0]?.AutoScalingGroupName;
    },
    async ecsTags(w, arn) {
      const out = await quiet(() => at(w).ecs.send(new ListTagsForResourceCommand({ resourceArn: arn })));
      return tagMap(out?.tags);
    },
    async taskDefinition(w, td) {
      if (!td) return undefined;
      const out = await quiet(() => at(w).ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: td })));
      const d = out?.taskDefinition;
      return d?.taskDefinitionArn ? { arn: d.taskDefinitionArn, taskRoleArn: d.taskRoleArn, executionRoleArn: d.executionRoleArn } : undefined;
    },
    async launchTemplate(w, id, name) {
      const out = await quiet(() =>
        at(w).ec2.send(new DescribeLaunchTemplateVersionsCommand({ ...(id ? { LaunchTemplateId: id } : { LaunchTemplateName: name }), Versions: ['$Default'] })),
      );
      const v = out?.LaunchTemplateVersions?.[0];
      if (!v?.LaunchTemplateId) return undefined;
      const profile = v.LaunchTemplateData?.IamInstanceProfile;
      const profileName = profile?.Name ?? profile?.Arn?.split('/').pop();
      const lt = await quiet(() => at(w).ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [v.LaunchTemplateId!] })));
      const tags = tagMap(lt?.LaunchTemplates?.[0]?.Tags);
      return { id: v.LaunchTemplateId, tags, ...(profileName ? { instanceRole: `arn:aws:iam::${w.account}:role/${profileName}` } : {}) };
    },
    async elbTags(w, arn) {
      const out = await quiet(() => at(w).elbv2.send(new DescribeElbTagsCommand({ ResourceArns: [arn] })));
      return tagMap(out?.TagDescriptions?.[0]?.Tags);
    },
    async deadLetterSources(w, queueName) {
      const url = (await quiet(() => at(w).sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))))?.QueueUrl;
      if (!url) return [];
      const out = await quiet(() => at(w).sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: url })));
      return (out?.queueUrls ?? []).flatMap((u) => {
        const m = /\/(\d{12})\/([^/?]+)$/.exec(u);
        return m ? [`arn:aws:sqs:${w.region}:${m[1]}:${m[2]}`] : [];
      });
    },
    destroy() {
      for (const c of clients.values()) for (const client of Object.values(c)) client.destroy();
      clients.clear();
    },
  };
}
