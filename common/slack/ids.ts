/**
 * The names fleetops gives its Slack objects, shared by what posts them (the notification activity),
 * what answers them (the router's Slack app) and the local stack's click stand-in: the gate buttons'
 * action ids and the message metadata event types that say which workflow a thread belongs to.
 */

export const APPROVE_ACTION_ID = 'fleetops_deploy_approve';
export const ABORT_ACTION_ID = 'fleetops_deploy_abort';
/** Message metadata event types (chat.postMessage `metadata`): which workflow a thread belongs to. */
export const DEPLOY_THREAD_EVENT = 'fleetops_deploy';
export const INCIDENT_THREAD_EVENT = 'fleetops_incident';
