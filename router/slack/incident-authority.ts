import { listed, ROLE_NAMES } from '../../common/incident/help-words';
import { INCIDENT_ROLES } from '../../common/incident/model';
import { isIdentity, personOf } from '../../config/people';
import type { FleetopsConfig } from '../../config/schema';
import type { IncidentStatus } from '../../contracts/incident/messages';
import type { SlackHandlerContext } from './context';
import { isListed } from './members';

/**
 * Who may change an incident from Slack (note, assign, severity, resolve): the people in its roles
 * (on-call, commander, scribe, as its status reports them) and the configured responders
 * (`slack.responders`: users and user groups). Roles are compared as people (config/people.ts): a
 * commander assigned as `cli:bob` or `bob` (a person of the `people` table) is Bob in Slack too.
 * Decided in the router, before anything is sent, because group membership needs Slack.
 */

export type IncidentCheck = { ok: true } | { ok: false; why: string };

/** The person a role holder is: an identity's person, a bare name of the `people` table, or itself. */
export function holderPerson(config: Pick<FleetopsConfig, 'people'>, holder: string): string {
  if (isIdentity(holder)) return personOf(config, holder);
  const bare = holder.replace(/^@/, '');
  return Object.hasOwn(config.people, bare) ? `person:${bare}` : holder;
}

export function holdsRole(config: Pick<FleetopsConfig, 'people'>, userId: string, roles: IncidentStatus['roles']): boolean {
  const me = personOf(config, `slack:${userId}`);
  return INCIDENT_ROLES.some((r) => roles[r] !== undefined && holderPerson(config, roles[r]!) === me);
}

export async function mayChangeIncident(ctx: SlackHandlerContext, userId: string, status: Pick<IncidentStatus, 'roles'>): Promise<IncidentCheck> {
  if (holdsRole(ctx.config, userId, status.roles)) return { ok: true };
  if (await isListed(ctx, userId, ctx.slack.responders)) return { ok: true };
  return { ok: false, why: `only the incident's ${listed(ROLE_NAMES, 'and')}, and the responders in slack.responders, may change it` };
}
