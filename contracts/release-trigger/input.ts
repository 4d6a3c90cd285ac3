import { z } from 'zod';
import { releaseRequestSchema } from '../release/input';

/**
 * The release trigger's start argument (workflows/release-trigger/): what a Temporal Schedule made by
 * `fleetops release start … --at/--cron` starts at each of its times. The request is checked again at
 * the run (every service configured, every image one of its repositories, approvers from the config of
 * that day), as any release's is.
 */
export const releaseTriggerInputSchema = z
  .object({
    /** The release to start; each run starts `release-<id>-<yyyymmdd-hhmm>` of it (a release id is used once). */
    request: releaseRequestSchema,
    /** The Schedule that starts this trigger (`release-schedule-<id>-<n or name>`). */
    scheduleId: z.string().min(1).max(255),
  })
  .strict();

export type ReleaseTriggerInput = z.infer<typeof releaseTriggerInputSchema>;

/** Why a scheduled run started no release: the config refused the request, or the run's release id was taken. */
export type ReleaseTriggerRefusal = { field: 'manifest' | 'selector' | 'exists'; reason: string };

/**
 * A trigger's result: the release it started, or why it started none. A refusal is a result, not a
 * failure: the Schedule's next run is unaffected and its recent actions show it as completed.
 */
export type ReleaseTriggerResult = { started: { workflowId: string; runId: string } } | { refused: ReleaseTriggerRefusal; releaseWorkflowId: string };
