import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { createIncidentActivities } from '../../activities/incident';
import { createNotificationActivities, type Notification } from '../../activities/notifications';
import { statusQuery } from '../../contracts/controls';
import { incidentStartOptions } from '../../contracts/incident/start';
import type { SlackStandIn, StoredMessage } from '../../stack/slack-stand-in';
import type { IncidentStatus } from '../../contracts/incident/messages';
import { bundledWorkflows, createTimeSkippingEnv, uniqueTaskQueue } from '../harness/temporal';
import { incidentTestConfig } from '../incident/fixtures';
import { CHANNELS, slackSection, startWorkspace, waitForSlack, withSlack } from './slack-world';
import { createWorker } from '../harness/workers';

/**
 * An incident's reminders reach its Slack thread on time, under time skipping: the real incident
 * workflow and the real notification activity posting to the Slack stand-in. A sev1 reminds every
 * 30 minutes; nothing is posted before a reminder is due, each one is sent at its time (read from
 * the history: when the server scheduled the notification) and lands in the incident's thread,
 * broadcast to the channel.
 */

jest.setTimeout(120_000);

const MIN = 60_000;
let env: TestWorkflowEnvironment;
let standIn: SlackStandIn;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  standIn = await startWorkspace();
});

afterAll(async () => {
  await standIn?.close();
  await env?.teardown();
});

const remindersIn = (root: StoredMessage) => standIn.messages().filter((m) => m.thread_ts === root.ts && /status update due/.test(m.text ?? ''));

test('status-update reminders of a sev1 reach its thread at 30 and 60 minutes, not before', async () => {
  const config = withSlack(incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'fleetops-slack-rem-')) }), slackSection(standIn));
  const taskQueue = uniqueTaskQueue('slack-reminders');
  const deps = { config, temporal: { client: env.client, namespace: 'default' } };
  const worker = await createWorker({
    connection: env.nativeConnection,
    taskQueue,
    ...bundledWorkflows(),
    activities: { ...createIncidentActivities(deps), ...createNotificationActivities({ ...deps, aws: undefined as never }) },
  });
  await worker.runUntil(async () => {
    const workflowId = `incident-slack-reminders-${Date.now().toString(36)}`;
    const { workflowType, ...options } = incidentStartOptions(workflowId, { title: 'Payments timing out', severity: 'sev1', source: { kind: 'chat', by: 'slack:U0ALICE01' } });
    const handle = await env.client.workflow.start(workflowType, { ...options, taskQueue });
    const root = await waitForSlack(standIn, (ms) => ms.find((m) => m.metadata?.event_payload.workflow_id === workflowId), 'the declaration');
    expect(root.channel).toBe(CHANNELS.incidents);
    // The on-call from config is part of the declaration, not a separate role line before it.
    expect(root.text).toContain('sev1 incident opened: Payments timing out');
    expect(JSON.stringify(root.blocks)).toContain('on-call: oncall-primary');
    const opened = Date.parse(((await handle.query(statusQuery)) as IncidentStatus).openedAt);

    await env.sleep(29 * MIN);
    const early = (await handle.query(statusQuery)) as IncidentStatus;
    expect(early.reminders.statusReminders).toBe(0);
    expect(Date.parse(early.nextReminder!.at)).toBe(opened + 30 * MIN);
    expect(remindersIn(root)).toEqual([]);

    await env.sleep(2 * MIN);
    const first = await waitForSlack(standIn, () => remindersIn(root)[0], 'the first reminder');
    expect(first.reply_broadcast).toBe(true);
    expect(JSON.stringify(first.blocks)).toContain(`scheduled: ${new Date(opened + 30 * MIN).toISOString()}`);

    await env.sleep(30 * MIN);
    const second = await waitForSlack(standIn, () => remindersIn(root)[1], 'the second reminder');
    expect(JSON.stringify(second.blocks)).toContain(`scheduled: ${new Date(opened + 60 * MIN).toISOString()}`);
    expect(remindersIn(root)).toHaveLength(2);

    // On time by the server's clock: each reminder's notification was scheduled at its due time.
    const history = await handle.fetchHistory();
    const sentAt = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notify')
      .map((e) => ({ n: defaultPayloadConverter.fromPayload<Notification>(e.activityTaskScheduledEventAttributes!.input!.payloads![0]!), at: Number(e.eventTime!.seconds) * 1000 }))
      .filter(({ n }) => n.idempotencyKey.includes('/status-update/'));
    expect(sentAt.map(({ at }) => Math.round((at - opened) / 1000))).toEqual([30 * 60, 60 * 60].map((s) => expect.closeTo(s, -1)));
    // Each later notification carried the thread its first one started.
    expect(sentAt.every(({ n }) => n.chat?.ts === root.ts && n.chat.channel === CHANNELS.incidents)).toBe(true);
    await handle.terminate('test over');
  });
});
