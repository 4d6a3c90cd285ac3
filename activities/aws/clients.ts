import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient, type ECSClientConfig } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

/**
 * The one AWS client factory. Credentials come from the SDK's default provider chain (env, profile,
 * IMDS / ECS task role), so the same code runs against real AWS and against the local emulator,
 * which differs only by `endpoint`.
 *
 * Retries are split on purpose: the SDK makes `sdkMaxAttempts` attempts (default 1, i.e. no SDK
 * retries) and Temporal does the retrying. A Temporal retry is durable across worker crashes, shows
 * in the history and the Web UI, uses the workflow's backoff, and is clipped to the drain deadline by
 * the activity's schedule-to-close timeout; an SDK retry loop is invisible and would spend the
 * two-minute budget inside one activity attempt. Socket timeouts are short for the same reason:
 * a hung connection must fail the attempt quickly so the next attempt still fits the deadline.
 */
/** A credentials provider (or static credentials), as every SDK client takes them. */
export type AwsCredentials = NonNullable<ECSClientConfig['credentials']>;

export interface AwsClientOptions {
  region: string;
  /** Endpoint override for every service (the local emulator); unset for real AWS. */
  endpoint?: string;
  /** SDK-level attempts per call; 1 leaves retrying to Temporal. */
  sdkMaxAttempts?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Concurrent sockets per service client; caps how hard one worker can hit one API. */
  maxSockets?: number;
  /** Credentials other than the default chain's (a cluster's assumed role: activities/aws/placement-clients.ts). */
  credentials?: AwsCredentials;
  /** SDK app id in every request's User-Agent (common/aws-app-ids.ts): which fleetops process calls. */
  appId?: string;
}

export interface AwsClients {
  ecs: ECSClient;
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
  sqs: SQSClient;
  /** Postmortems (incidents.postmortemBucket). */
  s3: S3Client;
  destroy(): void;
}

export function createAwsClients(opts: AwsClientOptions): AwsClients {
  const maxSockets = opts.maxSockets ?? 50;
  const common = () => ({
    region: opts.region,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    maxAttempts: opts.sdkMaxAttempts ?? 1,
    ...(opts.appId ? { userAgentAppId: opts.appId } : {}),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: opts.connectionTimeoutMs ?? 3_000,
      requestTimeout: opts.requestTimeoutMs ?? 15_000,
      httpAgent: new Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    }),
  });
  const clients = {
    ecs: new ECSClient(common()),
    ec2: new EC2Client(common()),
    autoscaling: new AutoScalingClient(common()),
    elbv2: new ElasticLoadBalancingV2Client(common()),
    cloudwatch: new CloudWatchClient(common()),
    sqs: new SQSClient(common()),
    // Path-style against an endpoint override (the emulator serves every bucket on one host); real S3 uses virtual-hosted style.
    s3: new S3Client({ ...common(), forcePathStyle: Boolean(opts.endpoint) }),
  };
  return {
    ...clients,
    destroy() {
      for (const c of Object.values(clients)) c.destroy();
    },
  };
}
