import type { SlackConfig } from '../../config/schema';

/**
 * Which workspace a request comes from. The signing secret proves a request came from Slack, not
 * from which workspace: an app installed (or a request URL reused) elsewhere signs with the same
 * secret. Every team id and enterprise id a payload carries must be the configured ones, and at least
 * one team id must be there. Where they sit follows the payload docs:
 *  - slash commands (form fields `team_id`, `enterprise_id`):
 *    https://docs.slack.dev/interactivity/implementing-slash-commands
 *  - interactions (`team.id`, `user.team_id`, `enterprise.id`, `team.enterprise_id`):
 *    https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
 *  - Events API (`team_id`, `enterprise_id`, `authorizations[].team_id|enterprise_id`, and the
 *    event's `user_team` / `source_team` in shared channels): https://docs.slack.dev/apis/events-api/
 * Pure, so every rule is testable without a server.
 */

type Body = Record<string, unknown>;

const obj = (v: unknown): Body | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Body) : undefined);
const id = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function workspaceIds(body: Body): { teams: string[]; enterprises: string[] } {
  const team = obj(body.team);
  const user = obj(body.user);
  const enterprise = obj(body.enterprise);
  const event = obj(body.event);
  const auths = Array.isArray(body.authorizations) ? body.authorizations.map(obj) : [];
  const teams = [id(body.team_id), id(team?.id), id(user?.team_id), id(event?.user_team), id(event?.source_team), ...auths.map((a) => id(a?.team_id))];
  const enterprises = [id(body.enterprise_id), id(enterprise?.id), id(team?.enterprise_id), ...auths.map((a) => id(a?.enterprise_id))];
  return { teams: teams.filter((t): t is string => !!t), enterprises: enterprises.filter((e): e is string => !!e) };
}

/** Why a request is not from the configured workspace, or undefined when it is. */
export function foreignWorkspace(body: Body, slack: Pick<SlackConfig, 'teamId' | 'enterpriseId'>): string | undefined {
  const { teams, enterprises } = workspaceIds(body);
  if (teams.length === 0) return 'the request names no workspace';
  const other = teams.find((t) => t !== slack.teamId);
  if (other) return `workspace ${other} is not this app's (${slack.teamId})`;
  if (slack.enterpriseId !== undefined) {
    if (enterprises.length === 0) return 'the request names no Enterprise Grid organisation';
    const otherOrg = enterprises.find((e) => e !== slack.enterpriseId);
    if (otherOrg) return `organisation ${otherOrg} is not this app's (${slack.enterpriseId})`;
  }
  return undefined;
}
