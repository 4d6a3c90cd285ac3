import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeServicesCommand, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { deployStartFor } from '../../contracts/canary-deploy/request';
import { FleetopsCluster, FleetopsKind, FleetopsSeverity } from '../../common/search-attributes';
import { ABORT_ACTION_ID, APPROVE_ACTION_ID } from '../../common/slack/ids';
import { parseConfigText } from '../../config/load';
import type { FleetopsConfig } from '../../config/schema';
import type { SlackStandIn, StoredMessage } from '../../stack/slack-stand-in';
import type { DeployResult, DeployStatus } from '../../contracts/canary-deploy/messages';
import { seedWeightedService } from '../deploy/weighted-service';
import { startEmulator, type Emulator } from '../../testkit/emulator';
import { ROOT } from '../../testkit/paths';
import { until, untilValue } from '../../testkit/poll';
import { hasButtons, said, startSlackSuite, threadOf, type SlackSuite } from './slack-harness';
import { APPROVER_GROUP, CHANNELS, PEOPLE, slackSection, slackUser, startWorkspace, waitForSlack, withSlack } from './slack-world';

/**
 * Deploys from Slack against the real canary deploy workflow on the dev server, its real activities
 * against moto + the simulator, and the Slack stand-in: `/fleetops deploy` starts it as the Slack
 * user; the gate posts Approve and Abort buttons; clicks are checked against the service's approvers
 * (a user, and a member of a user group), the requester cannot approve, refusals go to the clicker
 * only; an accepted click rewrites the message with who and when; a gate nobody answers rewrites it
 * too. Each case asserts the workflow's outcome and what Slack recorded.
 *
 * The cases run side by side (`test.concurrent`): most of their time is the deploys' own timeline
 * (ECS rollouts, ELB health checks 5 s apart, bakes). So each deploys to a cluster of its own, seeded
 * in beforeAll, and reads only its own messages from the stand-in, which every case posts to: a
 * command's answers by the cluster they name, button answers by the deploy's thread, the thread by
 * its run.
 */

jest.setTimeout(240_000);

let emu: Emulator;
let standIn: SlackStandIn;
let suite: SlackSuite;
let suiteConfig: FleetopsConfig;
const fixture = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
const tag = randomUUID().slice(0, 6);
// One cluster per case (names of one length: none is part of another, so a text naming one names no other).
/** Gate waits two minutes, and the approvers name Bob, Alice and the group: approve, abort, a CLI request, images refused. */
const GATED = { approved: `sl${tag}a`, aborted: `sl${tag}b`, fromCli: `sl${tag}c` };
/** Gate waits four seconds, then rolls back; Bob alone approves: the timeout, a group member refused. */
const HASTY = { unanswered: `sl${tag}d`, notListed: `sl${tag}e` };
/** Frozen by an incident its case opens (so no other case's deploy is). */
const FROZEN = `sl${tag}f`;
/** A plan with no gate at all: a deploy from Slack gets one anyway. */
const UNGATED = `sl${tag}g`;
const CLUSTERS: { cluster: string; gateSeconds: number | undefined; approvers: { users: string[]; groups: string[] } }[] = [
  // Alice is an approver too, so her click on her own deploy reaches the workflow, which refuses it.
  ...Object.values(GATED).map((cluster) => ({ cluster, gateSeconds: 120, approvers: { users: [PEOPLE.bob, PEOPLE.alice], groups: [APPROVER_GROUP] } })),
  ...Object.values(HASTY).map((cluster) => ({ cluster, gateSeconds: 4, approvers: { users: [PEOPLE.bob], groups: [] } })),
  { cluster: FROZEN, gateSeconds: 4, approvers: { users: [PEOPLE.bob], groups: [] } },
  { cluster: UNGATED, gateSeconds: undefined, approvers: { users: [PEOPLE.bob], groups: [] } },
];
let images = 1;
/** A new image each time: deploying the revision a service already runs is refused. */
const nextImage = () => `registry.example/web:${(images += 1)}`;

function service(cluster: string, gateSeconds: number | undefined, rule: FleetopsConfig['services'][number]['canary']['listenerRule'], alarm: string): FleetopsConfig['services'][number] {
  return {
    cluster,
    name: 'web',
    images: ['registry.example/web'],
    canary: {
      ...fixture.services[0]!.canary,
      alarms: [alarm],
      metricChecks: [],
      steps:
        gateSeconds === undefined
          ? [{ kind: 'setWeight', weight: 25 }, { kind: 'bake', seconds: 3 }, { kind: 'promote' }]
          : [{ kind: 'setWeight', weight: 25 }, { kind: 'bake', seconds: 3 }, { kind: 'gate', timeoutSeconds: gateSeconds }, { kind: 'promote' }],
      // The post-promotion bake (default 300 s) kept short: these tests are about the gate.
      postPromotionBakeSeconds: 2,
      analysisIntervalSeconds: 3,
      gateTimeoutAction: 'rollback',
      listenerRule: rule,
      promoteTimeoutSeconds: 120,
    },
  };
}

beforeAll(async () => {
  emu = await startEmulator();
  standIn = await startWorkspace();
  await emu.sim.request('PUT', 'ecs-deployments/config', { rolloutMs: 300 });
  // The clusters are seeded side by side: each waits one health-check interval for web to be steady.
  const seeded = await Promise.all(
    CLUSTERS.map(async ({ cluster, gateSeconds }, i) => {
      const alarm = `${cluster}-web-5xx`;
      const s = await seedWeightedService(emu.aws, {
        cluster,
        cidrOctet: 40 + i,
        containerName: 'web',
        desiredCount: 2,
        stableTargetGroupName: `${cluster}-web`,
        canaryTargetGroupName: `${cluster}-canary`,
        alarmName: alarm,
      });
      return service(cluster, gateSeconds, s.rule, alarm);
    }),
  );
  const config: FleetopsConfig = withSlack(
    {
      ...fixture,
      clusters: Object.fromEntries(CLUSTERS.map(({ cluster }) => [cluster, fixture.clusters.demo!])),
      services: seeded,
      alarmRoutes: [],
      notifications: { webhooks: [] },
    },
    slackSection(standIn, Object.fromEntries(CLUSTERS.map(({ cluster, approvers }) => [`${cluster}/web`, approvers]))),
  );
  // One person across channels: Alice's CLI user is hers; Bob's too.
  suiteConfig = { ...config, people: { alice: { slack: [PEOPLE.alice], cli: ['alice'] }, bob: { slack: [PEOPLE.bob], cli: ['bob'] } } };
  suite = await startSlackSuite('deploy', suiteConfig, emu.worker);
});

afterAll(async () => {
  await suite?.stop();
  await standIn?.close();
  await emu?.stop();
});

const user = (id: string) => slackUser(standIn, suite.router.url, id);
const handleOf = (cluster: string) => suite.client.workflow.getHandle(`deploy-${cluster}-web`);

/**
 * A command's answer through its response_url: the first after message `after`, to `userId` or the
 * channel, matching `re` and naming `cluster` (every answer to a deploy or status command names its
 * service or workflow id; other cases answer the same people meanwhile about their own clusters).
 */
const answerTo = (cluster: string, userId: string, re: RegExp, after: number): Promise<StoredMessage> =>
  waitForSlack(
    standIn,
    (ms) => ms.slice(after).find((m) => m.via === 'response_url' && (m.ephemeralTo === userId || !m.ephemeralTo) && re.test(m.text ?? '') && (m.text ?? '').includes(cluster)),
    `an answer about ${cluster} matching ${re}`,
  );

async function startFromSlack(cluster: string, by: string = PEOPLE.alice): Promise<{ runId: string; started: StoredMessage }> {
  const before = standIn.messages().length;
  const r = await user(by).command(`deploy ${cluster}/web ${nextImage()}`);
  expect(r.status).toBe(200);
  expect(r.ms).toBeLessThan(3000);
  const started = await answerTo(cluster, by, /started a canary deploy/, before);
  expect(started.ephemeralTo).toBeUndefined(); // in the channel
  const desc = await handleOf(cluster).describe();
  return { runId: desc.runId, started };
}

/** The gate message as first posted (a copy: the stand-in's own is rewritten when the gate closes). */
async function gateMessageOf(runId: string): Promise<StoredMessage> {
  return structuredClone(await waitForSlack(standIn, () => threadOf(standIn, runId)?.replies.find(hasButtons), 'the gate message with its buttons', 90_000));
}

/** What the app told `userId` alone about a click on `gate` (posted in the gate's thread), after message `after`. */
const ephemeralTo = (userId: string, gate: StoredMessage, after: number) =>
  standIn.messages().slice(after).filter((m) => m.ephemeralTo === userId && m.via === 'chat.postEphemeral' && m.thread_ts === gate.thread_ts);
/** `deploy c/web: <phase>: <reason>` → the phase; the gate message → `gate`. */
const phaseOfReply = (m: StoredMessage, gate: StoredMessage) => (m.ts === gate.ts ? 'gate' : (m.text ?? '').split(': ')[1]);

describe('deploys from Slack', () => {
  test.concurrent('a deploy started by a Slack user is approved by a button click of a group member and promoted; the requester and a stranger are refused privately', async () => {
    const cluster = GATED.approved;
    const { runId } = await startFromSlack(cluster);
    const gate = await gateMessageOf(runId);
    expect(gate.reply_broadcast).toBe(true);
    expect(said(gate)).toContain('Approval needed');
    expect(said(gate)).toContain(`<@${PEOPLE.alice}>`); // requested by, who cannot approve it
    expect(said(gate)).toContain(`<!subteam^${APPROVER_GROUP}>`);

    // While it waits: a second deploy is answered in the channel, and status answers the asker.
    let before = standIn.messages().length;
    await user(PEOPLE.alice).command(`deploy ${cluster}/web ${nextImage()}`);
    const dup = await answerTo(cluster, PEOPLE.alice, /already running/, before);
    expect(dup.ephemeralTo).toBeUndefined();
    expect(dup.text).toContain('awaiting-approval');
    // An approver is no deployer: Bob's own deploy is refused to him only.
    before = standIn.messages().length;
    await user(PEOPLE.bob).command(`deploy ${cluster}/web ${nextImage()}`);
    expect((await answerTo(cluster, PEOPLE.bob, /not a deployer/, before)).ephemeralTo).toBe(PEOPLE.bob);
    before = standIn.messages().length;
    await user(PEOPLE.mallory).command(`status ${cluster}/web`);
    const st = await answerTo(cluster, PEOPLE.mallory, /awaiting-approval/, before);
    expect(st.ephemeralTo).toBe(PEOPLE.mallory);

    // The requester and a non-approver are refused, each privately; the deploy still waits.
    before = standIn.messages().length;
    expect((await user(PEOPLE.alice).click(gate, APPROVE_ACTION_ID)).status).toBe(200);
    expect((await user(PEOPLE.mallory).click(gate, APPROVE_ACTION_ID)).status).toBe(200);
    await waitForSlack(standIn, () => (ephemeralTo(PEOPLE.alice, gate, before).length && ephemeralTo(PEOPLE.mallory, gate, before).length ? true : undefined), 'both refusals');
    // Alice is on the approvers' list: the Slack app sends her approval, and the workflow refuses it.
    expect(ephemeralTo(PEOPLE.alice, gate, before).map((m) => m.text)).toEqual([expect.stringContaining(`slack:${PEOPLE.alice} requested this deploy and cannot approve it`)]);
    expect(ephemeralTo(PEOPLE.mallory, gate, before).map((m) => m.text)).toEqual([expect.stringContaining(`you are not an approver of ${cluster}/web`)]);
    expect(((await handleOf(cluster).query('status')) as DeployStatus).phase).toBe('awaiting-approval');
    expect(hasButtons(standIn.messages().find((m) => m.ts === gate.ts)!)).toBe(true);

    // Carol approves as a member of the approvers' group.
    const clicked = await user(PEOPLE.carol).click(gate, APPROVE_ACTION_ID);
    expect(clicked.ms).toBeLessThan(3000);
    const result = (await handleOf(cluster).result()) as DeployResult;
    expect(result.outcome).toBe('promoted');
    // The Slack app found her in the group and said so; the workflow accepted it because the group is listed.
    expect(result.decisions.find((d) => d.decision === 'approve')?.reason).toBe(`approved by slack:${PEOPLE.carol} (user group ${APPROVER_GROUP}): approved in Slack`);
    const web = (await emu.aws.ecs.send(new DescribeServicesCommand({ cluster, services: ['web'] }))).services?.[0];
    expect(web?.taskDefinition).toBe(result.taskDefinition);

    // Slack: the gate message now says who approved and when, without buttons; the thread has every phase.
    const thread = threadOf(standIn, runId)!;
    const closed = standIn.messages().find((m) => m.ts === gate.ts)!;
    expect(hasButtons(closed)).toBe(false);
    expect(said(closed)).toMatch(new RegExp(`Approved\\* by <@${PEOPLE.carol}> at <!date\\^\\d+\\^`));
    expect(closed.edited?.times).toBeGreaterThanOrEqual(1);
    expect(thread.root.channel).toBe(CHANNELS.deploys);
    expect(thread.root.metadata).toEqual({ event_type: 'fleetops_deploy', event_payload: { workflow_id: `deploy-${cluster}-web`, run_id: runId } });
    expect(said(thread.root)).toContain('Now: *promoted*');
    expect(thread.replies.map((m) => phaseOfReply(m, gate))).toEqual(['creating-canary', 'shifting-traffic', 'baking', 'gate', 'promoting', 'post-promotion-bake', 'promoted']);
    expect(thread.replies.at(-1)!.reply_broadcast).toBe(true);
    // Every Web API call carried the bot token and was accepted (every case's, so far).
    expect(standIn.calls().filter((c) => !c.ok && c.method !== 'response_url')).toEqual([]);
  });

  test.concurrent('an approver aborts from Slack: the deploy rolls back and the message says who aborted and when', async () => {
    const cluster = GATED.aborted;
    const { runId } = await startFromSlack(cluster);
    const gate = await gateMessageOf(runId);
    await user(PEOPLE.bob).click(gate, ABORT_ACTION_ID);
    const result = (await handleOf(cluster).result()) as DeployResult;
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toBe(`rolled back: aborted by slack:${PEOPLE.bob}: aborted in Slack`);
    const closed = standIn.messages().find((m) => m.ts === gate.ts)!;
    expect(hasButtons(closed)).toBe(false);
    expect(said(closed)).toMatch(new RegExp(`Aborted\\* by <@${PEOPLE.bob}> at <!date\\^\\d+\\^`));
    const thread = threadOf(standIn, runId)!;
    expect(said(thread.root)).toContain('Now: *rolled-back*');
    expect(thread.replies.map((m) => phaseOfReply(m, gate)).slice(-2)).toEqual(['rolling-back', 'rolled-back']);
  });

  test.concurrent('a gate nobody answers rolls back as configured, and its message says it was not answered in time', async () => {
    const cluster = HASTY.unanswered;
    const { runId } = await startFromSlack(cluster);
    const gate = await gateMessageOf(runId);
    const result = (await handleOf(cluster).result()) as DeployResult;
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toBe('rolled back: gate not answered within 4 s; config says rollback');
    const closed = await waitForSlack(standIn, (ms) => ms.find((m) => m.ts === gate.ts && !hasButtons(m)), 'the gate message rewritten');
    expect(said(closed)).toContain('Not answered in time');
    expect(said(closed)).toContain('gate not answered within 4 s; config says rollback');
    // A late click changes nothing and is answered privately.
    const before = standIn.messages().length;
    await user(PEOPLE.bob).click(gate, APPROVE_ACTION_ID);
    const late = await waitForSlack(standIn, () => ephemeralTo(PEOPLE.bob, gate, before)[0], 'the answer to a late click');
    expect(late.text).toMatch(/rejected: nothing to approve|not found|already finished|is rolled-back/);
  });

  test.concurrent('a deploy frozen by an open sev1 incident on the cluster is refused, and the refusal is answered in the channel', async () => {
    const incident = await suite.client.workflow.start('incident', {
      workflowId: `incident-freeze-${tag}`,
      // No worker polls this queue: the incident stays open (its phase unset counts as open).
      taskQueue: `unpolled-${tag}`,
      args: [{ title: 'web down', severity: 'sev1', source: { kind: 'cli', by: 'test' } }],
      typedSearchAttributes: [
        { key: FleetopsKind, value: 'incident' },
        { key: FleetopsSeverity, value: 'sev1' },
        { key: FleetopsCluster, value: FROZEN },
      ],
    });
    try {
      // Visibility is eventually consistent: wait until the freeze query can see the incident.
      const query = `FleetopsKind = 'incident' AND FleetopsCluster = '${FROZEN}' AND ExecutionStatus = 'Running'`;
      await until(
        'the freeze query to list the incident',
        async () => {
          let found = false;
          for await (const wf of suite.client.workflow.list({ query })) found ||= wf.workflowId === incident.workflowId;
          return found;
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      const before = standIn.messages().length;
      await user(PEOPLE.alice).command(`deploy ${FROZEN}/web ${nextImage()}`);
      const refused = await answerTo(FROZEN, PEOPLE.alice, /refused/, before);
      expect(refused.ephemeralTo).toBeUndefined();
      expect(refused.text).toContain(`deploys to ${FROZEN} are frozen while incidents are open: ${incident.workflowId}`);
      expect(((await handleOf(FROZEN).result()) as DeployResult).outcome).toBe('refused');
    } finally {
      await incident.terminate('test over');
    }
  });

  test.concurrent('alice requests from the CLI (cli:alice): her Slack approval is refused by the workflow as hers; bob approves in Slack', async () => {
    // What `fleetops deploy` does as OS user alice (the CLI itself: test/cli/cli-approvals.test.ts).
    const { workflowType, ...start } = deployStartFor(suiteConfig, { cluster: GATED.fromCli, service: 'web', image: nextImage(), requestedBy: 'cli:alice' });
    const handle = await suite.client.workflow.start(workflowType, { ...start, workflowIdConflictPolicy: 'FAIL' });
    const gate = await gateMessageOf(handle.firstExecutionRunId);
    const before = standIn.messages().length;
    await user(PEOPLE.alice).click(gate, APPROVE_ACTION_ID);
    const refused = await waitForSlack(standIn, () => ephemeralTo(PEOPLE.alice, gate, before)[0], "the answer to alice's click");
    expect(refused.text).toContain(`slack:${PEOPLE.alice} requested this deploy (as cli:alice) and cannot approve it: someone else must`);
    expect(((await handle.query('status')) as DeployStatus).phase).toBe('awaiting-approval');
    await user(PEOPLE.bob).click(gate, APPROVE_ACTION_ID);
    const result = (await handle.result()) as DeployResult;
    expect(result.outcome).toBe('promoted');
    expect(result.decisions.find((d) => d.decision === 'approve')?.reason).toBe(`approved by slack:${PEOPLE.bob}: approved in Slack`);
  });

  test.concurrent('a group member approves only where the group is listed: carol is refused on a service whose approvers name no group', async () => {
    const cluster = HASTY.notListed;
    const { runId } = await startFromSlack(cluster);
    const gate = await gateMessageOf(runId);
    const before = standIn.messages().length;
    await user(PEOPLE.carol).click(gate, APPROVE_ACTION_ID);
    const refused = await waitForSlack(standIn, () => ephemeralTo(PEOPLE.carol, gate, before)[0], "the answer to carol's click");
    expect(refused.text).toContain(`you are not an approver of ${cluster}/web`);
    // Through an SDK client, claiming a group the deploy does not list, the workflow refuses too.
    const claimed = await handleOf(cluster)
      .executeUpdate('approve', { args: [{ by: `slack:${PEOPLE.carol}`, viaGroup: APPROVER_GROUP }] })
      .catch((e: unknown) => e);
    expect(String((claimed as WorkflowUpdateFailedError).cause?.message)).toBe(`slack:${PEOPLE.carol} approved through user group ${APPROVER_GROUP}, which is not an approver of ${cluster}/web`);
    expect(((await handleOf(cluster).result()) as DeployResult).outcome).toBe('rolled-back');
  });

  test.concurrent("who may deploy, and only once per request: the deployer's deploy waits at a gate although the plan has none; its replays, while it waits and after it ended, start nothing", async () => {
    const alice = user(PEOPLE.alice);
    // Sent from a channel no other case commands from: any answer to a replay would land there.
    const channel = CHANNELS.deploys;
    const answersHere = (after: number) => standIn.messages().slice(after).filter((m) => m.via === 'response_url' && m.channel === channel);
    let before = standIn.messages().length;
    await alice.command(`deploy ${UNGATED}/web ${nextImage()}`, channel);
    await answerTo(UNGATED, PEOPLE.alice, /started a canary deploy/, before);
    const captured = alice.last()!;
    const handle = handleOf(UNGATED);
    const { runId } = await handle.describe();
    const waiting = await untilValue('the deploy at its gate', async () => (await handle.query('status')) as DeployStatus, (s) => s.phase === 'awaiting-approval' || !!s.outcome, { timeoutMs: 90_000 });
    expect(waiting.phase).toBe('awaiting-approval');
    const gate = await gateMessageOf(runId);
    expect(said(gate)).toContain('Approval needed');

    const runs = async () => {
      const ids: string[] = [];
      for await (const wf of suite.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) ids.push(wf.runId);
      return ids;
    };
    const replayedLogs = () => suite.router.logs.filter((l) => l.includes('slack: replayed deploy request ignored')).length;
    // Replayed while the deploy waits: no second start, no second answer.
    before = standIn.messages().length;
    let logged = replayedLogs();
    expect((await alice.replay(captured)).status).toBe(200);
    await until('the replay to be logged', () => replayedLogs() === logged + 1);
    expect(answersHere(before)).toEqual([]);

    // Bob aborts; replayed after the run ended (its id is free again), it still starts nothing.
    await user(PEOPLE.bob).click(gate, ABORT_ACTION_ID);
    expect(((await handle.result()) as DeployResult).outcome).toBe('rolled-back');
    before = standIn.messages().length;
    logged = replayedLogs();
    await alice.replay(captured);
    await until('the second replay to be logged', () => replayedLogs() === logged + 1);
    expect(await runs()).toEqual([runId]);
    expect(answersHere(before)).toEqual([]);
  });

  // After the concurrent cases (jest runs them as one group, then these): nothing else registers a
  // task definition meanwhile, so "none registered" holds for the whole account, as it does in AWS.
  test.each([
    ['registry.evil.example/backdoor:1', 'image repository registry.evil.example/backdoor is not one'],
    ['registry.example/web-evil:1', 'image repository registry.example/web-evil is not one'],
  ])('/fleetops deploy of %s is refused in the channel before any AWS call: no workflow run, no task definition', async (image, reason) => {
    const cluster = GATED.approved;
    const runBefore = await handleOf(cluster)
      .describe()
      .then((d) => d.runId)
      .catch(() => undefined);
    const tdsBefore = (await emu.aws.ecs.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns ?? [];
    const before = standIn.messages().length;
    await user(PEOPLE.alice).command(`deploy ${cluster}/web ${image}`);
    const refused = await answerTo(cluster, PEOPLE.alice, /refused/, before);
    expect(refused.ephemeralTo).toBeUndefined();
    expect(refused.text).toContain(reason);
    const runAfter = await handleOf(cluster)
      .describe()
      .then((d) => d.runId)
      .catch(() => undefined);
    expect(runAfter).toBe(runBefore);
    expect((await emu.aws.ecs.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns ?? []).toEqual(tdsBefore);
  });
});
