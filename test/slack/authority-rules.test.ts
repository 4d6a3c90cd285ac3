import { fleetopsKindOfId } from '../../common/workflow-ids';
import type { CanaryPlan } from '../../config/schema';
import { holderPerson, holdsRole } from '../../router/slack/incident-authority';
import { parseSlashCommand, parseThreadMention } from '../../router/slack/parse';
import { requestKeyOf } from '../../router/slack/replay';
import { foreignWorkspace } from '../../router/slack/workspace';
import { withGate } from '../../workflows/canary-deploy/preflight';
import { createTestWorld } from '../../testkit/router/fixtures';

/**
 * The pure rules behind the Slack app's refusals: which workspace a payload is from, which workflow
 * ids are fleetops', who holds an incident role (as a person), the gate a chat deploy always gets, and
 * the replay key. The edges that use them are tested against the router in edge/incident/deploy tests.
 */

const world = createTestWorld();
const slack = { teamId: 'T0FLEETOPS' };

describe('workspace of a request', () => {
  test.each<[string, Record<string, unknown>, string | undefined]>([
    ['a command from this team', { team_id: 'T0FLEETOPS' }, undefined],
    ['a command from another team', { team_id: 'T0OTHER' }, 'workspace T0OTHER'],
    ['a command naming no team', { user_id: 'U1' }, 'names no workspace'],
    ['a click whose user is of another team (shared channel)', { team: { id: 'T0FLEETOPS' }, user: { id: 'U1', team_id: 'T0OTHER' } }, 'workspace T0OTHER'],
    ['an event from another team', { team_id: 'T0OTHER', authorizations: [{ team_id: 'T0OTHER' }], event: {} }, 'workspace T0OTHER'],
    ['an event by a user of another team in a shared channel', { team_id: 'T0FLEETOPS', event: { user_team: 'T0OTHER' } }, 'workspace T0OTHER'],
  ])('%s', (_name, body, problem) => {
    const got = foreignWorkspace(body, slack);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });

  test('with an Enterprise Grid organisation configured, requests must name it', () => {
    const grid = { teamId: 'T0FLEETOPS', enterpriseId: 'E0ACME' };
    expect(foreignWorkspace({ team_id: 'T0FLEETOPS', enterprise_id: 'E0ACME' }, grid)).toBeUndefined();
    expect(foreignWorkspace({ team_id: 'T0FLEETOPS' }, grid)).toContain('names no Enterprise Grid organisation');
    expect(foreignWorkspace({ team_id: 'T0FLEETOPS', enterprise_id: 'E0EVIL' }, grid)).toContain('organisation E0EVIL');
  });
});

describe('fleetops workflow ids', () => {
  test.each<[string, string | undefined]>([
    [`deploy-${world.cluster}-web`, 'deploy'],
    [`capacity-${world.cluster}`, 'capacity'],
    ['drain-i-0123456789abcdef0', 'drain'],
    ['drain-222222222222-i-0123456789abcdef0', 'drain'],
    ['drain-coordinator', 'drain'],
    ['launch-i-0123456789abcdef0', 'launch'],
    ['incident-checkout-errors-0a1b2c3d', 'incident'],
    ['deploy-elsewhere-web', undefined],
    ['capacity-elsewhere', undefined],
    ['payments-nightly-batch', undefined],
    ['drain-something-else', undefined],
  ])('%s → %s', (id, kind) => {
    expect(fleetopsKindOfId(id, world.config)).toBe(kind);
  });
});

describe('incident roles as people', () => {
  const config = { people: { bob: { slack: ['U0BOB0001'], cli: ['bob'] } } };
  test('a role held by any identity of a person is that person in Slack', () => {
    expect(holderPerson(config, 'cli:bob')).toBe('person:bob');
    expect(holderPerson(config, 'bob')).toBe('person:bob');
    expect(holdsRole(config, 'U0BOB0001', { commander: 'cli:bob' })).toBe(true);
    expect(holdsRole(config, 'U0BOB0001', { scribe: 'slack:U0BOB0001' })).toBe(true);
    expect(holdsRole(config, 'U0MALLORY', { commander: 'cli:bob', onCall: 'mallory' })).toBe(false);
    expect(holdsRole(config, 'U0MALLORY', {})).toBe(false);
  });
});

describe('a deploy that must wait at a gate', () => {
  const plan = (steps: CanaryPlan['steps']) => ({ ...world.config.services[0]!.canary, steps });
  test('gets one before promote, or at the end; a plan with a gate is kept as it is', () => {
    expect(withGate(plan([{ kind: 'setWeight', weight: 10 }, { kind: 'promote' }])).steps).toEqual([{ kind: 'setWeight', weight: 10 }, { kind: 'gate' }, { kind: 'promote' }]);
    expect(withGate(plan([{ kind: 'setWeight', weight: 10 }, { kind: 'bake', seconds: 5 }])).steps.at(-1)).toEqual({ kind: 'gate' });
    const gated = plan([{ kind: 'gate', timeoutSeconds: 5 }, { kind: 'promote' }]);
    expect(withGate(gated)).toBe(gated);
  });
});

describe('parsing severity changes and the replay key', () => {
  test('severity from the slash command and from a thread', () => {
    expect(parseSlashCommand('incident severity incident-x-1 sev1 checkout down everywhere', world.config)).toEqual({ kind: 'severity', workflowId: 'incident-x-1', severity: 'sev1', reason: 'checkout down everywhere' });
    expect(parseThreadMention('<@U0FLEETOPS> severity sev3 contained', 'incident-x-1')).toEqual({ kind: 'severity', workflowId: 'incident-x-1', severity: 'sev3', reason: 'contained' });
    expect(() => parseThreadMention('severity sev9 no', 'incident-x-1')).toThrow(/invalid severity "sev9"/);
  });

  test('one key per signed request, the same for its byte-for-byte copy', () => {
    const a = { 'x-slack-signature': `v0=${'a'.repeat(64)}`, 'x-slack-request-timestamp': '1700000000' };
    expect(requestKeyOf(a)).toBe(requestKeyOf({ ...a }));
    expect(requestKeyOf(a)).not.toBe(requestKeyOf({ ...a, 'x-slack-signature': `v0=${'b'.repeat(64)}` }));
    expect(requestKeyOf(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(requestKeyOf(a)).not.toContain('a'.repeat(16));
  });
});
