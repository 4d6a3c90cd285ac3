import { z } from 'zod';
import { ec2InstanceIdSchema } from '../../common/aws-ids';
import { isoTimestamp } from '../shared';

/**
 * The drain budget's start argument and message payloads (workflows/drain-budget/): id
 * `drain-budget-<cluster>`, task queue `fleetops-critical` (start.ts). One run per cluster holds the
 * cluster's voluntary-drain slots, so the check-then-act of the disruption budget is one workflow's
 * state, whichever worker runs the drains that ask.
 */

/** A drain holding a slot: its run (a new run of the same drain id replaces it), instance and container instance. */
export const drainSlotHolderSchema = z
  .object({
    workflowId: z.string().min(1).max(1000),
    runId: z.string().min(1).max(100),
    instanceId: ec2InstanceIdSchema,
    containerInstanceArn: z.string().min(1).max(2048),
    grantedAt: isoTimestamp,
    /** When the budget last found its run still open (the grant counts as a check). */
    checkedAt: isoTimestamp.optional(),
  })
  .strict();

export type DrainSlotHolder = z.infer<typeof drainSlotHolderSchema>;

/** A drain told to wait, in the order they first asked: the first ones get the next free slots. */
export const drainSlotWaiterSchema = z
  .object({
    workflowId: z.string().min(1).max(1000),
    instanceId: ec2InstanceIdSchema,
    firstAskedAt: isoTimestamp,
    lastAskedAt: isoTimestamp,
  })
  .strict();

export type DrainSlotWaiter = z.infer<typeof drainSlotWaiterSchema>;

/** What a budget run carries into the next (continue-as-new). */
export const drainBudgetCarriedSchema = z
  .object({
    holders: z.array(drainSlotHolderSchema),
    waiters: z.array(drainSlotWaiterSchema),
    /** The budget the last request named (the cluster's `drain.voluntaryDrainBudget`). */
    budget: z.number().int().positive().optional(),
    counts: z.record(z.string(), z.number().int().nonnegative()),
  })
  .strict();

export type DrainBudgetCarried = z.infer<typeof drainBudgetCarriedSchema>;

export const drainBudgetInputSchema = z
  .object({
    cluster: z.string().min(1).max(255),
    carried: drainBudgetCarriedSchema.optional(),
    /** Continue as new past this many history events (default 2,000; tests set it low). */
    continueAsNewAfterEvents: z.number().int().min(20).optional(),
    /** A holder held this long while others wait is checked: is its drain's run still open? (default 120 s). */
    holderCheckAfterSeconds: z.number().int().positive().optional(),
  })
  .strict();

export type DrainBudgetInput = z.infer<typeof drainBudgetInputSchema>;

/**
 * `acquireDrainSlot` update payload. The drain's activity sends it (update-with-start) just before it
 * sets DRAINING. `draining`: the container instances of the cluster a sweep found DRAINING just now;
 * those no holder has (an interruption warning's, one a dead drain left DRAINING) count against the
 * budget too, as they did before the budget was a workflow.
 */
export const drainSlotRequestSchema = z
  .object({
    workflowId: z.string().min(1).max(1000),
    runId: z.string().min(1).max(100),
    instanceId: ec2InstanceIdSchema,
    containerInstanceArn: z.string().min(1).max(2048),
    budget: z.number().int().positive(),
    draining: z.array(z.string().min(1).max(2048)).max(10_000),
  })
  .strict();

export type DrainSlotRequest = z.infer<typeof drainSlotRequestSchema>;

/** `releaseDrainSlot` signal payload: the drain's run gives its slot back (or stops waiting for one). */
export const drainSlotReleaseSchema = z
  .object({
    workflowId: z.string().min(1).max(1000),
    runId: z.string().min(1).max(100),
  })
  .strict();

export type DrainSlotRelease = z.infer<typeof drainSlotReleaseSchema>;
