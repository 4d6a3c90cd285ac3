import { identitiesOf } from '../../config/people';
import type { FleetopsConfig } from '../../config/schema';
import type { DeployApproval } from './input';

type ApprovalConfig = Pick<FleetopsConfig, 'people' | 'slack'>;

/**
 * Who may approve a deploy of `cluster/service`, and who asked, as the deploy's starters put them in its
 * input: the service's Slack approvers (`slack.approvers["<cluster>/<service>"]`) as people, each with
 * every identity the `people` table gives them, plus the user groups named; and every identity of the
 * requester. Undefined when it would say nothing the workflow does not already know (no approvers named,
 * a requester the table does not name), which the workflow reads as "anyone but the requester".
 */
export function deployApprovalFrom(config: ApprovalConfig, cluster: string, service: string, requestedBy: string | undefined): DeployApproval | undefined {
  const rule = config.slack?.approvers[`${cluster}/${service}`];
  const approvers = rule
    ? {
        people: dedupe(rule.users.map((u) => personEntry(config, `slack:${u}`))),
        groups: [...new Set(rule.groups)],
      }
    : undefined;
  const requester = requestedBy !== undefined ? identitiesOf(config, requestedBy) : undefined;
  const knownRequester = requester !== undefined && requester.length > 1;
  if (!approvers && !knownRequester) return undefined;
  return { ...(approvers ? { approvers } : {}), ...(requester ? { requester } : {}) };
}

function personEntry(config: ApprovalConfig, identity: string): { name?: string; identities: string[] } {
  const identities = identitiesOf(config, identity);
  const name = identities[0]?.startsWith('person:') ? identities[0].slice('person:'.length) : undefined;
  return { ...(name ? { name } : {}), identities };
}

/** One entry per person: two Slack ids of one person listed as approvers are one approver. */
function dedupe(people: { name?: string; identities: string[] }[]): { name?: string; identities: string[] }[] {
  const seen = new Set<string>();
  return people.filter((p) => {
    const key = p.identities[0]!;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
