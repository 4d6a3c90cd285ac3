import type { Logger } from '../common/logger';
import type { BehaviourFactory } from './behaviour';

/** How a Simulator (simulator/server.ts) is set up: by testkit/emulator.ts and simulator/main.ts. */
export interface SimulatorOptions {
  /** moto's base URL, e.g. http://127.0.0.1:5000. */
  motoUrl: string;
  /** Behaviour modules to load; default: every module in simulator/behaviours/index.ts. */
  behaviours?: readonly BehaviourFactory[];
  log?: Logger;
  /** Oldest calls are dropped beyond this many. */
  maxRecordedCalls?: number;
  /** Run behaviour ticks on their intervals (default true); tests may drive them via `POST /_sim/tick`. */
  autoTick?: boolean;
  /** Source of randomness for rule probabilities (tests make it deterministic). */
  random?: () => number;
}
