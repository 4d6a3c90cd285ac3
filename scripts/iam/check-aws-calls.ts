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
import type { Authorisation } from '../../simulator/iam/authorisations';
import { kitPolicies, memberTrustPolicy, PROOF_CONTEXT, type KitRole, type PolicyDocument } from './kit-policies';

/** `<role>:<Sid>` of statements no test call can use, and why each stays. */
const INSTANCE_ROLE_KEPT =
  'No launch template in the suite names an instance profile (the seeds\' templates carry none; moto launches without one), so ' +
  'no CreateFleet passes a role. On AWS a pool\'s template names the ECS instance profile, whose role CreateFleet passes ' +
  '(simulator/iam/authorisations.ts, passRoles): this is the one role it may pass.';
export const KEPT: Record<string, string> = {
  'worker:PassInstanceRole': INSTANCE_ROLE_KEPT,
  'member:PassInstanceRole': INSTANCE_ROLE_KEPT,
};

export interface ProofReport {
  calls: number;
  authorisations: number;
  denied: string[];
  unmapped: string[];
  /** Calls the emulator refused as AWS would (a wrong external id): not required to be allowed. */
  refused: number;
  /** Undefined when not checked (a run of part of the suite). */
  unused: string[] | undefined;
}

export function readCallLog(dir: string): LoggedCall[] {
  const lines = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
  return [...new Set(lines)].map((l) => JSON.parse(l) as LoggedCall);
}

/**
 * The central stack a router or operator call acts on, by the kit's queue names (`<stack>-events`,
 * `<stack>-events-dlq`, fleetops-events.yaml). The suite makes a queue pair per test world, as one
 * deployment of the kit each (test/router/sqs-harness.ts createQueues); the operator of each would
 * deploy the kit under that stack name. So a call is evaluated against the policies of the stack its
 * queues belong to: a queue not named as a stack's (or a call spanning two stacks) keeps PROOF_CONTEXT's
 * stack and is refused, as the kit's roles would refuse it.
 */
function stackOfCall(call: LoggedCall): string | undefined {
  const stacks = new Set(call.authorisations.filter((a) => a.resource.startsWith('arn:aws:sqs:')).map((a) => /^arn:aws:sqs:[^:]*:\d{12}:(.+?)-events(?:-dlq)?$/.exec(a.resource)?.[1]));
  const [only] = stacks;
  return stacks.size === 1 ? only : undefined;
}

/**
 * The member role's statements that are the worker role's, word for word but for the account: the
 * member role is the worker's for clusters in another account (fleetops-member.yaml). A statement the
 * worker's calls prove in the central account is proven for the member account too; the suite's
 * member-account worlds exercise drains and ASG capacity, not every pool kind and deploy.
 */
function memberTwinsOfWorker(policies: Record<KitRole, PolicyDocument[]>): string[] {
  const norm = (st: PolicyDocument['Statement'][number], account: string) => JSON.stringify(st).split(account).join('<account>');
  const worker = new Map(policies.worker.flatMap((d) => d.Statement).map((st) => [st.Sid, norm(st, PROOF_CONTEXT.central.account)]));
  return policies.member
    .flatMap((d) => d.Statement)
    .filter((st) => st.Sid && worker.get(st.Sid) === norm(st, PROOF_CONTEXT.member.account))
    .map((st) => st.Sid!);
}

/** The member stack as deployed in `account`. */
const memberIn = (account: string, parameters: Record<string, string> = {}) => ({ ...PROOF_CONTEXT.member, account, parameters: { ...PROOF_CONTEXT.member.parameters, ...parameters } });

/**
 * The member role's trust policy for an AssumeRole into `account`. Each member stack's ExternalId is
 * the externalId fleetops.yaml gives its clusters (docs/operating.md), a secret per deployment: in the
 * suite's world it is the one the call gives, which the emulator checked against the role it made
 * (simulator/behaviours/sts-assume-role.ts). A call the emulator refused is not evaluated as allowed.
 */
function trustFor(a: Authorisation): PolicyDocument | undefined {
  if (a.action !== 'sts:AssumeRole') return undefined;
  const account = a.resource.split(':')[4] ?? '';
  const externalId = a.context['sts:ExternalId'];
  return memberTrustPolicy(memberIn(account, typeof externalId === 'string' ? { ExternalId: externalId } : {}));
}

export async function prove(calls: LoggedCall[], opts: { fullRun: boolean } = { fullRun: true }, policies = kitPolicies(PROOF_CONTEXT)): Promise<ProofReport> {
  // The member stack is deployed in each member account: its policies resolve with that account's id.
  const memberPolicies = new Map<string, typeof policies.member>();
  const stackPolicies = new Map<string, typeof policies>();
  const policiesOf = (role: KitRole, call: LoggedCall) => {
    if (role === 'member') {
      let p = memberPolicies.get(call.account);
      if (!p) memberPolicies.set(call.account, (p = kitPolicies({ ...PROOF_CONTEXT, member: memberIn(call.account) }).member));
      return p;
    }
    const stack = stackOfCall(call);
    if (!stack || (role !== 'router' && role !== 'operator')) return policies[role];
    let p = stackPolicies.get(stack);
    if (!p) stackPolicies.set(stack, (p = kitPolicies({ ...PROOF_CONTEXT, central: { ...PROOF_CONTEXT.central, stackName: stack } })));
    return p[role];
  };
  const central = PROOF_CONTEXT.central.account;
  const used = new Set<string>();
  const denied = new Set<string>();
  const unmapped = new Set<string>();
  let authorisations = 0;
  let refused = 0;
  for (const call of calls) {
    if (call.unmapped) {
      unmapped.add(`${call.principal} ${call.call}`);
      continue;
    }
    if (call.refused) {
      refused++;
      continue;
    }
    const role = roleOf(call, central);
    for (const a of call.authorisations) {
      authorisations++;
      const v = await evaluate(role, call.account, policiesOf(role, call), a, trustFor(a));
      if (v.result !== 'Allowed') denied.add(`${role} ${call.call} -> ${a.action} on ${a.resource} ${JSON.stringify(a.context)}: ${v.result}`);
      for (const sid of v.allowedBy) used.add(`${role}:${sid}`);
    }
  }
  // Every role's statements, whether or not the run made a call as that role: a role no test acts as
  // grants nothing the code needs.
  const roles = Object.keys(policies) as KitRole[];
  for (const sid of memberTwinsOfWorker(policies)) if (used.has(`worker:${sid}`)) used.add(`member:${sid}`);
  const unused = opts.fullRun ? roles.flatMap((role) => allowSids(policies[role]).map((sid) => `${role}:${sid}`)).filter((s) => !used.has(s) && !(s in KEPT)) : undefined;
  return { calls: calls.length, authorisations, denied: [...denied].sort(), unmapped: [...unmapped].sort(), refused, unused };
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: check-aws-calls.ts <call-log-dir>');
    process.exit(2);
  }
  // make test passes JEST_ARGS through for a part of the suite: statements that part does not use may
  // be used by the rest, so only a full run checks them.
  const fullRun = !(process.env.JEST_ARGS ?? '').trim();
  void prove(readCallLog(dir), { fullRun }).then((r) => {
    const unused = r.unused === undefined ? 'unused statements not checked (JEST_ARGS: part of the suite)' : `${r.unused.length} unused statements`;
    console.log(`IAM proof: ${r.calls} distinct calls, ${r.authorisations} authorisations, ${r.denied.length} denied, ${r.unmapped.length} unmapped, ${r.refused} refused as AWS would, ${unused}`);
    for (const d of r.denied) console.log(`  DENIED ${d}`);
    for (const u of r.unmapped) console.log(`  UNMAPPED ${u} (add it to simulator/iam/authorisations.ts)`);
    for (const u of r.unused ?? []) console.log(`  UNUSED ${u} (no call used it: remove it, or list it in KEPT with why it stays)`);
    process.exit(r.denied.length + r.unmapped.length + (r.unused?.length ?? 0) > 0 ? 1 : 0);
  });
}
