import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { createIncidentActivities } from '../../activities/incident';
import { abortUpdate, pauseUpdate, resumeUpdate, statusQuery } from '../../contracts/controls';
import { incidentStartOptions } from '../../contracts/incident/start';
import { FleetopsKind, FleetopsPhase, FleetopsSeverity } from '../../common/search-attributes';
import { TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import { alarmIncidentWorkflowId, declaredIncidentWorkflowId } from '../../common/workflow-ids';
import type { IncidentAlarmEvent, IncidentInput } from '../../contracts/incident/input';
import type { FleetopsConfig } from '../../config/schema';
import {
  addActionItemUpdate,
  addLessonUpdate,
  alarmEventSignal,
  assignUpdate,
  checkUpdate,
  editPostmortemUpdate,
  linkActionItemUpdate,
  noteUpdate,
  postmortemQuery,
  resolveUpdate,
  timelineQuery,
  type CheckRequest,
  type IncidentStatus,
} from '../../contracts/incident/messages';
import { addBusinessDays } from '../../workflows/incident/reminders';
import { incident } from '../../workflows/incident/workflow';
import { untilValue } from '../../testkit/poll';
import { bundledWorkflows, createTimeSkippingEnv, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { FakeGitHub, incidentTestConfig, recordingNotify, type SentNotification } from './fixtures';
import { createWorker } from '../harness/workers';

const MIN = 60_000;
const HOUR = 60 * MIN;
const TOKEN_ENV = 'FLEETOPS_TEST_INCIDENT_GITHUB_TOKEN';

let env: TestWorkflowEnvironment;
let github: FakeGitHub;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  github = new FakeGitHub();
  await github.start();
  process.env[TOKEN_ENV] = 'test-token';
});

afterAll(async () => {
  await github?.stop();
  await env?.teardown();
});

let seq = 0;
const unique = (name: string): string => `${name}-${Date.now().toString(36)}-${++seq}`;
const tmpDir = (): string => mkdtempSync(join(tmpdir(), 'fleetops-postmortems-'));

async function runWithWorker<T>(
  opts: { config: FleetopsConfig; notify: ReturnType<typeof recordingNotify>['notify']; taskQueue?: string },
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = opts.taskQueue ?? uniqueTaskQueue('incident');
  const activities = {
    ...createIncidentActivities({ config: opts.config, temporal: { client: env.client, namespace: 'default' } }),
    notify: opts.notify,
    // The time-skipping server has no visibility list; the real lookup is tested on the dev server (previous-incident.test.ts).
    previousIncident: async () => null,
  };
  const worker = await createWorker({ connection: env.nativeConnection, taskQueue, ...bundledWorkflows(), activities });
  return worker.runUntil(fn(taskQueue));
}

async function status(handle: WorkflowHandle): Promise<IncidentStatus> {
  return (await handle.query(statusQuery)) as IncidentStatus;
}

/** Polls (in real time; the server clock does not move meanwhile) until the status satisfies `ok`. */
function statusWhen(handle: WorkflowHandle, ok: (s: IncidentStatus) => boolean, what: string): Promise<IncidentStatus> {
  return untilValue(what, () => status(handle), ok, { timeoutMs: 15_000, intervalMs: 100 });
}

/** The update's rejection message (validators reject with a message; nothing is recorded). */
async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
    throw err;
  }
  throw new Error('update was accepted');
}

function alarm(alarmName: string, state: IncidentAlarmEvent['state'], eventId: string, time: number, reason = 'Threshold Crossed'): IncidentAlarmEvent {
  return { alarmName, state, eventId, time: new Date(time).toISOString(), reason };
}

/** Keys are `<workflow id>/<run id prefix>/<what>`; tests compare the `<what>`. */
const keysOf = (sent: SentNotification[]): string[] => sent.map((n) => n.key.split('/').slice(2).join('/'));

describe('incident workflow (time-skipping)', () => {
  it('takes a sev1 from alarm to a closed postmortem over seven days, reminding on time and stopping when done', async () => {
    const dir = tmpDir();
    const config = incidentTestConfig({ postmortemDir: dir, githubApiUrl: github.url, tokenEnv: TOKEN_ENV });
    const rec = recordingNotify();
    await runWithWorker({ config, notify: rec.notify }, async (taskQueue) => {
      const alarmName = unique('api-5xx');
      const start = await env.currentTimeMs();
      const handle = await env.client.workflow.signalWithStart(incident, {
        ...incidentStartOptions(alarmIncidentWorkflowId(alarmName), { title: `API 5xx above threshold`, severity: 'sev1', source: { kind: 'alarm', alarmName } }),
        taskQueue,
        signal: alarmEventSignal,
        signalArgs: [alarm(alarmName, 'ALARM', 'ev-1', start, 'Threshold Crossed: 5xx > 50 for 3 datapoints')],
      });
      const opened = await statusWhen(handle, (s) => s.phase === 'open' && s.notifications.sent === 1, 'open');
      const openedAt = Date.parse(opened.openedAt);
      expect(opened.roles.onCall).toBe('oncall-primary');
      expect(opened.nextReminder).toEqual({ kind: 'status-update', at: new Date(openedAt + 30 * MIN).toISOString() });

      // Status-update cadence while open: 30 and 60 minutes in.
      await env.sleep(65 * MIN);
      await statusWhen(handle, (s) => s.reminders.statusReminders === 2 && s.notifications.sent === 3, 'two status reminders');
      await handle.signal(alarmEventSignal, alarm(alarmName, 'ALARM', 'ev-2', openedAt + 64 * MIN, 'Threshold Crossed: 5xx > 50 again'));
      await handle.signal(alarmEventSignal, alarm(alarmName, 'ALARM', 'ev-2', openedAt + 64 * MIN, 'redelivered'));

      expect(await rejection(handle.executeUpdate(checkUpdate, { args: [{ item: 'mitigated', by: 'alice', note: 'rolled back' }] }))).toBe(
        '"mitigated" comes after "commander-assigned", "channel-opened", "status-page-updated", "stakeholders-informed", not checked yet',
      );
      expect(await rejection(handle.executeUpdate(checkUpdate, { args: [{ item: 'commander-assigned', by: 'alice' }] }))).toMatch(/needs a commander/);
      await handle.executeUpdate(assignUpdate, { args: [{ role: 'commander', person: 'alice', by: 'alice' }] });
      await handle.executeUpdate(assignUpdate, { args: [{ role: 'scribe', person: 'bob', by: 'alice' }] });
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'commander-assigned', by: 'alice' }] });
      expect(await rejection(handle.executeUpdate(checkUpdate, { args: [{ item: 'channel-opened', by: 'bob' }] }))).toBe(
        '"channel-opened" needs link (the channel or status page)',
      );
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'channel-opened', by: 'bob', link: '#inc-api-5xx' }] });
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'status-page-updated', by: 'bob', link: 'https://status.example/inc/1' }] });
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'stakeholders-informed', by: 'bob', note: 'support and account managers via #support' }] });
      const afterNote = await handle.executeUpdate(noteUpdate, { args: [{ text: 'error rate falling after rollback started', by: 'alice', kind: 'status-update' }] });
      const noteAt = Date.parse(afterNote.nextReminder?.at ?? '') - 30 * MIN;

      // The status update moved the next reminder to 30 minutes after it.
      await env.sleep(35 * MIN);
      await statusWhen(handle, (s) => s.reminders.statusReminders === 3, 'third status reminder');
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'mitigated', by: 'alice', note: 'rolled api back to the previous task definition' }] });
      await handle.signal(alarmEventSignal, alarm(alarmName, 'OK', 'ev-3', noteAt + 36 * MIN, 'Threshold Crossed: 5xx < 50'));
      await env.sleep(20 * MIN);
      const resolved = await handle.executeUpdate(resolveUpdate, { args: [{ by: 'alice', text: 'bad config flag removed; api redeployed' }] });
      expect(resolved.phase).toBe('postmortem');
      const resolvedAt = Date.parse(resolved.resolvedAt ?? '');
      const dueAt = addBusinessDays(resolvedAt, 5);
      expect(resolved.postmortemDueAt).toBe(new Date(dueAt).toISOString());

      // Postmortem content, written while the due date approaches.
      await handle.executeUpdate(editPostmortemUpdate, {
        args: [
          {
            by: 'bob',
            summary: 'The api returned 5xx for 2 hours after a config flag enabled a code path that exhausted database connections.',
            impact: 'About 12% of api requests failed between 10:00 and 12:00 UTC.',
            rootCause: 'The connection pool size was not sized for the new code path, and the flag rollout had no canary.',
            trigger: 'Config flag `bulk-sync` enabled for all tenants at once.',
          },
        ],
      });
      await handle.executeUpdate(addLessonUpdate, { args: [{ by: 'bob', kind: 'went-well', text: 'The alarm fired within three minutes.' }] });
      await handle.executeUpdate(addLessonUpdate, { args: [{ by: 'carol', kind: 'went-wrong', text: 'The flag rollout skipped the canary stage.' }] });
      await handle.executeUpdate(addLessonUpdate, { args: [{ by: 'bob', kind: 'lucky', text: 'Traffic was at its weekly low.' }] });
      const ai1 = await handle.executeUpdate(addActionItemUpdate, {
        args: [{ by: 'bob', type: 'mitigate', text: 'Raise the pool size', owner: 'dana', trackingLink: 'https://tracker.example/OPS-1' }],
      });
      expect(ai1.id).toBe('AI-1');
      await handle.executeUpdate(addActionItemUpdate, { args: [{ by: 'bob', type: 'prevent', text: 'Canary every flag rollout', owner: 'erin' }] });
      await handle.executeUpdate(addActionItemUpdate, { args: [{ by: 'bob', type: 'process', text: 'Page the service owner on flag rollouts', owner: 'frank' }] });
      for (const item of ['timeline-reviewed', 'what-went-well', 'what-went-wrong', 'where-we-got-lucky', 'root-cause']) {
        await handle.executeUpdate(checkUpdate, { args: [{ item, by: 'bob' }] });
      }

      // Due date passes: a nudge at the due time and one a day later; the escalation would come a day after that.
      const now = await env.currentTimeMs();
      await env.sleep(dueAt - now + HOUR);
      await statusWhen(handle, (s) => s.reminders.postmortemReminders === 1 && s.phase === 'postmortem-overdue', 'first nudge');
      await env.sleep(24 * HOUR);
      await statusWhen(handle, (s) => s.reminders.postmortemReminders === 2, 'second nudge');
      await env.sleep(6 * HOUR);
      const closing = await handle.executeUpdate(checkUpdate, { args: [{ item: 'action-items-filed', by: 'bob' }] });
      expect(closing.actionItems.map((i) => i.trackingLink)).toEqual([
        'https://tracker.example/OPS-1',
        expect.stringMatching(/^https:\/\/github\.example\/acme\/ops\/issues\/\d+$/),
        expect.stringMatching(/^https:\/\/github\.example\/acme\/ops\/issues\/\d+$/),
      ]);

      const result = await handle.result();
      expect(result.outcome).toBe('closed');
      const attrs = (await handle.describe()).typedSearchAttributes;
      expect([attrs.get(FleetopsKind), attrs.get(FleetopsSeverity), attrs.get(FleetopsPhase)]).toEqual(['incident', 'sev1', 'closed']);
      const fileName = `${new Date(openedAt).toISOString().slice(0, 10)}-${result.incidentKey.replace(/^incident-/, '').replace('/', '-')}.md`;
      expect(result.postmortemPath).toBe(join(dir, fileName));
      expect(readFileSync(result.postmortemPath ?? '', 'utf8')).toBe(result.postmortem);
      // GitHub is configured: the same document is proposed as a pull request adding postmortems/<file>.
      const pr = github.pulls.find((p) => p.body.includes(result.incidentKey));
      expect(result.postmortemPullRequest).toBe(pr?.html_url);
      expect(pr).toMatchObject({ base: { ref: 'main' }, head: { ref: `fleetops/postmortem-${fileName.replace(/\.md$/, '')}` } });
      expect(github.fileOn(pr!.head.ref, `postmortems/${fileName}`)).toBe(result.postmortem);
      expect(github.fileOn('main', `postmortems/${fileName}`)).toBeUndefined();
      expect(result.postmortem).toContain('**Status:** Complete, 3 action items in progress');
      expect(result.postmortem).toContain('| AI-2 | Canary every flag rollout | prevent | erin | https://github.example/acme/ops/issues/');
      expect(github.issues.filter((i) => i.body.includes(result.incidentKey))).toHaveLength(2);

      // Every reminder once, at its time; none after the postmortem closed, no escalation.
      expect(keysOf(rec.sent)).toEqual([
        'opened',
        'status-update/1',
        'status-update/2',
        'status-update/3',
        'resolved',
        'postmortem-nudge/1',
        'postmortem-nudge/2',
        'closed',
      ]);
      const planned = rec.sent.filter((n) => n.fields.scheduled).map((n) => n.fields.scheduled);
      expect(planned).toEqual(
        [openedAt + 30 * MIN, openedAt + 60 * MIN, noteAt + 30 * MIN, dueAt, dueAt + 24 * HOUR].map((t) => new Date(t).toISOString()),
      );
      for (const n of rec.sent.filter((x) => x.fields.scheduled)) {
        const lag = n.at - Date.parse(n.fields.scheduled);
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(lag).toBeLessThan(5_000);
      }
      expect(new Set(rec.sent.map((n) => n.key)).size).toBe(rec.sent.length);
      expect(rec.sent.at(-1)?.at).toBeGreaterThan(dueAt + 30 * HOUR - 1000);
      expect(rec.sent.at(-1)?.at).toBeLessThan(start + 9 * 24 * HOUR);

      const alarms = (result.postmortem ?? '').split('\n').filter((l) => l.includes(' · alarm · '));
      expect(alarms).toEqual([
        expect.stringContaining(`alarm ${alarmName} in ALARM: Threshold Crossed: 5xx > 50 for 3 datapoints`),
        expect.stringContaining(`alarm ${alarmName} in ALARM again (2 times so far): Threshold Crossed: 5xx > 50 again`),
        expect.stringContaining(`alarm recovered: ${alarmName} is OK`),
      ]);
      await recordHistory(handle, 'incident', 'sev1-alarm-to-closed-postmortem');
    });
  });

  it('rejects updates with a message: commander rule, missing fields, order, unlinked action items, root cause', async () => {
    const config = incidentTestConfig({ postmortemDir: tmpDir() });
    const rec = recordingNotify();
    await runWithWorker({ config, notify: rec.notify }, async (taskQueue) => {
      const title = 'Checkout latency';
      const handle = await env.client.workflow.start(incident, {
        ...incidentStartOptions(declaredIncidentWorkflowId(title, unique('v')), { title, severity: 'sev2', source: { kind: 'cli', by: 'alice' } }),
        taskQueue,
      });
      await statusWhen(handle, (s) => s.phase === 'open', 'open');
      const check = (req: CheckRequest) => handle.executeUpdate(checkUpdate, { args: [req] });

      expect(await rejection(check({ item: 'postmortem-written', by: 'alice' }))).toBe(
        'unknown checklist item "postmortem-written" for sev2; items are: mitigated, resolved, timeline-reviewed, action-items-filed',
      );
      expect(await rejection(check({ item: 'mitigated', by: 'alice', note: 'scaled out' }))).toBe(
        'sev2 cannot be marked mitigated without an incident commander: assign one first (update "assign" with role "commander")',
      );
      expect(await rejection(handle.executeUpdate(resolveUpdate, { args: [{ by: 'alice', text: 'done' }] }))).toBe(
        'cannot resolve before "mitigated" are checked',
      );
      expect(await rejection(check({ item: 'timeline-reviewed', by: 'alice' }))).toBe('"timeline-reviewed" is a postmortem item: resolve the incident first');
      expect(await rejection(handle.executeUpdate(assignUpdate, { args: [{ role: 'boss' as 'commander', person: 'x', by: 'alice' }] }))).toBe(
        'role must be one of onCall, commander, scribe (got "boss")',
      );
      expect(await rejection(handle.executeUpdate(noteUpdate, { args: [{ text: '  ', by: 'alice' }] }))).toBe('text is required');
      await handle.executeUpdate(assignUpdate, { args: [{ role: 'commander', person: 'alice', by: 'alice' }] });
      expect(await rejection(check({ item: 'mitigated', by: 'alice' }))).toBe('"mitigated" needs note (what mitigated the impact)');
      await check({ item: 'mitigated', by: 'alice', note: 'scaled out' });
      expect(await rejection(check({ item: 'mitigated', by: 'bob', note: 'again' }))).toMatch(/^"mitigated" is already checked \(by alice at /);
      await handle.executeUpdate(resolveUpdate, { args: [{ by: 'alice', text: 'capacity restored' }] });
      await check({ item: 'timeline-reviewed', by: 'alice' });
      expect(await rejection(check({ item: 'action-items-filed', by: 'alice' }))).toBe('"action-items-filed" needs at least one action item (update "addActionItem")');
      expect(
        await rejection(handle.executeUpdate(addActionItemUpdate, { args: [{ by: 'alice', type: 'fix' as 'prevent', text: 'x', owner: 'bob' }] })),
      ).toBe('type must be one of mitigate, prevent, process (got "fix")');
      await handle.executeUpdate(addActionItemUpdate, { args: [{ by: 'alice', type: 'prevent', text: 'Alarm on queue depth', owner: 'bob' }] });
      expect(await rejection(check({ item: 'action-items-filed', by: 'alice' }))).toBe(
        'action items AI-1 have no tracking link and GitHub filing is not configured (incidents.github): add trackingLink',
      );
      await handle.executeUpdate(addActionItemUpdate, { args: [{ by: 'alice', type: 'process', text: 'Runbook for scale-out', owner: 'bob', trackingLink: 'https://t.example/2' }] });
      // AI-1 still has no link, so the check still fails; a rejected update leaves no trace in the timeline.
      const before = (await handle.query(timelineQuery)).length;
      expect(await rejection(check({ item: 'action-items-filed', by: 'alice' }))).toMatch(/AI-1 have no tracking link/);
      expect((await handle.query(timelineQuery)).length).toBe(before);

      expect(
        await rejection(handle.executeUpdate(linkActionItemUpdate, { args: [{ by: 'alice', id: 'AI-9', trackingLink: 'https://t.example/1' }] })),
      ).toBe('unknown action item "AI-9"; items are: AI-1, AI-2');
      await handle.executeUpdate(linkActionItemUpdate, { args: [{ by: 'alice', id: 'AI-1', trackingLink: 'https://t.example/1' }] });
      // The last postmortem item closes it: sev2 requires a root cause first, although its checklist has no root-cause item.
      expect(await rejection(check({ item: 'action-items-filed', by: 'alice' }))).toBe(
        'sev2 needs a root cause before the postmortem closes (update "editPostmortem" with rootCause)',
      );
      await handle.executeUpdate(editPostmortemUpdate, { args: [{ by: 'alice', rootCause: 'Queue consumers were capped at 4 by an old limit.' }] });
      const closed = await check({ item: 'action-items-filed', by: 'alice' });
      expect(closed.phase).toBe('closed');
      const result = await handle.result();
      expect(result.outcome).toBe('closed');
      expect(result.actionItems.map((i) => i.trackingLink)).toEqual(['https://t.example/1', 'https://t.example/2']);
      expect(keysOf(rec.sent)).toEqual(['opened', 'resolved', 'closed']);
      await recordHistory(handle, 'incident', 'validation-rejections');
    });
  });

  it('records repeated alarms once each and recovery; a re-fire after resolution reopens the incident', async () => {
    const config = incidentTestConfig({ postmortemDir: tmpDir() });
    const rec = recordingNotify();
    await runWithWorker({ config, notify: rec.notify }, async (taskQueue) => {
      const alarmName = unique('queue-depth');
      const t = await env.currentTimeMs();
      const input: IncidentInput = { title: `Alarm ${alarmName}`, severity: 'sev3', source: { kind: 'alarm', alarmName, eventId: 'e1' } };
      const start = (ev: IncidentAlarmEvent) =>
        env.client.workflow.signalWithStart(incident, {
          ...incidentStartOptions(alarmIncidentWorkflowId(alarmName), input),
          taskQueue,
          signal: alarmEventSignal,
          signalArgs: [ev],
        });
      // What the router does for every alarm event: signal-with-start joins the running incident.
      const handle = await start(alarm(alarmName, 'ALARM', 'e1', t));
      const runId = (await handle.describe()).runId;
      await start(alarm(alarmName, 'ALARM', 'e2', t + 5 * MIN, 'still high'));
      await start(alarm(alarmName, 'ALARM', 'e2', t + 5 * MIN, 'still high'));
      await start(alarm(alarmName, 'INSUFFICIENT_DATA', 'e3', t + 6 * MIN, 'no datapoints'));
      await start(alarm(alarmName, 'OK', 'e4', t + 9 * MIN, 'back under threshold'));
      expect((await handle.describe()).runId).toBe(runId);
      await statusWhen(handle, (s) => s.phase === 'open', 'open');
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'mitigated', by: 'ops', note: 'consumers scaled' }] });
      await handle.executeUpdate(resolveUpdate, { args: [{ by: 'ops', text: 'backlog drained' }] });
      const resolvedAt = Date.parse((await status(handle)).resolvedAt ?? '');
      // A late delivery of an ALARM from before the resolution is history, not a recurrence.
      await start(alarm(alarmName, 'ALARM', 'e-late', resolvedAt - MIN, 'delivered late'));
      await start(alarm(alarmName, 'ALARM', 'e5', resolvedAt + 30 * MIN, 'high again'));
      const reopened = await statusWhen(handle, (s) => s.notifications.sent === 3, 'reopened notification');
      expect(reopened.phase).toBe('open');
      expect(reopened.resolvedAt).toBeUndefined();
      expect(reopened.reopenings).toEqual([{ at: expect.any(String), by: 'cloudwatch', reason: `alarm ${alarmName} in ALARM again: high again`, resolvedAt: new Date(resolvedAt).toISOString() }]);
      expect(reopened.checklist.response.map((i) => `${i.item}:${i.done}`)).toEqual(['mitigated:false', 'resolved:false']);
      expect((await handle.describe()).typedSearchAttributes.get(FleetopsPhase)).toBe('open');

      const alarmTexts = (await handle.query(timelineQuery)).filter((e) => e.kind === 'alarm').map((e) => `${e.time} ${e.text}`);
      const at = (m: number) => new Date(t + m * MIN).toISOString();
      expect(alarmTexts).toEqual([
        `${at(0)} alarm ${alarmName} in ALARM: Threshold Crossed`,
        `${at(5)} alarm ${alarmName} in ALARM again (2 times so far): still high`,
        `${at(6)} alarm ${alarmName} has insufficient data: no datapoints`,
        `${at(9)} alarm recovered: ${alarmName} is OK: back under threshold`,
        `${new Date(resolvedAt - MIN).toISOString()} alarm ${alarmName} in ALARM again (3 times so far): delivered late`,
        `${new Date(resolvedAt + 30 * MIN).toISOString()} alarm ${alarmName} in ALARM again (4 times so far): high again`,
      ]);
      expect(keysOf(rec.sent)).toEqual(['opened', 'resolved', 'reopened/1']);
      await handle.executeUpdate(abortUpdate, { args: [{ reason: 'tracked in a new incident' }] });
      expect((await handle.result()).outcome).toBe('aborted');
      await recordHistory(handle, 'incident', 'repeated-alarms');
    });
  });

  it('is opened by a drain that missed its deadline, with its facts on the timeline once although the report is retried', async () => {
    const config = incidentTestConfig({ postmortemDir: tmpDir() });
    const rec = recordingNotify();
    // The activity starts incidents on the production task queue, so this worker polls it.
    await runWithWorker({ config, notify: rec.notify, taskQueue: TASK_QUEUE_DEFAULT }, async () => {
      const acts = createIncidentActivities({ config, temporal: { client: env.client, namespace: 'default' } });
      const drainId = `drain-i-0123456789abcdef0`;
      const t = await env.currentTimeMs();
      const report = {
        title: 'Drain of i-0123456789abcdef0 missed its deadline',
        severity: 'sev2' as const,
        summary: 'Spot interruption drain did not finish before the instance was reclaimed.',
        origin: { workflowId: drainId, workflowKind: 'drain' as const },
        key: `${drainId}/${unique('run')}/deadline-missed`,
        entries: [
          { time: new Date(t - 120_000).toISOString(), author: drainId, kind: 'automation' as const, text: 'spot interruption warning received; deadline in 120 s' },
          { time: new Date(t - 5_000).toISOString(), author: drainId, kind: 'automation' as const, text: 'deadline passed with 3 tasks still running on the instance' },
        ],
      };
      const first = await acts.openIncidentFromAutomation(report);
      const retried = await acts.openIncidentFromAutomation(report);
      expect(retried.workflowId).toBe(first.workflowId);
      expect(first.workflowId).toMatch(/^incident-drain-of-i-0123456789abcdef0-missed-its-[0-9a-f]{8}$/);
      const handle = env.client.workflow.getHandle(first.workflowId);
      const s = await statusWhen(handle, (x) => x.phase === 'open', 'open');
      expect(s.severity).toBe('sev2');
      const timeline = await handle.query(timelineQuery);
      expect(timeline.filter((e) => e.kind === 'automation').map((e) => e.text)).toEqual(report.entries.map((e) => e.text));
      const doc = await handle.query(postmortemQuery);
      expect(doc).toContain(`Automation workflow \`${drainId}\` reported the problem and opened the incident.`);
      // Sorted by time in the document: the drain's facts come before the opening.
      const lines = doc.split('\n').filter((l) => / · (automation|opened) · /.test(l));
      expect(lines.map((l) => l.split(' · ')[1])).toEqual(['automation', 'automation', 'opened']);
      await handle.executeUpdate(abortUpdate, { args: [{ reason: 'test done' }] });
      expect((await handle.result()).outcome).toBe('aborted');
      await recordHistory(handle, 'incident', 'opened-by-drain-deadline-miss');
    });
  });

  it('continues as new to keep history bounded, losing no timeline entry, reminder count or postmortem content', async () => {
    const dir = tmpDir();
    const config = incidentTestConfig({ postmortemDir: dir });
    const rec = recordingNotify();
    await runWithWorker({ config, notify: rec.notify }, async (taskQueue) => {
      const title = 'Long running degradation';
      const handle = await env.client.workflow.start(incident, {
        ...incidentStartOptions(declaredIncidentWorkflowId(title, unique('c')), { title, severity: 'sev3', source: { kind: 'event', eventId: 'evt-1', by: 'pager' } }),
        args: [{ title, severity: 'sev3', source: { kind: 'event', eventId: 'evt-1', by: 'pager' }, continueAsNewAfterEvents: 40 }],
        taskQueue,
      });
      const firstRun = (await handle.describe()).runId;
      const opened = await statusWhen(handle, (s) => s.phase === 'open', 'open');
      const runs = new Set<string>([firstRun]);
      for (let i = 1; i <= 30; i++) {
        await handle.executeUpdate(noteUpdate, { args: [{ text: `observation ${i}`, by: 'scribe' }] });
        if (i % 10 === 0) {
          // Cross a status reminder (every 240 min for sev3) between batches.
          await env.sleep(241 * MIN);
          await statusWhen(handle, (s) => s.reminders.statusReminders === i / 10, `status reminder ${i / 10}`);
        }
        runs.add((await handle.describe()).runId);
      }
      expect(runs.size).toBeGreaterThanOrEqual(3);
      const s = await status(handle);
      expect(s.incidentKey).toBe(opened.incidentKey);
      const notes = (await handle.query(timelineQuery)).filter((e) => e.kind === 'note').map((e) => e.text);
      expect(notes).toEqual(Array.from({ length: 30 }, (_, i) => `observation ${i + 1}`));

      await handle.executeUpdate(checkUpdate, { args: [{ item: 'mitigated', by: 'ops', note: 'failover' }] });
      await handle.executeUpdate(resolveUpdate, { args: [{ by: 'ops', text: 'primary restored' }] });
      await handle.executeUpdate(addLessonUpdate, { args: [{ by: 'ops', kind: 'went-well', text: 'Failover worked.' }] });
      await handle.executeUpdate(addLessonUpdate, { args: [{ by: 'ops', kind: 'went-wrong', text: 'Failover took 20 minutes.' }] });
      await handle.executeUpdate(addActionItemUpdate, { args: [{ by: 'ops', type: 'prevent', text: 'Automate failover', owner: 'ops', trackingLink: 'https://t.example/9' }] });
      for (const item of ['timeline-reviewed', 'what-went-well', 'what-went-wrong', 'action-items-filed']) {
        await handle.executeUpdate(checkUpdate, { args: [{ item, by: 'ops' }] });
      }
      const result = await handle.result();
      expect(result.outcome).toBe('closed');
      for (let i = 1; i <= 30; i++) expect(result.postmortem ?? '').toContain(`scribe: observation ${i}\n`);
      expect(result.postmortem).toContain('- Failover took 20 minutes.');
      const statusKeys = rec.sent.map((n) => n.key).filter((k) => k.includes('/status-update/'));
      expect(statusKeys.map((k) => k.split('/').pop())).toEqual(['1', '2', '3']);
      expect(new Set(rec.sent.map((n) => n.key)).size).toBe(rec.sent.length);
      expect(existsSync(result.postmortemPath ?? '')).toBe(true);
      await recordHistory(handle, 'incident', 'continue-as-new');
    });
  });

  it('escalates an overdue postmortem once, keeps nudging, holds reminders while paused without a burst', async () => {
    const config = incidentTestConfig({ postmortemDir: tmpDir(), sev4: { postmortemDueBusinessDays: 1, nudgeEveryHours: 1, escalateAfterNudges: 2 } });
    const rec = recordingNotify();
    await runWithWorker({ config, notify: rec.notify }, async (taskQueue) => {
      const title = 'Stale dashboard';
      const handle = await env.client.workflow.start(incident, {
        ...incidentStartOptions(declaredIncidentWorkflowId(title, unique('e')), { title, severity: 'sev4', source: { kind: 'cli', by: 'gina' } }),
        taskQueue,
      });
      await statusWhen(handle, (s) => s.phase === 'open', 'open');
      const resolved = await handle.executeUpdate(resolveUpdate, { args: [{ by: 'gina', text: 'cache flushed' }] });
      const dueAt = Date.parse(resolved.postmortemDueAt ?? '');
      await env.sleep(dueAt - (await env.currentTimeMs()) + 2.5 * HOUR);
      await statusWhen(handle, (s) => s.reminders.escalated && s.reminders.postmortemReminders === 3, 'escalation');
      expect(await handle.executeUpdate(pauseUpdate, { args: [{ by: 'gina' }] })).toMatchObject({ paused: true });
      await env.sleep(5 * HOUR);
      expect((await status(handle)).reminders.postmortemReminders).toBe(3);
      const resumedAt = await env.currentTimeMs();
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ by: 'gina' }] })).toMatchObject({ paused: false });
      await statusWhen(handle, (s) => s.reminders.postmortemReminders === 4, 'held nudge after resume');
      await env.sleep(1.5 * HOUR);
      await statusWhen(handle, (s) => s.reminders.postmortemReminders === 5, 'nudge an hour after resume');
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'timeline-reviewed', by: 'gina' }] });
      expect((await handle.result()).outcome).toBe('closed');

      const reminders = rec.sent.filter((n) => n.fields.scheduled);
      expect(keysOf(reminders)).toEqual([
        'postmortem-nudge/1',
        'postmortem-nudge/2',
        'postmortem-escalation/1',
        'postmortem-nudge/3',
        'postmortem-nudge/4',
      ]);
      const planned = reminders.map((n) => Date.parse(n.fields.scheduled));
      expect(planned.slice(0, 4)).toEqual([dueAt, dueAt + HOUR, dueAt + 2 * HOUR, dueAt + 3 * HOUR]);
      // The nudge held by the pause went out once on resume; the next one is an hour after that, not a catch-up burst.
      expect(reminders[3].at - resumedAt).toBeGreaterThanOrEqual(0);
      expect(reminders[3].at - resumedAt).toBeLessThan(5_000);
      expect(planned[4] - resumedAt).toBeGreaterThanOrEqual(HOUR);
      expect(planned[4] - resumedAt).toBeLessThan(HOUR + 5_000);
      expect(reminders[2].title).toContain('postmortem overdue, escalating');
      await recordHistory(handle, 'incident', 'escalation-and-pause-updates');
    });
  });

  it('in dryRun records notifications and the postmortem write instead of making them', async () => {
    const dir = tmpDir();
    const config = incidentTestConfig({ postmortemDir: dir });
    const rec = recordingNotify();
    await runWithWorker({ config, notify: rec.notify }, async (taskQueue) => {
      const title = 'Drill';
      const input: IncidentInput = { title, severity: 'sev4', source: { kind: 'cli', by: 'hank' }, dryRun: true };
      const handle = await env.client.workflow.start(incident, { ...incidentStartOptions(declaredIncidentWorkflowId(title, unique('d')), input), taskQueue });
      await statusWhen(handle, (s) => s.phase === 'open', 'open');
      await handle.executeUpdate(resolveUpdate, { args: [{ by: 'hank', text: 'drill resolved' }] });
      const last = await handle.executeUpdate(checkUpdate, { args: [{ item: 'timeline-reviewed', by: 'hank' }] });
      const result = await handle.result();
      expect(result.outcome).toBe('closed');
      const attrs = (await handle.describe()).typedSearchAttributes;
      expect([attrs.get(FleetopsKind), attrs.get(FleetopsSeverity), attrs.get(FleetopsPhase)]).toEqual(['incident', 'sev4', 'closed']);
      expect(result.postmortemPath).toBeUndefined();
      expect(rec.sent).toEqual([]);
      const s = await status(handle);
      expect(s.dryRunCalls?.map((c) => c.action)).toEqual(['notify', 'notify', 'postmortem:Write', 'notify']);
      expect(last.phase).toBe('closed');
      expect(existsSync(join(dir, `${s.openedAt.slice(0, 10)}-${handle.workflowId}.md`))).toBe(false);
      await recordHistory(handle, 'incident', 'dry-run');
    });
  });
});
