import { z } from 'zod';
import type { SimResponse } from '../../protocol';

/**
 * The capacity behaviour's limits, configuration and state (capacity.ts says what it models). The
 * error codes a shortage fails with are the ones CreateFleet reports in its `Errors`
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateFleet.html) and Spot Fleet in its
 * history.
 */

export const CAPACITY_CODES = ['InsufficientInstanceCapacity', 'MaxSpotInstanceCountExceeded', 'SpotMaxPriceTooLow', 'InstanceLimitExceeded', 'VcpuLimitExceeded'] as const;

/** Instance tag naming the ECS cluster a CreateFleet launch joins. */
export const CLUSTER_TAG = 'fleetops:cluster';

const overrideLimitSchema = z
  .object({
    instanceType: z.string().optional(),
    availabilityZone: z.string().optional(),
    market: z.enum(['spot', 'on-demand']).optional(),
    /** Units still available; each launch takes its weight off. */
    available: z.number().nonnegative(),
    errorCode: z.enum(CAPACITY_CODES).default('InsufficientInstanceCapacity'),
  })
  .strict();

export const limitsSchema = z
  .object({
    overrides: z.array(overrideLimitSchema).default([]),
    pools: z.record(z.string(), z.object({ maxUnits: z.number().nonnegative(), errorCode: z.enum(CAPACITY_CODES).default('InsufficientInstanceCapacity') }).strict()).default({}),
  })
  .strict();

export const configSchema = z
  .object({
    bootDelaySeconds: z.number().nonnegative().max(3600).optional(),
    fulfilmentDelaySeconds: z.number().nonnegative().max(3600).optional(),
    /** How often an Auto Scaling group short of capacity tries to launch again (default 10 s). */
    asgRetrySeconds: z.number().nonnegative().max(3600).optional(),
    /** Cluster that instances of Spot Fleet / ASG raises (and untagged CreateFleet launches) join; none: they join no cluster. */
    cluster: z.string().min(1).optional(),
  })
  .strict();

export type Limits = z.infer<typeof limitsSchema>;
export type CapacityConfig = z.infer<typeof configSchema>;

export interface PendingRaise {
  kind: 'spot-fleet' | 'asg';
  pool: string;
  target: number;
  applyAt: number;
  excessPolicy?: string;
}

export interface Registration {
  instanceId: string;
  cluster: string;
  registerAt: number;
  registeredAt?: string;
  error?: string;
}

export interface HistoryRecord {
  at: string;
  type: 'error' | 'information' | 'fleetRequestChange' | 'instanceChange';
  subType: string;
  description: string;
}

export interface FailedActivity {
  asg: string;
  at: string;
  code: string;
  message: string;
}

/** Everything one capacity behaviour instance holds; `resetCapacityState` returns it to the start. */
export interface CapacityState {
  limits: Limits;
  config: CapacityConfig;
  pending: PendingRaise[];
  registrations: Registration[];
  failedActivities: FailedActivity[];
  /** Auto Scaling groups short of capacity: the desired count AWS keeps (moto holds what launched) and the last launch attempt. */
  readonly asgShort: Map<string, { target: number; triedAt: number }>;
  /** Spot Fleets whose declared target differs from moto's, and whether they failed. */
  readonly declared: Map<string, { target: number; error?: string }>;
  /** DescribeSpotFleetRequestHistory records per Spot Fleet (moto keeps none). */
  readonly fleetHistory: Map<string, HistoryRecord[]>;
  /** CreateFleet answers by ClientToken, with the parameters they answered (the token excluded). */
  readonly fleetTokens: Map<string, { fingerprint: string; res: SimResponse }>;
  /** CreateFleet calls answered here, for fleet ids (not reset, so ids stay unique). */
  fleetSeq: number;
}

export function newCapacityState(): CapacityState {
  return {
    limits: { overrides: [], pools: {} },
    config: {},
    pending: [],
    registrations: [],
    failedActivities: [],
    asgShort: new Map(),
    declared: new Map(),
    fleetHistory: new Map(),
    fleetTokens: new Map(),
    fleetSeq: 0,
  };
}

export function resetCapacityState(state: CapacityState): void {
  state.limits = { overrides: [], pools: {} };
  state.config = {};
  state.pending = [];
  state.registrations = [];
  state.failedActivities = [];
  state.declared.clear();
  state.asgShort.clear();
  state.fleetTokens.clear();
  state.fleetHistory.clear();
}

/** New instances join `cluster` once they have booted (`bootDelaySeconds`); one registration per instance. */
export function scheduleRegistrations(state: CapacityState, instanceIds: string[], cluster: string | undefined): void {
  if (!cluster) return;
  const at = Date.now() + (state.config.bootDelaySeconds ?? 0) * 1000;
  for (const id of instanceIds) {
    if (!state.registrations.some((r) => r.instanceId === id)) state.registrations.push({ instanceId: id, cluster, registerAt: at });
  }
}
