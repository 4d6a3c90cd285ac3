import { ApplicationFailure } from '@temporalio/common';
import type { CapacityActivities } from '../../activities/capacity';
import type {
  CapacitySettings,
  CapacitySnapshot,
  LaunchedInstance,
  PoolInstance,
  PoolSettings,
  RequestPoolCapacityResult,
} from '../../activities/capacity/types';
import { FailureType } from '../../common/failures';

/**
 * An in-memory cluster for the capacity workflow's tests: pools with instances, and per pool a mode
 * saying how the next requests go. Implements the capacity activities' signatures so the workflow
 * runs unchanged against it; every call is logged for assertions.
 */
export type PoolMode =
  /** Delivers what is asked (instances ACTIVE at once). */
  | 'ok'
  /** ec2-fleet: CreateFleet answers with InsufficientInstanceCapacity for every override. spot-fleet/asg: the raise fails with it. */
  | 'capacity-error'
  /** spot-fleet / asg: the target is raised but nothing arrives before the fulfilment timeout. */
  | 'no-fulfilment'
  /**
   * spot-fleet / asg: the raise arrives only after the fulfilment timeout, just before the plan's
   * withdrawal, as instances that already serve (AWS: a group short of capacity keeps trying, and
   * capacity returned); the withdrawal then cannot take them out and answers them as surplus.
   */
  | 'fills-late'
  /** spot-fleet: the fleet's history reports every launch specification blacklisted (m5.large in us-east-1a) after the raise. */
  | 'fleet-error';

export interface FakePool {
  settings: PoolSettings;
  target: number;
  /** An ASG's MinSize. */
  minUnits?: number;
  mode: PoolMode;
  instances: PoolInstance[];
}

export interface CallLog {
  activity: string;
  pool?: string;
  units?: number;
  target?: number;
  instanceId?: string;
  excluded?: string[];
  clientToken?: string;
  at: number;
}

export const DEFAULT_SETTINGS: CapacitySettings = {
  minUnits: 0,
  maxUnits: 100,
  stepUnits: 1,
  cooldownSeconds: 300,
  unavailableTtlSeconds: 180,
  returnToSpotEverySeconds: 600,
  registrationTimeoutSeconds: 600,
};

export function ladder(): PoolSettings[] {
  return [
    {
      name: 'spot-fleet-instant',
      kind: 'ec2-fleet',
      market: 'spot',
      fulfilmentTimeoutSeconds: 60,
      overrides: [
        { instanceType: 'm5.large', availabilityZone: 'us-east-1a', weight: 1 },
        { instanceType: 'm5a.large', availabilityZone: 'us-east-1b', weight: 1 },
      ],
    },
    { name: 'spot-diversified', kind: 'spot-fleet', market: 'spot', fulfilmentTimeoutSeconds: 120, overrides: [] },
    { name: 'on-demand', kind: 'asg', market: 'on-demand', fulfilmentTimeoutSeconds: 120, overrides: [] },
  ];
}

/** An activity made to fail, as AWS fails it past the activity's retries. */
export interface InjectedFailure {
  activity: keyof CapacityActivities;
  type: string;
  message: string;
}

export class FakeCloud {
  readonly calls: CallLog[] = [];
  /** Activities that fail while listed (non-retryable here, so a test does not wait out six attempts). */
  failing: InjectedFailure[] = [];
  /** While set, new instances stay booting (awaitContainerInstancesActive waits on it). */
  bootGate: Promise<void> | undefined;
  readonly notifications: { title: string; text: string; idempotencyKey: string }[] = [];
  readonly incidents: { title: string; key: string; severity: string }[] = [];
  readonly pools: FakePool[];
  settings: CapacitySettings;
  private seq = 0;
  /** Workflow-time source for call timestamps (the test server's clock). */
  now: () => number = () => Date.now();

  constructor(opts: { settings?: Partial<CapacitySettings>; pools?: PoolSettings[] } = {}) {
    this.settings = { ...DEFAULT_SETTINGS, ...opts.settings };
    this.pools = (opts.pools ?? ladder()).map((settings) => ({ settings, target: 0, mode: 'ok', instances: [] }));
  }

  pool(name: string): FakePool {
    const p = this.pools.find((x) => x.settings.name === name);
    if (!p) throw new Error(`no pool ${name}`);
    return p;
  }

  /** Adds a running, ACTIVE instance to a pool (and its target). */
  addInstance(poolName: string, extra: Partial<PoolInstance> = {}): PoolInstance {
    const p = this.pool(poolName);
    const type = p.settings.overrides[0]?.instanceType ?? 'm5.large';
    const inst: PoolInstance = {
      instanceId: `i-${(0x10000000 + ++this.seq).toString(16).padStart(17, '0')}`,
      pool: poolName,
      instanceType: type,
      availabilityZone: 'us-east-1a',
      market: p.settings.market,
      weight: 1,
      state: 'running',
      containerStatus: 'ACTIVE',
      standaloneTasks: 0,
      ...extra,
    };
    p.instances.push(inst);
    p.target += inst.weight;
    return inst;
  }

  units(poolName: string): number {
    return this.pool(poolName).instances.reduce((s, i) => s + i.weight, 0);
  }

  requests(): CallLog[] {
    return this.calls.filter((c) => c.activity === 'requestPoolCapacity');
  }

  private launch(p: FakePool, units: number, weightPerInstance = 1): LaunchedInstance[] {
    const out: LaunchedInstance[] = [];
    // One instance carries big asks, so a 10,000-unit history stays small.
    const count = units > 20 ? 1 : Math.ceil(units / weightPerInstance);
    const weight = units > 20 ? units : weightPerInstance;
    for (let i = 0; i < count; i++) {
      const inst = this.addInstance(p.settings.name, { weight });
      p.target -= weight; // addInstance raised it; the caller sets targets explicitly.
      out.push({ instanceId: inst.instanceId, instanceType: inst.instanceType, availabilityZone: inst.availabilityZone, weight });
    }
    return out;
  }

  /** The capacity activities, plus the notification and incident activities the workflow calls when AWS keeps failing. */
  activities(): CapacityActivities & Record<'notify' | 'openIncidentFromAutomation', (...args: never[]) => Promise<unknown>> {
    const log = (c: Omit<CallLog, 'at'>) => this.calls.push({ ...c, at: this.now() });
    const fail = (activity: keyof CapacityActivities) => {
      const f = this.failing.find((x) => x.activity === activity);
      if (f) {
        log({ activity: `${activity}:failed` });
        throw ApplicationFailure.create({ type: f.type, message: f.message, nonRetryable: true });
      }
    };
    const base = this.capacityActivities(log);
    const wrapped = Object.fromEntries(
      Object.entries(base).map(([name, fn]) => [
        name,
        async (input: never) => {
          fail(name as keyof CapacityActivities);
          return (fn as (i: never) => Promise<unknown>)(input);
        },
      ]),
    ) as unknown as CapacityActivities;
    return {
      ...wrapped,
      notify: async (n: { title: string; text: string; idempotencyKey: string }) => {
        this.notifications.push({ title: n.title, text: n.text, idempotencyKey: n.idempotencyKey });
        return { sent: ['fake'], skipped: [] };
      },
      openIncidentFromAutomation: async (req: { title: string; key: string; severity: string }) => {
        this.incidents.push({ title: req.title, key: req.key, severity: req.severity });
        return { workflowId: `incident-fake-${this.incidents.length}` };
      },
    };
  }

  private capacityActivities(log: (c: Omit<CallLog, 'at'>) => void): CapacityActivities {
    return {
      describeCapacity: async ({ cluster }) => {
        log({ activity: 'describeCapacity' });
        const snap: CapacitySnapshot = {
          cluster,
          settings: this.settings,
          pools: this.pools.map((p) => p.settings),
          state: this.pools.map((p) => {
            const actual = p.instances.reduce((s, i) => s + i.weight, 0);
            return {
              name: p.settings.name,
              kind: p.settings.kind,
              market: p.settings.market,
              targetUnits: p.settings.kind === 'ec2-fleet' ? actual : p.target,
              actualUnits: actual,
              ...(p.minUnits !== undefined ? { minUnits: p.minUnits } : {}),
              activeUnits: p.instances.filter((i) => i.containerStatus === 'ACTIVE').reduce((s, i) => s + i.weight, 0),
              instances: p.instances.map((i) => ({ ...i })),
            };
          }),
        };
        return snap;
      },
      requestPoolCapacity: async (input): Promise<RequestPoolCapacityResult> => {
        const p = this.pool(input.pool);
        log({
          activity: 'requestPoolCapacity',
          pool: input.pool,
          units: input.units,
          target: input.newTargetUnits,
          excluded: input.excludeOverrides.map((o) => `${o.instanceType}/${o.availabilityZone}`),
          clientToken: input.clientToken,
        });
        if (input.dryRun) return p.settings.kind === 'ec2-fleet'
          ? { kind: 'instant', launched: [], launchedUnits: 0, errors: [], dryRunCall: { action: 'ec2:CreateFleet', params: { pool: input.pool, units: input.units } } }
          : { kind: 'target', newTargetUnits: input.newTargetUnits, dryRunCall: { action: 'fake:SetTarget', params: { pool: input.pool, target: input.newTargetUnits } } };
        if (p.settings.kind === 'ec2-fleet') {
          if (p.mode === 'capacity-error') {
            const errors = p.settings.overrides
              .filter((o) => !input.excludeOverrides.some((x) => x.instanceType === o.instanceType && x.availabilityZone === o.availabilityZone))
              .map((o) => ({ instanceType: o.instanceType, availabilityZone: o.availabilityZone, code: 'InsufficientInstanceCapacity', message: `no ${o.instanceType} capacity` }));
            return { kind: 'instant', launched: [], launchedUnits: 0, errors };
          }
          const launched = this.launch(p, input.units);
          return { kind: 'instant', launched, launchedUnits: launched.reduce((s, i) => s + i.weight, 0), errors: [] };
        }
        if (p.mode === 'capacity-error') {
          throw ApplicationFailure.nonRetryable('ec2:ModifySpotFleetRequest: InsufficientInstanceCapacity: none left', FailureType.AwsCapacityUnavailable);
        }
        p.target = input.newTargetUnits;
        return { kind: 'target', newTargetUnits: input.newTargetUnits };
      },
      awaitPoolFulfilment: async (input) => {
        const p = this.pool(input.pool);
        log({ activity: 'awaitPoolFulfilment', pool: input.pool, units: input.units });
        if (p.mode === 'no-fulfilment' || p.mode === 'fills-late') return { deliveredUnits: 0, instances: [], timedOut: true };
        if (p.mode === 'fleet-error') {
          return {
            deliveredUnits: 0,
            instances: [],
            timedOut: false,
            capacityError: {
              code: 'allLaunchSpecsTemporarilyBlacklisted',
              message: 'Spot Fleet history: every launch specification blacklisted',
              offerings: [{ instanceType: 'm5.large', availabilityZone: 'us-east-1a' }],
            },
          };
        }
        const instances = this.launch(p, input.units);
        return { deliveredUnits: instances.reduce((s, i) => s + i.weight, 0), instances, timedOut: false };
      },
      setPoolTarget: async (input) => {
        log({ activity: 'setPoolTarget', pool: input.pool, target: input.targetUnits });
        if (input.dryRun) return { dryRunCalls: [{ action: 'fake:SetTarget', params: { ...input } }] };
        const p = this.pool(input.pool);
        if (p.mode === 'fills-late') {
          const raised = p.target;
          this.launch(p, raised - this.units(input.pool));
          p.target = raised;
          p.mode = 'ok';
        }
        // As the real activity: serving instances are never the pool's to choose; what stays over the target is surplus.
        const held = this.units(input.pool);
        p.target = Math.max(input.targetUnits, input.keepInstanceIds ? held : 0);
        const surplusUnits = input.keepInstanceIds ? Math.max(0, held - input.targetUnits) : 0;
        return { dryRunCalls: [], ...(surplusUnits > 0 ? { surplusUnits } : {}) };
      },
      awaitContainerInstancesActive: async (input) => {
        log({ activity: 'awaitContainerInstancesActive', units: input.instanceIds.length });
        if (this.bootGate) await this.bootGate;
        return { active: input.instanceIds, missing: [] };
      },
      removePoolInstance: async (input) => {
        log({ activity: 'removePoolInstance', pool: input.pool, instanceId: input.instanceId });
        if (input.dryRun) return { dryRunCalls: [{ action: 'ec2:TerminateInstances', params: { InstanceIds: [input.instanceId] } }] };
        const p = this.pool(input.pool);
        const before = p.instances.length;
        p.instances = p.instances.filter((i) => i.instanceId !== input.instanceId);
        if (p.instances.length < before && p.settings.kind !== 'ec2-fleet') p.target -= input.weight;
        return { dryRunCalls: [] };
      },
    };
  }
}
