import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAwsClients } from '../../activities/aws/clients';
import type { FleetopsConfig } from '../../config/schema';
import type { SlackStandIn, StoredMessage } from '../../stack/slack-stand-in';
import { checkUpdate, postmortemQuery, timelineQuery, type IncidentStatus } from '../../contracts/incident/messages';
import { until } from '../../testkit/poll';
import { createTestWorld } from '../../testkit/router/fixtures';
import { said, startSlackSuite, type SlackSuite } from './slack-harness';
import { CHANNELS, MALLORY_TOKEN, OTHER_APP, PEOPLE, slackSection, slackUser, startWorkspace, waitForSlack, withSlack } from './slack-world';

/**
 * Incidents from and in Slack, against the real incident workflow on the dev server: `/fleetops
 * incident <sev> <title>` declares one; its declaration is the root of a thread in the incidents
 * channel (chat.postMessage with the workflow id in the message metadata); role changes and checklist
 * progress are replies in the thread; `@fleetops note|assign|resolve` in that thread and `/fleetops
 * incident note|assign|resolve <id>` anywhere change the incident, as the Slack user. Only the
 * incident's roles and the responders may change it; a thread root another app or a person posted is
 * not an incident's thread; a replayed declaration or note does nothing the second time.
 */

jest.setTimeout(120_000);

let standIn: SlackStandIn;
let suite: SlackSuite;
const world = createTestWorld();

beforeAll(async () => {
  standIn = await startWorkspace();
  const config: FleetopsConfig = withSlack(
    { ...world.config, notifications: { webhooks: [] }, incidents: { ...world.config.incidents, postmortemDir: mkdtempSync(join(tmpdir(), 'fleetops-slack-pm-')) } },
    slackSection(standIn),
  );
  // No AWS call is made by incidents; the clients point nowhere.
  suite = await startSlackSuite('incident', config, createAwsClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }));
});

afterAll(async () => {
  await suite?.stop();
  await standIn?.close();
});

const user = (id: string) => slackUser(standIn, suite.router.url, id);

function answer(userId: string, re: RegExp, after: number, via: StoredMessage['via'] = 'response_url'): Promise<StoredMessage> {
  return waitForSlack(standIn, (ms) => ms.slice(after).find((m) => m.via === via && (!m.ephemeralTo || m.ephemeralTo === userId) && re.test(m.text ?? '')), `an answer matching ${re}`);
}

const repliesTo = (root: StoredMessage) => standIn.messages().filter((m) => m.thread_ts === root.ts && !m.ephemeralTo);

describe('incidents in Slack', () => {
  test('declared with /fleetops, run from its thread and with /fleetops incident …, every change posted to the thread', async () => {
    let before = standIn.messages().length;
    const declared = await user(PEOPLE.alice).command('incident sev2 Checkout errors after the config push');
    expect(declared.status).toBe(200);
    expect(declared.ms).toBeLessThan(3000);
    const said1 = await answer(PEOPLE.alice, /declared a sev2 incident/, before);
    expect(said1.ephemeralTo).toBeUndefined();
    const workflowId = /\|(incident-checkout-errors-after-the-config-push-[0-9a-f]{8})>/.exec(said1.text ?? '')![1]!;
    const handle = suite.client.workflow.getHandle(workflowId);

    // The declaration is the thread's root in the incidents channel, carrying the workflow id.
    const root = await waitForSlack(standIn, (ms) => ms.find((m) => m.metadata?.event_payload.workflow_id === workflowId), 'the declaration');
    expect(root.channel).toBe(CHANNELS.incidents);
    expect(root.thread_ts).toBeUndefined();
    expect(root.metadata?.event_type).toBe('fleetops_incident');
    expect(said(root)).toContain('sev2 incident opened: Checkout errors after the config push');
    expect(said(root)).toContain(`/fleetops incident note ${workflowId}`);

    // A role from the slash command (a Slack mention becomes slack:<id>), posted as a thread-only line.
    before = standIn.messages().length;
    await user(PEOPLE.alice).command(`incident assign ${workflowId} commander <@${PEOPLE.bob}|bob>`);
    expect((await answer(PEOPLE.alice, /commander is now/, before)).text).toContain(`<@${PEOPLE.bob}>`);
    const role = await waitForSlack(standIn, () => repliesTo(root).find((m) => /role change/.test(m.text ?? '')), 'the role change in the thread');
    expect(said(role)).toContain(`incident commander: slack:${PEOPLE.bob}`);
    expect(role.reply_broadcast).toBeUndefined();

    // From inside the thread: a note as Bob, answered to Bob only, in the thread.
    before = standIn.messages().length;
    expect((await user(PEOPLE.bob).mention('note rolled the payment config back at 10:02', root.ts)).status).toBe(200);
    const noted = await answer(PEOPLE.bob, /note added/, before, 'chat.postEphemeral');
    expect(noted.ephemeralTo).toBe(PEOPLE.bob);
    expect(noted.thread_ts).toBe(root.ts);
    expect((await handle.query(timelineQuery)).find((e) => e.kind === 'note')).toMatchObject({ author: `slack:${PEOPLE.bob}`, text: 'rolled the payment config back at 10:02' });

    // Something the thread cannot do is explained, privately; nothing changes.
    before = standIn.messages().length;
    await user(PEOPLE.bob).mention('escalate please', root.ts);
    expect((await answer(PEOPLE.bob, /unknown incident action "escalate"/, before, 'chat.postEphemeral')).thread_ts).toBe(root.ts);

    // Checklist progress (here from the CLI's update) is posted to the thread as it happens.
    await handle.executeUpdate(checkUpdate, { args: [{ item: 'commander-assigned', by: 'cli:alice' }] });
    await handle.executeUpdate(checkUpdate, { args: [{ item: 'channel-opened', by: 'cli:alice', link: '#inc-checkout' }] });
    await handle.executeUpdate(checkUpdate, { args: [{ item: 'stakeholders-informed', by: 'cli:alice', note: 'support and finance' }] });
    const progress = await waitForSlack(standIn, () => (repliesTo(root).filter((m) => /checklist \d\/5/.test(m.text ?? '')).length === 3 ? repliesTo(root).filter((m) => /checklist/.test(m.text ?? '')) : undefined), 'three checklist lines');
    expect(progress.map((m) => /checklist (\d\/5)/.exec(m.text ?? '')![1])).toEqual(['1/5', '2/5', '3/5']);

    // The rest from the thread, as Bob (the commander): mitigated needs the CLI's check; resolve by mention.
    await handle.executeUpdate(checkUpdate, { args: [{ item: 'mitigated', by: `slack:${PEOPLE.bob}`, note: 'config reverted' }] });
    before = standIn.messages().length;
    await user(PEOPLE.bob).mention('resolve payment config reverted; error rate back to baseline', root.ts);
    expect((await answer(PEOPLE.bob, /resolved; the postmortem is due/, before, 'chat.postEphemeral')).text).toContain('phase postmortem');
    const resolved = await waitForSlack(standIn, () => repliesTo(root).find((m) => /sev2 resolved/.test(m.text ?? '')), 'the resolution in the thread');
    expect(resolved.reply_broadcast).toBe(true);
    expect(said(resolved)).toContain(`Resolved by slack:${PEOPLE.bob}: payment config reverted; error rate back to baseline`);

    // /fleetops status answers the asker; the postmortem says the incident was declared in chat.
    before = standIn.messages().length;
    await user(PEOPLE.carol).command(`status ${workflowId}`);
    expect((await answer(PEOPLE.carol, /\*postmortem\*/, before)).ephemeralTo).toBe(PEOPLE.carol);
    expect(((await handle.query('status')) as IncidentStatus).roles.commander).toBe(`slack:${PEOPLE.bob}`);
    expect(await handle.query(postmortemQuery)).toContain(`Declared in chat by slack:${PEOPLE.alice} in ${CHANNELS.ops}.`);
    // Every Web API call was accepted by the stand-in, and went to the incidents channel.
    expect(standIn.calls().filter((c) => !c.ok)).toEqual([]);
    expect(new Set(standIn.calls().filter((c) => c.method === 'chat.postMessage').map((c) => c.args.channel))).toEqual(new Set([CHANNELS.incidents]));
  });

  test('a mention outside an incident thread, and an update to an incident that does not exist, are answered and change nothing', async () => {
    let before = standIn.messages().length;
    await user(PEOPLE.carol).mention('note hello', '1700000000.000001');
    expect((await answer(PEOPLE.carol, /not an incident's thread/, before, 'chat.postEphemeral')).ephemeralTo).toBe(PEOPLE.carol);
    before = standIn.messages().length;
    await user(PEOPLE.carol).command('incident note incident-nope-00000000 hello');
    expect((await answer(PEOPLE.carol, /incident-nope-00000000: workflow incident-nope-00000000 not found/, before)).ephemeralTo).toBe(PEOPLE.carol);
    before = standIn.messages().length;
    await user(PEOPLE.carol).command('incident sev9 broken');
    expect((await answer(PEOPLE.carol, /invalid severity "sev9"/, before)).ephemeralTo).toBe(PEOPLE.carol);
  });
});

describe('who may change an incident from Slack', () => {
  /** Declares an incident as Alice (a responder) and waits for its thread root. */
  async function declare(title: string, alice = user(PEOPLE.alice)): Promise<{ workflowId: string; root: StoredMessage }> {
    const before = standIn.messages().length;
    await alice.command(`incident sev3 ${title}`);
    const said1 = await answer(PEOPLE.alice, /declared a sev3 incident/, before);
    const workflowId = /\|(incident-[a-z0-9-]+)>/.exec(said1.text ?? '')![1]!;
    const root = await waitForSlack(standIn, (ms) => ms.find((m) => m.metadata?.event_payload.workflow_id === workflowId && !m.thread_ts), 'the declaration');
    return { workflowId, root };
  }

  /** What a change would alter: the timeline, roles, severity, phase. */
  async function snapshot(workflowId: string) {
    const h = suite.client.workflow.getHandle(workflowId);
    const s = (await h.query('status')) as IncidentStatus;
    return { timeline: (await h.query(timelineQuery)).length, roles: s.roles, severity: s.severity, phase: s.phase };
  }

  test("a non-responder's resolve, assign, note and severity are refused to them only; the incident and its thread are unchanged", async () => {
    const { workflowId, root } = await declare('Refused changes');
    const was = await snapshot(workflowId);
    const threadBefore = repliesTo(root).length;
    const attempts = [
      `incident resolve ${workflowId} nothing to see`,
      `incident assign ${workflowId} commander <@${PEOPLE.mallory}|mallory>`,
      `incident note ${workflowId} all clear, stop paging`,
      `incident severity ${workflowId} sev4 not important`,
    ];
    for (const text of attempts) {
      const before = standIn.messages().length;
      await user(PEOPLE.mallory).command(text);
      const refusal = await answer(PEOPLE.mallory, /no_entry_sign/, before);
      expect(refusal.ephemeralTo).toBe(PEOPLE.mallory);
      expect(refusal.text).toContain("only the incident's on-call, commander and scribe, and the responders in slack.responders, may change it");
      expect(standIn.messages().slice(before)).toEqual([refusal]);
    }
    // The same from inside the thread.
    const before = standIn.messages().length;
    await user(PEOPLE.mallory).mention('resolve done', root.ts);
    expect((await answer(PEOPLE.mallory, /only the incident's on-call/, before, 'chat.postEphemeral')).ephemeralTo).toBe(PEOPLE.mallory);
    expect(await snapshot(workflowId)).toEqual(was);
    expect(repliesTo(root).length).toBe(threadBefore);
    // A member of the responders' group (Carol) may; so may the commander she names (Bob), who is no responder.
    let b = standIn.messages().length;
    await user(PEOPLE.carol).command(`incident assign ${workflowId} commander <@${PEOPLE.bob}|bob>`);
    await answer(PEOPLE.carol, /commander is now/, b);
    b = standIn.messages().length;
    await user(PEOPLE.bob).command(`incident severity ${workflowId} sev2 more customers affected`);
    expect((await answer(PEOPLE.bob, /severity is now sev2/, b)).ephemeralTo).toBe(PEOPLE.bob);
    await suite.client.workflow.getHandle(workflowId).terminate('test over');
  });

  test("a thread root claiming an incident, posted by another app or a person, is not the incident's thread: a responder's resolve there changes nothing", async () => {
    const { workflowId } = await declare('Forged roots');
    const was = await snapshot(workflowId);
    for (const token of [OTHER_APP.token, MALLORY_TOKEN]) {
      const res = await fetch(`${standIn.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: CHANNELS.incidents, text: 'sev3 incident opened: Forged roots', metadata: { event_type: 'fleetops_incident', event_payload: { workflow_id: workflowId } } }),
      });
      const posted = (await res.json()) as { ok: boolean; ts: string };
      expect(posted.ok).toBe(true);
      const before = standIn.messages().length;
      await user(PEOPLE.alice).mention('resolve mitigated, closing', posted.ts);
      const refusal = await answer(PEOPLE.alice, /not an incident's thread/, before, 'chat.postEphemeral');
      expect(refusal.thread_ts).toBe(posted.ts);
      expect(standIn.messages().slice(before)).toEqual([refusal]);
    }
    expect(await snapshot(workflowId)).toEqual(was);
    expect(standIn.calls().filter((c) => c.method === 'auth.test' && c.ok).length).toBeGreaterThan(0);
    await suite.client.workflow.getHandle(workflowId).terminate('test over');
  });

  test('a replayed signed declaration declares nothing more, and a replayed note is recorded once', async () => {
    const alice = user(PEOPLE.alice);
    const { workflowId, root } = await declare('Replayed declaration', alice);
    const captured = alice.last()!;
    const messages = standIn.messages().length;
    expect((await alice.replay(captured)).status).toBe(200);
    await until('the replay to be logged', () => suite.router.logs.some((l) => l.includes('slack: replayed incident declaration ignored') && l.includes(workflowId)));
    const runs = [];
    for await (const wf of suite.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(wf.runId);
    expect(runs).toHaveLength(1);
    expect(standIn.messages().slice(messages)).toEqual([]);
    expect(standIn.messages().filter((m) => m.metadata?.event_payload.workflow_id === workflowId && !m.thread_ts)).toEqual([root]);

    let before = standIn.messages().length;
    await alice.command(`incident note ${workflowId} replayed note`);
    await answer(PEOPLE.alice, /note added/, before);
    const note = alice.last()!;
    before = standIn.messages().length;
    await alice.replay(note);
    await answer(PEOPLE.alice, /note added/, before);
    const notes = (await suite.client.workflow.getHandle(workflowId).query(timelineQuery)).filter((e) => e.kind === 'note' && e.text === 'replayed note');
    expect(notes).toHaveLength(1);
    await suite.client.workflow.getHandle(workflowId).terminate('test over');
  });
});
