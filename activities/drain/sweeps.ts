/** What a worker's cluster sweeps hold, and what it remembers setting since (shared-calls.ts). */
import type { ContainerInstanceState } from './container-instances';

/** A cluster sweep and when it started: a status set before then is in it, one set after may not be. */
export interface Sweep {
  startedAtMs: number;
  byInstance: Map<string, ContainerInstanceState>;
}

/** A status this worker set on a container instance, and when the call that set it returned. */
export interface StatusSet {
  status: 'DRAINING' | 'ACTIVE';
  atMs: number;
}

/** How long a status set is remembered: far longer than any sweep is read (clusterIndexMaxAgeMs). */
export const STATUS_SET_KEPT_MS = 5 * 60_000;

/** A container instance as a sweep read it; `drainingSet`: this worker has since set it DRAINING (SharedDrainCalls.found). */
export interface FoundContainerInstance {
  cluster: string;
  state: ContainerInstanceState;
  drainingSet?: true;
}
