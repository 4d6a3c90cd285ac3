import { TASK_QUEUE_CRITICAL, TASK_QUEUE_DEFAULT, TASK_QUEUE_DRAIN_COORDINATOR } from '../common/task-queues';
import type { WorkflowKind } from '../common/workflow-kinds';

/**
 * Every workflow the workers register, once. The start options (contracts/<folder>/start.ts) take
 * their type, kind and task queue from here; the replay test, the layer test and `make
 * record-histories` take the list. A new workflow is a row here, its contract in contracts/<folder>/,
 * its code in workflows/<folder>/ (exported from workflows/index.ts) and its recorded histories in
 * test/histories/<folder>/; test/architecture/layers.test.ts fails while one of them is missing.
 *
 * Imported by workflow code too (a capacity scale-in starts drains), so it holds plain values only.
 */
export interface WorkflowEntry {
  /** The workflow type as registered: the function's name exported by workflows/index.ts. */
  readonly type: string;
  /** Its `FleetopsKind` search attribute, as operators filter and webhooks select it. */
  readonly kind: WorkflowKind;
  readonly taskQueue: string;
  /** The workflow ids it runs under, as common/workflow-ids.ts builds them (`[…]`: only for a member account or a placement). */
  readonly ids: string;
  /** workflows/<folder>/ (code), contracts/<folder>/ (input, messages, start options), test/histories/<folder>/ (recorded histories). */
  readonly folder: string;
  /** Where its workflow tests live, which record its histories (`make record-histories` runs them). */
  readonly testDir: string;
}

export const WORKFLOWS = {
  spotDrain: {
    type: 'spotDrain',
    kind: 'drain',
    // Its own queue, so no backlog of deploys or incidents can delay a two-minute drain.
    taskQueue: TASK_QUEUE_CRITICAL,
    ids: 'drain-[<member account>-]<instance-id>',
    folder: 'spot-drain',
    testDir: 'test/drain',
  },
  drainCoordinator: {
    type: 'drainCoordinator',
    kind: 'drain',
    // A queue of its own (common/task-queues.ts says why): nothing, not even the drains it speeds up, holds it up.
    taskQueue: TASK_QUEUE_DRAIN_COORDINATOR,
    ids: 'drain-coordinator[-<account>-<region>]',
    folder: 'drain-coordinator',
    testDir: 'test/drain',
  },
  drainBudget: {
    type: 'drainBudget',
    kind: 'drain',
    // Drains ask it before they set DRAINING: the same queue as the drains, so no other backlog delays them.
    taskQueue: TASK_QUEUE_CRITICAL,
    ids: 'drain-budget-<cluster>',
    folder: 'drain-budget',
    testDir: 'test/drain',
  },
  launch: {
    type: 'launch',
    kind: 'launch',
    // Not drain work: a launch waits minutes for the instance to boot, no two-minute deadline.
    taskQueue: TASK_QUEUE_DEFAULT,
    ids: 'launch-[<member account>-]<instance-id>',
    folder: 'launch',
    testDir: 'test/launch',
  },
  capacity: {
    type: 'capacity',
    kind: 'capacity',
    taskQueue: TASK_QUEUE_DEFAULT,
    ids: 'capacity-<cluster>',
    folder: 'capacity',
    testDir: 'test/capacity',
  },
  canaryDeploy: {
    type: 'canaryDeploy',
    kind: 'deploy',
    taskQueue: TASK_QUEUE_DEFAULT,
    ids: 'deploy-<cluster>-<service>',
    folder: 'canary-deploy',
    testDir: 'test/deploy',
  },
  deployTrigger: {
    type: 'deployTrigger',
    // Deploy work: operators filtering deploys, and the webhooks of deploys, see scheduled runs and their refusals too.
    kind: 'deploy',
    taskQueue: TASK_QUEUE_DEFAULT,
    ids: 'deploy-schedule-<cluster>-<service>-<n or name>-<time> (its Schedule appends the time)',
    folder: 'deploy-trigger',
    testDir: 'test/deploy-trigger',
  },
  incident: {
    type: 'incident',
    kind: 'incident',
    taskQueue: TASK_QUEUE_DEFAULT,
    ids: 'incident-alarm-[<member account>-]<alarm name>, incident-drain-[<member account>-]<instance-id>, incident-<slug>-<short id>',
    folder: 'incident',
    testDir: 'test/incident',
  },
  readiness: {
    type: 'readiness',
    kind: 'readiness',
    taskQueue: TASK_QUEUE_DEFAULT,
    ids: 'readiness-<cluster>-<id>',
    folder: 'readiness',
    testDir: 'test/readiness',
  },
  readinessTrigger: {
    type: 'readinessTrigger',
    // Readiness work: operators filtering readiness see the runs that start recurring windows too.
    kind: 'readiness',
    taskQueue: TASK_QUEUE_DEFAULT,
    ids: 'readiness-schedule-<cluster>-<id>-<time> (its Schedule appends the time)',
    folder: 'readiness-trigger',
    testDir: 'test/readiness-trigger',
  },
  readinessFeed: {
    type: 'readinessFeed',
    kind: 'readiness',
    taskQueue: TASK_QUEUE_DEFAULT,
    ids: 'readiness-feed-<name>-<time> (its Schedule appends the time)',
    folder: 'readiness-feed',
    testDir: 'test/readiness-feed',
  },
  release: {
    type: 'release',
    kind: 'release',
    // Its children, the services' canary deploys, inherit its task queue.
    taskQueue: TASK_QUEUE_DEFAULT,
    ids: 'release-<id>',
    folder: 'release',
    testDir: 'test/release',
  },
  releaseTrigger: {
    type: 'releaseTrigger',
    // Release work: operators filtering releases see the scheduled runs and their refusals too.
    kind: 'release',
    taskQueue: TASK_QUEUE_DEFAULT,
    ids: 'release-schedule-<id>-<n or name>-<time> (its Schedule appends the time)',
    folder: 'release-trigger',
    testDir: 'test/release-trigger',
  },
} as const satisfies Record<string, WorkflowEntry>;

export type WorkflowName = keyof typeof WORKFLOWS;
/** A folder of test/histories/ (and of workflows/ and contracts/). */
export type WorkflowFolder = (typeof WORKFLOWS)[WorkflowName]['folder'];

export const WORKFLOW_LIST: readonly WorkflowEntry[] = Object.values(WORKFLOWS);
