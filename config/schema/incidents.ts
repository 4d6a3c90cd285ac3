import { z } from 'zod';
import { INCIDENT_SEVERITIES, type IncidentSeverity } from '../../common/incident/severity';
import { resolveSecret, secretFile, secretValue } from '../secrets';
import { isLoopback, positiveSeconds } from './fields';

/** `incidents`: each severity's reminders and checklists, where postmortems go, GitHub and PagerDuty. */

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

export type SeverityConfig = z.infer<typeof severitySchema>;
export type Severity = IncidentSeverity;
