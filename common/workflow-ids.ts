/** Workflow ids are part of the outside contract (PRODUCT.md, "Events and what they start"). */

export const drainWorkflowId = (instanceId: string): string => `drain-${instanceId}`;
export const launchWorkflowId = (instanceId: string): string => `launch-${instanceId}`;
export const capacityWorkflowId = (cluster: string): string => `capacity-${cluster}`;
export const deployWorkflowId = (cluster: string, service: string): string => `deploy-${cluster}-${service}`;
export const alarmIncidentWorkflowId = (alarmName: string): string => `incident-alarm-${alarmName}`;
/** The incident a drain asks for when it misses its deadline; a second miss for the instance joins it. */
export const drainIncidentWorkflowId = (instanceId: string): string => `incident-drain-${instanceId}`;

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
