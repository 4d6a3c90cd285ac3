import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createAwsClients } from '../../activities/aws/clients';
import { createReleaseActivities } from '../../activities/release';
import { parseConfigText } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';
import { statusQuery } from '../../contracts/controls';
import type { ReleaseInput } from '../../contracts/release/input';
import type { ReleaseStatus } from '../../contracts/release/messages';
import type { SlackStandIn, StoredMessage } from '../../stack/slack-stand-in';
import { ROOT } from '../../testkit/paths';
import { until, untilValue } from '../../testkit/poll';
import { INSTANT_PLAN, releaseMock, useDevServer } from '../release/release-mock';
import { startSlackSuite, type SlackSuite } from './slack-harness';
import { APPROVER_GROUP, askFleetops, commandAnswer, PEOPLE, slackSection, slackUser, startWorkspace, withSlack } from './slack-world';

/**
 * `/fleetops release …` against the real release workflow on the dev server; the deploys' AWS steps are
 * test/release/release-mock.ts's (a plan without bakes). Alice deploys both services of the cluster and
 * asks; Bob deploys only web. Bob (named) and Carol (through the approver group) approve both, and so
 * does Alice, whom the workflow refuses for her own release. Mallory is nobody. Refusals are answered
 * to the asker only and start nothing (checked in Temporal, by id).
 */

jest.setTimeout(30_000);

let standIn: SlackStandIn;
let suite: SlackSuite;
const C = `sr${randomUUID().slice(0, 6)}`;

// Before useDevServer's own: the suite's worker lets go of the server's connection before it closes.
afterAll(async () => {
  await suite?.stop();
  await standIn?.close();
});

const env = useDevServer();

beforeAll(async () => {
  standIn = await startWorkspace();
  const fixture = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
  const service = (name: string) => ({ ...fixture.services[0]!, cluster: C, name });
  const approvers = { users: [PEOPLE.bob, PEOPLE.alice], groups: [APPROVER_GROUP] };
  const config: FleetopsConfig = withSlack(
    { ...fixture, clusters: { [C]: fixture.clusters.demo! }, services: [service('web'), service('api')], notifications: { webhooks: [] } },
    slackSection(
      standIn,
      { [`${C}/web`]: approvers, [`${C}/api`]: approvers },
      { deployers: { [`${C}/web`]: { users: [PEOPLE.alice, PEOPLE.bob], groups: [] }, [`${C}/api`]: { users: [PEOPLE.alice], groups: [] } } },
    ),
  );
  // The deploys' AWS steps are the mock's; the release's own activities and notifications are the real ones.
  const { notify: _notify, ...mocked } = releaseMock(INSTANT_PLAN).activities;
  const releaseOwn = Object.keys(createReleaseActivities({}));
  const deploySteps = Object.fromEntries(Object.entries(mocked).filter(([k]) => !releaseOwn.includes(k)));
  suite = await startSlackSuite('release', config, createAwsClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }), env(), deploySteps);
});

const ask = (userId: string, text: string, re: RegExp): Promise<StoredMessage> => askFleetops(standIn, suite.router.url, userId, text, re);
const statusOf = (id: string) => suite.client.workflow.getHandle(`release-${id}`).query(statusQuery) as Promise<ReleaseStatus>;
const absent = (id: string) => expect(suite.client.workflow.getHandle(`release-${id}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
const refusedTo = async (userId: string, text: string, says: string) => {
  const m = await ask(userId, text, /:no_entry_sign:/);
  expect(m.ephemeralTo).toBe(userId);
  expect(m.text).toContain(says);
  return m;
};

describe('releases from Slack', () => {
  test('Alice starts a release, a copy of her request starts nothing, status is for the asker, the requester and a stranger may not approve, Carol and Bob approve its waves', async () => {
    const id = `r${randomUUID().slice(0, 6)}`;
    const alice = slackUser(standIn, suite.router.url, PEOPLE.alice);
    const before = standIn.messages().length;
    await alice.command(`release start ${id} image registry.example/web:2 cluster ${C} waves 1,100% change web and api to 2`);
    const started = await commandAnswer(standIn, PEOPLE.alice, /started release/, before);
    expect(started.ephemeralTo).toBeUndefined();
    expect(started.text).toContain(`|release-${id}>`);
    expect(started.text).toContain('web and api to 2 to 2 services');
    const first = await suite.client.workflow.getHandle(`release-${id}`).describe();
    const input = (await suite.client.workflow.getHandle(`release-${id}`).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input;
    expect(JSON.parse(Buffer.from(input!.payloads![0]!.data!).toString()) as ReleaseInput).toMatchObject({
      id,
      requestedBy: `slack:${PEOPLE.alice}`,
      waves: [1, '100%'],
      targets: [{ cluster: C, service: 'web', image: 'registry.example/web:2' }, { cluster: C, service: 'api' }],
    });

    // A copy of the request, byte for byte: nothing started, nothing answered.
    expect((await alice.replay(alice.last()!)).status).toBe(200);
    await until('the copy to be logged', () => suite.router.logs.some((l) => l.includes('slack: replayed release start ignored') && l.includes(`release-${id}`)));
    expect((await suite.client.workflow.getHandle(`release-${id}`).describe()).runId).toBe(first.runId);
    expect(standIn.messages().slice(before).filter((m) => m.via === 'response_url')).toHaveLength(1);

    await untilValue('wave 1 waiting', () => statusOf(id), (s) => s.phase === 'awaiting-approval', { timeoutMs: 15_000, intervalMs: 200 });
    const status = await ask(PEOPLE.mallory, `release status ${id}`, /awaiting-approval/);
    expect(status.ephemeralTo).toBe(PEOPLE.mallory);
    expect(status.text).toContain('wave 1 of 2');

    await refusedTo(PEOPLE.alice, `release approve ${id}`, `slack:${PEOPLE.alice} requested this deploy`);
    await refusedTo(PEOPLE.mallory, `release approve ${id}`, `you are not an approver of ${C}/web`);
    expect((await statusOf(id)).lastWave).toBeUndefined();

    const byCarol = await ask(PEOPLE.carol, `release approve release-${id} wave 1`, /approved wave 1/);
    expect(byCarol.ephemeralTo).toBeUndefined();
    const second = await untilValue('wave 2 waiting', () => statusOf(id), (s) => s.phase === 'awaiting-approval' && s.wave.current === 2, { timeoutMs: 20_000, intervalMs: 200 });
    expect(second.lastWave).toMatchObject({ wave: 1, promoted: [`${C}/web`], approvedBy: `slack:${PEOPLE.carol}` });
    await ask(PEOPLE.bob, `release approve ${id}`, /approved wave 2/);
    const done = await untilValue('the release over', () => statusOf(id), (s) => s.phase === 'completed', { timeoutMs: 20_000, intervalMs: 200 });
    expect(done.counts).toMatchObject({ promoted: 2 });
  });

  test('refused, to the asker only, and nothing started: not a deployer of every service picked, an image outside the repositories, a selector picking nothing, an id used before; controls by a stranger', async () => {
    const id = `x${randomUUID().slice(0, 6)}`;
    await refusedTo(PEOPLE.bob, `release start ${id} image registry.example/web:3 cluster ${C}`, `you are not a deployer of ${C}/api`);
    await refusedTo(PEOPLE.alice, `release start ${id} image evil.example/web:3 cluster ${C}`, 'evil.example/web');
    await refusedTo(PEOPLE.alice, `release start ${id} image registry.example/web:3 cluster ${C} services nothing-*`, 'the selector picks no configured service');
    await absent(id);
    const usage = await ask(PEOPLE.alice, `release start ${id} cluster ${C}`, /usage: \/fleetops release start/);
    expect(usage.ephemeralTo).toBe(PEOPLE.alice);
    await absent(id);

    // Bob deploys web: a release of web alone is his; its id is then used.
    await ask(PEOPLE.bob, `release start ${id} image registry.example/web:3 cluster ${C} services web`, /started release/);
    await refusedTo(PEOPLE.alice, `release start ${id} image registry.example/web:4 cluster ${C}`, 'exists already');
    await refusedTo(PEOPLE.mallory, `release rollback ${id} bad idea`, `you are not an approver of`);
    await refusedTo(PEOPLE.mallory, `release skip ${id} web`, `you are neither an approver nor a deployer of ${C}/web`);
    await refusedTo(PEOPLE.carol, `release continue ${id}`, 'is not halted');
    const s = await statusOf(id);
    expect(s.rollback).toBeUndefined();
    expect(s.counts.skipped).toBe(0);
    await suite.client.workflow.getHandle(`release-${id}`).terminate('test over');
  });
});
