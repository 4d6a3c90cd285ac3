import { z } from 'zod';
import { isIdentity } from '../../common/identity';

/**
 * The canary deploy's start argument and signal payloads (workflows/canary-deploy/), shared by the
 * starters (router, CLI, Slack) and the workflow. Zod schemas validate at the edges; the workflow
 * imports only the inferred types.
 */

const taskDefinitionArn = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]+:\d+$/;

const identitySchema = z.string().refine((s): boolean => isIdentity(s), 'must be an identity: slack:<user id>, cli:<user>, token:<name> or person:<name>');

/**
 * Who may approve a deploy, and who asked, as the starter read them from config at the start
 * (start.ts, request.ts); the workflow's `approve` validator decides with them alone
 * (workflows/canary-deploy/approval.ts).
 */
export const deployApprovalSchema = z
  .object({
    /**
     * The service's approvers: each person with every identity the config's `people` table gives them
     * (a Slack approver no person claims is a person of one identity), and the Slack user groups whose
     * members may approve (membership is checked by the Slack app at the click, which says through which
     * group). Unset: the config names no approvers for the service, and anyone but the requester may approve.
     */
    approvers: z
      .object({
        people: z.array(z.object({ name: z.string().min(1).max(64).optional(), identities: z.array(identitySchema).min(1).max(20) }).strict()).max(200),
        groups: z.array(z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id')).max(50),
      })
      .strict()
      .optional(),
    /** Every identity of the requester (the `people` table's), so they cannot approve from another channel. */
    requester: z.array(z.string().min(1).max(255)).min(1).max(20).optional(),
  })
  .strict();

export type DeployApproval = z.infer<typeof deployApprovalSchema>;

/** Who approved the release wave a deploy belongs to (or asked for its rollback), and the release. */
export const releaseApprovalSchema = z
  .object({
    /** The release's workflow id, `release-<id>`. */
    release: z.string().min(1).max(255),
    /** The wave (1-based) the approval was given for; 0 for a rollback of what the release promoted. */
    wave: z.number().int().min(0),
    by: z.string().min(1).max(255),
    viaGroup: z.string().min(1).max(64).optional(),
    reason: z.string().max(2000).optional(),
  })
  .strict();

export type ReleaseApproval = z.infer<typeof releaseApprovalSchema>;

const deployRequestShape = {
  cluster: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS cluster name'),
  service: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS service name'),
  /** New image: the deploy registers a revision of the service's current task definition with it. */
  image: z.string().min(1).max(1024).optional(),
  /** An already registered task definition revision to deploy. */
  taskDefinition: z.string().regex(taskDefinitionArn, 'must be a task definition ARN').optional(),
  /** Who asked: `cli:<user>`, `slack:<user id>`, `token:<name>`, or a `Deploy Requested` event's requestedBy as given. */
  requestedBy: z.string().min(1).max(255).optional(),
  /** Deploy even while a sev1/sev2 incident is open for the cluster. */
  force: z.boolean().optional(),
  dryRun: z.boolean().optional(),
};

const exactlyOne = <T extends { image?: string; taskDefinition?: string }>(d: T) => (d.image === undefined) !== (d.taskDefinition === undefined);
const exactlyOneMessage = { message: 'set exactly one of image or taskDefinition', path: ['image'] };

/**
 * What someone asks for: a `Deploy Requested` event's detail, the CLI's and Slack's deploy. No
 * `approval`: who may approve comes from config, never from the request.
 */
export const deployRequestSchema = z.object(deployRequestShape).strict().refine(exactlyOne, exactlyOneMessage);

export type DeployRequest = z.infer<typeof deployRequestSchema>;

/** The canary deploy's start argument: the request and, from config, who may approve it. */
export const deployInputSchema = z
  .object({
    ...deployRequestShape,
    /**
     * Wait at a human gate before promotion even when the service's plan has none (preflight adds one
     * before the plan's promote step): deploys started from chat always do.
     */
    requireGate: z.boolean().optional(),
    /** Set by the starters from config (unset in runs started before it existed: anyone but the requester approves). */
    approval: deployApprovalSchema.optional(),
    /**
     * Set only by a release (workflows/release/) on the deploys it starts: the person who approved the
     * release's wave, checked there against this deploy's `approval` as the gate's `approve` would be.
     * The deploy's gates pass with it instead of waiting; an inconclusive analysis still waits.
     */
    releaseApproval: releaseApprovalSchema.optional(),
  })
  .strict()
  .refine(exactlyOne, exactlyOneMessage);

export type DeployInput = z.infer<typeof deployInputSchema>;

/**
 * `ecsEvent` signal payload: the facts of an EventBridge `ECS Deployment State Change` or
 * `ECS Service Action` event that the router forwards to a running deploy.
 */
export const deployEcsEventSchema = z
  .object({
    detailType: z.enum(['ECS Deployment State Change', 'ECS Service Action']),
    /** detail.eventName, e.g. SERVICE_DEPLOYMENT_FAILED, SERVICE_TASK_START_IMPAIRED. */
    eventName: z.string().min(1),
    /** detail.eventType: INFO, WARN or ERROR. */
    eventType: z.string().optional(),
    /** Envelope `resources`: the service ARN(s) the event is about. */
    resources: z.array(z.string()),
    /** Envelope `time`. */
    time: z.string(),
    deploymentId: z.string().optional(),
    reason: z.string().optional(),
    /** Envelope `id`, so a redelivered event is recorded once. */
    eventId: z.string().optional(),
  })
  .strict();

export type DeployEcsEvent = z.infer<typeof deployEcsEventSchema>;
