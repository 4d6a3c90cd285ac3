import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DEFAULT_ACCOUNT } from '../simulator/events';
import { say, seconds } from './console';
import { DEMO } from './demo-seed/demo';
import { SHOP } from './demo-seed/shop';
import { deployEventsKit } from './events-kit';
import { MEMBER_DEMO, memberRoleArn, seedMemberDemo } from './member-demo';
import { workerRoleSession, type SessionCredentials } from './worker-role';

/** Where the router reads events from and fleetops publishes its own, as the kit's outputs name them. */
export interface EventsPath {
  eventsQueueUrl: string;
  lifecycleQueueUrl: string;
  deadLetterQueueUrl: string;
  commandBusName: string;
}

/**
 * The events path, deployed into the emulator as into an account (and, with two accounts, the member
 * demo with its own kit). A shorter visibility timeout and receive count than the template's defaults
 * (30 s, 5): a message a crashed router held comes back sooner, and an outage longer than
 * maxReceiveCount × visibility (the end-to-end test makes one) takes 15 s, not 150. The router extends
 * a held message's visibility every half timeout (router/sqs-consumer.ts).
 */
export async function deployEventsPath(opts: { endpoint: string; motoUrl: string; region: string; accounts: number }): Promise<{ queues: EventsPath; workerSession: SessionCredentials }> {
  const t = Date.now();
  const cfn = new CloudFormationClient({ region: opts.region, endpoint: opts.endpoint, maxAttempts: 3 });
  try {
    const members: Record<string, string> = opts.accounts === 2 ? { MemberAccountIds: MEMBER_DEMO.account, MemberRoleArns: memberRoleArn } : {};
    // The worker's ECS actions are allowed in the configured clusters only (EcsClusterArns), and it writes
    // postmortems to the configured bucket only (PostmortemBucket): the demo's.
    const clusterArns = [DEMO.cluster, SHOP.cluster].map((c) => `arn:aws:ecs:${opts.region}:${DEFAULT_ACCOUNT}:cluster/${c}`).join(',');
    const clusters = { EcsClusterArns: clusterArns, PostmortemBucket: DEMO.postmortemBucket };
    const kit = await deployEventsKit(cfn, { stackName: 'fleetops', parameters: { VisibilityTimeout: '5', MaxReceiveCount: '3', ...clusters, ...members } });
    // The emulator's own form of the queue URLs (CloudFormation answers with the AWS host name).
    const local = (url: string) => new URL(new URL(url).pathname, opts.endpoint).href;
    const queues = {
      eventsQueueUrl: local(kit.EventsQueueUrl),
      lifecycleQueueUrl: local(kit.LifecycleQueueUrl),
      deadLetterQueueUrl: local(kit.DeadLetterQueueUrl),
      commandBusName: kit.CommandBusName,
    };
    say(`events path: CloudFormation stack fleetops (EventBridge rules → ${queues.eventsQueueUrl}) in ${seconds(Date.now() - t)}`);
    if (opts.accounts === 2) {
      const instances = await seedMemberDemo(opts.endpoint, DEFAULT_ACCOUNT, opts.region);
      say(`member account ${MEMBER_DEMO.account} (${MEMBER_DEMO.region}): kit fleetops-member, cluster ${MEMBER_DEMO.cluster} with ${instances.join(', ')}`);
    }
    // The worker acts as the kit's WorkerRole, as in production (the member kit's trust admits that
    // role only): a session of it, which the stack asks moto for as ECS would hand it to the task.
    const workerSession = await workerRoleSession(opts.motoUrl, kit.WorkerRoleArn);
    return { queues, workerSession };
  } finally {
    cfn.destroy();
  }
}
