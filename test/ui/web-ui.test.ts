import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { moveWorkOffFrom, type DrainActivities } from '../../activities/drain';
import type {
  CapacityReplacementResult,
  DeregisterTargetsResult,
  MoveStandaloneTasksResult,
  ResolvedDrainTarget,
  SetDrainingResult,
  WaitForTasksResult,
} from '../../activities/drain/types';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { statusQuery } from '../../contracts/controls';
import { deployStartOptions } from '../../contracts/canary-deploy/start';
import { drainStartOptions } from '../../contracts/spot-drain/start';
import { TASK_QUEUE_CRITICAL } from '../../common/task-queues';
import { deployWorkflowId, drainWorkflowId } from '../../common/workflow-ids';
import { drainEventSignal } from '../../contracts/spot-drain/messages';
import { ARTIFACTS_DIR } from '../../testkit/paths';
import { until } from '../../testkit/poll';
import { bundledWorkflows } from '../harness/temporal';
import { startTemporalWithUi, type TemporalWithUi } from './temporal-with-ui';
import { createWorker } from '../harness/workers';

/**
 * The operator's view in a real browser: Debian's chromium (scripts/install-chromium.sh) driven by
 * playwright-core against a Temporal dev server with its Web UI. A real `spotDrain` runs on a worker
 * whose first AWS step (resolving the instance) is slow, so the drain stays open in a known phase;
 * a deploy-kind workflow (no worker) stays open beside it so the filter has something to filter out.
 * The operator filters FleetopsKind="drain", opens the drain, reads its static summary and runs its
 * `status` query from the Queries tab. Screenshots go to artifacts/ui/.
 */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = join(ARTIFACTS_DIR, 'ui');
const UI_WAIT_MS = 20_000;

let server: TemporalWithUi;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
let worker: Worker;
let workerRun: Promise<void>;
let profileDir: string;
let browser: BrowserContext;
let page: Page;

const instanceId = `i-${Date.now().toString(16).padStart(17, '0').slice(-17)}`;
const drainStart = drainStartOptions({ instanceId }, { why: 'interruption warning' });
const drainId = drainWorkflowId(instanceId);
const otherId = deployWorkflowId('demo', `web${process.pid}`);
const staticSummary = `Drain ${instanceId} (interruption warning)`;

/**
 * Stands in for AWS: every step answers at once but the wait for the tasks to leave, which heartbeats
 * until the test ends, so the drain stays live in its wait (inside moveWorkOff). Its status query is then
 * answered as soon as it is asked (a query waits while a local activity holds the workflow task —
 * docs/benchmarks.md — and a slow stub there made this test depend on the machine's load).
 */
const drainParts = {
  async resolveDrainTarget(): Promise<ResolvedDrainTarget> {
    return {
      found: true,
      cluster: 'demo',
      containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/demo/${instanceId.slice(2)}`,
      status: 'ACTIVE',
      runningTasks: 2,
      pendingTasks: 0,
      capacityUnits: 1,
      drain: { rerunStandaloneTasks: true, rebalanceDeadlineSeconds: 600, lifecycleDeadlineSeconds: 900, maxDeregistrationDelaySeconds: 30, lifecycleHeartbeatSeconds: 60 },
    };
  },
  async setContainerInstanceDraining(): Promise<SetDrainingResult> {
    return { alreadyDraining: false, dryRunCalls: [] };
  },
  async deregisterInstanceTargets(): Promise<DeregisterTargetsResult> {
    return { targetGroups: [], dryRunCalls: [] };
  },
  async moveStandaloneTasks(): Promise<MoveStandaloneTasksResult> {
    return { stopped: [], rerun: [], rerunFailed: [], serviceTasks: 2, dryRunCalls: [] };
  },
  async findInstancePool() {
    return { found: false as const };
  },
  async requestReplacementCapacity(): Promise<CapacityReplacementResult> {
    return { workflowId: 'capacity-demo', dryRunCalls: [] };
  },
  async waitForInstanceTasks(): Promise<WaitForTasksResult> {
    const ctx = Context.current();
    for (;;) {
      ctx.heartbeat({ running: 2, pending: 0 });
      await ctx.sleep(1_000); // throws when the activity is cancelled (the test terminates the drain)
    }
  },
} satisfies Partial<DrainActivities>;
const drainActivities = { ...drainParts, moveWorkOff: moveWorkOffFrom(drainParts) };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-chromium.sh (make test does)`);
  mkdirSync(SHOTS, { recursive: true });
  server = await startTemporalWithUi();
  nativeConnection = await NativeConnection.connect({ address: server.address });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
  worker = await createWorker({
    connection: nativeConnection,
    taskQueue: TASK_QUEUE_CRITICAL,
    ...bundledWorkflows(),
    activities: drainActivities,
  });
  workerRun = worker.run();
  profileDir = mkdtempSync(join(tmpdir(), 'fleetops-chromium-'));
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1400, height: 900 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(UI_WAIT_MS);
});

afterAll(async () => {
  await browser?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  worker?.shutdown();
  await workerRun;
  await connection?.close();
  await nativeConnection?.close();
  await server?.stop();
});

test('an operator filters drains, opens one, reads its summary and runs its status query', async () => {
  // Started the way the router starts a drain: signal-with-start with its start options (kind and instance
  // attributes, static summary; contracts/spot-drain/start.ts).
  await client.workflow.signalWithStart(drainStart.workflowType, {
    ...drainStart,
    signal: drainEventSignal,
    signalArgs: [{ kind: 'interruption-warning', instanceId, eventId: `ui-test-${instanceId}`, eventTime: new Date().toISOString() }],
  });
  const { workflowType: deployType, ...deploy } = deployStartOptions({ cluster: 'demo', service: `web${process.pid}`, image: 'web:2' });
  await client.workflow.start(deployType, { ...deploy, taskQueue: 'ui-test-no-worker' });
  const before = await client.workflow.getHandle(drainId).query(statusQuery);
  expect(before.phase).not.toBe('');

  // The list, unfiltered: both workflows are there once visibility has them.
  await page.goto(`${server.uiUrl}/namespaces/default/workflows`);
  await expect(waitForText(page, otherId)).resolves.toBe(true);
  await expect(waitForText(page, drainId)).resolves.toBe(true);

  // Filter with the query editor, as an operator types it.
  await page.getByTestId('toggle-manual-query').click();
  const queryInput = page.getByTestId('manual-search-input');
  await queryInput.fill('FleetopsKind="drain"');
  await queryInput.press('Enter');
  await page.waitForURL(/query=FleetopsKind/);
  const table = page.locator('table');
  await table.getByRole('link', { name: drainId }).waitFor();
  await expect(waitForGone(page, otherId)).resolves.toBe(true);
  await page.screenshot({ path: join(SHOTS, 'drain-list-filtered.png') });

  // Open the drain; its static summary is in the User Metadata tab (rendered in a frame).
  await table.getByRole('link', { name: drainId }).click();
  await page.waitForURL(new RegExp(`/workflows/${drainId}/`));
  await page.getByTestId('user-metadata-tab').click();
  const summaryFrame = page.frameLocator('iframe[title="output"]').first();
  await summaryFrame.getByText(staticSummary).waitFor();
  await page.screenshot({ path: join(SHOTS, 'drain-summary.png') });

  // Run `status` from the Queries tab; the UI lists it with its description.
  await page.getByTestId('queries-tab').click();
  const select = page.getByTestId('query-select');
  await expect(select.inputValue()).resolves.toBe('status');
  await page.getByRole('button', { name: /Run Query|Refresh Query/ }).click();
  const main = page.locator('main');
  await main.getByText(`"instanceId": "${instanceId}"`).waitFor();
  const shown = await main.innerText();
  const after = await client.workflow.getHandle(drainId).query(statusQuery);
  expect(shown).toContain(`"phase": "${after.phase}"`);
  expect(shown).toContain(`"summary": "drain ${instanceId}`);
  await page.screenshot({ path: join(SHOTS, 'drain-status-query.png'), fullPage: true });

  await client.workflow.getHandle(drainId).terminate('web UI test done');
  await client.workflow.getHandle(otherId).terminate('web UI test done');
});

/**
 * Polls the list (reloading: it does not refresh by itself) until the text is in it. A wait that
 * fails leaves a screenshot, failed-wait.png.
 */
async function waitForText(p: Page, text: string): Promise<boolean> {
  let looked = false;
  try {
    return await until(
      `${text} in the list`,
      async () => {
        // The reload is the pause between two looks.
        if (looked) await p.reload();
        looked = true;
        // The list is a single-page app: wait for it to render before looking for rows.
        await p.getByTestId('toggle-manual-query').waitFor();
        return p
          .getByText(text, { exact: true })
          .first()
          .waitFor({ timeout: 2_000 })
          .then(() => true)
          .catch(() => false);
      },
      // A page that does not render is not asked again.
      { timeoutMs: UI_WAIT_MS, intervalMs: 0, failOnError: true },
    );
  } catch (err) {
    await p.screenshot({ path: join(SHOTS, 'failed-wait.png') });
    throw err;
  }
}

function waitForGone(p: Page, text: string): Promise<boolean> {
  return until(`${text} gone from the list`, async () => (await p.getByText(text, { exact: true }).count()) === 0, { timeoutMs: UI_WAIT_MS, intervalMs: 500, failOnError: true });
}
