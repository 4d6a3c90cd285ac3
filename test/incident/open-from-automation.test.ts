import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { AwsClients } from '../../activities/aws/clients';
import { createDeployIncidentActivities } from '../../activities/deploy/incidents';
import { createDrainActivities } from '../../activities/drain';
import { createIncidentActivities } from '../../activities/incident';
import { FleetopsCluster, FleetopsInstanceId, FleetopsKind, FleetopsService, FleetopsSeverity } from '../../common/search-attributes';
import { incidentTestConfig } from './fixtures';

/**
 * The three automations that open incidents (a drain that missed its deadline, a deploy whose
 * rollback failed, the generic activity) go through one signal-with-start; this pins what each sends:
 * workflow id, task queue, start input, search attributes, static summary and the facts signal.
 */

interface Call {
  workflowType: string;
  options: Record<string, unknown> & { signal: { name: string } };
}

function recordingClient(): { client: Client; calls: Call[] } {
  const calls: Call[] = [];
  const workflow = {
    async signalWithStart(workflowType: string, options: Call['options']) {
      calls.push({ workflowType, options });
    },
  };
  // withAbortSignal: what the activity environment calls on a client it is given.
  const client = { workflow, withAbortSignal: <R>(_signal: AbortSignal, fn: () => R): R => fn() };
  return { client: client as unknown as Client, calls };
}

const attrs = (call: Call) => Object.fromEntries((call.options.typedSearchAttributes as { key: { name: string }; value: unknown }[]).map((a) => [a.key.name, a.value]));

const config = incidentTestConfig({ postmortemDir: '/tmp' });

describe('opening an incident from an automation', () => {
  it('a drain that missed its deadline: incident-drain-<instance>, sev3, tagged with cluster and instance', async () => {
    const { client, calls } = recordingClient();
    const acts = createDrainActivities({ aws: {} as AwsClients, config });
    const facts = {
      instanceId: 'i-0123456789abcdef0',
      cluster: 'demo',
      workflowId: 'drain-i-0123456789abcdef0',
      kind: 'interruption-warning',
      deadline: '2025-03-04T10:02:00.000Z',
      tasksLeft: 3,
      done: ['set-draining'],
      notDone: ['wait-for-tasks'],
    };
    const r = await new MockActivityEnvironment({}, { client }).run(acts.requestDrainIncident, facts);
    expect(r).toEqual({ requested: true, workflowId: 'incident-drain-i-0123456789abcdef0', detail: 'incident incident-drain-i-0123456789abcdef0 (sev3) asked for' });
    expect(calls).toHaveLength(1);
    const [call] = calls as [Call];
    const lines = [
      'interruption-warning drain of i-0123456789abcdef0 in demo missed its deadline 2025-03-04T10:02:00.000Z',
      'tasks left: 3',
      'done: set-draining',
      'not done: wait-for-tasks',
    ];
    expect(call.workflowType).toBe('incident');
    expect(call.options).toMatchObject({
      workflowId: 'incident-drain-i-0123456789abcdef0',
      taskQueue: 'fleetops',
      args: [
        {
          title: 'Drain of i-0123456789abcdef0 missed its deadline',
          severity: 'sev3',
          summary: lines.join('\n'),
          source: { kind: 'workflow', workflowId: 'drain-i-0123456789abcdef0', workflowKind: 'drain' },
        },
      ],
      staticSummary: 'Drain of i-0123456789abcdef0 missed its deadline',
      signal: { name: 'incidentFacts' },
      signalArgs: [{ key: 'drain-i-0123456789abcdef0/deadline-missed', entries: lines.map((text) => ({ time: expect.any(String), author: 'drain-i-0123456789abcdef0', kind: 'automation', text })) }],
    });
    expect(call.options.workflowIdReusePolicy).toBeUndefined();
    expect(attrs(call)).toEqual({
      [FleetopsKind.name]: 'incident',
      [FleetopsCluster.name]: 'demo',
      [FleetopsInstanceId.name]: 'i-0123456789abcdef0',
      [FleetopsSeverity.name]: 'sev3',
    });
  });

  it('a failed rollback: an id from the deploy run, sev2, tagged with cluster and service', async () => {
    const { client, calls } = recordingClient();
    const acts = createDeployIncidentActivities({ temporal: { client, namespace: 'default' } });
    const req = {
      deployWorkflowId: 'deploy-demo-web',
      deployRunId: 'run-1',
      cluster: 'demo',
      service: 'web',
      title: 'Deploy rollback failed: demo/web',
      summary: 'Rolling back web:2 left work undone.',
      facts: { reason: 'alarm web-5xx in ALARM', 'undo failures': 'AccessDenied' },
    };
    const r: { workflowId: string } = await new MockActivityEnvironment().run(acts.requestDeployIncident, req);
    expect(r.workflowId).toMatch(/^incident-deploy-rollback-failed-demo-web-[0-9a-f]{8}$/);
    const [call] = calls as [Call];
    expect(call.workflowType).toBe('incident');
    expect(call.options).toMatchObject({
      workflowId: r.workflowId,
      taskQueue: 'fleetops',
      args: [{ title: req.title, severity: 'sev2', summary: req.summary, source: { kind: 'workflow', workflowId: 'deploy-demo-web', workflowKind: 'deploy' } }],
      staticSummary: 'sev2 incident: Deploy rollback failed: demo/web',
      signal: { name: 'incidentFacts' },
      signalArgs: [
        {
          key: 'deploy-demo-web/run-1/rollback-failed',
          entries: [
            { time: expect.any(String), author: 'deploy-demo-web', kind: 'automation', text: 'reason: alarm web-5xx in ALARM' },
            { time: expect.any(String), author: 'deploy-demo-web', kind: 'automation', text: 'undo failures: AccessDenied' },
          ],
        },
      ],
    });
    expect(attrs(call)).toEqual({
      [FleetopsKind.name]: 'incident',
      [FleetopsSeverity.name]: 'sev2',
      [FleetopsCluster.name]: 'demo',
      [FleetopsService.name]: 'web',
    });
  });

  it('the generic activity: an id from title and key, no scope, summary only when given', async () => {
    const { client, calls } = recordingClient();
    const acts = createIncidentActivities({ config, temporal: { client, namespace: 'default' } });
    const report = {
      title: 'Capacity exhausted in demo',
      severity: 'sev2' as const,
      origin: { workflowId: 'capacity-demo', workflowKind: 'capacity' as const },
      key: 'capacity-demo/run-9/exhausted',
      entries: [{ time: '2025-03-04T10:00:00.000Z', author: 'capacity-demo', kind: 'automation' as const, text: 'every pool failed' }],
    };
    const first = await acts.openIncidentFromAutomation(report);
    await acts.openIncidentFromAutomation({ ...report, summary: '' });
    expect(first.workflowId).toMatch(/^incident-capacity-exhausted-in-demo-[0-9a-f]{8}$/);
    expect(calls.map((c) => c.options.workflowId)).toEqual([first.workflowId, first.workflowId]);
    for (const call of calls) {
      expect(call.options.args).toEqual([{ title: report.title, severity: 'sev2', source: { kind: 'workflow', workflowId: 'capacity-demo', workflowKind: 'capacity' } }]);
      expect(call.options.signalArgs).toEqual([{ key: report.key, entries: report.entries }]);
      expect(attrs(call)).toEqual({ [FleetopsKind.name]: 'incident', [FleetopsSeverity.name]: 'sev2' });
    }
  });
});
