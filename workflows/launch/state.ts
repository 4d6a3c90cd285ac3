import type { DryRunCall } from '../../contracts/controls';
import type { LaunchInput } from '../../contracts/launch/input';
import type { LaunchOutcome, LaunchResult, LaunchStatus } from '../../contracts/launch/messages';

/**
 * What a launch knows: its deadline, what the cluster last said of the instance, the heartbeats sent
 * and how it ended. No Temporal calls (test/launch/launch-state.test.ts drives it without a server).
 */
export class LaunchState {
  containerInstanceStatus: string | undefined;
  containerInstanceArn: string | undefined;
  lifecycleHeartbeats = 0;
  outcome: LaunchOutcome | undefined;
  reason: string | undefined;
  completed = false;
  /** Set once the lifecycle action is decided: ends the heartbeats. */
  finished = false;
  readonly dryRunCalls: DryRunCall[] = [];

  constructor(
    readonly input: LaunchInput,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** The hook held the instance from the event's time; it is abandoned `timeoutSeconds` after that. */
  deadlineMs(): number {
    return Date.parse(this.input.eventTime) + this.input.timeoutSeconds * 1000;
  }

  timeLeftMs(): number {
    return this.deadlineMs() - this.now();
  }

  seen(s: { status: string; containerInstanceArn?: string }): void {
    this.containerInstanceStatus = s.status;
    if (s.containerInstanceArn) this.containerInstanceArn = s.containerInstanceArn;
  }

  joined(): boolean {
    return this.containerInstanceStatus === 'ACTIVE';
  }

  decide(outcome: LaunchOutcome, reason: string): void {
    this.outcome = outcome;
    this.reason = reason;
    this.finished = true;
  }

  summary(phase: string): string {
    const { instanceId, cluster, lifecycle } = this.input;
    const head = `launch of ${instanceId} into ${cluster} (${lifecycle.asgName})${this.input.dryRun ? ' [dry run]' : ''}`;
    if (this.outcome) return `${head}: ${this.outcome === 'continued' ? 'CONTINUE' : 'ABANDON'} — ${this.reason}${this.completed ? '' : ' (lifecycle action not completed)'}`;
    const left = Math.max(0, Math.round(this.timeLeftMs() / 1000));
    return `${head}: ${phase}, container instance ${this.containerInstanceStatus ?? 'not seen yet'}, ${left} s until ABANDON`;
  }

  status(phase: string): LaunchStatus {
    const { instanceId, cluster, lifecycle } = this.input;
    return {
      phase,
      summary: this.summary(phase),
      dryRun: this.input.dryRun === true,
      dryRunCalls: this.dryRunCalls,
      instanceId,
      cluster,
      asgName: lifecycle.asgName,
      hookName: lifecycle.hookName,
      deadline: new Date(this.deadlineMs()).toISOString(),
      containerInstanceStatus: this.containerInstanceStatus,
      containerInstanceArn: this.containerInstanceArn,
      lifecycleHeartbeats: this.lifecycleHeartbeats,
      outcome: this.outcome,
      reason: this.reason,
    };
  }

  result(): LaunchResult {
    return {
      outcome: this.outcome ?? 'abandoned',
      instanceId: this.input.instanceId,
      cluster: this.input.cluster,
      reason: this.reason ?? '',
      containerInstanceArn: this.containerInstanceArn,
      completed: this.completed,
      dryRunCalls: this.dryRunCalls,
    };
  }
}
