import type { IncidentSeverity } from '../common/incident/severity';
import type { SeverityConfig } from './schema';

/** Severity config (`incidents.severities.<sev>`, config/schema/incidents.ts) plus what the worker knows about GitHub. */
export type IncidentPolicy = SeverityConfig & {
  severity: IncidentSeverity;
  /**
   * `incidents.github` is configured and its token is set: action items are filed as issues and the
   * closed postmortem is proposed as a pull request.
   */
  githubFiling: boolean;
  /** `incidents.pagerduty` is configured and lists this severity: the incident pages the on-call. */
  paging?: boolean;
  /** Slack is configured for incidents (bot token and channel): role changes and checklist progress go to the incident's thread too. */
  chatTimeline?: boolean;
};
