import type { DryRunCall } from '../../contracts/controls';
import { awsCall } from './errors';

/**
 * Every AWS call that changes something goes through here. In dryRun the call is not made; it is
 * returned as a DryRunCall, which lands in the activity result (so in the workflow history) and the
 * workflow adds it to its `status.dryRunCalls`.
 */
export type Mutation<T> = { dryRun: false; result: T } | { dryRun: true; call: DryRunCall };

export async function mutatingAwsCall<T>(
  dryRun: boolean | undefined,
  action: string,
  params: Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<Mutation<T>> {
  if (dryRun) return { dryRun: true, call: { action, params } };
  return { dryRun: false, result: await awsCall(action, fn) };
}
