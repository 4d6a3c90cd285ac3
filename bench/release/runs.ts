import type { Client } from '@temporalio/client';
import type { FleetopsConfig } from '../../config/schema';
import { statusQuery } from '../../contracts/controls';
import { approveUpdate, type DeployResult, type DeployStatus } from '../../contracts/canary-deploy/messages';
import { deployStartFor } from '../../contracts/canary-deploy/request';
import type { WaveSize } from '../../contracts/release/input';
import { approveWaveUpdate, type ReleaseResult, type ReleaseStatus } from '../../contracts/release/messages';
import { releaseStartFor } from '../../contracts/release/request';
import { BENCH } from './bench-cluster';

/**
 * The two ways the bench deploys its services: one release in waves (each wave approved the moment it
 * waits), and the same deploys one after another, each approved at its gate the moment it waits. Both
 * ask as `cli:bench` and approve as `cli:bench-approver`, through the contracts every starter uses.
 */

export const REQUESTER = 'cli:bench';
export const APPROVER = 'cli:bench-approver';
const POLL_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DeployRun {
  service: string;
  workflowId: string;
  runId: string;
  wave?: number;
  outcome: string;
  startMs: number;
  closeMs: number;
  historyEvents: number;
}

export interface ReleaseRun {
  workflowId: string;
  outcome: string;
  wallMs: number;
  /** Per wave: its approval (the moment it waited) to its last deploy's end; and its longest deploy. */
  waves: { wave: number; size: number; waitedMs: number; ranMs: number; longestDeployMs: number }[];
  releaseHistoryEvents: number;
  runs: number;
  deploys: DeployRun[];
}

/**
 * Where a run's history events go: each activity is 3 events (scheduled, started, completed), a timer
 * 2, a workflow task 3; signals (ECS events the router forwards to a deploy), updates and markers
 * (local activities) one or two each.
 */
export async function historyBreakdown(client: Client, workflowId: string, runId?: string): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const out: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const kind = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k] != null)?.replace(/EventAttributes$/, '') ?? 'other';
    const group = /^activityTask/.test(kind) ? 'activity' : /^timer/.test(kind) ? 'timer' : /^workflowTask/.test(kind) ? 'workflowTask' : /^workflowExecutionSignaled/.test(kind) ? 'signal' : /Update/.test(kind) ? 'update' : /^marker/.test(kind) ? 'marker' : /^(startChild|childWorkflow)/.test(kind) ? 'child' : 'other';
    out[group] = (out[group] ?? 0) + 1;
  }
  return out;
}

/** History events of a run, as the server counts them. */
async function historyEvents(client: Client, workflowId: string, runId?: string): Promise<number> {
  return (await client.workflow.getHandle(workflowId, runId).describe()).historyLength;
}

export async function runRelease(
  client: Client,
  config: FleetopsConfig,
  opts: { id: string; image: string; waves: WaveSize[]; maxConcurrent: number; maxPerCluster: number },
): Promise<ReleaseRun> {
  const { workflowType, ...start } = releaseStartFor(config, {
    id: opts.id,
    change: `bench: ${opts.image}`,
    selector: { cluster: BENCH.cluster, image: opts.image },
    waves: opts.waves,
    maxConcurrent: opts.maxConcurrent,
    maxPerCluster: opts.maxPerCluster,
    requestedBy: REQUESTER,
  });
  const t0 = Date.now();
  const handle = await client.workflow.start(workflowType, start);
  const waited = new Map<number, number>();
  let result: ReleaseResult | undefined;
  void handle.result().then((r) => (result = r as ReleaseResult));
  while (!result) {
    const s = (await handle.query(statusQuery).catch(() => undefined)) as ReleaseStatus | undefined;
    if (s?.phase === 'awaiting-approval' && !waited.has(s.wave.current)) {
      waited.set(s.wave.current, Date.now());
      await handle.executeUpdate(approveWaveUpdate, { args: [{ by: APPROVER, wave: s.wave.current }] });
    } else if (s?.phase === 'halted' || s?.phase === 'frozen') {
      throw new Error(`bench release ${opts.id} is ${s.phase}: ${s.halted?.reason ?? s.waitingFor ?? s.summary}`);
    }
    await sleep(POLL_MS);
  }
  const wallMs = Date.now() - t0;
  const deploys: DeployRun[] = [];
  for (const svc of result.services) {
    if (!svc.workflowId) continue;
    const d = await client.workflow.getHandle(svc.workflowId, svc.runId).describe();
    deploys.push({ service: svc.service, workflowId: svc.workflowId, runId: d.runId, wave: svc.wave, outcome: svc.state, startMs: d.startTime.getTime(), closeMs: d.closeTime?.getTime() ?? NaN, historyEvents: d.historyLength });
  }
  const runs: string[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${start.workflowId}'` })) runs.push(w.runId);
  let releaseHistoryEvents = 0;
  for (const runId of runs) releaseHistoryEvents += await historyEvents(client, start.workflowId, runId);
  const waveNumbers = [...new Set(result.services.map((s) => s.wave))].sort((a, b) => a - b);
  const waves = waveNumbers.map((wave) => {
    const mine = deploys.filter((d) => d.wave === wave);
    const startMs = waited.get(wave) ?? t0;
    const endMs = Math.max(...mine.map((d) => d.closeMs));
    return { wave, size: mine.length, waitedMs: startMs - t0, ranMs: endMs - startMs, longestDeployMs: Math.max(...mine.map((d) => d.closeMs - d.startMs)) };
  });
  return { workflowId: start.workflowId, outcome: result.outcome, wallMs, waves, releaseHistoryEvents, runs: runs.length, deploys };
}

/** One deploy of `service` on its own: started, approved at its gate as soon as it waits there, awaited. */
async function deployAlone(client: Client, config: FleetopsConfig, service: string, image: string): Promise<DeployRun> {
  const { workflowType, ...start } = deployStartFor(config, { cluster: BENCH.cluster, service, image, requestedBy: REQUESTER });
  const handle = await client.workflow.start(workflowType, start);
  let result: DeployResult | undefined;
  void handle.result().then((r) => (result = r as DeployResult));
  let approved = false;
  while (!result) {
    if (!approved) {
      const s = (await handle.query(statusQuery).catch(() => undefined)) as DeployStatus | undefined;
      if (s?.phase === 'awaiting-approval') {
        await handle.executeUpdate(approveUpdate, { args: [{ by: APPROVER }] });
        approved = true;
      }
    }
    await sleep(POLL_MS);
  }
  const d = await handle.describe();
  return { service, workflowId: start.workflowId, runId: d.runId, outcome: result.outcome, startMs: d.startTime.getTime(), closeMs: d.closeTime?.getTime() ?? NaN, historyEvents: d.historyLength };
}

/** The same deploys one after another. */
export async function runSequential(client: Client, config: FleetopsConfig, services: string[], image: string): Promise<{ wallMs: number; deploys: DeployRun[] }> {
  const t0 = Date.now();
  const deploys: DeployRun[] = [];
  for (const service of services) {
    const run = await deployAlone(client, config, service, image);
    if (run.outcome !== 'promoted') throw new Error(`bench: the deploy of ${service} alone ended ${run.outcome}`);
    deploys.push(run);
  }
  return { wallMs: Date.now() - t0, deploys };
}
