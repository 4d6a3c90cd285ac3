import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import type { AwsClients } from '../../activities/aws/clients';
import { createDeployActivities } from '../../activities/deploy';
import { FleetopsCluster, FleetopsKind, FleetopsSeverity } from '../../common/search-attributes';
import { parseConfigText } from '../../config/load';
import { ROOT } from '../../testkit/paths';
import { untilValue } from '../../testkit/poll';
import { connectDevServer } from '../harness/temporal';

/**
 * The deploy's Temporal-facing activities on the real dev server (visibility queries need it): the
 * incident freeze check and the incident a failed rollback opens. No worker polls `fleetops` here, so
 * the incidents stay Running without a phase, as one does before its first workflow task.
 */

jest.setTimeout(60_000);

let env: TestWorkflowEnvironment;
const started: string[] = [];

beforeAll(async () => {
  env = await connectDevServer();
});

afterAll(async () => {
  for (const id of started) await env.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  await env?.teardown();
});

const config = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));

function acts() {
  return createDeployActivities({ aws: {} as AwsClients, config, temporal: { client: env.client, namespace: 'default' } });
}

async function run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args);
}

async function startIncident(cluster: string, severity: string): Promise<string> {
  const workflowId = `incident-test-${randomUUID().slice(0, 8)}`;
  await env.client.workflow.start('incident', {
    workflowId,
    taskQueue: `no-worker-${randomUUID()}`,
    args: [{ title: 'test', severity, source: { kind: 'cli', by: 'test' } }],
    typedSearchAttributes: [
      { key: FleetopsKind, value: 'incident' },
      { key: FleetopsSeverity, value: severity },
      { key: FleetopsCluster, value: cluster },
    ],
  });
  started.push(workflowId);
  return workflowId;
}

/** Visibility is eventually consistent: a list is asked for again every 200 ms, for 10 s. */
const VISIBILITY = { timeoutMs: 10_000, intervalMs: 200 };

describe('deploy incident activities on the dev server', () => {
  it('a failed rollback opens one sev2 incident for the cluster, which then freezes deploys there', async () => {
    const cluster = `c-${randomUUID().slice(0, 8)}`;
    const a = acts();
    expect(await run(a.findBlockingIncidents, { cluster })).toEqual([]);

    const req = {
      deployWorkflowId: `deploy-${cluster}-web`,
      deployRunId: randomUUID(),
      cluster,
      service: 'web',
      title: `Deploy rollback failed: ${cluster}/web`,
      summary: 'Rolling back web:2 left work undone.',
      facts: { reason: 'alarm web-5xx in ALARM', 'undo failures': 'web-canary scaled to zero and deleted: AccessDenied' },
    };
    const first = await run(a.requestDeployIncident, req);
    started.push(first.workflowId);
    // A retried request lands on the same incident.
    expect(await run(a.requestDeployIncident, req)).toEqual(first);
    expect(first.workflowId).toMatch(/^incident-deploy-rollback-failed-/);

    const handle = env.client.workflow.getHandle(first.workflowId);
    const desc = await handle.describe();
    expect(desc.type).toBe('incident');
    expect(desc.taskQueue).toBe('fleetops');
    expect(desc.typedSearchAttributes.get(FleetopsCluster)).toBe(cluster);
    expect(desc.typedSearchAttributes.get(FleetopsSeverity)).toBe('sev2');
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)).toEqual(['incidentFacts', 'incidentFacts']);

    const blocking = await untilValue(
      'the incident to freeze deploys',
      () => run(a.findBlockingIncidents, { cluster }),
      (v) => v.length > 0,
      VISIBILITY,
    );
    expect(blocking).toEqual([{ workflowId: first.workflowId, severity: 'sev2', phase: '' }]);
  });

  it('only sev1/sev2 incidents of the same cluster that are not resolved freeze deploys', async () => {
    const cluster = `c-${randomUUID().slice(0, 8)}`;
    await startIncident(cluster, 'sev3');
    await startIncident(`${cluster}-other`, 'sev1');
    const sev1 = await startIncident(cluster, 'sev1');
    const a = acts();
    const blocking = await untilValue(
      'the sev1 incident to freeze deploys',
      () => run(a.findBlockingIncidents, { cluster }),
      (v) => v.length > 0,
      VISIBILITY,
    );
    expect(blocking.map((b) => b.workflowId)).toEqual([sev1]);
    await env.client.workflow.getHandle(sev1).terminate('resolved');
    expect(await untilValue('the terminated incident to lift the freeze', () => run(a.findBlockingIncidents, { cluster }), (v) => v.length === 0, VISIBILITY)).toEqual([]);
  });

  it('without a Temporal client the check fails as a non-retryable InvalidRequest (the workflow then refuses)', async () => {
    const a = createDeployActivities({ aws: {} as AwsClients, config });
    const err = await run(a.findBlockingIncidents, { cluster: 'demo' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('InvalidRequest');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });
});
