import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { clusterWorkflowPlacement } from '../../config/placement';
import type { FleetopsConfig } from '../../config/schema';
import { statusQuery } from '../controls';
import { readinessInputSchema, type ReadinessInput } from './input';
import { readinessLevelFrom } from './level-from-config';
import type { ReadinessStatus } from './messages';
import { readinessStartOptions } from './start';

/**
 * What every client of readiness windows does the same way (`fleetops readiness`, Slack's `/fleetops
 * readiness`, `schedules` on both): the windows of an `add`, their start, and the running ones.
 * Who may do it is each edge's to decide before it calls these.
 */

export interface WindowRequest {
  clusters: readonly string[];
  /** ISO times with their zone already checked (common/time-input.ts). */
  start: string;
  end: string;
  level: number;
  reason: string;
  timeZone?: string;
  /** Ends the workflow id `readiness-<cluster>-<id>`; default windowIdOf(start). */
  id?: string;
  requestedBy: string;
}

/** The default window id: its start, yyyymmdd-hhmm UTC. */
export const windowIdOf = (start: string): string => start.slice(0, 16).replace(/[-:]/g, '').replace('T', '-');

/** Why a window cannot be added as given (it is over, or ends before it starts), or undefined. */
export function windowTimesProblem(start: string, end: string, now: Date): string | undefined {
  if (Date.parse(end) <= Date.parse(start)) return 'a window ends after it starts';
  if (Date.parse(end) <= now.getTime()) return `its end ${end} has already passed`;
  return undefined;
}

/**
 * One start argument per cluster, the level resolved from each cluster's config; throws
 * ReadinessRefused for an unknown cluster or level.
 */
export function windowInputs(config: FleetopsConfig, req: WindowRequest): ReadinessInput[] {
  const id = req.id ?? windowIdOf(req.start);
  return req.clusters.map((cluster) => {
    const placement = clusterWorkflowPlacement(config, cluster);
    return readinessInputSchema.parse({
      cluster,
      id,
      start: req.start,
      end: req.end,
      ...(req.timeZone ? { timeZone: req.timeZone } : {}),
      reason: req.reason,
      level: readinessLevelFrom(config, cluster, req.level),
      requestedBy: req.requestedBy,
      ...(placement ? { placement } : {}),
    });
  });
}

/** A window of that id exists already; `started` are the windows of the same add started before it. */
export class ReadinessWindowExists extends Error {
  override readonly name = 'ReadinessWindowExists';
  constructor(
    readonly workflowId: string,
    readonly started: string[],
  ) {
    super(`a window ${workflowId} exists already`);
  }
}

/** Starts the windows one by one (conflict policy FAIL: an id is one window); returns their ids. */
export async function startWindows(client: Client, inputs: readonly ReadinessInput[], memo?: Record<string, string>): Promise<string[]> {
  const started: string[] = [];
  for (const input of inputs) {
    const { workflowType, ...options } = readinessStartOptions(input);
    try {
      await client.workflow.start(workflowType, { ...options, workflowIdConflictPolicy: 'FAIL', ...(memo ? { memo } : {}) });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ReadinessWindowExists(options.workflowId, started);
      throw err;
    }
    started.push(options.workflowId);
  }
  return started;
}

/**
 * Running windows (of one cluster), as their status answers; one that does not answer is left out.
 * `withDeadline` bounds each query, as the caller's other Temporal calls are bounded.
 */
export async function runningWindows(client: Client, withDeadline: <T>(fn: () => Promise<T>) => Promise<T>, cluster?: string): Promise<ReadinessStatus[]> {
  const query = [`FleetopsKind = 'readiness'`, `ExecutionStatus = 'Running'`, ...(cluster ? [`FleetopsCluster = '${cluster}'`] : [])].join(' AND ');
  const out: ReadinessStatus[] = [];
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) {
    const s = await withDeadline(() => client.workflow.getHandle(wf.workflowId).query(statusQuery)).catch(() => undefined);
    if (s) out.push(s as ReadinessStatus);
  }
  return out;
}
