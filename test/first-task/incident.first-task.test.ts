import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { createIncidentActivities } from '../../activities/incident';
import { abortUpdate, pauseSignal, pauseUpdate, resumeSignal, resumeUpdate, statusQuery } from '../../contracts/controls';
import { incidentStartOptions, stableShortId } from '../../contracts/incident/start';
import { alarmIncidentWorkflowId, declaredIncidentWorkflowId } from '../../common/workflow-ids';
import type { IncidentAlarmEvent, IncidentFacts, IncidentInput } from '../../contracts/incident/input';
import {
  addActionItemUpdate,
  addLessonUpdate,
  alarmEventSignal,
  assignUpdate,
  changeSeverityUpdate,
  checkUpdate,
  editPostmortemUpdate,
  incidentFactsSignal,
  linkActionItemUpdate,
  markReviewHeldUpdate,
  noteUpdate,
  postmortemQuery,
  resolveUpdate,
  timelineQuery,
  type ActionItem,
  type IncidentResult,
  type IncidentStatus,
} from '../../contracts/incident/messages';
import { initialState, type IncidentState } from '../../workflows/incident/state';
import { applyActionItem, applyCheck, applyResolve } from '../../workflows/incident/transitions';
import { until } from '../../testkit/poll';
import { uniqueTaskQueue } from '../harness/temporal';
import { incidentTestConfig, recordingNotify } from '../incident/fixtures';
import {
  accepted,
  expectSignalInFirstTask,
  expectUpdateInFirstTask,
  queryBeforeWorker,
  refused,
  startOnly,
  startWithSignal,
  startWithUpdate,
  statusUntil,
  unique,
  useDevServer,
  withWorker,
  type StartOptions,
} from './first-task';

/**
 * Every message the incident workflow accepts, delivered in the first workflow task of a new run and
 * of a run that continues a previous one (its input carries the incident's state, as continue-as-new
 * hands it over). The run answers it and goes on: a new incident opens (its severity config loaded,
 * the "opened" notification sent), a continued one applies the message and closes on abort. The
 * activities are the real incident activities on a test config (test/incident/fixtures.ts), with
 * notifications recorded.
 *
 * A new incident's updates need the severity's config, which an activity loads after the handlers
 * are installed: an update in the first task is accepted, waits for the config, and is then checked
 * and applied (or refused) exactly as the same request sent once the incident has opened.
 */

const devServer = useDevServer();

const TITLE = 'Checkout latency above SLO';
const config = incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'fleetops-first-task-')), sev3: { reviewReminderEveryHours: 24 } });

type Variant = 'open' | 'mitigated' | 'resolved';

/**
 * A sev3 incident's state as a previous run hands it over, built with the workflow's own state and
 * transition code: opened ten minutes ago, its config loaded, one action item (AI-1, no tracking link);
 * `mitigated` and `resolved` check those items. Nothing is left to send (a run continues as new only
 * with an empty outbox).
 */
async function carriedState(workflowId: string, variant: Variant): Promise<IncidentState> {
  const at = Date.now() - 10 * 60_000;
  const state = initialState({ workflowId, firstRunId: randomUUID(), title: TITLE, severity: 'sev3', source: { kind: 'cli', by: 'alice' }, now: at });
  state.policy = await activitiesFor(recordingNotify()).incidentPolicy('sev3');
  applyActionItem(state, { by: 'alice', type: 'prevent', text: 'alert on queue depth', owner: 'alice' }, at);
  if (variant !== 'open') applyCheck(state, { item: 'mitigated', by: 'alice', note: 'rolled back the release' }, at);
  if (variant === 'resolved') applyResolve(state, { by: 'alice', text: 'the release was rolled back' }, at);
  state.outbox = [];
  state.pageOutbox = [];
  return JSON.parse(JSON.stringify(state)) as IncidentState;
}

function activitiesFor(rec: ReturnType<typeof recordingNotify>) {
  return {
    ...createIncidentActivities({ config, temporal: { client: devServer().client, namespace: 'default' } }),
    notify: rec.notify,
    previousIncident: async () => null,
  };
}

interface Case {
  taskQueue: string;
  start: StartOptions;
  rec: ReturnType<typeof recordingNotify>;
  activities: ReturnType<typeof activitiesFor>;
}

async function newCase(opts: { continued?: Variant; input?: Partial<IncidentInput>; workflowId?: string } = {}): Promise<Case> {
  const workflowId = opts.workflowId ?? declaredIncidentWorkflowId(TITLE, stableShortId(unique('incident')));
  const input: IncidentInput = { title: TITLE, severity: 'sev3', source: { kind: 'cli', by: 'alice' }, ...opts.input };
  const carried = opts.continued ? await carriedState(workflowId, opts.continued) : undefined;
  const { workflowType, ...options } = incidentStartOptions(workflowId, input);
  const taskQueue = uniqueTaskQueue('incident-first-task');
  const rec = recordingNotify();
  return {
    taskQueue,
    start: { workflowType, ...options, taskQueue, args: [{ ...input, ...(carried ? { carried } : {}) }] },
    rec,
    activities: activitiesFor(rec),
  };
}

/** Keys are `<workflow id>/<run id prefix>/<what>`. */
const sentKeys = (c: Case): string[] => c.rec.sent.map((n) => n.key.split('/').slice(2).join('/'));

const status = async (handle: WorkflowHandle): Promise<IncidentStatus> => (await handle.query(statusQuery)) as IncidentStatus;

/** Progress of a new incident: its severity config loaded and the "opened" notification sent. */
async function expectOpened(c: Case, handle: WorkflowHandle, phase = 'open'): Promise<IncidentStatus> {
  await until('the "opened" notification', () => sentKeys(c).includes('opened'));
  return statusUntil<IncidentStatus>(handle, `the incident to be ${phase}`, (s) => s.phase === phase);
}

/** Progress of any incident: an abort is acted on by the main loop, which closes the incident. */
async function expectClosesOnAbort(handle: WorkflowHandle): Promise<void> {
  await handle.executeUpdate(abortUpdate, { args: [{ reason: 'first-task test over', by: 'jest' }] });
  expect(((await handle.result()) as IncidentResult).outcome).toBe('aborted');
}

const timelineTexts = async (handle: WorkflowHandle): Promise<string[]> => (await handle.query(timelineQuery)).map((e) => e.text);

/** One update: its request, the carried state it needs, what its acceptance shows, and how a newly opened incident answers it. */
interface UpdateCase {
  name: string;
  update: UpdateDefinition<unknown, [never]>;
  request: unknown;
  carried: Variant;
  /** Checks the accepted answer and the state it left (status, timeline, postmortem). */
  shows: (answer: unknown, handle: WorkflowHandle) => Promise<void>;
  /** How a new incident answers the request once its config is loaded: accepted, or the refusal. */
  once: 'accepted' | string;
}

function updateCase<Ret, Req>(
  name: string,
  update: UpdateDefinition<Ret, [Req]>,
  request: Req,
  o: { carried?: Variant; shows: (answer: Ret, handle: WorkflowHandle) => Promise<void>; once?: 'accepted' | string },
): UpdateCase {
  return {
    name,
    update: update as unknown as UpdateDefinition<unknown, [never]>,
    request,
    carried: o.carried ?? 'open',
    shows: o.shows as (answer: unknown, handle: WorkflowHandle) => Promise<void>,
    once: o.once ?? 'accepted',
  };
}

const UPDATES: UpdateCase[] = [
  updateCase('assign', assignUpdate, { role: 'commander', person: 'carol', by: 'alice' }, {
    shows: async (s, h) => {
      expect(s.roles).toMatchObject({ commander: 'carol' });
      expect(await timelineTexts(h)).toContain('incident commander: carol');
    },
  }),
  updateCase('note', noteUpdate, { text: 'p99 back under 300 ms', by: 'alice' }, {
    shows: async (s, h) => {
      expect(s.timelineEntries).toBeGreaterThan(1);
      expect(await timelineTexts(h)).toContain('p99 back under 300 ms');
    },
  }),
  updateCase('check', checkUpdate, { item: 'mitigated', by: 'alice', note: 'rolled back the release' }, {
    shows: async (s) => {
      expect(s.phase).toBe('mitigated');
      expect(s.checklist.response.find((i) => i.item === 'mitigated')).toMatchObject({ done: true, by: 'alice' });
    },
  }),
  updateCase('resolve', resolveUpdate, { by: 'alice', text: 'the release was rolled back' }, {
    carried: 'mitigated',
    shows: async (s, h) => {
      expect(s.phase).toBe('postmortem');
      expect(s.resolvedAt).toBeDefined();
      expect(await timelineTexts(h)).toContain('checked "resolved": the release was rolled back');
    },
    once: 'cannot resolve before "mitigated" are checked',
  }),
  updateCase('editPostmortem', editPostmortemUpdate, { by: 'alice', rootCause: 'a connection pool sized for last year' }, {
    shows: async (_s, h) => {
      expect(await h.query(postmortemQuery)).toContain('a connection pool sized for last year');
    },
  }),
  updateCase('addLesson', addLessonUpdate, { by: 'alice', kind: 'went-well', text: 'the alarm fired within a minute' }, {
    shows: async (_s, h) => {
      expect(await h.query(postmortemQuery)).toContain('the alarm fired within a minute');
    },
  }),
  updateCase('addActionItem', addActionItemUpdate, { by: 'alice', type: 'prevent', text: 'load-test the pool', owner: 'bob' }, {
    shows: async (item: ActionItem, h) => {
      expect(item).toMatchObject({ text: 'load-test the pool', owner: 'bob' });
      expect((await status(h)).actionItems.map((i) => i.id)).toContain(item.id);
    },
  }),
  updateCase('linkActionItem', linkActionItemUpdate, { by: 'alice', id: 'AI-1', trackingLink: 'https://tracker.example/OPS-1' }, {
    shows: async (item: ActionItem, h) => {
      expect(item).toMatchObject({ id: 'AI-1', trackingLink: 'https://tracker.example/OPS-1' });
      expect((await status(h)).actionItems.find((i) => i.id === 'AI-1')?.trackingLink).toBe('https://tracker.example/OPS-1');
    },
    once: 'unknown action item "AI-1"; items are: none',
  }),
  updateCase('changeSeverity', changeSeverityUpdate, { severity: 'sev2', by: 'alice', reason: 'EU checkout down too' }, {
    shows: async (s) => {
      expect(s.severity).toBe('sev2');
      expect(s.severityChanges).toEqual([expect.objectContaining({ from: 'sev3', to: 'sev2', by: 'alice' })]);
    },
  }),
  updateCase('markReviewHeld', markReviewHeldUpdate, { by: 'alice', note: 'prevention work agreed' }, {
    carried: 'resolved',
    shows: async (s) => {
      expect(s.review).toMatchObject({ required: true, held: { by: 'alice', note: 'prevention work agreed' } });
    },
    once: 'the postmortem review comes after resolution: resolve the incident first',
  }),
];

const alarmEvent = (alarmName: string): IncidentAlarmEvent => ({
  alarmName,
  state: 'ALARM',
  reason: 'Threshold Crossed: p99 > 1 s for 3 datapoints',
  time: new Date().toISOString(),
  eventId: `ev-${alarmName}`,
});

const facts = (workflowId: string): IncidentFacts => ({
  key: `${workflowId}/rollback-failed`,
  entries: [{ time: new Date().toISOString(), author: workflowId, kind: 'automation', text: 'rollback failed: DeleteService throttled' }],
});

describe('incident: a message in the first workflow task of a new run', () => {
  it.each(UPDATES.map((u) => [u.name, u] as const))('%s update waits for the severity config and is then answered from it; the incident opens', async (_name, u) => {
    const env = devServer();
    const c = await newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, u.update, [u.request as never]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      if (u.once === 'accepted') await u.shows(await accepted(answer), handle);
      else expect(await refused(answer)).toBe(u.once);
      await expectUpdateInFirstTask(handle, u.name);
      // The opened incident is in the phase the update left it in (a checked "mitigated" moves it on).
      await expectOpened(c, handle, u.name === 'check' ? 'mitigated' : 'open');
      await expectClosesOnAbort(handle);
    });
  });

  it('alarmEvent signal (signal-with-start, as the router sends it) is on the timeline, and the incident opens', async () => {
    const env = devServer();
    const alarmName = unique('checkout-p99');
    const c = await newCase({ workflowId: alarmIncidentWorkflowId(alarmName), input: { source: { kind: 'alarm', alarmName } } });
    const handle = await startWithSignal(env, c.start, alarmEventSignal, [alarmEvent(alarmName)]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      const s = await expectOpened(c, handle);
      expect(s.alarmEvents).toBe(1);
      expect(await timelineTexts(handle)).toContain(`alarm ${alarmName} in ALARM: Threshold Crossed: p99 > 1 s for 3 datapoints`);
      await expectSignalInFirstTask(handle, 'alarmEvent');
      await expectClosesOnAbort(handle);
    });
  });

  it('incidentFacts signal (signal-with-start, as an automation sends it) is on the timeline, and the incident opens', async () => {
    const env = devServer();
    const deploy = unique('deploy-demo-web');
    const c = await newCase({ input: { source: { kind: 'workflow', workflowId: deploy, workflowKind: 'deploy' } } });
    const handle = await startWithSignal(env, c.start, incidentFactsSignal, [facts(deploy)]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      await expectOpened(c, handle);
      expect(await timelineTexts(handle)).toContain('rollback failed: DeleteService throttled');
      await expectSignalInFirstTask(handle, 'incidentFacts');
      await expectClosesOnAbort(handle);
    });
  });

  it('pause update is answered paused; the incident loads its config but sends nothing until resumed, then opens', async () => {
    const env = devServer();
    const c = await newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, pauseUpdate, [{ by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: true, title: TITLE });
      await expectUpdateInFirstTask(handle, 'pause');
      const held = await statusUntil<IncidentStatus>(handle, 'the paused incident to load its config', (s) => s.checklist.response.length > 0);
      expect(held.paused).toBe(true);
      expect(sentKeys(c)).toEqual([]);
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ by: 'alice' }] })).toMatchObject({ paused: false });
      await expectOpened(c, handle);
      await expectClosesOnAbort(handle);
    });
  });

  it('resume update is answered not paused, and the incident opens', async () => {
    const env = devServer();
    const c = await newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, resumeUpdate, [{ by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: false, title: TITLE });
      await expectUpdateInFirstTask(handle, 'resume');
      await expectOpened(c, handle);
      await expectClosesOnAbort(handle);
    });
  });

  it('abort update is answered with the abort, and the incident is closed without a postmortem', async () => {
    const env = devServer();
    const c = await newCase();
    const { handle, answer } = await startWithUpdate(env, c.start, abortUpdate, [{ reason: 'opened by mistake', by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ abortRequested: 'opened by mistake', title: TITLE });
      await expectUpdateInFirstTask(handle, 'abort');
      expect(((await handle.result()) as IncidentResult).outcome).toBe('aborted');
      expect(await timelineTexts(handle)).toContain('closed without a postmortem: opened by mistake');
      expect(sentKeys(c)).toEqual(expect.arrayContaining(['opened', 'aborted']));
    });
  });

  it('pause signal holds what the incident sends until the resume signal, then it opens', async () => {
    const env = devServer();
    const c = await newCase();
    const handle = await startWithSignal(env, c.start, pauseSignal, [{ by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      const held = await statusUntil<IncidentStatus>(handle, 'the paused incident to load its config', (s) => s.checklist.response.length > 0);
      expect(held.paused).toBe(true);
      expect(sentKeys(c)).toEqual([]);
      await expectSignalInFirstTask(handle, 'pause');
      await handle.signal(resumeSignal, { by: 'alice' });
      await expectOpened(c, handle);
      await expectClosesOnAbort(handle);
    });
  });

  it('resume signal leaves the incident unpaused, and it opens', async () => {
    const env = devServer();
    const c = await newCase();
    const handle = await startWithSignal(env, c.start, resumeSignal, [{ by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect((await expectOpened(c, handle)).paused).toBe(false);
      await expectSignalInFirstTask(handle, 'resume');
      await expectClosesOnAbort(handle);
    });
  });

  it('status query is answered with the incident as opened, and the incident opens', async () => {
    const env = devServer();
    const c = await newCase();
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await answer).toMatchObject({ title: TITLE, severity: 'sev3', paused: false, incidentKey: expect.stringContaining(handle.workflowId) });
      await expectOpened(c, handle);
      await expectClosesOnAbort(handle);
    });
  });

  it('timeline query is answered with the opening entry, and the incident opens', async () => {
    const env = devServer();
    const c = await newCase();
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, timelineQuery);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect((await answer).map((e) => [e.kind, e.text])).toEqual([['opened', `sev3 incident opened: ${TITLE}`]]);
      await expectOpened(c, handle);
      await expectClosesOnAbort(handle);
    });
  });

  it('postmortem query is answered with the document so far, and the incident opens', async () => {
    const env = devServer();
    const c = await newCase();
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, postmortemQuery);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await answer).toContain(TITLE);
      await expectOpened(c, handle);
      await expectClosesOnAbort(handle);
    });
  });
});

describe('incident: a message in the first workflow task of a run continued from a previous one', () => {
  it.each(UPDATES.map((u) => [u.name, u] as const))('%s update is accepted and applied to the carried incident, which goes on', async (_name, u) => {
    const env = devServer();
    const c = await newCase({ continued: u.carried });
    const { handle, answer } = await startWithUpdate(env, c.start, u.update, [u.request as never]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      await u.shows(await accepted(answer), handle);
      await expectUpdateInFirstTask(handle, u.name);
      await expectClosesOnAbort(handle);
    });
  });

  it('alarmEvent signal is on the carried timeline', async () => {
    const env = devServer();
    const c = await newCase({ continued: 'open' });
    const alarmName = unique('checkout-p99');
    const handle = await startWithSignal(env, c.start, alarmEventSignal, [alarmEvent(alarmName)]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      const s = await statusUntil<IncidentStatus>(handle, 'the alarm to be counted', (x) => x.alarmEvents === 1);
      expect(s.phase).toBe('open');
      const texts = await timelineTexts(handle);
      expect(texts[0]).toBe(`sev3 incident opened: ${TITLE}`);
      expect(texts).toContain(`alarm ${alarmName} in ALARM: Threshold Crossed: p99 > 1 s for 3 datapoints`);
      await expectSignalInFirstTask(handle, 'alarmEvent');
      await expectClosesOnAbort(handle);
    });
  });

  it('incidentFacts signal is on the carried timeline', async () => {
    const env = devServer();
    const c = await newCase({ continued: 'open' });
    const deploy = unique('deploy-demo-web');
    const handle = await startWithSignal(env, c.start, incidentFactsSignal, [facts(deploy)]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      // A query waits for the first task: the facts are on the timeline by then.
      expect(await timelineTexts(handle)).toContain('rollback failed: DeleteService throttled');
      await expectSignalInFirstTask(handle, 'incidentFacts');
      await expectClosesOnAbort(handle);
    });
  });

  it('pause update is answered paused, resume is answered, and the incident goes on', async () => {
    const env = devServer();
    const c = await newCase({ continued: 'open' });
    const { handle, answer } = await startWithUpdate(env, c.start, pauseUpdate, [{ by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: true, phase: 'open', actionItems: [expect.objectContaining({ id: 'AI-1' })] });
      await expectUpdateInFirstTask(handle, 'pause');
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ by: 'alice' }] })).toMatchObject({ paused: false });
      await expectClosesOnAbort(handle);
    });
  });

  it('resume update is answered not paused, and the incident goes on', async () => {
    const env = devServer();
    const c = await newCase({ continued: 'open' });
    const { handle, answer } = await startWithUpdate(env, c.start, resumeUpdate, [{ by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ paused: false, phase: 'open' });
      await expectUpdateInFirstTask(handle, 'resume');
      await expectClosesOnAbort(handle);
    });
  });

  it('abort update is answered with the abort, and the carried incident is closed without a postmortem', async () => {
    const env = devServer();
    const c = await newCase({ continued: 'open' });
    const { handle, answer } = await startWithUpdate(env, c.start, abortUpdate, [{ reason: 'duplicate of another incident', by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await accepted(answer)).toMatchObject({ abortRequested: 'duplicate of another incident', phase: 'open' });
      await expectUpdateInFirstTask(handle, 'abort');
      const result = (await handle.result()) as IncidentResult;
      expect(result).toMatchObject({ outcome: 'aborted', actionItems: [expect.objectContaining({ id: 'AI-1' })] });
      expect(await timelineTexts(handle)).toContain('closed without a postmortem: duplicate of another incident');
      expect(sentKeys(c)).toEqual(['aborted']);
    });
  });

  it('pause signal pauses the carried incident; after the resume signal it goes on', async () => {
    const env = devServer();
    const c = await newCase({ continued: 'open' });
    const handle = await startWithSignal(env, c.start, pauseSignal, [{ by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await status(handle)).toMatchObject({ paused: true, phase: 'open' });
      await expectSignalInFirstTask(handle, 'pause');
      await handle.signal(resumeSignal, { by: 'alice' });
      await statusUntil<IncidentStatus>(handle, 'the incident to be resumed', (s) => s.paused === false);
      await expectClosesOnAbort(handle);
    });
  });

  it('resume signal leaves the carried incident unpaused, and it goes on', async () => {
    const env = devServer();
    const c = await newCase({ continued: 'open' });
    const handle = await startWithSignal(env, c.start, resumeSignal, [{ by: 'alice' }]);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await status(handle)).toMatchObject({ paused: false, phase: 'open' });
      await expectSignalInFirstTask(handle, 'resume');
      await expectClosesOnAbort(handle);
    });
  });

  it('status query is answered with the carried incident', async () => {
    const env = devServer();
    const c = await newCase({ continued: 'open' });
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, statusQuery);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect(await answer).toMatchObject({ phase: 'open', title: TITLE, severity: 'sev3', paused: false, actionItems: [expect.objectContaining({ id: 'AI-1' })] });
      await expectClosesOnAbort(handle);
    });
  });

  it('timeline query is answered with the carried timeline', async () => {
    const env = devServer();
    const c = await newCase({ continued: 'open' });
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, timelineQuery);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      expect((await answer).map((e) => e.text)).toEqual([`sev3 incident opened: ${TITLE}`, 'action item AI-1 (prevent, owner alice): alert on queue depth']);
      await expectClosesOnAbort(handle);
    });
  });

  it('postmortem query is answered with the carried document', async () => {
    const env = devServer();
    const c = await newCase({ continued: 'open' });
    const handle = await startOnly(env, c.start);
    const answer = queryBeforeWorker(handle, postmortemQuery);
    await withWorker(env, c.taskQueue, c.activities, async () => {
      const doc = await answer;
      expect(doc).toContain(TITLE);
      expect(doc).toContain('alert on queue depth');
      await expectClosesOnAbort(handle);
    });
  });
});
