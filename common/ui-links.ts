/**
 * Links into the Temporal Web UI (`temporal.uiUrl`), which notifications, incident records, the CLI
 * and the Slack app all print. Pure, so any edge may use it without pulling in an activity.
 */

export function workflowUiLink(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
