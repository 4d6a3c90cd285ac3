import { z } from 'zod';
import { positiveSeconds, ROLE_ARN, regionSchema, seconds } from './fields';
import { poolSchema } from './pools';
import { clusterReadinessSchema } from './readiness';

/** `clusters.<name>`: an ECS cluster, its account, its capacity pools and the capacity and drain settings. */

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
    /** Readiness levels for windows of known spikes (config/schema/readiness.ts). */
    readiness: clusterReadinessSchema.prefault({}),
  })
  .strict();

export type ClusterConfig = z.infer<typeof clusterSchema>;
