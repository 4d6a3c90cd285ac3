import type { DryRunCall } from '../../contracts/controls';
import type { DrainEvent, DrainEventKind } from '../../contracts/spot-drain/input';
import type { DrainLifecycleAction } from '../../contracts/shared';
import type { DrainSettings, InstancePool, MutationReport, ResolvedDrainTarget } from '../../activities/drain/types';
import type { DrainEventRecord, DrainOutcome, DrainStatus, DrainStep, DrainStepName, SpotDrainResult } from '../../contracts/spot-drain/messages';

/**
 * What a drain knows: the events it accepted (and the duplicates and strays it did not), the deadline
 * and mode they imply, the target once resolved, and the steps so far. No Temporal calls, so
 * test/drain/spot-drain-state.test.ts drives it without a server; workflow.ts wires the handlers to it
 * and the phases (the other files here) update it.
 */

export { DEFAULT_DRAIN, WARNING_DEADLINE_MS, eventDeadlineMs } from './deadlines';
import { DEFAULT_DRAIN, eventDeadlineMs } from './deadlines';

export type DrainTarget = Extract<ResolvedDrainTarget, { found: true }>;

/** The steps a drain plans (before `request-capacity` and `complete-lifecycle-action`, which depend on the events). */
const PLANNED_STEPS: readonly DrainStepName[] = ['set-draining', 'deregister-targets', 'move-standalone-tasks', 'wait-for-tasks'];

export class DrainState {
  readonly events: DrainEvent[] = [];
  readonly eventLog: DrainEventRecord[] = [];
  private readonly seenEventIds = new Set<string>();
  duplicateEvents = 0;
  foreignEvents = 0;
  /** Bumped when an event moves the deadline, so a running wait is restarted against it. */
  deadlineVersion = 0;
  drain: DrainSettings = DEFAULT_DRAIN;
  target: DrainTarget | undefined;
  tasksLeft: number | undefined;
  capacityRequested = false;
  /** Workflow time of the capacity request (a replacement registered since then counts). */
  capacityRequestedAt: number | undefined;
  lifecycleHeartbeats = 0;
  /** The hook's HeartbeatTimeout once described (DescribeLifecycleHooks); the heartbeat interval stays well inside it. */
  lifecycleHeartbeatTimeoutSeconds: number | undefined;
  /** Tokens of lifecycle actions this drain completed (or found already completed). */
  readonly completedLifecycles = new Set<string>();
  /** Tokens Auto Scaling no longer has waiting (a heartbeat found none): nothing to keep alive. */
  readonly goneLifecycles = new Set<string>();
  /** Standalone tasks stopped but not run again elsewhere: on the status, and an incident fact. */
  readonly rerunFailed: { from: string; reason: string }[] = [];
  /** The instance's pool, once looked up (before asking for replacement capacity). */
  pool: InstancePool | undefined;
  /** The pool replaces the instance on its rebalance recommendation itself (Capacity Rebalancing): the drain waits for that replacement and asks for none. */
  poolReplaces = false;
  /** The targets are being (or were) taken out ahead of ECS. */
  deregistering = false;
  /** moveWork ran (what comes after it may react to an escalation). */
  movedWork = false;
  /** Planned steps this drain does not need (not a failure: e.g. ECS deregisters targets on a relaxed drain). */
  readonly notNeeded = new Set<DrainStepName>();
  /** The cluster whose budget workflow knows this drain (holds or waits for a slot): told when the drain ends. */
  budgetSlotOf: string | undefined;
  /** Set when the drain stops working on the instance: ends the lifecycle heartbeats. */
  drainFinished = false;
  outcome: DrainOutcome | undefined;
  failure: string | undefined;
  readonly steps: DrainStep[] = [];
  readonly dryRunCalls: DryRunCall[] = [];

  constructor(
    readonly instanceId: string,
    readonly dryRun: boolean,
    /** The clock (in a workflow, Date.now is the workflow's deterministic time). */
    private readonly now: () => number = () => Date.now(),
  ) {}

  // ---- events ----

  /** The `drainEvent` handler: what it did with the event. */
  addEvent(e: DrainEvent): 'added' | 'duplicate' | 'foreign' {
    if (e.instanceId !== this.instanceId) {
      this.foreignEvents += 1;
      return 'foreign';
    }
    if (this.seenEventIds.has(e.eventId)) {
      this.duplicateEvents += 1;
      return 'duplicate';
    }
    const before = this.deadlineMs();
    this.seenEventIds.add(e.eventId);
    this.events.push(e);
    this.eventLog.push({ kind: e.kind, eventId: e.eventId, eventTime: e.eventTime, receivedAt: this.isoNow() });
    if (this.deadlineMs() !== before) this.deadlineVersion += 1;
    return 'added';
  }

  /**
   * The event kind that governs the drain: a warning (or the instance stopping) outranks a lifecycle
   * action outranks a rebalance (or a scheduled change). `instance-gone` never governs: it only closes.
   */
  mode(): DrainEventKind | undefined {
    const has = (kind: DrainEventKind) => this.events.some((e) => e.kind === kind);
    for (const kind of ['interruption-warning', 'instance-stopping', 'lifecycle-terminate', 'rebalance-recommendation', 'scheduled-change'] as const) {
      if (has(kind)) return kind;
    }
    return this.events.some((e) => e.kind === 'scale-in') ? 'scale-in' : this.events.length > 0 ? this.events[0]!.kind : undefined;
  }

  /** A drain fleetops chooses to make (rebalance, scale-in, scheduled change): held to the cluster's disruption budget. */
  voluntary(): boolean {
    const mode = this.mode();
    return mode === 'rebalance-recommendation' || mode === 'scale-in' || mode === 'scheduled-change';
  }

  /** A drained instance nobody else ends (rebalance, scheduled change): its pool takes it out. */
  terminateAfterDrain(): boolean {
    return this.replaceFirst();
  }

  /** The two-minute deadline governs (a warning, or the instance stopping): work is taken away ahead of ECS. */
  onDeadline(): boolean {
    const mode = this.mode();
    return mode === 'interruption-warning' || mode === 'instance-stopping';
  }

  /** Rebalance recommendations and scheduled changes give time: ask for the replacement before draining. */
  replaceFirst(): boolean {
    const mode = this.mode();
    return mode === 'rebalance-recommendation' || mode === 'scheduled-change';
  }

  lifecycle(): DrainLifecycleAction | undefined {
    return this.events.find((e) => e.lifecycle)?.lifecycle;
  }

  /**
   * A lifecycle action for an instance that is already DRAINING with no task left (the drain before
   * this run, or a scale-in's, emptied it): nothing to do but complete the action.
   */
  alreadyDrained(): boolean {
    const t = this.target;
    return this.mode() === 'lifecycle-terminate' && t !== undefined && t.status === 'DRAINING' && t.runningTasks + t.pendingTasks === 0;
  }

  /** Every lifecycle action the events brought (one per token): each must be completed. */
  lifecycles(): DrainLifecycleAction[] {
    const seen = new Map<string, DrainLifecycleAction>();
    for (const e of this.events) if (e.lifecycle && !seen.has(e.lifecycle.actionToken)) seen.set(e.lifecycle.actionToken, e.lifecycle);
    return [...seen.values()];
  }

  /** Lifecycle actions still waiting for this drain's CONTINUE. */
  pendingLifecycles(): DrainLifecycleAction[] {
    return this.lifecycles().filter((l) => !this.completedLifecycles.has(l.actionToken));
  }

  /**
   * The instance stops or hibernates and comes back (a spot `stop`/`hibernate` warning, a stopping
   * instance), and nothing says it is terminated: no permanent replacement; ACTIVE again on return.
   */
  comesBack(): boolean {
    const mode = this.mode();
    if (mode !== 'interruption-warning' && mode !== 'instance-stopping') return false;
    const ending = this.events.filter((e) => e.kind === 'interruption-warning' || e.kind === 'instance-stopping' || e.kind === 'instance-gone');
    // An instance-gone without an action is a termination: it does not come back.
    return ending.length > 0 && ending.every((e) => e.instanceAction === 'stop' || e.instanceAction === 'hibernate');
  }

  /** A stopped instance is running again (EC2 `running` after the drain's stop). */
  returned(): boolean {
    return this.events.some((e) => e.kind === 'instance-running');
  }

  /** AWS itself ends the instance (a spot reclaim, a shutdown): a pool that self-heals replaces it. */
  reclaimed(): boolean {
    const mode = this.mode();
    return mode === 'interruption-warning' || mode === 'instance-stopping';
  }

  /**
   * Why fleetops asks for no replacement: the ASG replaces its own (lifecycle), fleetops removes it on
   * purpose (scale-in), or its pool (a `maintain` Spot Fleet, an ASG) replaces an interrupted instance
   * by itself; asking capacity for one more would leave a permanent extra instance per interruption.
   */
  noReplacement(): string | undefined {
    if (this.lifecycle()) return 'the Auto Scaling group replaces its own instances';
    if (this.comesBack()) return 'the instance stops and comes back (stop/hibernate): no permanent replacement';
    if (this.mode() === 'scale-in') return 'scale-in: the capacity workflow chose this instance to leave';
    if (this.poolReplaces && this.pool?.found) return `pool ${this.pool.pool} (${this.pool.kind}) launches its replacement itself (Capacity Rebalancing)`;
    if (this.pool?.found && this.pool.replacesOwnInstances && this.reclaimed()) {
      return `pool ${this.pool.pool} (${this.pool.kind}) replaces an interrupted instance itself`;
    }
    return undefined;
  }

  /** The earliest deadline any event sets; undefined before the first event. */
  deadlineMs(): number | undefined {
    return this.events.length === 0 ? undefined : Math.min(...this.events.map((e) => eventDeadlineMs(e, this.drain)));
  }

  timeLeftMs(): number {
    const now = this.now();
    return (this.deadlineMs() ?? now) - now;
  }

  /** The instance was found: its cluster's drain settings may move the deadline. */
  resolved(target: DrainTarget): void {
    this.target = target;
    this.drain = target.drain;
    this.tasksLeft = target.runningTasks + target.pendingTasks;
    this.deadlineVersion += 1;
  }

  // ---- steps ----

  record(report: MutationReport | undefined): void {
    if (report) this.dryRunCalls.push(...report.dryRunCalls);
  }

  begin(name: DrainStepName): DrainStep {
    const s: DrainStep = { name, status: 'running', startedAt: this.isoNow() };
    this.steps.push(s);
    return s;
  }

  end(s: DrainStep, status: DrainStep['status'], detail?: string): void {
    s.status = status;
    s.endedAt = this.isoNow();
    if (detail !== undefined) s.detail = detail;
  }

  skip(name: DrainStepName, detail: string): void {
    this.end(this.begin(name), 'skipped', detail);
  }

  done(name: DrainStepName): boolean {
    return this.steps.some((s) => s.name === name && s.status === 'done');
  }

  // ---- what clients read ----

  summary(phase: string): string {
    const { instanceId, target, outcome, failure, tasksLeft } = this;
    const head = `drain ${instanceId}${target ? ` on ${target.cluster}` : ''} (${this.mode() ?? 'no event yet'})${this.dryRun ? ' [dry run]' : ''}`;
    if (outcome) return `${head}: ${outcome}${failure ? ` — ${failure}` : ''}${tasksLeft ? `, ${tasksLeft} task(s) left` : ''}`;
    const left = this.deadlineMs() === undefined ? '' : `, ${Math.max(0, Math.round(this.timeLeftMs() / 1000))} s to deadline`;
    return `${head}: ${phase}${tasksLeft !== undefined ? `, ${tasksLeft} task(s) left` : ''}${left}`;
  }

  status(phase: string): DrainStatus {
    const d = this.deadlineMs();
    return {
      phase,
      summary: this.summary(phase),
      dryRun: this.dryRun,
      dryRunCalls: this.dryRunCalls,
      instanceId: this.instanceId,
      mode: this.mode(),
      cluster: this.target?.cluster,
      containerInstanceArn: this.target?.containerInstanceArn,
      deadline: d === undefined ? undefined : new Date(d).toISOString(),
      secondsToDeadline: d === undefined || this.outcome ? undefined : Math.max(0, Math.round((d - this.now()) / 1000)),
      tasksLeft: this.tasksLeft,
      steps: this.steps,
      events: this.eventLog,
      duplicateEvents: this.duplicateEvents,
      foreignEvents: this.foreignEvents,
      capacityRequested: this.capacityRequested,
      lifecycleHeartbeats: this.lifecycleHeartbeats,
      rerunFailed: this.rerunFailed,
      outcome: this.outcome,
    };
  }

  /** Ends the drain with `outcome` and returns its result; `notDone` lists the planned steps that did not complete. */
  finish(outcome: DrainOutcome, abortReason: string | undefined): SpotDrainResult {
    this.outcome = outcome;
    this.drainFinished = true;
    const planned = PLANNED_STEPS.filter((n) => !this.notNeeded.has(n));
    if (this.lifecycle()) planned.push('complete-lifecycle-action');
    if (!this.noReplacement()) planned.unshift('request-capacity');
    const d = this.deadlineMs();
    return {
      outcome,
      instanceId: this.instanceId,
      cluster: this.target?.cluster,
      deadline: d === undefined ? undefined : new Date(d).toISOString(),
      tasksLeft: this.tasksLeft,
      steps: this.steps,
      notDone: outcome === 'not-in-cluster' ? [] : planned.filter((n) => !this.done(n)),
      dryRunCalls: this.dryRunCalls,
      abortReason,
      failure: this.failure,
    };
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }
}
