import { createSimControl } from '../../simulator/control-client';
import { DEMO } from './demo';

/**
 * What the pools launch from now on boots and joins cluster `demo` (simulator/behaviours/capacity.ts):
 * moto launches instances but has no ECS agent to register them.
 */
export async function simulateNewCapacity(endpoint: string): Promise<void> {
  await createSimControl(endpoint).request('POST', 'capacity/config', { cluster: DEMO.cluster, ...DEMO.capacitySimulation });
}

/**
 * moto's ECS tasks have a managed lifecycle whose default progression is "immediate": the first
 * DescribeTasks already reports a task at the end of its lifecycle (stopped). A real task stays
 * RUNNING until something stops it, so the stack sets the progression to manual with a count that
 * is never reached; StopTask still stops a task at once.
 */
export async function keepTasksRunning(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint.replace(/\/$/, '')}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_name: 'ecs::task', transition: { progression: 'manual', times: 1_000_000_000 } }),
    signal: AbortSignal.timeout(5_000),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`seed: could not set the emulator's ECS task lifecycle (HTTP ${res.status})`);
}
