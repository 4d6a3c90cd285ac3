/**
 * What a router HTTP token may make the router do (router/authority.ts says what each allows). Here,
 * not in router/, because the config (router.tokens) names them too.
 */
export const ROUTER_SCOPES = ['deploy', 'incident', 'force', 'aws-events'] as const;
export type RouterScope = (typeof ROUTER_SCOPES)[number];
