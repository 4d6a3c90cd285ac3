import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ec2InstanceIdSchema } from '../common/aws-ids';

/**
 * `.run/stack.json`, exactly the shape docs/contract.md gives (Ports and the local stack): what a user (or the CLI, or a test) needs to talk
 * to a running local stack. Strict, so a field added here without changing docs/contract.md fails the test.
 */
export const stackFileSchema = z
  .object({
    temporal: z.object({ address: z.string().min(1), namespace: z.string().min(1), ui: z.url() }).strict(),
    /**
     * The emulator and the kit's events path: the events queue (EventBridge rules), the lifecycle queue
     * (ASG lifecycle notifications sent straight to SQS), their dead-letter queue, and the command bus
     * (PutEvents fleetops' own Deploy Requested, Release Requested and Incident Declared with this EventBusName).
     */
    aws: z
      .object({
        endpoint: z.url(),
        region: z.string().min(1),
        eventsQueueUrl: z.url(),
        lifecycleQueueUrl: z.url(),
        deadLetterQueueUrl: z.url(),
        commandBusName: z.string().min(1),
      })
      .strict(),
    /**
     * The router's internal listener and two tokens: `token` (FLEETOPS_ROUTER_TOKEN: deploy and
     * incident) and `awsEventsToken` (the aws-events scope: AWS-source envelopes over HTTP, as a
     * replay or a test would post them; they normally arrive through the events queue). `urls`: every
     * router's listener (FLEETOPS_STACK_ROUTERS), all consuming the same queues; `url` is the first.
     */
    router: z.object({ url: z.url(), urls: z.array(z.url()).min(1), token: z.string().min(16), awsEventsToken: z.string().min(16) }).strict(),
    demo: z
      .object({
        cluster: z.string().min(1),
        service: z.string().min(1),
        instances: z.array(ec2InstanceIdSchema).min(1),
        alarms: z.object({ scaleOut: z.string().min(1), scaleIn: z.string().min(1), incident: z.string().min(1) }).strict(),
      })
      .strict(),
    /**
     * The Slack app: its listener (POST <url>/slack/events), the secret its requests are signed with,
     * the Web API stand-in's record (GET), the workspace it serves (requests must carry this team id),
     * and two demo people's user ids: one who may deploy demo/web from Slack and one who may approve it.
     */
    slack: z
      .object({
        url: z.url(),
        signingSecret: z.string().min(16),
        messagesUrl: z.url(),
        teamId: z.string().regex(/^T[A-Z0-9]{2,}$/),
        users: z.object({ deployer: z.string().regex(/^[UW][A-Z0-9]{2,}$/), approver: z.string().regex(/^[UW][A-Z0-9]{2,}$/) }).strict(),
      })
      .strict(),
    /** The stack's Prometheus (FLEETOPS_STACK_PROMETHEUS=1 only): its HTTP API and UI, the data source the dashboards take. */
    prometheus: z.object({ url: z.url() }).strict().optional(),
  })
  .strict();

export type StackFile = z.infer<typeof stackFileSchema>;

/** Written atomically: a reader polling for the file never sees half of it. */
export function writeStackFile(path: string, file: StackFile): void {
  const checked = stackFileSchema.parse(file);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function readStackFile(path: string): StackFile {
  return stackFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}
