import type { IncidentRole } from './model';
import { FREEZING_SEVERITIES, INCIDENT_SEVERITIES } from './severity';

/**
 * How people name incident roles and severities, in the CLI and in Slack: the words each parser takes,
 * and the lists their help text and refusals show, built from one list each so they cannot disagree.
 */

/** The words a person may type for a role (CLI `--role`, Slack `assign`). */
const ROLE_BY_NAME: Readonly<Record<string, IncidentRole>> = { 'on-call': 'onCall', oncall: 'onCall', onCall: 'onCall', commander: 'commander', scribe: 'scribe' };

/** The role names help text shows, one per role. */
export const ROLE_NAMES = ['on-call', 'commander', 'scribe'] as const;

/** Every word `roleNamed` takes. */
export const ROLE_WORDS = Object.keys(ROLE_BY_NAME) as [string, ...string[]];

/** The role a word names, if it names one (only the words above, never an inherited property). */
export function roleNamed(word: string): IncidentRole | undefined {
  return Object.hasOwn(ROLE_BY_NAME, word) ? ROLE_BY_NAME[word] : undefined;
}

/** `a, b or c` (`and` for a conjunction). */
export function listed(items: readonly string[], last: 'or' | 'and' = 'or'): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;
}

/** `sev1, sev2, sev3 or sev4`. */
export const SEVERITY_CHOICES = listed(INCIDENT_SEVERITIES);
/** `sev1-sev4`. */
export const SEVERITY_RANGE = `${INCIDENT_SEVERITIES[0]}-${INCIDENT_SEVERITIES[INCIDENT_SEVERITIES.length - 1]}`;
/** `sev1/sev2`: the severities whose open incidents freeze deploys. */
export const FREEZING_SEVERITY_NAMES = FREEZING_SEVERITIES.join('/');
