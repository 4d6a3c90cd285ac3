import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScheduleNotFoundError, WorkflowNotFoundError, type ScheduleHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { createAwsClients } from '../../activities/aws/clients';
import { FleetopsCluster, FleetopsKind, FleetopsSeverity } from '../../common/search-attributes';
import { parseConfigText } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';
import type { DeployInput } from '../../contracts/canary-deploy/input';
import type { DeployStatus } from '../../contracts/canary-deploy/messages';
import type { DeployTriggerInput, DeployTriggerResult } from '../../contracts/deploy-trigger/input';
import type { SlackStandIn, StoredMessage } from '../../stack/slack-stand-in';
import { ROOT } from '../../testkit/paths';
import { until, untilValue } from '../../testkit/poll';
import { said, startSlackSuite, type SlackSuite } from './slack-harness';
import { askFleetops, CHANNELS, commandAnswer, PEOPLE, slackSection, slackUser, startWorkspace, waitForSlack, withSlack } from './slack-world';

/**
 * `/fleetops deploy … at|cron …`, `/fleetops schedules` and `schedules cancel` against the dev
 * server's Temporal Schedules and the real deploy trigger. Alice deploys web and api; Bob only web;
 * Mallory nothing. A Schedule made from Slack is the CLI's, its trigger carrying Alice as requester and
 * `requireGate`; a run while an incident freezes the cluster starts nothing and says so in the deploys
 * channel, Alice mentioned; a run after it starts a deploy that gets a gate. Refusals make no Schedule.
 */


let standIn: SlackStandIn;
let suite: SlackSuite;
const C = `ss${randomUUID().slice(0, 6)}`;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  standIn = await startWorkspace();
  const fixture = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
  const base = fixture.services[0]!;
  const service = (name: string) => ({ ...base, cluster: C, name });
  // api's plan has no gate: a deploy of it from Slack gets one all the same.
  const api = { ...service('api'), canary: { ...base.canary, steps: base.canary.steps.filter((st) => st.kind !== 'gate') } };
  const config: FleetopsConfig = withSlack(
    { ...fixture, clusters: { [C]: fixture.clusters.demo! }, services: [service('web'), api], notifications: { webhooks: [] } },
    slackSection(standIn, {}, { deployers: { [`${C}/web`]: { users: [PEOPLE.alice, PEOPLE.bob], groups: [] }, [`${C}/api`]: { users: [PEOPLE.alice], groups: [] } } }),
  );
  // The deploy a run starts is only looked at up to its plan (no AWS call); the clients point nowhere.
  suite = await startSlackSuite('schedules', config, createAwsClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }));
});

afterAll(async () => {
  for (const c of cleanup) await c().catch(() => undefined);
  await suite?.stop();
  await standIn?.close();
});

const user = (id: string) => slackUser(standIn, suite.router.url, id);
const hours = (h: number) => new Date(Math.ceil((Date.now() + h * 3600_000) / 1000) * 1000).toISOString();
const scheduleOf = (id: string): ScheduleHandle => suite.client.schedule.getHandle(id);
const absent = (id: string) => expect(scheduleOf(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);

const ask = (userId: string, text: string, re: RegExp): Promise<StoredMessage> => askFleetops(standIn, suite.router.url, userId, text, re);

/** Runs the Schedule's action now; the trigger run's result. */
async function triggerRun(schedule: ScheduleHandle, nth: number): Promise<DeployTriggerResult> {
  await schedule.trigger();
  const action = await until(`run ${nth} of ${schedule.scheduleId}`, async () => (await schedule.describe()).info.recentActions[nth - 1], { timeoutMs: 20_000, intervalMs: 200 });
  return (await suite.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId).result()) as DeployTriggerResult;
}

const listedRunning = async (workflowId: string): Promise<boolean> => {
  for await (const wf of suite.client.workflow.list({ query: `WorkflowId = '${workflowId}' AND ExecutionStatus = 'Running'` })) return wf.workflowId === workflowId;
  return false;
};

describe('scheduled deploys from Slack', () => {
  test('Alice schedules a one-off and a named recurring deploy, the list shows them to the asker, a replay makes none, and a deployer of the service cancels one', async () => {
    const at = hours(2);
    const once = await ask(PEOPLE.alice, `deploy ${C}/web registry.example/web:5 at ${at}`, /scheduled a deploy/);
    expect(once.ephemeralTo).toBeUndefined();
    const id1 = `deploy-schedule-${C}-web-1`;
    expect(once.text).toContain(`\`${id1}\``);
    expect(once.text).toContain('waits at a gate');
    const d = await scheduleOf(id1).describe();
    expect(d.action.type === 'startWorkflow' && (d.action.args as DeployTriggerInput[])[0]).toEqual({
      request: { cluster: C, service: 'web', image: 'registry.example/web:5', requestedBy: `slack:${PEOPLE.alice}` },
      scheduleId: id1,
      requireGate: true,
    });
    expect(d.info.nextActionTimes[0]?.toISOString()).toBe(at);

    // A copy of the request, byte for byte: no second Schedule, no second answer.
    const alice = user(PEOPLE.alice);
    let before = standIn.messages().length;
    await alice.command(`deploy ${C} web registry.example/web:6 cron "30 3 * * *" timezone Asia/Tokyo`);
    const recurring = await commandAnswer(standIn, PEOPLE.alice, /scheduled a deploy/, before);
    const id2 = `deploy-schedule-${C}-web-2`;
    expect(recurring.text).toContain(`\`${id2}\`, cron 30 3 * * * Asia/Tokyo`);
    await alice.replay(alice.last()!);
    await until('the copy to be logged', () => suite.router.logs.some((l) => l.includes('slack: replayed scheduled deploy ignored') && l.includes(id2)));
    await absent(`deploy-schedule-${C}-web-3`);
    expect(standIn.messages().slice(before).filter((m) => m.via === 'response_url')).toHaveLength(1);

    const named = await ask(PEOPLE.alice, `deploy ${C}/web registry.example/web:7 cron @daily name nightly`, /scheduled a deploy/);
    expect(named.text).toContain(`deploy-schedule-${C}-web-nightly`);
    const taken = await ask(PEOPLE.alice, `deploy ${C}/web registry.example/web:8 cron @weekly name nightly`, /:no_entry_sign:/);
    expect(taken.ephemeralTo).toBe(PEOPLE.alice);
    expect(taken.text).toContain('exists already');
    expect((await scheduleOf(`deploy-schedule-${C}-web-nightly`).describe()).memo).toMatchObject({ target: 'registry.example/web:7', when: 'cron @daily' });

    const list = await untilValue(
      'the schedules listed',
      () => ask(PEOPLE.mallory, 'schedules', /Scheduled|nothing scheduled/),
      (m) => [id1, id2].every((id) => (m.text ?? '').includes(id)),
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(list.ephemeralTo).toBe(PEOPLE.mallory);
    expect(list.text).toContain(`\`${id1}\` deploy ${C}/web -&gt; registry.example/web:5, at ${at}`);
    expect(list.text).toContain(`by <@${PEOPLE.alice}>`);

    const no = await ask(PEOPLE.mallory, `schedules cancel ${id1}`, /:no_entry_sign:/);
    expect(no.ephemeralTo).toBe(PEOPLE.mallory);
    expect(no.text).toContain(`you are not a deployer of ${C}/web`);
    await scheduleOf(id1).describe();
    const cancelled = await ask(PEOPLE.bob, `schedules cancel ${id1}`, /cancelled the scheduled deploy/);
    expect(cancelled.ephemeralTo).toBeUndefined();
    await absent(id1);
    expect((await ask(PEOPLE.bob, 'schedules cancel someone-elses', /:no_entry_sign:/)).text).toContain('is not a scheduled deploy');
    for (const id of [id2, `deploy-schedule-${C}-web-nightly`]) cleanup.push(() => scheduleOf(id).delete());
  });

  test('refused, to the asker only, and nothing scheduled: not a deployer of the service, a time past or without its zone, an image outside its repositories', async () => {
    const bob = await ask(PEOPLE.bob, `deploy ${C}/api registry.example/web:5 at ${hours(2)} name bobs`, /:no_entry_sign:/);
    expect(bob.ephemeralTo).toBe(PEOPLE.bob);
    expect(bob.text).toContain(`you are not a deployer of ${C}/api`);
    const past = await ask(PEOPLE.alice, `deploy ${C}/api registry.example/web:5 at ${hours(-1)} name past`, /invalid at/);
    expect(past.ephemeralTo).toBe(PEOPLE.alice);
    expect(past.text).toContain('is not in the future');
    expect((await ask(PEOPLE.alice, `deploy ${C}/api registry.example/web:5 at 2031-01-01T10:00 name nozone`, /invalid at/)).text).toContain('with its zone');
    const image = await ask(PEOPLE.alice, `deploy ${C}/api registry.evil.example/web:5 cron @daily name evil`, /:no_entry_sign:/);
    expect(image.text).toContain('is refused');
    for (const name of ['bobs', 'past', 'nozone', 'evil']) await absent(`deploy-schedule-${C}-api-${name}`);
  });

  test('a run while an incident freezes the cluster starts nothing and tells Alice in the deploys channel; the next run starts a deploy that waits at a gate', async () => {
    await ask(PEOPLE.alice, `deploy ${C}/api registry.example/web:9 cron "0 4 * * *" name frozen`, /scheduled a deploy/);
    const schedule = scheduleOf(`deploy-schedule-${C}-api-frozen`);
    cleanup.push(() => schedule.delete());
    const deployId = `deploy-${C}-api`;
    cleanup.push(() => suite.client.workflow.getHandle(deployId).terminate('test over'));
    // A sev1 of the cluster (its task queue has no worker: it only has to be listed open).
    const incidentId = `incident-test-${randomUUID().slice(0, 8)}`;
    const incident = await suite.client.workflow.start('incident', {
      workflowId: incidentId,
      taskQueue: `no-worker-${randomUUID()}`,
      args: [{ title: 'test', severity: 'sev1', source: { kind: 'cli', by: 'test' } }],
      typedSearchAttributes: [
        { key: FleetopsKind, value: 'incident' },
        { key: FleetopsSeverity, value: 'sev1' },
        { key: FleetopsCluster, value: C },
      ],
    });
    await until('the incident to be listed', async () => ((await listedRunning(incidentId)) ? true : undefined), { timeoutMs: 15_000, intervalMs: 200 });

    expect(await triggerRun(schedule, 1)).toEqual({ refused: { field: 'freeze', reason: expect.stringContaining(incidentId) }, deployWorkflowId: deployId });
    await expect(suite.client.workflow.getHandle(deployId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    const told = await waitForSlack(standIn, (ms) => ms.find((m) => m.channel === CHANNELS.deploys && said(m).includes(`scheduled deploy ${C}/api: refused`)), 'the refusal in the deploys channel');
    expect(said(told)).toContain(`<@${PEOPLE.alice}>`);
    expect(said(told)).toContain(incidentId);

    await incident.terminate('resolved');
    await until('the incident to be listed closed', async () => ((await listedRunning(incidentId)) ? undefined : true), { timeoutMs: 15_000, intervalMs: 200 });
    expect(await triggerRun(schedule, 2)).toEqual({ started: { workflowId: deployId, runId: expect.any(String) } });
    const started = (await suite.client.workflow.getHandle(deployId).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = defaultPayloadConverter.fromPayload<DeployInput>(started!.input!.payloads![0]!);
    expect(input).toMatchObject({ requestedBy: `slack:${PEOPLE.alice}`, requireGate: true });
    const status = await untilValue(
      'the plan with its gate',
      async () => (await suite.client.workflow.getHandle(deployId).query('status')) as DeployStatus,
      (s) => s.decisions.some((x) => x.reason.includes('a gate before promotion added')),
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(status.requestedBy).toBe(`slack:${PEOPLE.alice}`);
  });
});
