/**
 * The kinds of fleetops workflow, as operators filter them (`FleetopsKind`, docs/contract.md, Search
 * attributes), as webhooks select them and as the CLI's `--kind` takes them. `launch` is an ASG launch
 * lifecycle action waiting for its instance to join; `readiness` a window that prepares a cluster for a known spike; `release` one change
 * deployed to many services in waves (each service's own deploy stays `deploy`); the drain coordinator counts as `drain`. Defined once; schemas are built from these lists.
 */
export const WORKFLOW_KINDS = ['drain', 'capacity', 'deploy', 'incident', 'launch', 'readiness', 'release'] as const;
export type WorkflowKind = (typeof WORKFLOW_KINDS)[number];

/** Kinds of workflow that open incidents of their own (an incident never opens another). */
export const AUTOMATION_KINDS = ['drain', 'capacity', 'deploy', 'readiness'] as const satisfies readonly WorkflowKind[];
export type AutomationKind = (typeof AUTOMATION_KINDS)[number];
