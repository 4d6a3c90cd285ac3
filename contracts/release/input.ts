import { z } from 'zod';
import { RELEASE_ID_PATTERN } from '../../common/workflow-ids';
import { deployApprovalSchema } from '../canary-deploy/input';
import { awsPlacementSchema } from '../shared';

/**
 * The release's request and start argument (workflows/release/): one change deployed to many services
 * in waves, each service through its own canary deploy. Zod schemas validate at the edges (router,
 * CLI); the workflow imports only the inferred types.
 */

const clusterName = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS cluster name');
const serviceName = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS service name');
const taskDefinitionArn = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]+:\d+$/;

export const releaseIdSchema = z.string().regex(RELEASE_ID_PATTERN, 'must be 1-100 letters, digits, . _ or -, starting with a letter or digit');

/** `"10%"`: a share of the release's services, more than 0 and at most 100. */
const percent = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,2})?%$/, 'must be a count or a percentage such as "25%"')
  .refine((p) => Number(p.slice(0, -1)) > 0 && Number(p.slice(0, -1)) <= 100, 'must be more than 0% and at most 100%');

/**
 * One wave of the shape: a number is how many services the wave takes; a percentage is the share of
 * all the release's services deployed once the wave is over (so `"100%"` is the rest). The last wave
 * always takes the rest.
 */
export const waveSizeSchema = z.union([z.number().int().min(1).max(10_000), percent]);
export type WaveSize = z.infer<typeof waveSizeSchema>;

/** Rollbacks (and refusals) a wave tolerates before the release halts: a count, or a share of the wave's services. */
export const failureBudgetSchema = z.union([z.number().int().min(0).max(10_000), percent]);
export type FailureBudget = z.infer<typeof failureBudgetSchema>;

/** Which configured services get one image: every condition given must hold. */
export const releaseSelectorSchema = z
  .object({
    cluster: clusterName.optional(),
    /** A service name glob: `*` any run of characters, `?` one (`api-*`). */
    service: z.string().regex(/^[A-Za-z0-9_*?-]{1,255}$/, 'must be a service name glob of letters, digits, _, -, * and ?').optional(),
    /** `key=value`: the service's `tags` in the config. */
    tag: z.string().regex(/^[A-Za-z0-9_.-]{1,64}=[A-Za-z0-9_.:/-]{0,128}$/, 'must be key=value').optional(),
    image: z.string().min(1).max(1024),
  })
  .strict();

export type ReleaseSelector = z.infer<typeof releaseSelectorSchema>;

const releaseShape = {
  /** The release's own id: its workflow is `release-<id>`. */
  id: releaseIdSchema,
  /** What changes, in a line (the Web UI's summary, notifications). */
  change: z.string().trim().min(1).max(200),
  waves: z.array(waveSizeSchema).min(1).max(20).optional(),
  /** Deploys running at once within a wave, and on one cluster. */
  maxConcurrent: z.number().int().min(1).max(100).optional(),
  maxPerCluster: z.number().int().min(1).max(100).optional(),
  /** Default 0: any rollback halts the release. */
  failureBudget: failureBudgetSchema.optional(),
  /** A service whose deploy id is taken by a deploy running outside the release: wait for it (default) or skip the service. */
  onBusy: z.enum(['wait', 'skip']).optional(),
  /** Who asked: `cli:<user>`, `slack:<user id>`, `token:<name>`, or an event's requestedBy. */
  requestedBy: z.string().min(1).max(255).optional(),
  dryRun: z.boolean().optional(),
};

/**
 * What someone asks for (`fleetops release start`, a `Release Requested` event): a manifest, per cluster
 * service → image (or task definition ARN), or one image for the configured services a selector picks.
 */
export const releaseRequestSchema = z
  .object({
    ...releaseShape,
    manifest: z.record(clusterName, z.record(serviceName, z.string().min(1).max(1024))).optional(),
    selector: releaseSelectorSchema.optional(),
  })
  .strict()
  .refine((r) => (r.manifest === undefined) !== (r.selector === undefined), { message: 'set exactly one of manifest or selector', path: ['manifest'] });

export type ReleaseRequest = z.infer<typeof releaseRequestSchema>;

/** One service of a release, as its deploy will be started. */
export const releaseTargetSchema = z
  .object({
    cluster: clusterName,
    service: serviceName,
    image: z.string().min(1).max(1024).optional(),
    taskDefinition: z.string().regex(taskDefinitionArn, 'must be a task definition ARN').optional(),
    /** Index into the input's `approvals`: who may approve this service's deploy (from config; shared by services with the same approvers). */
    approval: z.number().int().min(0).optional(),
    placement: awsPlacementSchema.optional(),
  })
  .strict()
  .refine((t) => (t.image === undefined) !== (t.taskDefinition === undefined), { message: 'set exactly one of image or taskDefinition', path: ['image'] });

export type ReleaseTarget = z.infer<typeof releaseTargetSchema>;

/** The release's start argument: the request resolved against the config (contracts/release/request.ts). */
export const releaseInputSchema = z
  .object({
    ...releaseShape,
    /** In the order they are deployed: waves take them from the front. */
    targets: z.array(releaseTargetSchema).min(1).max(2_000),
    approvals: z.array(deployApprovalSchema).max(2_000),
    /** How often services the release cannot await as its children (a running deploy it waits for, deploys of an earlier run) and freezes are looked at again. */
    pollSeconds: z.number().int().min(1).max(3_600).optional(),
    /** Continue as new past this many history events (tests set it low). */
    continueAsNewAfterEvents: z.number().int().min(50).optional(),
  })
  .strict();

export type ReleaseInput = z.infer<typeof releaseInputSchema>;
