import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { createIncidentActivities } from '../../activities/incident';
import { previousRunsQuery } from '../../activities/incident/previous';
import { abortUpdate, statusQuery } from '../../contracts/controls';
import { incidentStartOptions } from '../../contracts/incident/start';
import { alarmIncidentWorkflowId } from '../../common/workflow-ids';
import { alarmEventSignal, checkUpdate, resolveUpdate, type IncidentStatus } from '../../contracts/incident/messages';
import { incident } from '../../workflows/incident/workflow';
import { until } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer, uniqueTaskQueue } from '../harness/temporal';
import { incidentTestConfig, recordingNotify } from './fixtures';
import { createWorker } from '../harness/workers';

/**
 * The previousIncident activity for real, on the dev server (visibility is what it reads): an alarm
 * that fires after its incident closed opens a new run of `incident-alarm-<name>`, which links the
 * latest closed run and where that run's postmortem went.
 */

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await connectDevServer();
});

afterAll(async () => {
  await env?.teardown();
});

describe('previous incident (dev server)', () => {
  it('links the latest closed run of the same incident id, with its postmortem location', async () => {
    const config = incidentTestConfig({ postmortemDir: mkdtempSync(join(tmpdir(), 'pm-prev-')) });
    const taskQueue = uniqueTaskQueue('incident-previous');
    const worker = await createWorker({
      connection: env.nativeConnection,
      taskQueue,
      ...bundledWorkflows(),
      activities: { ...createIncidentActivities({ config, temporal: { client: env.client, namespace: 'default' } }), notify: recordingNotify().notify },
    });
    await worker.runUntil(async () => {
      const alarmName = `cpu-${process.pid}-${Date.now().toString(36)}`;
      const workflowId = alarmIncidentWorkflowId(alarmName);
      let n = 0;
      const fire = () =>
        env.client.workflow.signalWithStart(incident, {
          ...incidentStartOptions(workflowId, { title: `Alarm ${alarmName}`, severity: 'sev4', source: { kind: 'alarm', alarmName } }, { workflowIdReusePolicy: 'ALLOW_DUPLICATE' }),
          taskQueue,
          signal: alarmEventSignal,
          signalArgs: [{ alarmName, state: 'ALARM', reason: 'CPU high', time: new Date().toISOString(), eventId: `e${++n}` }],
        });
      const statusOf = async (h: Awaited<ReturnType<typeof fire>>) => (await h.query(statusQuery)) as IncidentStatus;
      const closedRuns = async () => {
        const runs: string[] = [];
        for await (const wf of env.client.workflow.list({ query: previousRunsQuery(workflowId) })) runs.push(wf.runId);
        return runs;
      };

      const first = await fire();
      const firstRun = (await first.describe()).runId;
      expect((await until('the first incident open', async () => ((await statusOf(first)).phase === 'open' ? statusOf(first) : undefined), { timeoutMs: 20_000, intervalMs: 200 })).previousIncident).toBeUndefined();
      await first.executeUpdate(resolveUpdate, { args: [{ by: 'gus', text: 'runaway job killed' }] });
      await first.executeUpdate(checkUpdate, { args: [{ item: 'timeline-reviewed', by: 'gus' }] });
      const firstResult = await first.result();
      await until('visibility to list the first run closed', async () => ((await closedRuns()).includes(firstRun) ? true : undefined), { timeoutMs: 20_000, intervalMs: 200 });

      const second = await fire();
      const secondRun = (await second.describe()).runId;
      const linked = await until('the second incident open', async () => {
        const s = await statusOf(second);
        return s.phase === 'open' ? s : undefined;
      }, { timeoutMs: 20_000, intervalMs: 200 });
      expect(linked.previousIncident).toEqual({
        workflowId,
        runId: firstRun,
        status: 'COMPLETED',
        closedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        postmortem: { stored: firstResult.postmortemPath },
      });
      await second.executeUpdate(abortUpdate, { args: [{ reason: 'duplicate of a known problem' }] });
      await second.result();
      await until('visibility to list the second run closed', async () => ((await closedRuns()).includes(secondRun) ? true : undefined), { timeoutMs: 20_000, intervalMs: 200 });

      // The latest closed run wins; one closed without a postmortem has no location to link.
      const third = await fire();
      const thirdLinked = await until('the third incident open', async () => {
        const s = await statusOf(third);
        return s.phase === 'open' ? s : undefined;
      }, { timeoutMs: 20_000, intervalMs: 200 });
      expect(thirdLinked.previousIncident).toEqual({ workflowId, runId: secondRun, status: 'COMPLETED', closedAt: expect.any(String) });
      await third.executeUpdate(abortUpdate, { args: [{ reason: 'test done' }] });
      await third.result();
    });
  });
});
