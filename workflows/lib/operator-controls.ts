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
} from '../../common/controls';
import { FleetopsPhase } from '../../common/search-attributes';

/**
 * The operator surface shared by the four workflows: `status`, `pause`, `resume`, `abort`, and the
 * `FleetopsPhase` search attribute kept in step with the phase. Each workflow supplies its status
 * and decides at which points it honours pause and abort (`checkpoint()`), so an abort always
 * lands between steps and the workflow can leave AWS in a safe, stated state.
 */
export interface OperatorControls {
  readonly paused: boolean;
  readonly abortRequest: AbortRequest | undefined;
  /** Sets the phase and upserts FleetopsPhase when it changed (unless the phase is transient). */
  setPhase(phase: string): void;
  readonly phase: string;
  /** Waits while paused; returns the abort request if one arrived. */
  checkpoint(): Promise<AbortRequest | undefined>;
}

export interface OperatorControlsOptions {
  initialPhase: string;
  status: () => WorkflowStatus;
  /** Returns a reason to reject an abort (e.g. "already finished"); undefined accepts it. */
  rejectAbort?: () => string | undefined;
  /** Whether this workflow can be paused at all (drains cannot wait on a human: the deadline runs). */
  pausable?: boolean;
  /** A run continued from a paused one starts paused. */
  initiallyPaused?: boolean;
  /**
   * Phases that begin and end inside one workflow task (e.g. a run of local activities). Upserting
   * them is wasted: visibility only ever sees the last phase a task sets, and in a storm each upsert
   * is a history event and a visibility write more per workflow.
   */
  transientPhases?: readonly string[];
}

export function installOperatorControls(opts: OperatorControlsOptions): OperatorControls {
  let phase = opts.initialPhase;
  let paused = opts.initiallyPaused === true;
  let abortRequest: AbortRequest | undefined;

  setHandler(statusQuery, () => ({ ...opts.status(), phase, paused }), {
    description: 'Current phase, a human-readable summary and workflow-specific progress.',
  });
  if (opts.pausable !== false) {
    const current = (): WorkflowStatus => ({ ...opts.status(), phase, paused });
    // Handlers write no commands, so adding the updates beside the old signals needs no patch.
    setHandler(pauseUpdate, (_req: ControlRequest) => ((paused = true), current()), {
      description: 'Hold the workflow at its next step boundary until resume or abort; returns the status (paused: true).',
      validator: (_req: ControlRequest) => {
        if (abortRequest) throw new Error(`aborting: ${abortRequest.reason}`);
      },
    });
    setHandler(resumeUpdate, (_req: ControlRequest) => ((paused = false), current()), {
      description: 'Continue a paused workflow; returns the status (paused: false).',
    });
    setHandler(pauseSignal, () => void (paused = true), {
      description: 'Signal form of the pause update (kept for older clients and histories).',
    });
    setHandler(resumeSignal, () => void (paused = false), { description: 'Signal form of the resume update (kept for older clients and histories).' });
  }
  setHandler(
    abortUpdate,
    (req) => {
      // Accepted now, acted on at the workflow's next checkpoint; the caller polls `status` for the end.
      abortRequest = req;
      paused = false;
      return { ...opts.status(), phase, paused, abortRequested: req.reason };
    },
    {
      description: 'Stop at the next step boundary and leave AWS in a safe, stated state. Requires a reason.',
      validator: (req) => {
        if (!req || typeof req.reason !== 'string' || req.reason.trim() === '') throw new Error('abort needs a reason');
        if (abortRequest) throw new Error(`already aborting: ${abortRequest.reason}`);
        const rejection = opts.rejectAbort?.();
        if (rejection) throw new Error(rejection);
      },
    },
  );

  const transient = new Set(opts.transientPhases ?? []);
  if (!transient.has(phase)) upsertSearchAttributes([{ key: FleetopsPhase, value: phase }]);

  return {
    get paused() {
      return paused;
    },
    get abortRequest() {
      return abortRequest;
    },
    get phase() {
      return phase;
    },
    setPhase(next: string) {
      if (next === phase) return;
      phase = next;
      if (!transient.has(next)) upsertSearchAttributes([{ key: FleetopsPhase, value: next }]);
    },
    async checkpoint() {
      await condition(() => !paused || abortRequest !== undefined);
      return abortRequest;
    },
  };
}
