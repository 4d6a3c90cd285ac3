import type { WorkflowKind } from './workflow-kinds';

/**
 * Workflow ids are part of the outside contract (docs/contract.md, Ids).
 *
 * Many accounts (config/placement.ts): an id keyed by an AWS name that two accounts could both have
 * (an instance id, an alarm name) carries the account right after the kind when the account is not
 * the worker's own (`memberAccount`): `drain-222222222222-i-0abc…`, `incident-alarm-222222222222-5xx`.
 * The worker's own account keeps the single-account ids unchanged, so nothing migrates. Ids keyed by
 * a config cluster name (capacity, deploy) are unique already: cluster names are unique in the config.
 */

const qualified = (memberAccount: string | undefined, rest: string): string => (memberAccount ? `${memberAccount}-${rest}` : rest);

export const drainWorkflowId = (instanceId: string, memberAccount?: string): string => `drain-${qualified(memberAccount, instanceId)}`;
/**
 * The drain coordinator of an account and region (workflows/drain-coordinator/): one per placement,
 * `drain-coordinator` in a single-account config. Not keyed by cluster: the router does not know an
 * instance's cluster, only where its event came from.
 */
export const drainCoordinatorWorkflowId = (placement?: { account: string; region: string }): string =>
  placement ? `drain-coordinator-${placement.account}-${placement.region}` : 'drain-coordinator';
/**
 * A cluster's voluntary-drain budget (workflows/drain-budget/): keyed by the config cluster name,
 * unique already. Not `drain-<…>`-shaped like a drain (an instance id never starts with `budget-`).
 */
export const drainBudgetWorkflowId = (cluster: string): string => `drain-budget-${cluster}`;
export const launchWorkflowId = (instanceId: string, memberAccount?: string): string => `launch-${qualified(memberAccount, instanceId)}`;
export const capacityWorkflowId = (cluster: string): string => `capacity-${cluster}`;
/** One readiness window on one cluster (a window over several clusters is one workflow per cluster). */
export const readinessWorkflowId = (cluster: string, id: string): string => `readiness-${cluster}-${id}`;
export const deployWorkflowId = (cluster: string, service: string): string => `deploy-${cluster}-${service}`;
/** A release names its change, not a cluster or a service: its id is the one the requester gave it. */
export const releaseWorkflowId = (id: string): string => `release-${id}`;
/** What a release's own id may be: it goes into a workflow id, a visibility filter and a CLI argument unquoted. */
export const RELEASE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const alarmIncidentWorkflowId = (alarmName: string, memberAccount?: string): string => `incident-alarm-${qualified(memberAccount, alarmName)}`;
/** The incident a drain asks for when it misses its deadline; a second miss for the instance joins it. */
export const drainIncidentWorkflowId = (instanceId: string, memberAccount?: string): string => `incident-drain-${qualified(memberAccount, instanceId)}`;

/** The account an id carries for a placement: a member account's, none for the worker's own. */
export const memberAccountOf = (placement: { account: string; member?: boolean } | undefined): string | undefined =>
  placement?.member ? placement.account : undefined;

/** `incident-<slug>-<short-id>`: the slug keeps ids readable in the Web UI, the short id keeps them unique. */
export function declaredIncidentWorkflowId(title: string, shortId: string): string {
  const slug =
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40)
      .replace(/-+$/g, '') || 'incident';
  return `incident-${slug}-${shortId}`;
}

const ACCOUNT = '(?:\\d{12}-)?';
const INSTANCE = 'i-[0-9a-f]{8,17}';
const BY_SHAPE: [RegExp, WorkflowKind][] = [
  [/^drain-coordinator(?:-\d{12}-[a-z0-9-]{1,30})?$/, 'drain'],
  [new RegExp(`^drain-${ACCOUNT}${INSTANCE}$`), 'drain'],
  [new RegExp(`^launch-${ACCOUNT}${INSTANCE}$`), 'launch'],
  // Alarm, drain and declared incidents: `incident-` and a name (an alarm's name may hold most characters).
  [/^incident-[^\s]{1,500}$/, 'incident'],
  [/^release-[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'release'],
];

/**
 * The kind of fleetops workflow an id names, from its shape alone (the ids above) and the config's
 * clusters and services; undefined for an id no fleetops starter makes (another application's
 * workflow in the same namespace), so a chat front end can refuse it without asking Temporal.
 */
export function fleetopsKindOfId(id: string, config: { clusters: Record<string, unknown>; services: { cluster: string; name: string }[] }): WorkflowKind | undefined {
  for (const [re, kind] of BY_SHAPE) if (re.test(id)) return kind;
  if (Object.keys(config.clusters).some((c) => id === capacityWorkflowId(c))) return 'capacity';
  if (Object.keys(config.clusters).some((c) => id === drainBudgetWorkflowId(c))) return 'drain';
  if (config.services.some((s) => id === deployWorkflowId(s.cluster, s.name))) return 'deploy';
  return undefined;
}
