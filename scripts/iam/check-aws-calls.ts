/**
 * The IAM proof, run by `make test` after jest: reads every call the product made in the run
 * (FLEETOPS_AWS_CALL_LOG_DIR, simulator/iam/call-log.ts), evaluates each against the kit's policies
 * and fails when a call is not allowed, a call has no authorisation entry, or an Allow statement of
 * the kit was used by no call and is not in KEPT with the reason it stays.
 *
 *   npx tsx scripts/iam/check-aws-calls.ts <call-log-dir>
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoggedCall } from '../../simulator/iam/call-log';
import { allowSids, evaluate, roleOf } from './evaluate';
import { kitPolicies, PROOF_CONTEXT, type KitRole } from './kit-policies';

/** `<role>:<Sid>` of statements no test call can use, and why each stays. */
export const KEPT: Record<string, string> = {};

export interface ProofReport {
  calls: number;
  authorisations: number;
  denied: string[];
  unmapped: string[];
  unused: string[];
}

export function readCallLog(dir: string): LoggedCall[] {
  const lines = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
  return [...new Set(lines)].map((l) => JSON.parse(l) as LoggedCall);
}

export async function prove(calls: LoggedCall[], policies = kitPolicies(PROOF_CONTEXT)): Promise<ProofReport> {
  // The member stack is deployed in each member account: its policies resolve with that account's id.
  const memberPolicies = new Map<string, typeof policies.member>();
  const policiesOf = (role: KitRole, account: string) => {
    if (role !== 'member') return policies[role];
    let p = memberPolicies.get(account);
    if (!p) memberPolicies.set(account, (p = kitPolicies({ ...PROOF_CONTEXT, member: { ...PROOF_CONTEXT.member, account } }).member));
    return p;
  };
  const central = PROOF_CONTEXT.central.account;
  const used = new Set<string>();
  const denied = new Set<string>();
  const unmapped = new Set<string>();
  let authorisations = 0;
  const roles = new Set<KitRole>();
  for (const call of calls) {
    if (call.unmapped) {
      unmapped.add(`${call.principal} ${call.call}`);
      continue;
    }
    const role = roleOf(call, central);
    roles.add(role);
    for (const a of call.authorisations) {
      authorisations++;
      const v = await evaluate(role, call.account, policiesOf(role, call.account), a);
      if (v.result !== 'Allowed') denied.add(`${role} ${call.call} -> ${a.action} on ${a.resource} ${JSON.stringify(a.context)}: ${v.result}`);
      for (const sid of v.allowedBy) used.add(`${role}:${sid}`);
    }
  }
  const unused = [...roles].flatMap((role) => allowSids(policies[role]).map((sid) => `${role}:${sid}`)).filter((s) => !used.has(s) && !(s in KEPT));
  return { calls: calls.length, authorisations, denied: [...denied].sort(), unmapped: [...unmapped].sort(), unused };
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: check-aws-calls.ts <call-log-dir>');
    process.exit(2);
  }
  void prove(readCallLog(dir)).then((r) => {
    console.log(`IAM proof: ${r.calls} distinct calls, ${r.authorisations} authorisations, ${r.denied.length} denied, ${r.unmapped.length} unmapped, ${r.unused.length} unused statements`);
    for (const d of r.denied) console.log(`  DENIED ${d}`);
    for (const u of r.unmapped) console.log(`  UNMAPPED ${u} (add it to simulator/iam/authorisations.ts)`);
    for (const u of r.unused) console.log(`  UNUSED ${u} (no call used it: remove it, or list it in KEPT with why it stays)`);
    process.exit(r.denied.length + r.unmapped.length + r.unused.length > 0 ? 1 : 0);
  });
}
