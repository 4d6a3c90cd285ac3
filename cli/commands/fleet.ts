import type { Command } from 'commander';
import { clusterNameSchema } from '../../common/operator-input';
import { runningWindows } from '../../contracts/readiness/client';
import type { FleetopsConfig } from '../../config/schema';
import { loadCliConfig } from '../config';
import type { CommandContext } from '../context';
import { CliError } from '../errors';
import { clusterReport, clustersToReport } from '../fleet-report';
import { fleetLines } from '../fleet-table';
import type { CommandRunner } from '../program';
import { parseArg } from '../validation';

/**
 * `fleetops fleet [cluster]`: per cluster, its pools (market, instance types, zones, units wanted and
 * ACTIVE), spot share, on-demand fallback, unmet units, interruptions in the last 24 h, readiness
 * windows and the savings estimate against on demand; `--json` for scripts. The same figures as the
 * worker's fleet gauges (docs/operating.md, Metrics), from the same capacity workflow status.
 */
export function registerFleetCommand(program: Command, run: CommandRunner): void {
  program
    .command('fleet')
    .description('per cluster: pools (market, types, zones, units wanted/ACTIVE), spot share, fallback, interruptions (24 h), readiness windows, savings vs on demand')
    .argument('[cluster]', 'one cluster (default: every cluster with a capacity workflow, and every configured one)')
    .action(run(fleetCommand));
}

/** The config when one is found: it gives regions and the on-demand price table, but the report works without. */
function optionalConfig(ctx: CommandContext): FleetopsConfig | undefined {
  try {
    return loadCliConfig(ctx, 'fleet');
  } catch (err) {
    const explicit = ctx.options.config ?? ctx.io.env.FLEETOPS_CONFIG;
    if (err instanceof CliError && !explicit) return undefined;
    throw err;
  }
}

async function fleetCommand(ctx: CommandContext, cmd: Command): Promise<void> {
  const asked = cmd.processedArgs[0] === undefined ? undefined : parseArg(clusterNameSchema, cmd.processedArgs[0], 'cluster');
  const config = optionalConfig(ctx);
  const client = await ctx.client();
  const clusters = await clustersToReport(client, config, asked);
  const deps = { client, config, readinessWindows: (cluster: string) => runningWindows(client, (fn) => ctx.withDeadline(fn), cluster) };
  const reports = [];
  // One cluster after another: each asks a capacity workflow, lists drains and may ask the Price List API.
  for (const cluster of clusters) reports.push(await clusterReport(ctx, deps, cluster));
  ctx.print({ clusters: reports }, fleetLines(reports));
}
