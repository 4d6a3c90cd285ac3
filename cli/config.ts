import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config/load';
import type { FleetopsConfig } from '../config/schema';
import { checkoutRoot } from './connection';
import type { CommandContext } from './context';
import { usageError } from './errors';

/**
 * The fleetops config, for commands that need more than the Temporal address: `deploy` checks the
 * service's image repositories and puts its approvers in the deploy's input, as the router does.
 * From --config, else FLEETOPS_CONFIG, else ./fleetops.yaml, else the local stack's rendered config
 * (.run/fleetops.yaml in the working directory or this checkout).
 */
export function loadCliConfig(ctx: CommandContext, why: string): FleetopsConfig {
  const explicit = ctx.options.config ?? ctx.io.env.FLEETOPS_CONFIG;
  const root = checkoutRoot();
  const candidates = explicit
    ? [isAbsolute(explicit) ? explicit : resolve(ctx.io.cwd, explicit)]
    : [join(ctx.io.cwd, 'fleetops.yaml'), join(ctx.io.cwd, '.run', 'fleetops.yaml'), ...(root ? [join(root, '.run', 'fleetops.yaml')] : [])];
  const path = explicit ? candidates[0]! : candidates.find((p) => existsSync(p));
  if (!path) throw usageError(`${why}: give the config with --config or FLEETOPS_CONFIG (no ./fleetops.yaml or local stack config found)`);
  try {
    return loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) throw usageError(err.message);
    throw err;
  }
}
