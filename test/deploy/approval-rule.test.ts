import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployApprovalFrom } from '../../contracts/canary-deploy/approvers-from-config';
import { DeployRequestRefused, deployStartFor } from '../../contracts/canary-deploy/request';
import type { DeployInput } from '../../contracts/canary-deploy/input';
import { parseConfig } from '../../config/load';
import { approvalRefusal } from '../../workflows/canary-deploy/approval';
import { ROOT } from '../../testkit/paths';
import { parse } from 'yaml';

/**
 * Who may approve a deploy (workflows/canary-deploy/approval.ts, the workflow's `approve` validator) and
 * what the starters put in the deploy's input for it (contracts/canary-deploy/approvers-from-config.ts, through
 * contracts/canary-deploy/request.ts), as plain functions. The same rule through the CLI, the SDK and Slack
 * against the real workflow: test/cli/cli-approvals.test.ts, test/slack/deploy.test.ts.
 */

const ALICE = 'U0ALICE01';
const BOB = 'U0BOB0001';
const CAROL = 'U0CAROL01';
const GROUP = 'S0RELEASE';

function config(extra: Record<string, unknown> = {}) {
  const doc = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, unknown>;
  return parseConfig(
    {
      ...doc,
      slack: { signingSecret: '${FLEETOPS_SLACK_SIGNING_SECRET}', teamId: 'T0FLEETOPS', approvers: { 'demo/web': { users: [ALICE, BOB], groups: [GROUP] } } },
      people: { alice: { slack: [ALICE], cli: ['alice'] }, bob: { slack: [BOB], cli: ['bob', 'robert'] } },
      ...extra,
    },
    'approval test',
    { env: { FLEETOPS_SLACK_SIGNING_SECRET: 'test-signing-secret-approval-rule' } },
  );
}

function inputFor(requestedBy: string): DeployInput {
  const start = deployStartFor(config(), { cluster: 'demo', service: 'web', image: 'registry.example/web:2', requestedBy });
  return start.args[0];
}

describe('what the starters put in the input', () => {
  it('approvers as people with every identity, the groups, and every identity of the requester', () => {
    expect(inputFor('cli:alice').approval).toEqual({
      approvers: {
        people: [
          { name: 'alice', identities: ['person:alice', `slack:${ALICE}`, 'cli:alice'] },
          { name: 'bob', identities: ['person:bob', `slack:${BOB}`, 'cli:bob', 'cli:robert'] },
        ],
        groups: [GROUP],
      },
      requester: ['person:alice', `slack:${ALICE}`, 'cli:alice'],
    });
  });

  it('a service without Slack approvers and a requester nobody claims: nothing to add (anyone but the requester)', () => {
    const c = config({ slack: undefined, people: {} });
    expect(deployApprovalFrom(c, 'demo', 'web', 'cli:dave')).toBeUndefined();
    // A known requester is still carried, so the fallback holds across channels.
    expect(deployApprovalFrom(config({ slack: undefined }), 'demo', 'web', 'cli:alice')).toEqual({ requester: ['person:alice', `slack:${ALICE}`, 'cli:alice'] });
  });

  it("a request's own approval is never passed on", () => {
    const request = { cluster: 'demo', service: 'web', image: 'registry.example/web:2', requestedBy: 'cli:mallory', approval: { approvers: { people: [{ identities: ['cli:mallory'] }], groups: [] } } };
    const input = deployStartFor(config({ slack: undefined, people: {} }), request).args[0];
    expect(input.approval).toBeUndefined();
  });

  it('an unknown service and an image outside the list are refused with the field', () => {
    expect(() => deployStartFor(config(), { cluster: 'demo', service: 'api', image: 'registry.example/web:2' })).toThrow(DeployRequestRefused);
    try {
      deployStartFor(config(), { cluster: 'demo', service: 'web', image: 'registry.evil.example/backdoor:1' });
      throw new Error('not refused');
    } catch (err) {
      expect(err).toMatchObject({ field: 'image', message: expect.stringContaining('image repository registry.evil.example/backdoor is not one demo/web may run') });
    }
  });
});

describe('the approve validator', () => {
  const alicesDeploy = inputFor('cli:alice');
  const refusal = (by: string | undefined, viaGroup?: string, input = alicesDeploy) =>
    approvalRefusal(input, by === undefined ? {} : { by, ...(viaGroup ? { viaGroup } : {}) });

  it.each([
    ['no by', undefined, undefined, 'an approval must say who approves (by)'],
    ['an empty by', '  ', undefined, 'an approval must say who approves (by)'],
    ['the requester as herself', 'cli:alice', undefined, 'cli:alice requested this deploy and cannot approve it'],
    ['the requester from Slack', `slack:${ALICE}`, undefined, `slack:${ALICE} requested this deploy (as cli:alice) and cannot approve it`],
    ['the requester as a person', 'person:alice', undefined, 'person:alice requested this deploy (as cli:alice)'],
    ['the requester through a listed group', `slack:${ALICE}`, GROUP, 'requested this deploy'],
    ['someone not listed', 'cli:mallory', undefined, 'cli:mallory is not an approver of demo/web'],
    ['someone not listed, from Slack', `slack:${CAROL}`, undefined, `slack:${CAROL} is not an approver of demo/web`],
    ['a group that is not listed', `slack:${CAROL}`, 'S0OTHERS', 'approved through user group S0OTHERS, which is not an approver of demo/web'],
    ['a group claimed by a CLI user', 'cli:mallory', GROUP, 'only a Slack user approves through a user group'],
    ['free text', 'alice', undefined, 'alice is not an approver of demo/web'],
  ])('refuses %s', (_what, by, viaGroup, message) => {
    expect(refusal(by, viaGroup)).toContain(message);
  });

  it.each([
    ['bob from Slack', `slack:${BOB}`, undefined],
    ['bob from the CLI', 'cli:bob', undefined],
    ["bob's other CLI user", 'cli:robert', undefined],
    ['a member of a listed group', `slack:${CAROL}`, GROUP],
  ])('accepts %s', (_what, by, viaGroup) => {
    expect(refusal(by, viaGroup)).toBeUndefined();
  });

  it('bob requesting from Slack cannot approve from the CLI', () => {
    expect(refusal('cli:robert', undefined, inputFor(`slack:${BOB}`))).toContain('requested this deploy (as slack:U0BOB0001)');
  });

  it('a run started without the field (earlier starters, histories): anyone but the requester, and only with a by', () => {
    const old: DeployInput = { cluster: 'demo', service: 'web', image: 'registry.example/web:2', requestedBy: 'alice' };
    expect(refusal(undefined, undefined, old)).toContain('must say who approves');
    expect(refusal('alice', undefined, old)).toContain('alice requested this deploy');
    expect(refusal('cli:dave', undefined, old)).toBeUndefined();
  });
});
