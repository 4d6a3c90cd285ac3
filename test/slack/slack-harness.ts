import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { createActivities, type ActivityDeps } from '../../activities';
import { TASK_QUEUE_DEFAULT } from '../../common/task-queues';
import type { FleetopsConfig } from '../../config/schema';
import { ensureSearchAttributes } from '../../stack/health';
import type { SlackStandIn, StoredMessage } from '../../stack/slack-stand-in';
import { until } from '../../testkit/poll';
import { bundledWorkflows, connectDevServer } from '../harness/temporal';
import { startTestRouter, type TestRouter } from '../../testkit/router/router-harness';
import { createWorker } from '../harness/workers';

/**
 * The Slack app against the real workflows on the dev server: a namespace of the suite's own (so its
 * worker can poll the real `fleetops` task queue the router starts on, as the CLI tests do), a worker
 * with the real activities (notifications posting to the Slack stand-in), and the in-process router.
 */
export interface SlackSuite {
  env: TestWorkflowEnvironment;
  namespace: string;
  client: Client;
  router: TestRouter;
  stop(): Promise<void>;
}

/** `activities` replace the real ones of the same name (a release test's mocked deploy steps). */
export async function startSlackSuite(name: string, config: FleetopsConfig, aws: ActivityDeps['aws'], env?: TestWorkflowEnvironment, activities: Record<string, unknown> = {}): Promise<SlackSuite> {
  const dev = env ?? (await connectDevServer());
  const namespace = `fleetops-slack-${name}-${process.pid}-${Date.now().toString(36)}`;
  await dev.client.connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  // A new namespace takes a moment to be served everywhere: a failure is tried again (51 retries 200 ms apart).
  await until(
    `namespace ${namespace} to take the search attributes`,
    async () => {
      await ensureSearchAttributes(dev.connection, namespace);
      return true;
    },
    { timeoutMs: 10_200, intervalMs: 200 },
  );
  const client = new Client({ connection: dev.connection, namespace });
  const worker = await createWorker({
    connection: dev.nativeConnection,
    namespace,
    taskQueue: TASK_QUEUE_DEFAULT,
    ...bundledWorkflows(),
    activities: { ...createActivities({ aws, config, temporal: { client, namespace } }), ...activities },
  });
  const running = worker.run();
  const router = await startTestRouter({ config } as never, dev.connection, { namespace });
  return {
    env: dev,
    namespace,
    client,
    router,
    async stop() {
      await router.stop();
      worker.shutdown();
      await running;
      if (!env) await dev.teardown();
    },
  };
}

/** A workflow run's Slack thread as the stand-in holds it: the root and its replies, in order. */
export function threadOf(standIn: SlackStandIn, runId: string): { root: StoredMessage; replies: StoredMessage[] } | undefined {
  const root = standIn.messages().find((m) => m.metadata?.event_payload.run_id === runId && !m.thread_ts);
  if (!root) return undefined;
  return { root, replies: standIn.messages().filter((m) => m.thread_ts === root.ts && m.channel === root.channel && !m.ephemeralTo) };
}

export function hasButtons(m: StoredMessage): boolean {
  return (m.blocks as { type: string }[] | undefined)?.some((b) => b.type === 'actions') ?? false;
}

/** Everything a message says (its text and its blocks' text), for assertions. */
export function said(m: StoredMessage): string {
  return [m.text ?? '', JSON.stringify(m.blocks ?? [])].join('\n');
}
