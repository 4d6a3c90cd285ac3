import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { createIncidentActivities } from '../../activities/incident';
import { abortUpdate, statusQuery } from '../../contracts/controls';
import { FailureType } from '../../common/failures';
import type { PreviousIncident } from '../../common/incident/model';
import { FleetopsCluster, FleetopsPhase, FleetopsSeverity } from '../../common/search-attributes';
import { incidentStartOptions } from '../../contracts/incident/start';
import { alarmIncidentWorkflowId, declaredIncidentWorkflowId } from '../../common/workflow-ids';
import type { IncidentAlarmEvent, IncidentInput } from '../../contracts/incident/input';
import type { FleetopsConfig } from '../../config/schema';
import {
  alarmEventSignal,
  assignUpdate,
  changeSeverityUpdate,
  checkUpdate,
  markReviewHeldUpdate,
  postmortemQuery,
  resolveUpdate,
  timelineQuery,
  type IncidentStatus,
} from '../../contracts/incident/messages';
import { incident } from '../../workflows/incident/workflow';
import { untilValue } from '../../testkit/poll';
import { bundledWorkflows, createTimeSkippingEnv, recordHistory, uniqueTaskQueue } from '../harness/temporal';
import { FakePagerDuty, incidentTestConfig, recordingNotify, type SentNotification } from './fixtures';
import { createWorker } from '../harness/workers';

/**
 * The incident as SRE teams run it, on the time-skipping server with the real incident
 * activities (PagerDuty through its local stand-in) and a recording notifier: severity changes,
 * reopening on a recurrence, a recurrence after close linking the previous incident, paging, and the
 * postmortem review reminder. Days of reminders pass in seconds.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const PD_KEY_ENV = 'FLEETOPS_TEST_PAGERDUTY_ROUTING_KEY';

let env: TestWorkflowEnvironment;
let pagerduty: FakePagerDuty;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  pagerduty = new FakePagerDuty();
  await pagerduty.start();
  process.env[PD_KEY_ENV] = pagerduty.routingKey;
});

afterAll(async () => {
  await pagerduty?.stop();
  await env?.teardown();
});

let seq = 0;
const unique = (name: string): string => `${name}-${Date.now().toString(36)}-${++seq}`;
const tmpDir = (): string => mkdtempSync(join(tmpdir(), 'fleetops-lifecycle-'));
const iso = (ms: number): string => new Date(ms).toISOString();

/** What the time-skipping server cannot answer (it has no visibility list): the previous run, as the test knows it. */
const previousRuns = new Map<string, PreviousIncident>();

async function runWithWorker<T>(
  config: FleetopsConfig,
  notify: ReturnType<typeof recordingNotify>['notify'],
  fn: (taskQueue: string) => Promise<T>,
  overrides: Record<string, (...args: never[]) => Promise<unknown>> = {},
): Promise<T> {
  const taskQueue = uniqueTaskQueue('incident-lifecycle');
  const activities = {
    ...createIncidentActivities({ config, temporal: { client: env.client, namespace: 'default' } }),
    notify,
    previousIncident: async (req: { workflowId: string; runId: string }) => previousRuns.get(req.workflowId) ?? null,
    ...overrides,
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
  return { alarmName, state, eventId, time: iso(time), reason };
}

const keysOf = (sent: SentNotification[]): string[] => sent.map((n) => n.key.split('/').slice(2).join('/'));
const attr = async (handle: WorkflowHandle, key: typeof FleetopsSeverity) => (await handle.describe()).typedSearchAttributes.get(key);

describe('incident as SRE teams run it (time-skipping)', () => {
  it('escalates sev3 → sev1 and back: who and why on the timeline, checklists merged, cadence switched, FleetopsSeverity follows', async () => {
    const rec = recordingNotify();
    await runWithWorker(incidentTestConfig({ postmortemDir: tmpDir() }), rec.notify, async (taskQueue) => {
      const title = 'Checkout latency';
      const input: IncidentInput = { title, severity: 'sev3', source: { kind: 'cli', by: 'alice' } };
      const handle = await env.client.workflow.start(incident, {
        ...incidentStartOptions(declaredIncidentWorkflowId(title, unique('s')), input, { cluster: 'payments' }),
        taskQueue,
      });
      await statusWhen(handle, (s) => s.phase === 'open', 'open');
      // sev3 reminds every 240 min: three quiet hours.
      await env.sleep(3 * HOUR);
      expect((await status(handle)).reminders.statusReminders).toBe(0);

      const change = (severity: string, reason: string) =>
        handle.executeUpdate(changeSeverityUpdate, { args: [{ severity: severity as 'sev1', by: 'alice', reason }] });
      expect(await rejection(change('sev3', 'no change'))).toBe('the incident is already sev3');
      expect(await rejection(change('sev9', 'worse'))).toBe('severity must be one of sev1, sev2, sev3, sev4 (got "sev9")');
      expect(await rejection(change('sev1', ' '))).toBe('reason is required');

      const up = await change('sev1', 'checkout down for every customer');
      const upAt = Date.parse(up.severityChanges[0]!.at);
      expect(up.severity).toBe('sev1');
      expect(up.severityChanges).toEqual([{ from: 'sev3', to: 'sev1', by: 'alice', reason: 'checkout down for every customer', at: iso(upAt) }]);
      expect(up.checklist.response.map((i) => i.item)).toEqual(['commander-assigned', 'channel-opened', 'status-page-updated', 'stakeholders-informed', 'mitigated', 'resolved']);
      // The sev1 cadence (30 min) counts from the escalation, which was itself announced.
      expect(up.nextReminder).toEqual({ kind: 'status-update', at: iso(upAt + 30 * MIN) });
      expect(await attr(handle, FleetopsSeverity)).toBe('sev1');
      expect(await attr(handle, FleetopsCluster)).toBe('payments');

      await env.sleep(65 * MIN);
      await statusWhen(handle, (s) => s.reminders.statusReminders === 2, 'two sev1 status reminders');
      await handle.executeUpdate(assignUpdate, { args: [{ role: 'commander', person: 'alice', by: 'alice' }] });
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'commander-assigned', by: 'alice' }] });
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'channel-opened', by: 'alice', link: '#inc-checkout' }] });
      expect(await rejection(handle.executeUpdate(checkUpdate, { args: [{ item: 'mitigated', by: 'alice', note: 'failed over' }] }))).toBe(
        '"mitigated" comes after "status-page-updated", "stakeholders-informed", not checked yet',
      );

      // Back to sev3: the sev1 items already done stay (in place), the undone ones go.
      const down = await change('sev3', 'impact limited to one region');
      const downAt = Date.parse(down.severityChanges[1]!.at);
      expect(down.checklist.response.map((i) => `${i.item}:${i.done}`)).toEqual(['commander-assigned:true', 'channel-opened:true', 'mitigated:false', 'resolved:false']);
      expect(down.nextReminder).toEqual({ kind: 'status-update', at: iso(downAt + 240 * MIN) });
      expect(await attr(handle, FleetopsSeverity)).toBe('sev3');
      await env.sleep(241 * MIN);
      await statusWhen(handle, (s) => s.reminders.statusReminders === 3, 'the sev3 status reminder');

      await handle.executeUpdate(checkUpdate, { args: [{ item: 'mitigated', by: 'alice', note: 'failed over' }] });
      const resolved = await handle.executeUpdate(resolveUpdate, { args: [{ by: 'alice', text: 'region restored' }] });
      expect(resolved.phase).toBe('postmortem');
      const severityLines = (await handle.query(timelineQuery)).filter((e) => e.kind === 'severity').map((e) => `${e.author}: ${e.text}`);
      expect(severityLines).toEqual(['alice: escalated sev3 → sev1: checkout down for every customer', 'alice: de-escalated sev1 → sev3: impact limited to one region']);
      expect(await handle.query(postmortemQuery)).toContain(
        `**Severity:** sev3 (opened as sev3; sev3 → sev1 ${iso(upAt).slice(0, 10)} ${iso(upAt).slice(11, 19)} by alice (checkout down for every customer); ` +
          `sev1 → sev3 ${iso(downAt).slice(0, 10)} ${iso(downAt).slice(11, 19)} by alice (impact limited to one region))`,
      );
      await handle.executeUpdate(abortUpdate, { args: [{ reason: 'test done' }] });
      expect((await handle.result()).outcome).toBe('aborted');

      expect(keysOf(rec.sent)).toEqual(['opened', 'severity/1', 'status-update/1', 'status-update/2', 'severity/2', 'status-update/3', 'resolved', 'aborted']);
      expect(rec.sent[1]!.title).toBe(`sev1 ${title}: escalated from sev3`);
      expect(rec.sent[4]!.title).toBe(`sev3 ${title}: de-escalated from sev1`);
      const planned = rec.sent.filter((n) => n.fields.scheduled).map((n) => n.fields.scheduled);
      expect(planned).toEqual([upAt + 30 * MIN, upAt + 60 * MIN, downAt + 240 * MIN].map(iso));
      await recordHistory(handle, 'incident', 'severity-escalation-and-back');
    });
  });

  it('reopens when its alarm fires while the postmortem is written: open again, re-resolved, the postmortem clock restarts', async () => {
    const rec = recordingNotify();
    const config = incidentTestConfig({ postmortemDir: tmpDir(), sev4: { postmortemDueBusinessDays: 1, nudgeEveryHours: 6, escalateAfterNudges: 10 } });
    await runWithWorker(config, rec.notify, async (taskQueue) => {
      const alarmName = unique('disk-full');
      const t0 = await env.currentTimeMs();
      const start = (ev: IncidentAlarmEvent) =>
        env.client.workflow.signalWithStart(incident, {
          ...incidentStartOptions(alarmIncidentWorkflowId(alarmName), { title: `Alarm ${alarmName}`, severity: 'sev4', source: { kind: 'alarm', alarmName } }, { workflowIdReusePolicy: 'ALLOW_DUPLICATE' }),
          taskQueue,
          signal: alarmEventSignal,
          signalArgs: [ev],
        });
      const handle = await start(alarm(alarmName, 'ALARM', 'e1', t0));
      await statusWhen(handle, (s) => s.phase === 'open', 'open');
      const first = await handle.executeUpdate(resolveUpdate, { args: [{ by: 'bob', text: 'logs rotated' }] });
      const firstDue = Date.parse(first.postmortemDueAt ?? '');
      await env.sleep(firstDue - (await env.currentTimeMs()) + HOUR);
      await statusWhen(handle, (s) => s.reminders.postmortemReminders === 1, 'the first nudge');

      const again = await env.currentTimeMs();
      await start(alarm(alarmName, 'ALARM', 'e2', again, 'disk 95% again'));
      const reopened = await statusWhen(handle, (s) => s.phase === 'open', 'reopened');
      expect(reopened.reopenings).toHaveLength(1);
      expect(reopened.postmortemDueAt).toBeUndefined();
      expect(reopened.nextReminder?.kind).toBe('status-update');
      expect(await attr(handle, FleetopsPhase)).toBe('open');
      expect(await rejection(handle.executeUpdate(markReviewHeldUpdate, { args: [{ by: 'bob' }] }))).toBe(
        'the postmortem review comes after resolution: resolve the incident first',
      );

      // A day later it is resolved again: the postmortem is due a business day after this resolution.
      await env.sleep(25 * HOUR);
      await statusWhen(handle, (s) => s.reminders.statusReminders === 1, 'the sev4 status reminder while reopened');
      const second = await handle.executeUpdate(resolveUpdate, { args: [{ by: 'bob', text: 'disk grown to 200 GB' }] });
      const secondDue = Date.parse(second.postmortemDueAt ?? '');
      expect(secondDue).toBeGreaterThan(firstDue);
      await env.sleep(secondDue - (await env.currentTimeMs()) + 7 * HOUR);
      await statusWhen(handle, (s) => s.reminders.postmortemReminders === 2, 'two nudges of the new series');
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'timeline-reviewed', by: 'bob' }] });
      const result = await handle.result();
      expect(result.outcome).toBe('closed');
      expect(result.postmortem).toContain('**Reopened:** ');
      expect(result.postmortem).toContain('disk 95% again');

      expect(keysOf(rec.sent)).toEqual([
        'opened',
        'resolved',
        'postmortem-nudge/1',
        'reopened/1',
        'status-update/1',
        'resolved/2',
        'postmortem-nudge/reopened-1/1',
        'postmortem-nudge/reopened-1/2',
        'closed',
      ]);
      const nudges = rec.sent.filter((n) => n.key.includes('postmortem-nudge')).map((n) => Date.parse(n.fields.scheduled!));
      expect(nudges).toEqual([firstDue, secondDue, secondDue + 6 * HOUR]);
      await recordHistory(handle, 'incident', 'reopened-by-recurring-alarm');
    });
  });

  it('an alarm after the incident closed opens a new incident that links the previous one', async () => {
    const rec = recordingNotify();
    await runWithWorker(incidentTestConfig({ postmortemDir: tmpDir() }), rec.notify, async (taskQueue) => {
      const alarmName = unique('queue-depth');
      const workflowId = alarmIncidentWorkflowId(alarmName);
      const start = (ev: IncidentAlarmEvent) =>
        env.client.workflow.signalWithStart(incident, {
          ...incidentStartOptions(workflowId, { title: `Alarm ${alarmName}`, severity: 'sev4', source: { kind: 'alarm', alarmName } }, { workflowIdReusePolicy: 'ALLOW_DUPLICATE' }),
          taskQueue,
          signal: alarmEventSignal,
          signalArgs: [ev],
        });
      const first = await start(alarm(alarmName, 'ALARM', 'e1', await env.currentTimeMs()));
      await statusWhen(first, (s) => s.phase === 'open', 'open');
      await first.executeUpdate(resolveUpdate, { args: [{ by: 'carol', text: 'consumers restarted' }] });
      await first.executeUpdate(checkUpdate, { args: [{ item: 'timeline-reviewed', by: 'carol' }] });
      const firstResult = await first.result();
      const firstRun = (await first.describe()).runId;
      const previous: PreviousIncident = {
        workflowId,
        runId: firstRun,
        status: 'COMPLETED',
        closedAt: iso(await env.currentTimeMs()),
        postmortem: { stored: firstResult.postmortemPath! },
      };
      previousRuns.set(workflowId, previous);

      const second = await start(alarm(alarmName, 'ALARM', 'e2', await env.currentTimeMs(), 'depth 10k again'));
      const opened = await statusWhen(second, (s) => s.phase === 'open', 'the new incident open');
      expect((await second.describe()).runId).not.toBe(firstRun);
      expect(opened.incidentKey).not.toBe(firstResult.incidentKey);
      expect(opened.previousIncident).toEqual(previous);
      const link = (await second.query(timelineQuery)).find((e) => e.text.startsWith('recurrence of'));
      expect(link?.text).toBe(`recurrence of ${workflowId} (run ${firstRun}, COMPLETED ${previous.closedAt}); its postmortem: ${firstResult.postmortemPath}`);
      expect(await second.query(postmortemQuery)).toContain(`**Recurrence of:** ${workflowId} (run ${firstRun}, closed `);
      await statusWhen(second, (s) => s.notifications.sent === 1, 'the opened notification');
      expect(rec.sent.at(-1)?.fields['recurrence of']).toBe(`${workflowId} (run ${firstRun})`);
      await second.executeUpdate(abortUpdate, { args: [{ reason: 'test done' }] });
      await second.result();
      await recordHistory(second, 'incident', 'recurrence-links-previous');
    });
  });

  it('pages sev1/sev2 through PagerDuty: trigger at open, acknowledge on a commander, resolve; again on reopen; resolve on de-escalation', async () => {
    const rec = recordingNotify();
    const config = incidentTestConfig({ postmortemDir: tmpDir(), incidents: { pagerduty: { routingKey: `\${${PD_KEY_ENV}}`, eventsUrl: pagerduty.url } } });
    await runWithWorker(config, rec.notify, async (taskQueue) => {
      const alarmName = unique('api-errors');
      const workflowId = alarmIncidentWorkflowId(alarmName);
      const t0 = await env.currentTimeMs();
      pagerduty.failNext = 1; // the first trigger meets a PagerDuty 500 and is retried
      const handle = await env.client.workflow.signalWithStart(incident, {
        ...incidentStartOptions(workflowId, { title: `Alarm ${alarmName}`, severity: 'sev2', source: { kind: 'alarm', alarmName } }),
        taskQueue,
        signal: alarmEventSignal,
        signalArgs: [alarm(alarmName, 'ALARM', 'e1', t0)],
      });
      await statusWhen(handle, (s) => s.paging.sent === 1, 'the page');
      expect(pagerduty.alerts.get(workflowId)).toMatchObject({ status: 'triggered', summary: `sev2 Alarm ${alarmName}`, severity: 'error' });
      const trigger = pagerduty.events.find((e) => e.body.dedup_key === workflowId)!.body;
      expect(trigger).toMatchObject({
        event_action: 'trigger',
        dedup_key: workflowId,
        payload: { summary: `sev2 Alarm ${alarmName}`, source: alarmName, severity: 'error', component: 'fleetops', class: 'incident' },
        client: 'fleetops',
        links: [{ href: expect.stringContaining(`/workflows/${workflowId}`), text: `fleetops incident ${workflowId}` }],
      });

      await handle.executeUpdate(assignUpdate, { args: [{ role: 'commander', person: 'dave', by: 'dave' }] });
      await statusWhen(handle, (s) => s.paging.sent === 2, 'the acknowledgement');
      expect(pagerduty.alerts.get(workflowId)?.status).toBe('acknowledged');
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'mitigated', by: 'dave', note: 'rolled back' }] });
      const resolved = await handle.executeUpdate(resolveUpdate, { args: [{ by: 'dave', text: 'fixed' }] });
      await statusWhen(handle, (s) => s.paging.sent === 3, 'the resolve');
      expect(pagerduty.alerts.get(workflowId)?.status).toBe('resolved');

      // The alarm fires again while the postmortem is open: paged again, under the same dedup key.
      await handle.signal(alarmEventSignal, alarm(alarmName, 'ALARM', 'e2', Date.parse(resolved.resolvedAt!) + MIN));
      await statusWhen(handle, (s) => s.paging.sent === 4, 'the page on reopening');
      expect(pagerduty.alerts.get(workflowId)).toMatchObject({ status: 'triggered' });
      // Escalating an already paged incident sends nothing; de-escalating below paging resolves.
      await handle.executeUpdate(changeSeverityUpdate, { args: [{ severity: 'sev1', by: 'dave', reason: 'all regions' }] });
      await handle.executeUpdate(changeSeverityUpdate, { args: [{ severity: 'sev3', by: 'dave', reason: 'one region only' }] });
      const after = await statusWhen(handle, (s) => s.paging.sent === 5, 'the resolve on de-escalation');
      expect(after.paging).toEqual({ enabled: false, alert: 'resolved', sent: 5, failed: [] });
      await handle.executeUpdate(abortUpdate, { args: [{ reason: 'test done' }] });
      await handle.result();
      expect(pagerduty.actions().filter((a) => a.endsWith(workflowId))).toEqual(
        ['trigger', 'acknowledge', 'resolve', 'trigger', 'resolve'].map((a) => `${a} ${workflowId}`),
      );
      // A sev3 does not page.
      const quiet = await env.client.workflow.start(incident, {
        ...incidentStartOptions(declaredIncidentWorkflowId('quiet', unique('q')), { title: 'quiet', severity: 'sev3', source: { kind: 'cli', by: 'dave' } }),
        taskQueue,
      });
      const q = await statusWhen(quiet, (s) => s.phase === 'open', 'open');
      expect(q.paging).toEqual({ enabled: false, alert: 'none', sent: 0, failed: [] });
      expect(pagerduty.events.some((e) => e.body.dedup_key === quiet.workflowId)).toBe(false);
      await quiet.executeUpdate(abortUpdate, { args: [{ reason: 'test done' }] });
      await recordHistory(handle, 'incident', 'paging');
    });
  });

  it('reminds the commander to hold the review from the due date until it is marked held, and stops at once', async () => {
    const rec = recordingNotify();
    const config = incidentTestConfig({ postmortemDir: tmpDir(), sev2: { postmortemDueBusinessDays: 1, nudgeEveryHours: 12, escalateAfterNudges: 10, reviewReminderEveryHours: 24 } });
    await runWithWorker(config, rec.notify, async (taskQueue) => {
      const title = 'Queue backlog';
      const handle = await env.client.workflow.start(incident, {
        ...incidentStartOptions(declaredIncidentWorkflowId(title, unique('r')), { title, severity: 'sev2', source: { kind: 'cli', by: 'erin' } }),
        taskQueue,
      });
      await statusWhen(handle, (s) => s.phase === 'open', 'open');
      await handle.executeUpdate(assignUpdate, { args: [{ role: 'commander', person: 'erin', by: 'erin' }] });
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'mitigated', by: 'erin', note: 'consumers scaled' }] });
      const resolved = await handle.executeUpdate(resolveUpdate, { args: [{ by: 'erin', text: 'backlog drained' }] });
      expect(resolved.review).toEqual({ required: true });
      const dueAt = Date.parse(resolved.postmortemDueAt ?? '');
      await handle.executeUpdate(checkUpdate, { args: [{ item: 'timeline-reviewed', by: 'erin' }] });

      // Due: a nudge (action items still open) and the review reminder; a day later the second of each kind... until held.
      await env.sleep(dueAt - (await env.currentTimeMs()) + 25 * HOUR);
      await statusWhen(handle, (s) => s.reminders.reviewReminders === 2 && s.reminders.postmortemReminders === 3, 'two review reminders');
      const heldAt = await env.currentTimeMs();
      const held = await handle.executeUpdate(markReviewHeldUpdate, { args: [{ by: 'erin', note: 'prevention work agreed in the SRE meeting' }] });
      expect(held.review.held).toMatchObject({ by: 'erin', note: 'prevention work agreed in the SRE meeting' });
      expect(held.phase).toMatch(/^postmortem/);
      expect(held.nextReminder?.kind).toBe('postmortem-nudge');
      expect(await rejection(handle.executeUpdate(markReviewHeldUpdate, { args: [{ by: 'erin' }] }))).toMatch(/^the review was already marked held \(by erin at /);
      await env.sleep(3 * 24 * HOUR);
      await statusWhen(handle, (s) => s.reminders.postmortemReminders >= 8, 'nudges going on');
      expect((await status(handle)).reminders.reviewReminders).toBe(2);

      const reviews = rec.sent.filter((n) => n.key.includes('/review-reminder/'));
      expect(keysOf(reviews)).toEqual(['review-reminder/1', 'review-reminder/2']);
      expect(reviews.map((n) => n.fields.scheduled)).toEqual([dueAt, dueAt + 24 * HOUR].map(iso));
      expect(reviews[0]).toMatchObject({ title: `sev2 ${title}: postmortem review due`, fields: { commander: 'erin' } });
      expect(reviews[0]!.text).toContain('erin: review this postmortem');
      expect(rec.sent.filter((n) => n.at > heldAt).every((n) => !n.key.includes('review-reminder'))).toBe(true);
      await handle.executeUpdate(abortUpdate, { args: [{ reason: 'test done' }] });
      await recordHistory(handle, 'incident', 'review-reminders-stop-when-held');
    });
  });

  it('a postmortem written before its review waits for the review, and marking it held closes the incident', async () => {
    const rec = recordingNotify();
    const config = incidentTestConfig({ postmortemDir: tmpDir(), sev4: { postmortemDueBusinessDays: 1, reviewReminderEveryHours: 24 } });
    await runWithWorker(config, rec.notify, async (taskQueue) => {
      const title = 'Stale cache';
      const handle = await env.client.workflow.start(incident, {
        ...incidentStartOptions(declaredIncidentWorkflowId(title, unique('w')), { title, severity: 'sev4', source: { kind: 'cli', by: 'fay' } }),
        taskQueue,
      });
      await statusWhen(handle, (s) => s.phase === 'open', 'open');
      await handle.executeUpdate(resolveUpdate, { args: [{ by: 'fay', text: 'cache flushed' }] });
      const written = await handle.executeUpdate(checkUpdate, { args: [{ item: 'timeline-reviewed', by: 'fay' }] });
      expect(written.phase).toBe('postmortem');
      expect(written.summary).toMatch(/postmortem written, review due /);
      const dueAt = Date.parse(written.postmortemDueAt ?? '');
      await env.sleep(dueAt - (await env.currentTimeMs()) + HOUR);
      await statusWhen(handle, (s) => s.reminders.reviewReminders === 1, 'the review reminder');
      const closed = await handle.executeUpdate(markReviewHeldUpdate, { args: [{ by: 'fay', link: 'https://wiki.example/sre-meeting/42' }] });
      expect(closed.phase).toBe('closed');
      const result = await handle.result();
      expect(result.outcome).toBe('closed');
      expect(result.postmortem).toMatch(/\*\*Review:\*\* held \S+ \S+ by fay/);
      expect(keysOf(rec.sent)).toEqual(['opened', 'resolved', 'review-reminder/1', 'closed']);
      await recordHistory(handle, 'incident', 'closes-when-review-held');
    });
  });

  it('closes with the document in its result when the store refuses it for good, and says so; a pull request that cannot be opened is recorded', async () => {
    const rec = recordingNotify();
    const calls: string[] = [];
    const failures = {
      writePostmortem: async () => {
        calls.push('writePostmortem');
        throw ApplicationFailure.nonRetryable('s3:PutObject: AccessDenied (HTTP 403): no s3:PutObject on the bucket', FailureType.AwsAccessDenied);
      },
      openPostmortemPullRequest: async () => {
        calls.push('openPostmortemPullRequest');
        throw ApplicationFailure.nonRetryable('GitHub postmortem pull request (create the branch): HTTP 404 Not Found', FailureType.InvalidRequest);
      },
    };
    // GitHub "configured": a token, and an API the failing activity never reaches.
    process.env.FLEETOPS_TEST_LIFECYCLE_GH = 'token';
    const config = incidentTestConfig({ postmortemDir: tmpDir(), githubApiUrl: 'http://127.0.0.1:9', tokenEnv: 'FLEETOPS_TEST_LIFECYCLE_GH' });
    await runWithWorker(
      config,
      rec.notify,
      async (taskQueue) => {
        const handle = await env.client.workflow.start(incident, {
          ...incidentStartOptions(declaredIncidentWorkflowId('store down', unique('f')), { title: 'store down', severity: 'sev4', source: { kind: 'cli', by: 'hal' } }),
          taskQueue,
        });
        await statusWhen(handle, (s) => s.phase === 'open', 'open');
        await handle.executeUpdate(resolveUpdate, { args: [{ by: 'hal', text: 'fixed' }] });
        await handle.executeUpdate(checkUpdate, { args: [{ item: 'timeline-reviewed', by: 'hal' }] });
        const result = await handle.result();
        expect(result.outcome).toBe('closed');
        expect(result.postmortem).toContain('# store down — postmortem');
        expect(result.postmortemPath).toBeUndefined();
        const s = await status(handle);
        expect(s.postmortemStoreError).toBe('s3:PutObject: AccessDenied (HTTP 403): no s3:PutObject on the bucket');
        expect(s.postmortemPullRequestError).toBe('GitHub postmortem pull request (create the branch): HTTP 404 Not Found');
        expect(calls).toEqual(['writePostmortem', 'openPostmortemPullRequest']);
        expect(rec.sent.at(-1)?.text).toContain('Not stored: s3:PutObject: AccessDenied');
        const notes = (await handle.query(timelineQuery)).filter((e) => e.text.startsWith('postmortem not stored') || e.text.startsWith('postmortem pull request not opened'));
        expect(notes).toHaveLength(2);
      },
      failures,
    );
  });
});
