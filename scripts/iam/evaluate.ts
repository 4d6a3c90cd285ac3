/**
 * Evaluates recorded calls (simulator/iam/call-log.ts) against the kit's policies with a real IAM
 * policy evaluator (@cloud-copilot/iam-simulate): every authorisation a call needs must be Allowed,
 * and each Allow statement that allowed one is marked used.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Authorisation } from '../../simulator/iam/authorisations';
import type { LoggedCall } from '../../simulator/iam/call-log';
import type { KitRole, PolicyDocument } from './kit-policies';

export interface Verdict {
  role: KitRole;
  authorisation: Authorisation;
  result: string;
  /** Sids of the statements that allowed it. */
  allowedBy: string[];
}

export function roleOf(call: Pick<LoggedCall, 'principal' | 'account'>, centralAccount: string): KitRole {
  if (call.principal === 'worker') return call.account === centralAccount ? 'worker' : 'member';
  return call.principal === 'router' ? 'router' : 'operator';
}

/**
 * `resourcePolicy`: the policy of the resource itself where AWS evaluates one with the caller's
 * (a role's trust policy for sts:AssumeRole: across accounts both must allow; IAM User Guide, "Policy
 * evaluation logic", cross-account).
 */
export async function evaluate(role: KitRole, account: string, policies: PolicyDocument[], a: Authorisation, resourcePolicy?: PolicyDocument): Promise<Verdict> {
  const r = await runSimulation(
    {
      identityPolicies: policies.map((policy, i) => ({ name: `${role}-${i}`, policy: policy as never })),
      ...(resourcePolicy ? { resourcePolicy } : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action: a.action,
        principal: `arn:aws:sts::${account}:assumed-role/fleetops-${role}/session`,
        resource: { accountId: a.resource.split(':')[4] || account, resource: a.resource },
        // AWS puts the role's ARN (not the session's) in aws:PrincipalArn for a role session (IAM User
        // Guide, "AWS global condition context keys", aws:PrincipalArn); the member trust checks it.
        contextVariables: { 'aws:PrincipalArn': `arn:aws:iam::${account}:role/fleetops-${role}`, ...a.context },
      },
    } as never,
    {},
  );
  if (r.resultType === 'error') return { role, authorisation: a, result: `error: ${JSON.stringify(r.errors).slice(0, 400)}`, allowedBy: [] };
  const results = r.resultType === 'single' ? [r.result] : r.results;
  const allowedBy = results.flatMap((x) => (x.analysis?.identityAnalysis?.allowStatements ?? []).map((s) => String(s.explain?.identifier ?? '?')));
  return { role, authorisation: a, result: r.overallResult, allowedBy: [...new Set(allowedBy)] };
}

/** Every Sid of the role's Allow statements (the kit gives every statement one). */
export function allowSids(policies: PolicyDocument[]): string[] {
  return policies.flatMap((p) => p.Statement.filter((s) => s.Effect === 'Allow').map((s) => s.Sid ?? '(no Sid)'));
}
