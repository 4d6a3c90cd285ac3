import { z } from 'zod';

/**
 * What the input schemas of several workflows share: where a workflow's AWS resources live, the
 * timestamp format, and an ASG lifecycle action (the drain completes a terminate action, the launch a
 * launch action). Zod schemas validate at the edges; workflows import only the inferred types.
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

export const isoTimestamp = z.iso.datetime({ offset: true });

/** The ASG lifecycle action a `lifecycle-terminate` event carries; the drain heartbeats and completes it. */
export const drainLifecycleActionSchema = z
  .object({
    hookName: z.string().min(1).max(255),
    asgName: z.string().min(1).max(255),
    actionToken: z.string().min(1).max(255),
  })
  .strict();

export type DrainLifecycleAction = z.infer<typeof drainLifecycleActionSchema>;
