/** What one storm measures (bench/spot-storm.ts), and the percentiles every figure is given in. */

export type Scenario = 'clean' | 'limits' | 'worker-kill';

export interface Percentiles {
  min: number;
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export interface StormResult {
  n: number;
  scenario: Scenario;
  /** Worker processes polling the queues (FLEETOPS_STACK_WORKERS). */
  workers: number;
  /** The coordinator in a worker process of its own (FLEETOPS_STACK_COORDINATOR_WORKER), not among `workers`. */
  coordinatorWorker: boolean;
  /** Router + Temporal: event to the drain workflow's start. */
  eventToStartMs: Percentiles;
  eventToDrainingMs: Percentiles;
  eventToDrainedMs: Percentiles;
  drainedBeforeDeadline: number;
  outcomes: Record<string, number>;
  /** The drains' set-draining step by what it says: set by the drain itself, or found already DRAINING (the coordinator's head start). */
  setDraining: Record<string, number>;
  awsCallsPerInstance: Record<string, number>;
  workerRssMaxMiB: number | null;
  /** The fair limit: every instance's DRAINING straight to the endpoint, all at once, 10 a call as the coordinator batches them. */
  plainDrainingCallMs: Percentiles;
  /** The same, one call per instance. */
  plainSingleCallMs: Percentiles;
  /** Instances the plain calls did not set (errors, or gone already): a limit made of those would flatter. */
  plainFailed: { batched: number; single: number; fromIds: number };
  /** From the instance ids, as the coordinator starts: the cluster listed and described, then 10 a call (plainFromInstanceIds). */
  plainFromIdsMs: Percentiles;
  p99RatioToPlain: number;
  /** Workflow-task pollers on the drain queue, sampled every 500 ms during the storm. */
  pollers: { normal: Percentiles; sticky: Percentiles };
  /** worker-kill: seconds from the kill until the killed worker's replacement polled the drain task queue (with 2, the other polled throughout). */
  workerDownSeconds?: number;
  /** worker-kill: seconds into the storm the first worker was SIGKILLed (when a tenth of the drains had ended). */
  killAtSeconds?: number;
  /** CPU seconds each stack process used from the first event to the last drain's end, and that span. */
  cpuSeconds: Record<string, number>;
  stormSeconds: number;
  /** Where event→DRAINING goes, from the workflow histories and the simulator's call record. */
  breakdownMs: Record<string, Percentiles>;
  /** The first instance's drain history, one line per event (type, and the activity, marker, search attributes or signal it is about). */
  sampleHistory: string[];
  /** Seconds from the first warning: each cluster sweep's start, each DescribeContainerInstances answer, and how many instances became DRAINING in each tenth of a second. */
  awsTimeline: { sweepsStartedAtS: number[]; describesAnsweredAtS: number[]; drainingByTenth: Record<string, number> };
  /** Requests of 100 events the router answered 503 (Temporal slower than 2 s), sent again after Retry-After. */
  routerRetries503: number;
  /** Temporal + worker + router CPU seconds per drain (the product's cost; moto and the simulator apart). */
  productCpuPerDrain: number;
  /** The drain coordinator's counts at the end (workflows/drain-coordinator/), and its calls' queue and run times. */
  /** The capacity workflows (every run): the drains' replacement requests are signals in their histories. */
  capacity: { runs: number; events: number };
  coordinator?: { counts: Record<string, number>; calls: { queueMs: Percentiles; runMs: Percentiles; instances: Percentiles }; timeline: string[] };
}

export function percentiles(values: number[]): Percentiles {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => (v.length ? v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)]! : NaN);
  return { p50: at(0.5), p99: at(0.99), max: v.length ? v[v.length - 1]! : NaN, count: v.length, min: v.length ? v[0]! : NaN };
}
