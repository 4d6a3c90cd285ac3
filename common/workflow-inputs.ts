import { z } from 'zod';
import { AUTOMATION_KINDS } from './workflow-kinds';
import { ec2InstanceIdSchema } from './aws-ids';
import { INCIDENT_SEVERITIES, type IncidentSeverity } from './incident/severity';
import { isIdentity } from './identity';
import { INSTANCE_ACTIONS } from './interruption';

/**
 * Start arguments and signal payloads of the four workflows, shared by the starters (router, CLI) and
 * the workflows. Zod schemas validate at the edges; workflows import only the inferred types.
 */

// ---- where a workflow's AWS resources live (one fleetops for many accounts; config/placement.ts) ----

/**
 * The account and region an event came from, or a cluster lives in. `member`: the account is not the
 * worker's own, so ids keyed by an AWS name (instance id, alarm name) carry the account
 * (common/workflow-ids.ts). Unset on workflows of a single-account config: their ids and inputs stay
 * as they were.
 */
export const awsPlacementSchema = z
  .object({
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1'),
    member: z.boolean().optional(),
  })
  .strict();

export type AwsPlacement = z.infer<typeof awsPlacementSchema>;

// ---- canary deploy (workflows/canary-deploy/) ----

const taskDefinitionArn = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]+:\d+$/;

const identitySchema = z.string().refine((s): boolean => isIdentity(s), 'must be an identity: slack:<user id>, cli:<user>, token:<name> or person:<name>');

/**
 * Who may approve a deploy, and who asked, as the starter read them from config at the start
 * (common/starts/deploy.ts); the workflow's `approve` validator decides with them alone
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

// ---- spot drain (workflows/spot-drain/): id `drain-<instance-id>`, task queue `fleetops-critical` (common/starts/drain.ts) ----

const isoTimestamp = z.iso.datetime({ offset: true });

/** The ASG lifecycle action a `lifecycle-terminate` event carries; the drain heartbeats and completes it. */
export const drainLifecycleActionSchema = z
  .object({
    hookName: z.string().min(1).max(255),
    asgName: z.string().min(1).max(255),
    actionToken: z.string().min(1).max(255),
  })
  .strict();

/**
 * `drainEvent` signal payload (signal defined in workflows/spot-drain/messages.ts); the router sends one per
 * EventBridge event with signal-with-start. A repeated `eventId` is recorded as a duplicate and ignored.
 * `scale-in` is not an AWS event: the capacity workflow sends it to the drains of the instances it
 * chose to remove. From EC2 state changes: `instance-stopping` (stopping, shutting-down: the instance
 * goes now, drain on the warning deadline) and `instance-gone` (stopped, terminated: signalled to a
 * running drain only, it closes it: its deadline is the event's time). `scheduled-change` is an AWS
 * Health scheduled change (retirement, maintenance) for the instance: replace first, drain on the
 * relaxed deadline or before the change's `startTime` (given as `deadline`), whichever is earlier.
 */
export const DRAIN_EVENT_KINDS = [
  'interruption-warning',
  'rebalance-recommendation',
  'lifecycle-terminate',
  'scale-in',
  'instance-stopping',
  'instance-gone',
  'scheduled-change',
  'instance-running',
] as const;

export { INSTANCE_ACTIONS } from './interruption';

export const drainEventSchema = z
  .object({
    kind: z.enum(DRAIN_EVENT_KINDS),
    instanceId: ec2InstanceIdSchema,
    eventId: z.string().min(1).max(255),
    /** Envelope `time`; an interruption warning's deadline is this + 120 s. */
    eventTime: isoTimestamp,
    /** An explicit deadline the event states; used when earlier than the computed one. */
    deadline: isoTimestamp.optional(),
    lifecycle: drainLifecycleActionSchema.optional(),
    /**
     * interruption-warning, instance-stopping, instance-gone: terminate (the default), or stop /
     * hibernate, after which the instance comes back (`instance-running`, signalled to a running drain
     * only): no permanent replacement, and its container instance is set ACTIVE again on return.
     */
    instanceAction: z.enum(INSTANCE_ACTIONS).optional(),
  })
  .strict()
  .refine((e) => e.kind !== 'lifecycle-terminate' || e.lifecycle !== undefined, {
    message: 'a lifecycle-terminate event needs lifecycle',
    path: ['lifecycle'],
  });

export type DrainEvent = z.infer<typeof drainEventSchema>;
export type DrainEventKind = DrainEvent['kind'];
export type DrainLifecycleAction = z.infer<typeof drainLifecycleActionSchema>;

/** Start argument of `spotDrain`: `[SpotDrainInput]`. The router knows only the instance. */
export const spotDrainInputSchema = z
  .object({
    instanceId: ec2InstanceIdSchema,
    /**
     * Where the event came from (envelope `account` and `region`): the drain looks for the instance
     * only in the clusters placed there, and acts with their clients. Unset (a single-account config,
     * older runs): every configured cluster is searched.
     */
    placement: awsPlacementSchema.optional(),
    /** Record every mutating AWS call (and the capacity request) instead of making it. */
    dryRun: z.boolean().optional(),
  })
  .strict();

export type SpotDrainInput = z.infer<typeof spotDrainInputSchema>;

// ---- drain coordinator (workflows/drain-coordinator/): id `drain-coordinator[-<account>-<region>]`, task queue `fleetops-critical` ----

/** One instance to set DRAINING at once: a two-minute warning, or an instance stopping or shutting down now. */
export const interruptionNoticeSchema = z
  .object({
    instanceId: ec2InstanceIdSchema,
    eventId: z.string().min(1).max(255),
    eventTime: isoTimestamp,
    /** The instance goes at this time; a notice still waiting then is dropped (its drain records the miss). */
    deadline: isoTimestamp,
  })
  .strict();

export type InterruptionNotice = z.infer<typeof interruptionNoticeSchema>;

/** What a coordinator run carries into the next (continue-as-new). */
export const drainCoordinatorCarriedSchema = z
  .object({
    /** Notices taken but not yet sent to AWS. */
    pending: z.array(interruptionNoticeSchema),
    /** Instances already handled, with their deadline: a repeat before then is a duplicate. */
    handled: z.array(z.object({ instanceId: ec2InstanceIdSchema, deadline: isoTimestamp }).strict()),
    counts: z.record(z.string(), z.number().int().nonnegative()),
    paused: z.boolean().optional(),
  })
  .strict();

export type DrainCoordinatorCarried = z.infer<typeof drainCoordinatorCarriedSchema>;

/**
 * Start argument of `drainCoordinator`. `placement`: the account and region whose clusters it sets
 * DRAINING in (unset in a single-account config: every configured cluster).
 */
export const drainCoordinatorInputSchema = z
  .object({
    placement: awsPlacementSchema.optional(),
    carried: drainCoordinatorCarriedSchema.optional(),
    /** Continue as new past this many history events (default 2,000; tests set it low). */
    continueAsNewAfterEvents: z.number().int().min(20).optional(),
  })
  .strict();

export type DrainCoordinatorInput = z.infer<typeof drainCoordinatorInputSchema>;

// ---- launch (workflows/launch/): id `launch-<instance-id>`, task queue `fleetops` (common/starts/launch.ts) ----

/**
 * Start argument of `launch`: an ASG launch lifecycle action for an instance of a managed cluster.
 * The router fills in the cluster (the one whose `asg` pool names the group) and that cluster's
 * settings, so the workflow needs no config.
 */
export const launchInputSchema = z
  .object({
    instanceId: ec2InstanceIdSchema,
    cluster: z.string().min(1).max(255),
    lifecycle: drainLifecycleActionSchema,
    /** Envelope `id` and `time`: the hook held the instance from then. */
    eventId: z.string().min(1).max(255),
    eventTime: isoTimestamp,
    /** From the event's time: ABANDON when the instance is not an ACTIVE container instance by then (capacity.registrationTimeoutSeconds). */
    timeoutSeconds: z.number().int().positive().max(7 * 24 * 3600),
    /** RecordLifecycleActionHeartbeat this often while waiting (drain.lifecycleHeartbeatSeconds), so the hook's own timeout does not decide. */
    heartbeatSeconds: z.number().int().positive().max(7200),
    dryRun: z.boolean().optional(),
  })
  .strict();

export type LaunchInput = z.infer<typeof launchInputSchema>;

// ---- incident (workflows/incident/): ids `incident-alarm-<alarm-name>`, `incident-<slug>-<short-id>`; task queue `fleetops` ----

export const incidentSeveritySchema = z.enum(INCIDENT_SEVERITIES);
export type { IncidentSeverity };

export const incidentTimelineKinds = [
  'opened',
  'alarm',
  'automation',
  'note',
  'status-update',
  'role',
  'checklist',
  'postmortem',
  'control',
  /** Escalated or de-escalated, by whom and why. */
  'severity',
  /** Resolved, then opened again (the alarm fired again while the postmortem was being written). */
  'reopened',
  /** PagerDuty trigger, acknowledge, resolve. */
  'paging',
] as const;

/** One timeline line. The timeline is append-only; the postmortem shows it sorted by `time`. */
export const incidentTimelineEntrySchema = z
  .object({
    time: isoTimestamp,
    /** A person, "router", or the id of the workflow that reported it. */
    author: z.string().min(1).max(255),
    kind: z.enum(incidentTimelineKinds),
    text: z.string().min(1).max(4000),
  })
  .strict();

export type IncidentTimelineEntry = z.infer<typeof incidentTimelineEntrySchema>;
export type IncidentTimelineKind = IncidentTimelineEntry['kind'];

/** Who opened the incident. */
export const incidentSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('alarm'), alarmName: z.string().min(1).max(255), eventId: z.string().max(255).optional() }).strict(),
  /** A `fleetops` / `Incident Declared` event. */
  z.object({ kind: z.literal('event'), eventId: z.string().min(1).max(255), by: z.string().max(255).optional() }).strict(),
  z.object({ kind: z.literal('cli'), by: z.string().min(1).max(255) }).strict(),
  /** A person in chat (`/fleetops incident <sev> <title>` in Slack); `by` is `slack:<user id>`. */
  z.object({ kind: z.literal('chat'), by: z.string().min(1).max(255), channel: z.string().max(255).optional() }).strict(),
  /** Another workflow (a drain that missed its deadline, a failed rollback). */
  z.object({ kind: z.literal('workflow'), workflowId: z.string().min(1).max(1000), workflowKind: z.enum(AUTOMATION_KINDS) }).strict(),
]);

export type IncidentSource = z.infer<typeof incidentSourceSchema>;

/** Start argument of `incident`: `[IncidentInput]`. */
export const incidentInputSchema = z
  .object({
    title: z.string().min(1).max(200),
    severity: incidentSeveritySchema,
    summary: z.string().max(4000).optional(),
    source: incidentSourceSchema,
    /** On-call from the event; the severity's `onCall` from config when unset. */
    onCall: z.string().min(1).max(255).optional(),
    /** Entries known before the start (e.g. what the CLI user already wrote down). */
    timeline: z.array(incidentTimelineEntrySchema).max(200).optional(),
    /** Record notifications, postmortem writes and GitHub filings in status instead of making them (drills). */
    dryRun: z.boolean().optional(),
  })
  .strict();

export type IncidentInput = z.infer<typeof incidentInputSchema>;

/** `alarmEvent` signal payload: a CloudWatch Alarm State Change routed to an incident. A repeated `eventId` is ignored. */
export const incidentAlarmEventSchema = z
  .object({
    alarmName: z.string().min(1).max(255),
    state: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
    reason: z.string().max(4000),
    time: isoTimestamp,
    eventId: z.string().min(1).max(255),
  })
  .strict();

export type IncidentAlarmEvent = z.infer<typeof incidentAlarmEventSchema>;

/** `incidentFacts` signal payload: what an automation workflow knows, added to the timeline once per `key`. */
export const incidentFactsSchema = z
  .object({
    key: z.string().min(1).max(255),
    entries: z.array(incidentTimelineEntrySchema).min(1).max(50),
  })
  .strict();

export type IncidentFacts = z.infer<typeof incidentFactsSchema>;

// ---- capacity (workflows/capacity/; start options in common/starts/capacity.ts): id `capacity-<cluster>`, task queue `fleetops` ----

/** Start argument of `capacity`: `[CapacityInput]`. One long-running workflow per cluster. */
export const capacityInputSchema = z
  .object({
    cluster: z.string().min(1).max(255),
    /** The cluster's account and region (set in a many-account config): the drains of its scale-ins carry it. */
    placement: awsPlacementSchema.optional(),
    /** Record every mutating AWS call (CreateFleet, ModifySpotFleetRequest, ...) instead of making it. */
    dryRun: z.boolean().optional(),
  })
  .strict();

export type CapacityInput = z.infer<typeof capacityInputSchema>;

/** Who asked for capacity: an alarm route (router), a drain wanting a replacement, or an operator. */
export const capacitySourceSchema = z
  .object({
    kind: z.enum(['alarm', 'drain', 'cli']),
    alarmName: z.string().min(1).max(255).optional(),
    /** For `drain`: the instance being replaced (not counted as capacity while it drains). */
    instanceId: ec2InstanceIdSchema.optional(),
    /** Envelope `id` or another idempotency key: a repeated eventId is recorded once. */
    eventId: z.string().min(1).max(255).optional(),
  })
  .strict();

/**
 * `capacityRequest` signal payload (signal defined in workflows/capacity/messages.ts). Requests that arrive
 * together coalesce into one plan; `force` skips the cooldown and lets scale-in pick instances that
 * run standalone tasks.
 */
export const capacityRequestSchema = z
  .object({
    direction: z.enum(['out', 'in']),
    units: z.number().int().positive().max(10_000),
    reason: z.string().min(1).max(1000),
    source: capacitySourceSchema,
    force: z.boolean().optional(),
  })
  .strict();

export type CapacityRequest = z.infer<typeof capacityRequestSchema>;
export type CapacitySource = z.infer<typeof capacitySourceSchema>;
