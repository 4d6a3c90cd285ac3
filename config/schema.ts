import { z } from 'zod';
import { WORKFLOW_KINDS } from '../common/workflow-kinds';
import { INCIDENT_SEVERITIES, type IncidentSeverity } from '../common/incident/severity';
import { routerSchema } from './router';
import { isImageRepository } from '../common/images';
import { resolveSecret, secretEnv, secretFile, secretValue } from './secrets';

/**
 * `fleetops.yaml`, validated once at start (docs/contract.md, Config). Every process and workflow input
 * that depends on config reads these types; a field added here is documented in
 * config/demo.fleetops.yaml, which the local stack runs.
 */

const seconds = z.number().int().nonnegative();
const positiveSeconds = z.number().int().positive();
const name = z.string().min(1).max(255);
const regionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1');
const accountSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
/** IAM role ARN (the IAM User Guide's "IAM identifiers": path and name of [\w+=,.@-]). */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

export const awsSchema = z
  .object({
    region: regionSchema,
    /**
     * The worker's own account. Needed once a cluster names a roleArn (many accounts): events are then
     * routed by account, and clusters without a roleArn live in this one. Unset in a single-account
     * config, where events are not checked by account.
     */
    account: accountSchema.optional(),
    /** Endpoint override for every service (the local emulator); omit for real AWS. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** SDK-level attempts per call; retries beyond this are Temporal's (see activities/aws/clients.ts). */
    sdkMaxAttempts: z.number().int().min(1).max(10).default(1),
  })
  .strict();

export const temporalSchema = z
  .object({
    address: z.string().min(1).default('127.0.0.1:7233'),
    namespace: z.string().min(1).default('default'),
    /** Base URL of the Web UI, used for links in notifications. */
    uiUrl: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8233'),
  })
  .strict();

const instanceTypeOverride = z
  .object({
    instanceType: z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'must be an instance type such as m5.large'),
    subnetId: z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id').optional(),
    availabilityZone: z.string().optional(),
    /** Capacity units one instance of this type provides. */
    weight: z.number().positive().default(1),
  })
  .strict();

const launchTemplateRef = z
  .object({
    id: z.string().regex(/^lt-[0-9a-f]+$/, 'must be a launch template id').optional(),
    name: z.string().optional(),
    version: z.string().default('$Latest'),
  })
  .strict()
  .refine((v) => Boolean(v.id) !== Boolean(v.name), { message: 'set exactly one of id or name' });

const poolCommon = {
  name,
  /** How long a request may take to deliver instances before the next pool is tried. */
  fulfilmentTimeoutSeconds: positiveSeconds.default(120),
  maxCapacity: z.number().int().nonnegative().optional(),
};

export const ec2FleetPoolSchema = z
  .object({
    ...poolCommon,
    kind: z.literal('ec2-fleet'),
    market: z.enum(['spot', 'on-demand']).default('spot'),
    launchTemplate: launchTemplateRef,
    overrides: z.array(instanceTypeOverride).min(1),
  })
  .strict();

export const spotFleetPoolSchema = z
  .object({
    ...poolCommon,
    kind: z.literal('spot-fleet'),
    /** An existing Spot Fleet request (type `maintain`) whose target capacity fleetops moves. */
    spotFleetRequestId: z.string().regex(/^sfr-[0-9a-f-]+$/, 'must be a Spot Fleet request id'),
    allocationStrategy: z.enum(['lowestPrice', 'diversified', 'capacityOptimized', 'priceCapacityOptimized']).default('lowestPrice'),
  })
  .strict();

export const asgPoolSchema = z
  .object({
    ...poolCommon,
    kind: z.literal('asg'),
    market: z.enum(['spot', 'on-demand']).default('on-demand'),
    autoScalingGroupName: name,
    /**
     * Scale-in may lower the group's MinSize to take out a drained instance the minimum would keep.
     * Off: instances the minimum keeps are not chosen, and a removal the minimum refuses is reported.
     */
    lowerMinSizeOnScaleIn: z.boolean().default(false),
  })
  .strict();

export const poolSchema = z.discriminatedUnion('kind', [ec2FleetPoolSchema, spotFleetPoolSchema, asgPoolSchema]);

export const clusterSchema = z
  .object({
    /** The cluster's region; aws.region when unset. */
    region: regionSchema.optional(),
    /**
     * A role in the cluster's account that the worker assumes (STS AssumeRole) for every call on this
     * cluster; unset for a cluster in the worker's own account. The role's account is the cluster's.
     */
    roleArn: z.string().regex(ROLE_ARN, 'must be an IAM role ARN such as arn:aws:iam::123456789012:role/fleetops-member').optional(),
    /**
     * The ECS cluster's name in its account, when it is not the config name: two accounts' clusters
     * may share an ECS name (`prod`) under two config names (ids and FleetopsCluster use the config name).
     */
    ecsClusterName: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be an ECS cluster name').optional(),
    /** The external id the member role's trust policy asks for (sts:ExternalId), when it asks for one. */
    externalId: z
      .string()
      .regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2-1224 characters of letters, digits and +=,.@:/-')
      .optional(),
    /** Capacity pools in the order scale-out tries them (spot first, on-demand last). */
    pools: z.array(poolSchema).min(1),
    /** Capacity units per instance type, for pools whose overrides do not say. */
    instanceWeights: z.record(z.string(), z.number().positive()).default({}),
    capacity: z
      .object({
        minUnits: z.number().int().nonnegative().default(0),
        maxUnits: z.number().int().positive().default(100),
        /** Units one scale-out or scale-in alarm asks for. */
        stepUnits: z.number().int().positive().default(1),
        cooldownSeconds: seconds.default(300),
        /** How long a pool that failed to deliver is skipped. */
        unavailableTtlSeconds: positiveSeconds.default(180),
        /** How often on-demand capacity is checked for a move back to spot. */
        returnToSpotEverySeconds: positiveSeconds.default(600),
        /** How long new instances may take to boot and become ACTIVE container instances. */
        registrationTimeoutSeconds: positiveSeconds.default(600),
        /** AWS calls failing this long (the workflow retries them on its own timer): one notification. */
        errorNotifyAfterSeconds: positiveSeconds.default(120),
        /** AWS calls failing this long with requests pending: an incident (capacity cannot make progress). */
        errorIncidentAfterSeconds: positiveSeconds.default(900),
      })
      .strict()
      .prefault({}),
    drain: z
      .object({
        /** Stop standalone (non-service) tasks and run them again elsewhere with the same definition and group. */
        rerunStandaloneTasks: z.boolean().default(true),
        /** Deadline after a rebalance recommendation (there is no two-minute warning yet), and for a scale-in drain. */
        rebalanceDeadlineSeconds: positiveSeconds.default(600),
        /** Deadline for an ASG terminate lifecycle action, before the hook's heartbeat timeout matters. */
        lifecycleDeadlineSeconds: positiveSeconds.default(900),
        /** How often a lifecycle action is heartbeaten while draining; below the hook's heartbeat timeout. */
        lifecycleHeartbeatSeconds: positiveSeconds.default(60),
        /**
         * Disruption budget: at most this many container instances of the cluster DRAINING at once
         * before a voluntary drain (rebalance, scale-in, scheduled change) may start its own; it waits
         * its turn until its deadline. Two-minute warnings are never held back (they count, though).
         * Karpenter's disruption budgets are the model. Default 2 (DEFAULT_VOLUNTARY_DRAIN_BUDGET).
         */
        voluntaryDrainBudget: z.number().int().positive().optional(),
        /** No longer used (accepted so existing files stay valid): fleetops never changes a target group's deregistration delay. */
        maxDeregistrationDelaySeconds: seconds.default(30),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const canaryStep = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('setWeight'), weight: z.number().int().min(0).max(100) }).strict(),
  z.object({ kind: z.literal('bake'), seconds: positiveSeconds }).strict(),
  z.object({ kind: z.literal('gate'), timeoutSeconds: positiveSeconds.optional() }).strict(),
  z.object({ kind: z.literal('promote') }).strict(),
]);

const metricCheck = z
  .object({
    name,
    namespace: z.string().min(1),
    metricName: z.string().min(1),
    stat: z.string().default('Sum'),
    /** Dimensions of the canary's metric; `{canary}` and `{stable}` in values are replaced by service names. */
    dimensions: z.record(z.string(), z.string()).default({}),
    periodSeconds: positiveSeconds.default(60),
    /** Fails when the value is above this. */
    maxValue: z.number().optional(),
    /** Fails when canary exceeds stable by more than this factor (compared against the same metric for stable). */
    maxRatioToStable: z.number().positive().optional(),
  })
  .strict()
  .refine((m) => m.maxValue !== undefined || m.maxRatioToStable !== undefined, {
    message: 'set maxValue or maxRatioToStable',
  });

export const serviceSchema = z
  .object({
    cluster: name,
    name,
    /**
     * The image repositories the service may run, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/web`
     * (no tag, no digest). An image deploy whose repository is not one of them, compared whole, is refused
     * on every path before any AWS call (common/images.ts). Unset: image deploys are refused; a task
     * definition deploy is allowed (and, with the list set, its containers' images are checked too).
     */
    images: z
      .array(z.string().refine(isImageRepository, 'must be an image repository in lower case, without tag or digest, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/web'))
      .min(1)
      .max(50)
      .optional(),
    canary: z
      .object({
        steps: z.array(canaryStep).min(1).default([
          { kind: 'setWeight', weight: 10 },
          { kind: 'bake', seconds: 300 },
          { kind: 'setWeight', weight: 50 },
          { kind: 'bake', seconds: 300 },
          { kind: 'promote' },
        ]),
        /** CloudWatch alarms that must stay OK while baking. */
        alarms: z.array(z.string().min(1)).default([]),
        metricChecks: z.array(metricCheck).default([]),
        analysisIntervalSeconds: positiveSeconds.default(60),
        /** Failed metric measurements tolerated during a deploy; one more fails the canary (Argo's failureLimit). */
        failureLimit: z.number().int().nonnegative().default(1),
        /** How long an inconclusive analysis waits for a human. */
        inconclusiveTimeoutSeconds: positiveSeconds.default(1800),
        gateTimeoutSeconds: positiveSeconds.default(3600),
        gateTimeoutAction: z.enum(['rollback', 'promote']).default('rollback'),
        /** Container whose image an image deploy replaces; the task definition's only container when unset. */
        container: name.optional(),
        /** How long promotion waits for the main service's ECS deployment to complete before rolling back. */
        promoteTimeoutSeconds: positiveSeconds.default(1800),
        /**
         * After promotion, how long the main service bakes on the new revision under the same alarms and
         * checks (ratio-to-stable checks have no stable left to compare with and are skipped); a failure
         * rolls it back to the previous revision. 0 ends the deploy at promotion.
         */
        postPromotionBakeSeconds: seconds.default(300),
        /**
         * How often the canary's and the main service's ECS deployments are described while waiting on
         * them. ECS Deployment State Change events end a wait sooner when the router receives them.
         */
        servicePollSeconds: positiveSeconds.default(10),
        /** ALB listener rule with weighted stable/canary target groups; without it canary size approximates the weight. */
        listenerRule: z
          .object({
            ruleArn: z.string().startsWith('arn:'),
            stableTargetGroupArn: z.string().startsWith('arn:'),
            canaryTargetGroupArn: z.string().startsWith('arn:'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const alarmRouteSchema = z
  .object({
    /** Matches an alarm by exact name or by name prefix; exactly one. */
    alarmName: z.string().min(1).optional(),
    alarmPrefix: z.string().min(1).optional(),
    action: z.enum(['scale-out', 'scale-in', 'incident']),
    /**
     * The cluster a scale route scales (required there). On an incident route, optional: the incident
     * is tagged FleetopsCluster=<cluster>, and while a sev1/sev2 one is open, deploys to it are refused.
     */
    cluster: name.optional(),
    severity: z.enum(INCIDENT_SEVERITIES).optional(),
    /** Units for scale-out/scale-in; the cluster's stepUnits when unset. */
    units: z.number().int().positive().optional(),
  })
  .strict()
  .refine((r) => Boolean(r.alarmName) !== Boolean(r.alarmPrefix), { message: 'set exactly one of alarmName or alarmPrefix' })
  .refine((r) => r.action === 'incident' || Boolean(r.cluster), { message: 'scale-out and scale-in routes need a cluster', path: ['cluster'] })
  .refine((r) => r.action !== 'incident' || Boolean(r.severity), { message: 'incident routes need a severity', path: ['severity'] });

export const severitySchema = z
  .object({
    /** Minutes between status-update reminders while the incident is open. */
    statusUpdateEveryMinutes: positiveSeconds,
    /** Business days after resolution until the postmortem is due. */
    postmortemDueBusinessDays: z.number().int().positive().default(5),
    /** Hours between nudges once the postmortem is due, before escalation. */
    nudgeEveryHours: positiveSeconds.default(24),
    escalateAfterNudges: z.number().int().positive().default(2),
    onCall: z.string().optional(),
    /**
     * Hours between reminders to the commander to hold the postmortem review (the team's SRE meeting),
     * from the day the postmortem is due until the review is marked held. Set: the incident closes only
     * after its review is held. Unset: no review step.
     */
    reviewReminderEveryHours: positiveSeconds.optional(),
    requireCommanderToMitigate: z.boolean().default(false),
    requireRootCause: z.boolean().default(false),
    checklist: z
      .object({
        response: z.array(z.string().min(1)).min(1),
        postmortem: z.array(z.string().min(1)).min(1),
      })
      .strict(),
  })
  .strict();

export const incidentsSchema = z
  .object({
    severities: z
      .object({ sev1: severitySchema, sev2: severitySchema, sev3: severitySchema, sev4: severitySchema } satisfies Record<IncidentSeverity, typeof severitySchema>)
      .strict(),
    /**
     * Where rendered postmortems are written when no postmortemBucket is set: a local directory of the
     * worker that closes the incident (development only: a container loses it at its next restart).
     */
    postmortemDir: z.string().min(1).default('.run/postmortems'),
    /** S3 bucket the closed postmortems are stored in (durable; the worker needs s3:PutObject on it). */
    postmortemBucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)')
      .optional(),
    /** Key prefix in postmortemBucket; the key is `<prefix><date>-<slug>.md`. */
    postmortemPrefix: z
      .string()
      .max(512)
      .regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, 'must be empty or end with / (e.g. postmortems/)')
      .default('postmortems/'),
    github: z
      .object({
        repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name'),
        /**
         * The token: a `${ENV_VAR}` reference (token), or a file holding it (tokenFile); never the
         * token itself. With neither, the env var named by tokenEnv (default GITHUB_TOKEN) is read
         * when filing, and filing is off while it is unset.
         */
        token: secretValue.optional(),
        tokenFile: secretFile.optional(),
        tokenEnv: z.string().min(1).default('GITHUB_TOKEN'),
        /** https, or http to a loopback address only (a token must not travel in clear). */
        apiUrl: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
        /** Repository the closed postmortem is proposed to as a pull request (`postmortems/<date>-<slug>.md`); repo when unset. */
        postmortemRepo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name').optional(),
        /** Branch the pull request targets; the repository's default branch when unset. */
        postmortemBaseBranch: z.string().min(1).max(255).optional(),
      })
      .strict()
      .transform((g, ctx) => {
        const url = new URL(g.apiUrl);
        if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
          ctx.addIssue({ code: 'custom', path: ['apiUrl'], message: 'must be https (http only to a loopback address): the token would travel in clear' });
        }
        const token = resolveSecret(g, 'token', ctx, { literal: false, required: false });
        return {
          repo: g.repo,
          apiUrl: g.apiUrl,
          tokenEnv: g.tokenEnv,
          postmortemRepo: g.postmortemRepo ?? g.repo,
          ...(g.postmortemBaseBranch !== undefined ? { postmortemBaseBranch: g.postmortemBaseBranch } : {}),
          ...(token !== undefined ? { token } : {}),
        };
      })
      .optional(),
    /**
     * PagerDuty Events API v2: incidents of the listed severities page the service behind the routing
     * key (trigger at open, acknowledge when a commander is assigned, resolve when resolved; dedup key
     * = the workflow id). Off when unset.
     */
    pagerduty: z
      .object({
        /** The integration's routing key as a `${ENV_VAR}` reference, or routingKeyFile; never the key itself. */
        routingKey: secretValue.optional(),
        routingKeyFile: secretFile.optional(),
        severities: z.array(z.enum(INCIDENT_SEVERITIES)).min(1).default(['sev1', 'sev2']),
        /** https, or http to a loopback address only (the routing key travels in the body). */
        eventsUrl: z.url({ protocol: /^https?$/ }).default('https://events.pagerduty.com/v2/enqueue'),
      })
      .strict()
      .transform((p, ctx) => {
        const url = new URL(p.eventsUrl);
        if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
          ctx.addIssue({ code: 'custom', path: ['eventsUrl'], message: 'must be https (http only to a loopback address): the routing key would travel in clear' });
        }
        const routingKey = resolveSecret(p, 'routingKey', ctx, { literal: false, required: true });
        return { routingKey: routingKey ?? '', severities: p.severities, eventsUrl: p.eventsUrl };
      })
      .optional(),
  })
  .strict();

export const webhookSchema = z
  .object({
    name,
    /** The URL, or a `${ENV_VAR}` reference to it (webhook URLs are credentials); or urlFile. */
    url: secretValue.optional(),
    urlFile: secretFile.optional(),
    /** Kinds of workflow whose notifications go to this hook; all when unset. */
    kinds: z.array(z.enum(WORKFLOW_KINDS)).optional(),
  })
  .strict()
  .transform((h, ctx) => {
    const url = resolveSecret(h, 'url', ctx, { literal: true, required: true });
    if (url !== undefined && !isHttpUrl(url)) {
      // The value is not echoed: it may be a credential, or a token put in the wrong place.
      const field = h.urlFile !== undefined ? 'urlFile' : 'url';
      const what = field === 'urlFile' ? 'the content of urlFile' : h.url?.startsWith('${') ? `the value of ${h.url}` : 'the value';
      ctx.addIssue({ code: 'custom', path: [field], message: `${what} is not an http(s) URL` });
    }
    return { name: h.name, url: url ?? '', ...(h.kinds ? { kinds: h.kinds } : {}) };
  });

/** Where the Slack secrets are read from when the config names neither the value nor a file. */
export const SLACK_SIGNING_SECRET_ENV = 'FLEETOPS_SLACK_SIGNING_SECRET';
export const SLACK_BOT_TOKEN_ENV = 'FLEETOPS_SLACK_BOT_TOKEN';

const slackChannelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C0123ABCDE');
const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id such as U0123ABCDE');
const slackGroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id such as S0123ABCDE');
const slackTeamId = z.string().regex(/^T[A-Z0-9]{2,}$/, 'must be a Slack workspace (team) id such as T0123ABCDE');
const slackEnterpriseId = z.string().regex(/^E[A-Z0-9]{2,}$/, 'must be a Slack Enterprise Grid id such as E0123ABCDE');

/**
 * The people fleetops knows, each with the identities they use: Slack user ids and CLI (unix) user
 * names. An identity is written `slack:<user id>`, `cli:<user>`, `token:<router token name>` or
 * `person:<name>` (config/people.ts). Approvals compare people, not strings: Bob requesting in the CLI
 * and approving in Slack is one person and is refused.
 */
export const personSchema = z
  .object({
    slack: z.array(slackUserId).default([]),
    cli: z.array(z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, 'must be a unix user name')).default([]),
  })
  .strict();

/** Who may press Approve on a service's deploy gate (`approvers`), or start its deploys (`deployers`), in Slack: members by user id, or of a user group. */
export const slackApproversSchema = z
  .object({ users: z.array(slackUserId).default([]), groups: z.array(slackGroupId).default([]) })
  .strict()
  .refine((a) => a.users.length + a.groups.length > 0, { message: 'name at least one user or group' });

/** Who may change incidents from Slack besides each incident's own roles; may be empty (roles only). */
export const slackRespondersSchema = z
  .object({ users: z.array(slackUserId).default([]), groups: z.array(slackGroupId).default([]) })
  .strict()
  .prefault({});

const serviceKey = z.string().regex(/^[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/, 'keys are <cluster>/<service>');

/**
 * Slack app settings (the chat front end, router/slack/ and activities/chat/). Secrets as `${ENV_VAR}`
 * or a `…File` path: the signing secret (required: the router verifies every request with it) and the
 * bot token (without it nothing is posted; slash commands still answer through their response_url).
 */
export const slackSchema = z
  .object({
    signingSecret: secretValue.optional(),
    signingSecretFile: secretFile.optional(),
    botToken: secretValue.optional(),
    botTokenFile: secretFile.optional(),
    /**
     * The workspace the app serves (team id, `T…`): a request from any other workspace is refused and
     * does nothing. Required: a signing secret proves a request came from Slack, not from which workspace.
     */
    teamId: slackTeamId,
    /** With Enterprise Grid: the organisation (`E…`); requests must carry it too. */
    enterpriseId: slackEnterpriseId.optional(),
    /** The Web API's base URL (the Web API client's slackApiUrl); https, or http to a loopback stand-in only. */
    apiUrl: z.url({ protocol: /^https?$/ }).default('https://slack.com/api/'),
    /** Where deploys (phases, approval gates) and incidents (declaration, thread per incident) are posted. */
    channels: z.object({ deploys: slackChannelId.optional(), incidents: slackChannelId.optional() }).strict().prefault({}),
    /** `<cluster>/<service>` → who may approve its deploys from Slack; a service not listed cannot be approved there. */
    approvers: z.record(serviceKey, slackApproversSchema).default({}),
    /** `<cluster>/<service>` → who may start its deploys with `/fleetops deploy`; a service not listed cannot be deployed from Slack. */
    deployers: z.record(serviceKey, slackApproversSchema).default({}),
    /** Who may note, assign, resolve and re-grade any incident from Slack, besides the incident's own roles. */
    responders: slackRespondersSchema,
  })
  .strict()
  .transform((s, ctx) => {
    // Unset, each secret is read from its documented variable (docs/slack.md, Config: FLEETOPS_SLACK_SIGNING_SECRET).
    const withDefaults = {
      ...s,
      ...(s.signingSecret === undefined && s.signingSecretFile === undefined ? { signingSecret: `\${${SLACK_SIGNING_SECRET_ENV}}` } : {}),
      ...(s.botToken === undefined && s.botTokenFile === undefined && secretEnv()[SLACK_BOT_TOKEN_ENV] ? { botToken: `\${${SLACK_BOT_TOKEN_ENV}}` } : {}),
    };
    const signingSecret = resolveSecret(withDefaults, 'signingSecret', ctx, { literal: false, required: true });
    const botToken = resolveSecret(withDefaults, 'botToken', ctx, { literal: false, required: false });
    const url = new URL(s.apiUrl);
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
      ctx.addIssue({ code: 'custom', path: ['apiUrl'], message: 'must be https (http only to a loopback address): the bot token would travel in clear' });
    }
    if (botToken === undefined && (s.channels.deploys || s.channels.incidents) && withDefaults.botTokenFile === undefined && withDefaults.botToken === undefined) {
      ctx.addIssue({ code: 'custom', path: ['botToken'], message: `channels are set: posting to them needs botToken (a \${ENV_VAR} reference), botTokenFile or ${SLACK_BOT_TOKEN_ENV}` });
    }
    return {
      signingSecret: signingSecret ?? '',
      ...(botToken !== undefined ? { botToken } : {}),
      teamId: s.teamId,
      ...(s.enterpriseId !== undefined ? { enterpriseId: s.enterpriseId } : {}),
      apiUrl: s.apiUrl,
      channels: s.channels,
      approvers: s.approvers,
      deployers: s.deployers,
      responders: s.responders,
    };
  });

export type SlackConfig = z.infer<typeof slackSchema>;

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export const configSchema = z
  .object({
    aws: awsSchema,
    temporal: temporalSchema.prefault({}),
    clusters: z.record(name, clusterSchema).default({}),
    services: z.array(serviceSchema).default([]),
    alarmRoutes: z.array(alarmRouteSchema).default([]),
    incidents: incidentsSchema,
    notifications: z.object({ webhooks: z.array(webhookSchema).default([]) }).strict().prefault({}),
    slack: slackSchema.optional(),
    /** The router's HTTP tokens beyond FLEETOPS_ROUTER_TOKEN, with their scopes (config/router.ts). */
    router: routerSchema.prefault({}),
    /** name → identities (config/people.ts). */
    people: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a person is named with letters, digits, dot, dash or underscore'), personSchema).default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const owner = new Map<string, string>();
    for (const [person, p] of Object.entries(cfg.people)) {
      for (const id of [...p.slack.map((u) => `slack:${u}`), ...p.cli.map((u) => `cli:${u}`)]) {
        const other = owner.get(id);
        if (other) ctx.addIssue({ code: 'custom', path: ['people', person], message: `${id} is already ${other}'s: an identity belongs to one person` });
        owner.set(id, person);
      }
    }
    cfg.services.forEach((s, i) => {
      if (!cfg.clusters[s.cluster]) {
        ctx.addIssue({ code: 'custom', path: ['services', i, 'cluster'], message: `unknown cluster "${s.cluster}"` });
      }
    });
    for (const list of ['approvers', 'deployers'] as const) {
      for (const key of Object.keys(cfg.slack?.[list] ?? {})) {
        const [cluster, service] = key.split('/');
        if (!cfg.services.some((s) => s.cluster === cluster && s.name === service)) {
          ctx.addIssue({ code: 'custom', path: ['slack', list, key], message: `no service "${service}" in cluster "${cluster}" under services` });
        }
      }
    }
    cfg.alarmRoutes.forEach((r, i) => {
      if (r.cluster && !cfg.clusters[r.cluster]) {
        ctx.addIssue({ code: 'custom', path: ['alarmRoutes', i, 'cluster'], message: `unknown cluster "${r.cluster}"` });
      }
    });
    const multiAccount = Object.values(cfg.clusters).some((c) => c.roleArn !== undefined);
    if (multiAccount && cfg.aws.account === undefined) {
      ctx.addIssue({ code: 'custom', path: ['aws', 'account'], message: 'a cluster names a roleArn: set the worker\'s own account id, so events are routed by account' });
    }
    for (const [clusterName, cluster] of Object.entries(cfg.clusters)) {
      if (cluster.externalId !== undefined && cluster.roleArn === undefined) {
        ctx.addIssue({ code: 'custom', path: ['clusters', clusterName, 'externalId'], message: 'an externalId needs a roleArn' });
      }
      const seen = new Set<string>();
      cluster.pools.forEach((p, i) => {
        if (seen.has(p.name)) {
          ctx.addIssue({ code: 'custom', path: ['clusters', clusterName, 'pools', i, 'name'], message: `duplicate pool name "${p.name}"` });
        }
        seen.add(p.name);
      });
      if (cluster.capacity.minUnits > cluster.capacity.maxUnits) {
        ctx.addIssue({ code: 'custom', path: ['clusters', clusterName, 'capacity', 'minUnits'], message: 'must not exceed maxUnits' });
      }
    }
  });

export type FleetopsConfig = z.infer<typeof configSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type PoolConfig = z.infer<typeof poolSchema>;
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type PersonConfig = z.infer<typeof personSchema>;
export type AlarmRoute = z.infer<typeof alarmRouteSchema>;
export type SeverityConfig = z.infer<typeof severitySchema>;
export type Severity = IncidentSeverity;
