import { createAwsClients, type AwsClients } from '../activities/aws/clients';
import { AWS_APP_IDS } from '../common/aws-app-ids';
import { createLogger } from '../common/logger';
import type { BehaviourFactory } from '../simulator/behaviour';
import { createSimControl, type SimControl } from '../simulator/control-client';
import { startMoto } from '../simulator/moto';
import { Simulator } from '../simulator/server';
import { MOTO_SERVER } from './paths';

/**
 * An AWS emulator: moto on a free port behind an in-process simulator on another. Tests start one per
 * file (test/harness/emulator.ts, useEmulator); benches start their own.
 *
 *   const emu = await startEmulator();
 *   await emu.sim.setFaults({ service: 'ecs', action: 'DescribeServices', fault: { kind: 'throttle' }, count: 1 });
 *   await emu.aws.ecs.send(...);
 *
 * `aws` makes one attempt per call (the production default: Temporal retries), so an injected fault
 * reaches the test as the error itself.
 */
export interface Emulator {
  /** The simulator's URL: the AWS endpoint for every service. */
  endpoint: string;
  region: 'us-east-1';
  motoUrl: string;
  /** SDK clients pointed at the simulator, for the test's own seeding and reading. */
  aws: AwsClients;
  /**
   * The worker's clients (app id fleetops-worker), for the product code under test: the simulator
   * records their calls as the worker's, for the IAM proof (scripts/iam/check-aws-calls.ts).
   */
  worker: AwsClients;
  /** Control client for the simulator (faults, rate limits, call record, behaviour routes). */
  sim: SimControl;
  /** The in-process simulator itself, for tests of the simulator. */
  simulator: Simulator;
  /** ms from spawning moto to moto answering. */
  motoStartMs: number;
  /** Empties moto and clears every simulator rule, limit, record and behaviour state. */
  reset(): Promise<void>;
  /** Stops the simulator and moto (waits until the moto process is gone). */
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Behaviour modules to load; default: all registered in simulator/behaviours/index.ts. */
  behaviours?: readonly BehaviourFactory[];
  /** Run behaviour ticks on their own intervals (default true); `sim.tick()` runs them on demand. */
  autoTick?: boolean;
  /** Source of randomness for rule probabilities. */
  random?: () => number;
}

// The SDK's default credential chain reads these; moto accepts any credentials.
process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
process.env.AWS_REGION ??= 'us-east-1';

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const moto = await startMoto({ bin: process.env.FLEETOPS_MOTO_BIN ?? MOTO_SERVER });
  let simulator: Simulator | undefined;
  try {
    simulator = new Simulator({
      motoUrl: moto.url,
      behaviours: opts.behaviours,
      autoTick: opts.autoTick,
      random: opts.random,
      log: createLogger('simulator', process.env.FLEETOPS_LOG_LEVEL ?? 'warn'),
    });
    const { url } = await simulator.listen(0);
    const aws = createAwsClients({ region: 'us-east-1', endpoint: url });
    const worker = createAwsClients({ region: 'us-east-1', endpoint: url, appId: AWS_APP_IDS.worker });
    const sim = createSimControl(url);
    const sm = simulator;
    let stopped = false;
    return {
      endpoint: url,
      region: 'us-east-1',
      motoUrl: moto.url,
      aws,
      worker,
      sim,
      simulator: sm,
      motoStartMs: moto.startMs,
      reset: () => sm.reset(),
      async stop() {
        if (stopped) return;
        stopped = true;
        aws.destroy();
        worker.destroy();
        await sm.close();
        await moto.stop();
      },
    };
  } catch (err) {
    await simulator?.close().catch(() => undefined);
    await moto.stop();
    throw err;
  }
}
