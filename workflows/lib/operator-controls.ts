import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { condition, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import {
  abortUpdate,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  statusQuery,
  type AbortRequest,
  type ControlRequest,
  type WorkflowStatus,
} from '../../contracts/controls';
import { FleetopsPhase } from '../../common/search-attributes';

/**
 * The operator surface every fleetops workflow shares: `status`, `pause`, `resume`, `abort`, and the
 * `FleetopsPhase` search attribute kept in step with the phase. Each workflow supplies its status and
 * decides at which points it honours pause and abort (`checkpoint()`), so an abort always lands between
 * steps and the workflow can leave AWS in a safe, stated state.
 *
 * Two steps, on purpose. A message can reach a run in its very first workflow task (signal-with-start,
 * update-with-start, a pause sent right after a start or a continue-as-new): the SDK runs a buffered
 * handler the moment it is registered. So a workflow first constructs its controls (pure state, no
 * handlers), then builds its own state with them, and only then calls `install`, whose handlers may
 * run at once and read everything.
 */
export interface OperatorControlsOptions {
  initialPhase: string;
  /** A run continued from a paused one starts paused. */
  initiallyPaused?: boolean;
  /**
   * Phases that begin and end inside one workflow task (e.g. a run of local activities). Upserting
   * them is wasted: visibility only ever sees the last phase a task sets, and in a storm each upsert
   * is a history event and a visibility write more per workflow.
   */
  transientPhases?: readonly string[];
}

export interface OperatorHandlers {
  /** The workflow's own status; `phase` and `paused` are filled in from the controls. */
  status: () => WorkflowStatus;
  /** Returns a reason to reject an abort (e.g. "already finished"); undefined accepts it. */
  rejectAbort?: () => string | undefined;
  /** Whether this workflow can be paused at all (drains cannot wait on a human: the deadline runs). */
  pausable?: boolean;
}

export class OperatorControls {
  private currentPhase: string;
  private isPaused: boolean;
  private abort: AbortRequest | undefined;
  private installed = false;
  private readonly transient: ReadonlySet<string>;
  private withNextPhase: SearchAttributeUpdatePair[] = [];

  constructor(opts: OperatorControlsOptions) {
    this.currentPhase = opts.initialPhase;
    this.isPaused = opts.initiallyPaused === true;
    this.transient = new Set(opts.transientPhases ?? []);
  }

  get paused(): boolean {
    return this.isPaused;
  }

  get abortRequest(): AbortRequest | undefined {
    return this.abort;
  }

  get phase(): string {
    return this.currentPhase;
  }

  /**
   * Registers the handlers and upserts the initial FleetopsPhase. Call it once the state the handlers
   * read exists: a message buffered in the first workflow task is handled inside this call.
   */
  install(handlers: OperatorHandlers): this {
    if (this.installed) throw new Error('operator controls are already installed');
    this.installed = true;
    const current = (): WorkflowStatus => ({ ...handlers.status(), phase: this.currentPhase, paused: this.isPaused });

    setHandler(statusQuery, current, {
      description: 'Current phase, a human-readable summary and workflow-specific progress.',
    });
    if (handlers.pausable !== false) {
      // Handlers write no commands, so adding the updates beside the old signals needs no patch.
      setHandler(pauseUpdate, (_req: ControlRequest) => ((this.isPaused = true), current()), {
        description: 'Hold the workflow at its next step boundary until resume or abort; returns the status (paused: true).',
        validator: (_req: ControlRequest) => {
          if (this.abort) throw new Error(`aborting: ${this.abort.reason}`);
        },
      });
      setHandler(resumeUpdate, (_req: ControlRequest) => ((this.isPaused = false), current()), {
        description: 'Continue a paused workflow; returns the status (paused: false).',
      });
      setHandler(pauseSignal, () => void (this.isPaused = true), {
        description: 'Signal form of the pause update (kept for older clients and histories).',
      });
      setHandler(resumeSignal, () => void (this.isPaused = false), {
        description: 'Signal form of the resume update (kept for older clients and histories).',
      });
    }
    setHandler(
      abortUpdate,
      (req) => {
        // Accepted now, acted on at the workflow's next checkpoint; the caller polls `status` for the end.
        this.abort = req;
        this.isPaused = false;
        return { ...current(), abortRequested: req.reason };
      },
      {
        description: 'Stop at the next step boundary and leave AWS in a safe, stated state. Requires a reason.',
        validator: (req) => {
          if (!req || typeof req.reason !== 'string' || req.reason.trim() === '') throw new Error('abort needs a reason');
          if (this.abort) throw new Error(`already aborting: ${this.abort.reason}`);
          const rejection = handlers.rejectAbort?.();
          if (rejection) throw new Error(rejection);
        },
      },
    );

    if (!this.transient.has(this.currentPhase)) upsertSearchAttributes([{ key: FleetopsPhase, value: this.currentPhase }]);
    return this;
  }

  /** Sets the phase and upserts FleetopsPhase when it changed (unless the phase is transient). */
  setPhase(next: string): void {
    if (next === this.currentPhase && this.withNextPhase.length === 0) return;
    this.currentPhase = next;
    if (this.transient.has(next)) return;
    upsertSearchAttributes([{ key: FleetopsPhase, value: next }, ...this.withNextPhase]);
    this.withNextPhase = [];
  }

  /**
   * Search attributes that go out with the next phase upserted: one history event and one visibility
   * write instead of two, when the phase follows in the same workflow task (e.g. a drain's cluster,
   * known once resolved, and its first phase that operators see).
   */
  upsertWithNextPhase(pairs: SearchAttributeUpdatePair[]): void {
    this.withNextPhase.push(...pairs);
  }

  /** Waits while paused; returns the abort request if one arrived. */
  async checkpoint(): Promise<AbortRequest | undefined> {
    await condition(() => !this.isPaused || this.abort !== undefined);
    return this.abort;
  }
}
