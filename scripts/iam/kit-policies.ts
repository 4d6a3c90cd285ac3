/**
 * The kit's identity policies as plain documents, per fleetops principal (common/aws-app-ids.ts):
 * the worker's role in the central account (WorkerRole), the member role in every other account
 * (fleetops-member.yaml's MemberRole), the router's role (RouterRole) and the operators' managed
 * policies (the CLI's `events dlq`: OperatorDeadLetterQueuePolicy; `fleet`: OperatorFleetPolicy).
 */
import { join } from 'node:path';
import { ResolvedTemplate, type Json, type StackContext } from './resolve-template';

export type KitRole = 'worker' | 'member' | 'router' | 'operator';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

export interface KitContext {
  central: StackContext;
  /** The member stack's context; its account is any account other than the central one. */
  member: StackContext;
}

const DEPLOY = join(__dirname, '..', '..', 'deploy', 'aws');

const inlinePolicies = (props: Record<string, Json>): PolicyDocument[] =>
  ((props.Policies ?? []) as unknown as { PolicyDocument: PolicyDocument }[]).map((p) => p.PolicyDocument);

/** The member role's trust policy (its resource policy for sts:AssumeRole), for the member stack's context. */
export function memberTrustPolicy(member: StackContext): PolicyDocument {
  return new ResolvedTemplate(join(DEPLOY, 'fleetops-member.yaml'), member).properties('MemberRole').AssumeRolePolicyDocument as unknown as PolicyDocument;
}

export function kitPolicies(ctx: KitContext): Record<KitRole, PolicyDocument[]> {
  const events = new ResolvedTemplate(join(DEPLOY, 'fleetops-events.yaml'), ctx.central);
  const member = new ResolvedTemplate(join(DEPLOY, 'fleetops-member.yaml'), ctx.member);
  return {
    worker: inlinePolicies(events.properties('WorkerRole')),
    router: inlinePolicies(events.properties('RouterRole')),
    operator: ['OperatorDeadLetterQueuePolicy', 'OperatorFleetPolicy'].map((p) => events.properties(p).PolicyDocument as unknown as PolicyDocument),
    member: inlinePolicies(member.properties('MemberRole')),
  };
}

/**
 * The parameters the proof evaluates with: what an operator would pass for the suite's world.
 *  - central: moto's default account, where the suite's worker acts; stack `fleetops` as the local
 *    stack deploys the kit (stack/events-kit.ts); the postmortem bucket the demo seed makes (stack/demo-seed/demo.ts), which the postmortem test writes to too.
 *    The router's and operators' calls are evaluated against the stack their queues are named for
 *    (scripts/iam/check-aws-calls.ts, stackOfCall): the suite makes one kit-named queue pair per world.
 *  - MemberRoleArns: the kit's member role name (MemberRoleName's default) in any account, since the
 *    suite's member accounts vary by test; a role of another name stays refused.
 *  - TaskRoleArns: none, as the suite's task definitions name no task or execution role (so
 *    PassTaskRoles is not granted; test/iam/kit-policy.test.ts proves it with a role listed).
 *  - member: any account other than the central one (each member account's policies resolve with its
 *    id); its ExternalId is the one each AssumeRole gives (check-aws-calls.ts, trustFor).
 */
export const PROOF_CONTEXT: KitContext = {
  central: { stackName: 'fleetops', account: '123456789012', region: 'us-east-1', parameters: { PostmortemBucket: 'fleetops-demo-postmortems', MemberRoleArns: 'arn:aws:iam::*:role/fleetops-member' } },
  member: { stackName: 'fleetops-member', account: '111111111111', region: 'us-east-1', parameters: { CentralEventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default', WorkerRoleArn: 'arn:aws:iam::123456789012:role/fleetops-worker', ExternalId: 'proof' } },
};
