import type { Command } from 'commander';
import { isGrpcServiceError } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { ALL_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import type { CommandContext } from '../context';
import { failedError } from '../errors';
import type { CommandRunner } from '../program';

/** gRPC status ALREADY_EXISTS (the code is fixed by the gRPC spec). */
const GRPC_ALREADY_EXISTS = 6;

/**
 * `fleetops setup`: registers the search attributes (docs/contract.md, Search attributes) on a real cluster through the
 * OperatorService (the local stack registers them at start instead). Idempotent: attributes already
 * registered as Keyword are left alone; one registered with another type is reported and fails.
 */
export function registerSetupCommand(program: Command, run: CommandRunner): void {
  program
    .command('setup')
    .description('register the fleetops search attributes in the namespace (safe to run again)')
    .action(run(setupCommand));
}

export interface SetupResult {
  address: string;
  namespace: string;
  added: string[];
  alreadyRegistered: string[];
}

async function registeredTypes(ctx: CommandContext, namespace: string): Promise<Map<string, number>> {
  const client = await ctx.client();
  const res = await ctx.withDeadline(() => client.connection.operatorService.listSearchAttributes({ namespace }));
  const types = new Map<string, number>();
  for (const map of [res.systemAttributes, res.customAttributes]) {
    for (const [name, type] of Object.entries(map ?? {})) types.set(name, Number(type));
  }
  return types;
}

async function setupCommand(ctx: CommandContext, _cmd: Command): Promise<void> {
  const { address, namespace } = ctx.target();
  const keyword = encodeSearchAttributeIndexedValueType('KEYWORD')!;
  const client = await ctx.client();

  const before = await registeredTypes(ctx, namespace);
  const conflicts = ALL_SEARCH_ATTRIBUTES.filter((k) => before.has(k.name) && before.get(k.name) !== keyword).map((k) => k.name);
  if (conflicts.length > 0) {
    throw failedError(`already registered with a type other than Keyword: ${conflicts.join(', ')} (namespace ${namespace})`, {
      conflicts,
    });
  }
  const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !before.has(k.name)).map((k) => k.name);
  if (missing.length > 0) {
    try {
      await ctx.withDeadline(() =>
        client.connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map((name) => [name, keyword])),
        }),
      );
    } catch (err) {
      // Another setup run (or the stack) registered them in between: fine if they are now all there.
      if (!(isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS)) throw err;
    }
    const after = await registeredTypes(ctx, namespace);
    const stillMissing = missing.filter((name) => after.get(name) !== keyword);
    if (stillMissing.length > 0) throw failedError(`not registered after adding: ${stillMissing.join(', ')}`, { stillMissing });
  }
  const result: SetupResult = {
    address,
    namespace,
    added: missing,
    alreadyRegistered: ALL_SEARCH_ATTRIBUTES.map((k) => k.name).filter((n) => !missing.includes(n)),
  };
  ctx.print(result, [
    `search attributes in namespace ${namespace} at ${address}:`,
    ...result.added.map((n) => `  ${n}  Keyword  added`),
    ...result.alreadyRegistered.map((n) => `  ${n}  Keyword  already registered`),
  ]);
}
