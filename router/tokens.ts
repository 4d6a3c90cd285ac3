import type { FleetopsConfig } from '../config/schema';
import { DEFAULT_TOKEN_NAME, DEFAULT_TOKEN_SCOPES, type RouterToken } from './authority';

/**
 * POST /events' tokens: FLEETOPS_ROUTER_TOKEN as `default` (deploy, incident), then the config's
 * router.tokens (config/router.ts, secrets already resolved). A config token with the default's value
 * is refused: a request would act under one of two names.
 */
export function routerTokens(defaultSecret: string, config: Pick<FleetopsConfig, 'router'>): { ok: true; tokens: RouterToken[] } | { ok: false; error: string } {
  const configured = config.router.tokens;
  const clash = configured.find((t) => t.secret === defaultSecret);
  if (clash) return { ok: false, error: `router.tokens: "${clash.name}" has the same value as FLEETOPS_ROUTER_TOKEN: each token needs its own` };
  return { ok: true, tokens: [{ name: DEFAULT_TOKEN_NAME, secret: defaultSecret, scopes: DEFAULT_TOKEN_SCOPES }, ...configured] };
}
