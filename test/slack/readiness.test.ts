import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createAwsClients } from '../../activities/aws/clients';
import { parseConfigText } from '../../config/load';
import { clusterReadinessSchema, type FleetopsConfig } from '../../config/schema';
import { statusQuery } from '../../contracts/controls';
import type { ReadinessStatus } from '../../contracts/readiness/messages';
import type { SlackStandIn, StoredMessage } from '../../stack/slack-stand-in';
import { ROOT } from '../../testkit/paths';
import { until, untilValue } from '../../testkit/poll';
import { startSlackSuite, type SlackSuite } from './slack-harness';
import { askFleetops, commandAnswer, PEOPLE, slackSection, slackUser, startWorkspace, withSlack } from './slack-world';

/**
 * `/fleetops readiness add|list|change|cancel` against the real readiness workflow on the dev server.
 * A window needs the deployers of every service of every cluster it touches: Alice deploys all three
 * services; Bob only `<A>/web`, not `<A>/api`, so a window on A is not his to add, change or cancel.
 * Refusals are answered to the asker only and leave Temporal as it was (each checked there, by id).
 * The windows start hours ahead: nothing here raises a floor.
 */


let standIn: SlackStandIn;
let suite: SlackSuite;
const tag = randomUUID().slice(0, 6);
const A = `rs${tag}a`;
const B = `rs${tag}b`;

beforeAll(async () => {
  standIn = await startWorkspace();
  const fixture = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
  const readiness = clusterReadinessSchema.parse({ bootToActiveSeconds: 240, levels: { '2': { floor: { units: 4 } }, '3': { floor: { units: 8 }, freezeDeploys: true } } });
  const cluster = { ...fixture.clusters.demo!, readiness };
  const service = (c: string, name: string) => ({ ...fixture.services[0]!, cluster: c, name });
  const alice = { users: [PEOPLE.alice], groups: [] };
  const config: FleetopsConfig = withSlack(
    { ...fixture, clusters: { [A]: cluster, [B]: cluster }, services: [service(A, 'web'), service(A, 'api'), service(B, 'web')], notifications: { webhooks: [] } },
    slackSection(standIn, {}, { deployers: { [`${A}/web`]: { users: [PEOPLE.alice, PEOPLE.bob], groups: [] }, [`${A}/api`]: alice, [`${B}/web`]: alice } }),
  );
  // Windows hours ahead make no AWS call; the clients point nowhere.
  suite = await startSlackSuite('readiness', config, createAwsClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }));
});

afterAll(async () => {
  await suite?.stop();
  await standIn?.close();
});

const user = (id: string) => slackUser(standIn, suite.router.url, id);
const hours = (h: number) => new Date(Math.ceil((Date.now() + h * 3600_000) / 60_000) * 60_000).toISOString();
const statusOf = (workflowId: string) => suite.client.workflow.getHandle(workflowId).query(statusQuery) as Promise<ReadinessStatus>;
const absent = (workflowId: string) => expect(suite.client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

const ask = (userId: string, text: string, re: RegExp): Promise<StoredMessage> => askFleetops(standIn, suite.router.url, userId, text, re);

describe('readiness windows from Slack', () => {
  test('Alice adds a window on two clusters, changes it and cancels it, answered in the channel; a list is answered to its asker only', async () => {
    const [start, end] = [hours(3), hours(5)];
    const ids = [`readiness-${A}-tv`, `readiness-${B}-tv`];
    const added = await ask(PEOPLE.alice, `readiness add ${A} ${B} level 3 from ${start} to ${end} id tv reason TV spot`, /added a readiness window/);
    expect(added.ephemeralTo).toBeUndefined();
    expect(added.text).toContain(`<@${PEOPLE.alice}>`);
    expect(added.text).toContain('deploys to its clusters are frozen');
    for (const id of ids) expect(added.text).toContain(`|${id}>`);
    const first = await statusOf(ids[0]!);
    expect(first).toMatchObject({ cluster: A, phase: 'waiting', start, end, reason: 'TV spot', level: { level: 3, floor: { units: 8 }, freezeDeploys: true } });
    expect((await suite.client.workflow.getHandle(ids[1]!).describe()).status.name).toBe('RUNNING');

    // A copy of the request, byte for byte, adds nothing and is not answered.
    const sent = user(PEOPLE.alice);
    const before = standIn.messages().length;
    await sent.command(`readiness add ${B} level 2 from ${hours(7)} to ${hours(8)} id copy reason copied`);
    await commandAnswer(standIn, PEOPLE.alice, /added a readiness window/, before);
    expect((await sent.replay(sent.last()!)).status).toBe(200);
    await until('the copy to be logged', () => suite.router.logs.some((l) => l.includes('slack: replayed readiness add ignored') && l.includes(`readiness-${B}-copy`)));
    expect(standIn.messages().slice(before).filter((m) => m.via === 'response_url')).toHaveLength(1);

    const listed = await untilValue(
      'both windows listed',
      () => ask(PEOPLE.carol, `readiness list ${A}`, /Readiness windows|no readiness windows/),
      (m) => (m.text ?? '').includes(ids[0]!),
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(listed.ephemeralTo).toBe(PEOPLE.carol);
    expect(listed.text).toContain('level 3 *waiting*');
    expect(listed.text).not.toContain(ids[1]!);

    const changed = await ask(PEOPLE.alice, `readiness change ${ids[0]} level 2 reason TV spot, moved`, /changed the readiness window/);
    expect(changed.ephemeralTo).toBeUndefined();
    expect(await statusOf(ids[0]!)).toMatchObject({ level: { level: 2, floor: { units: 4 } }, reason: 'TV spot, moved' });

    const cancelled = await ask(PEOPLE.alice, `readiness cancel ${ids[1]} campaign moved`, /cancelled the readiness window/);
    expect(cancelled.ephemeralTo).toBeUndefined();
    expect(await suite.client.workflow.getHandle(ids[1]!).result()).toMatchObject({ phase: 'cancelled' });
  });

  test('refused, to the asker only, with nothing started or changed: not a deployer of one service, an unknown level, bad times', async () => {
    const [start, end] = [hours(3), hours(4)];
    const notAll = await ask(PEOPLE.bob, `readiness add ${A} level 2 from ${start} to ${end} id bob reason sale`, /:no_entry_sign:/);
    expect(notAll.ephemeralTo).toBe(PEOPLE.bob);
    expect(notAll.text).toContain(`you are not a deployer of ${A}/api`);
    await absent(`readiness-${A}-bob`);

    const level = await ask(PEOPLE.alice, `readiness add ${A} level 7 from ${start} to ${end} id seven reason sale`, /:no_entry_sign:/);
    expect(level.ephemeralTo).toBe(PEOPLE.alice);
    expect(level.text).toContain(`no readiness level 7 for cluster "${A}" (levels: 2, 3)`);
    await absent(`readiness-${A}-seven`);

    const noZone = await ask(PEOPLE.alice, `readiness add ${A} level 2 from 2031-01-01T10:00 to ${end} id nozone reason sale`, /invalid from/);
    expect(noZone.ephemeralTo).toBe(PEOPLE.alice);
    expect(noZone.text).toContain('must be an ISO 8601 time with its zone');
    const backwards = await ask(PEOPLE.alice, `readiness add ${A} level 2 from ${end} to ${start} id backwards reason sale`, /:no_entry_sign:/);
    expect(backwards.text).toContain('a window ends after it starts');
    const over = await ask(PEOPLE.alice, `readiness add ${A} level 2 from ${hours(-3)} to ${hours(-2)} id over reason sale`, /:no_entry_sign:/);
    expect(over.text).toContain('has already passed');
    for (const id of ['nozone', 'backwards', 'over']) await absent(`readiness-${A}-${id}`);

    // Alice's window on A: Bob may neither change nor cancel it, and it stays as it was.
    const id = `readiness-${A}-mine`;
    await ask(PEOPLE.alice, `readiness add ${A} level 2 from ${start} to ${end} id mine reason sale`, /added a readiness window/);
    for (const text of [`readiness change ${id} level 3`, `readiness cancel ${id} not needed`]) {
      const no = await ask(PEOPLE.bob, text, /:no_entry_sign:/);
      expect(no.ephemeralTo).toBe(PEOPLE.bob);
      expect(no.text).toContain(`you are not a deployer of ${A}/api`);
    }
    const unknownLevel = await ask(PEOPLE.alice, `readiness change ${id} level 9`, /:no_entry_sign:/);
    expect(unknownLevel.text).toContain('no readiness level 9');
    const s = await statusOf(id);
    expect(s).toMatchObject({ phase: 'waiting', level: { level: 2 } });
    expect(s.events.map((e) => e.what).join('\n')).not.toMatch(/changed|cancel/);
  });
});
