import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from '../../config/load';
import { releaseRequestSchema, type ReleaseInput } from '../../contracts/release/input';
import { globPattern, ReleaseRequestRefused, releaseStartFor, selectServices } from '../../contracts/release/request';
import { ROOT } from '../../testkit/paths';
import { failuresAllowed, planWaves } from '../../workflows/release/waves';

/**
 * The release's plan as plain functions: how services fall into waves and how many failures a wave
 * tolerates (workflows/release/waves.ts), and what a request becomes against the config
 * (contracts/release/request.ts): manifest and selector, the image policy of every service, who may
 * approve each deploy.
 */

const BOB = 'U0BOB0001';

function config() {
  const doc = parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8')) as Record<string, unknown>;
  const svc = (cluster: string, name: string, tags: Record<string, string> = {}) => ({ cluster, name, images: [`registry.example/${name}`, 'registry.example/base'], tags });
  return parseConfig(
    {
      ...doc,
      clusters: { ...(doc.clusters as object), edge: (doc.clusters as Record<string, unknown>).demo },
      services: [svc('demo', 'web', { team: 'web' }), svc('demo', 'api-users', { team: 'payments' }), svc('demo', 'api-orders', { team: 'payments' }), svc('edge', 'api-users', { team: 'payments' })],
      slack: { signingSecret: '${FLEETOPS_SLACK_SIGNING_SECRET}', teamId: 'T0FLEETOPS', approvers: { 'demo/web': { users: [BOB], groups: [] }, 'demo/api-users': { users: [BOB], groups: [] } } },
      people: { bob: { slack: [BOB], cli: ['bob'] } },
    },
    'release test',
    { env: { FLEETOPS_SLACK_SIGNING_SECRET: 'test-signing-secret-release-plan' } },
  );
}

const inputOf = (start: ReturnType<typeof releaseStartFor>): ReleaseInput => start.args[0];

describe('waves', () => {
  it('a count is the wave’s size, a percentage the share deployed once the wave is over; the last wave takes the rest', () => {
    expect(planWaves(200, [1, '10%', '25%', '100%'])).toEqual([1, 19, 30, 150]);
    expect(planWaves(10, [1, '10%', '25%', '100%'])).toEqual([1, 2, 7]);
    expect(planWaves(3, [1, '10%', '25%', '100%'])).toEqual([1, 2]);
    expect(planWaves(1, [1, '10%', '25%', '100%'])).toEqual([1]);
    expect(planWaves(7, [2, 2])).toEqual([2, 5]);
    expect(planWaves(5, ['50%'])).toEqual([5]);
  });

  it('a wave’s failure budget: a count as given, a percentage of the wave rounded down', () => {
    expect(failuresAllowed(0, 30)).toBe(0);
    expect(failuresAllowed(2, 30)).toBe(2);
    expect(failuresAllowed('10%', 30)).toBe(3);
    expect(failuresAllowed('10%', 9)).toBe(0);
  });

  it('the request schema takes counts and percentages, and refuses 0% and nonsense', () => {
    const base = { id: 'r1', change: 'x', selector: { image: 'registry.example/base:2' } };
    expect(releaseRequestSchema.safeParse({ ...base, waves: [1, '12.5%', '100%'], failureBudget: '5%' }).success).toBe(true);
    expect(releaseRequestSchema.safeParse({ ...base, waves: ['0%'] }).success).toBe(false);
    expect(releaseRequestSchema.safeParse({ ...base, waves: ['150%'] }).success).toBe(false);
    expect(releaseRequestSchema.safeParse({ ...base, waves: [0] }).success).toBe(false);
    expect(releaseRequestSchema.safeParse({ ...base, manifest: { demo: { web: 'x' } } }).success).toBe(false);
    expect(releaseRequestSchema.safeParse({ ...base, id: 'has space' }).success).toBe(false);
  });
});

describe('a request against the config', () => {
  it('a selector picks configured services by cluster, name glob and tag, in config order', () => {
    const c = config();
    const names = (sel: Parameters<typeof selectServices>[1]) => selectServices(c, sel).map((s) => `${s.cluster}/${s.name}`);
    expect(names({ service: 'api-*' })).toEqual(['demo/api-users', 'demo/api-orders', 'edge/api-users']);
    expect(names({ cluster: 'demo', tag: 'team=payments' })).toEqual(['demo/api-users', 'demo/api-orders']);
    expect(names({ service: 'w?b' })).toEqual(['demo/web']);
    expect(names({ tag: 'team=nobody' })).toEqual([]);
    expect(globPattern('a.b*').test('aXb')).toBe(false);
  });

  it('a selector’s image goes to every service picked, each with its approvers (shared entries) and the start options of release-<id>', () => {
    const start = releaseStartFor(config(), { id: 'base-2', change: 'base image 2', selector: { tag: 'team=payments', image: 'registry.example/base:2' }, requestedBy: 'cli:alice', waves: [1, '100%'] });
    expect(start).toMatchObject({ workflowType: 'release', workflowId: 'release-base-2', taskQueue: 'fleetops', workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    expect(start.staticSummary).toBe('Release base-2: base image 2 to 3 services (by cli:alice)');
    const input = inputOf(start);
    expect(input.targets).toEqual([
      { cluster: 'demo', service: 'api-users', image: 'registry.example/base:2', approval: 0 },
      { cluster: 'demo', service: 'api-orders', image: 'registry.example/base:2' },
      { cluster: 'edge', service: 'api-users', image: 'registry.example/base:2' },
    ]);
    expect(input.approvals).toEqual([{ approvers: { people: [{ name: 'bob', identities: ['person:bob', `slack:${BOB}`, 'cli:bob'] }], groups: [] }, requester: ['cli:alice'] }]);
    expect(input.waves).toEqual([1, '100%']);
  });

  it('a manifest names each service’s image or task definition; an unknown service or a refused image refuses the release, naming each', () => {
    const c = config();
    const input = inputOf(
      releaseStartFor(c, {
        id: 'm1',
        change: 'two things',
        manifest: { demo: { web: 'registry.example/web:7', 'api-orders': 'arn:aws:ecs:us-east-1:123456789012:task-definition/api-orders:9' } },
      }),
    );
    expect(input.targets.map((t) => [t.service, t.image ?? t.taskDefinition])).toEqual([
      ['web', 'registry.example/web:7'],
      ['api-orders', 'arn:aws:ecs:us-east-1:123456789012:task-definition/api-orders:9'],
    ]);
    expect(() => releaseStartFor(c, { id: 'm2', change: 'x', manifest: { demo: { nope: 'registry.example/web:7' } } })).toThrow(
      new ReleaseRequestRefused('manifest', 'no service "nope" in cluster "demo" in the config'),
    );
    expect(() => releaseStartFor(c, { id: 'm3', change: 'x', selector: { service: 'api-*', image: 'evil.example/base:1' } })).toThrow(/^image repository evil.example\/base is not one demo\/api-users may run .*; image repository evil.example\/base is not one edge\/api-users may run/);
    expect(() => releaseStartFor(c, { id: 'm4', change: 'x', selector: { cluster: 'nowhere', image: 'registry.example/base:1' } })).toThrow('the selector picks no configured service');
  });
});
