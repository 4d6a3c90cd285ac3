import type { DeployInput } from '../../contracts/canary-deploy/input';
import type { ApproveRequest } from '../../contracts/canary-deploy/messages';

/**
 * Whether an approval may pass a gate, decided by the workflow whatever the channel (CLI, Slack, SDK):
 *  - it names who approves (`by`);
 *  - that person did not request the deploy: their identities (the approvers' list, or `by` alone) and
 *    the requester's (the input's `approval.requester`, or `requestedBy` alone) do not meet, so Alice
 *    requesting in the CLI cannot approve in Slack;
 *  - with approvers in the input, `by` is one of their identities, or a Slack user the Slack app found
 *    in a user group that is on the list (`viaGroup`: the app checks membership, this checks the group).
 * Runs started without `approval` (earlier starters, a config that names no approvers) keep the rule
 * they had, plus a required `by`: anyone but the requester.
 * Returns the reason to refuse, or undefined.
 */
export function approvalRefusal(input: DeployInput, req: ApproveRequest | undefined): string | undefined {
  const target = `${input.cluster}/${input.service}`;
  const by = typeof req?.by === 'string' ? req.by.trim() : '';
  if (by === '') return `an approval must say who approves (by): nobody approves a deploy of ${target} anonymously`;
  const listed = input.approval?.approvers;
  const person = listed?.people.find((p) => p.identities.includes(by));
  const approverIds = new Set(person ? person.identities : [by]);
  const requesterIds = [...(input.approval?.requester ?? []), ...(input.requestedBy !== undefined ? [input.requestedBy] : [])];
  const same = requesterIds.find((id) => approverIds.has(id));
  if (same !== undefined) {
    const asked = input.requestedBy ?? same;
    const as = asked === by ? '' : ` (as ${asked})`;
    return `${by} requested this deploy${as} and cannot approve it: someone else must`;
  }
  if (!listed || person) return undefined;
  const group = req?.viaGroup;
  if (group !== undefined) {
    if (!by.startsWith('slack:')) return `${by}: only a Slack user approves through a user group`;
    if (!listed.groups.includes(group)) return `${by} approved through user group ${group}, which is not an approver of ${target}`;
    return undefined;
  }
  return `${by} is not an approver of ${target}`;
}
