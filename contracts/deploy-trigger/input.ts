import { z } from 'zod';
import { deployRequestSchema } from '../canary-deploy/input';

/**
 * The deploy trigger's start argument (workflows/deploy-trigger/): what a Temporal Schedule made by
 * `fleetops deploy … --at/--cron` starts at each of its times. The request is checked again at the run
 * (image policy, approvers from the config of that day, the incident freeze), as any deploy's is.
 */
export const deployTriggerInputSchema = z
  .object({
    /** The deploy to start, as `fleetops deploy` would have started it there and then. */
    request: deployRequestSchema,
    /** The Schedule that starts this trigger (`deploy-schedule-<cluster>-<service>-<n or name>`). */
    scheduleId: z.string().min(1).max(255),
    /** The deploy waits at a human gate before promotion (scheduled from chat). */
    requireGate: z.boolean().optional(),
  })
  .strict();

export type DeployTriggerInput = z.infer<typeof deployTriggerInputSchema>;

/** Why a scheduled run did not start its deploy; `field` as DeployRequestRefused names it, or the freeze or a running deploy. */
export type DeployTriggerRefusal = { field: 'service' | 'image' | 'freeze' | 'running'; reason: string };

/**
 * A trigger's result: the deploy it started, or why it started none. A refusal is a result, not a
 * failure: the Schedule's next run is unaffected and its recent actions show it as completed.
 */
export type DeployTriggerResult = { started: { workflowId: string; runId: string } } | { refused: DeployTriggerRefusal; deployWorkflowId: string };
