import type { TestWorkflowEnvironment } from '@temporalio/testing';

export default async function globalTeardown(): Promise<void> {
  const envs = (globalThis as { __fleetopsEnvs?: TestWorkflowEnvironment[] }).__fleetopsEnvs ?? [];
  await Promise.all(envs.map((e) => e.teardown()));
}
