import type { Emulator } from '../../testkit/emulator';

export interface UseEmulatorOptions {
  /** Reset the emulator before each test (default true). */
  resetEach?: boolean;
}

/**
 * The jest hooks of a file that has one emulator for all its tests: `start` runs in beforeAll, the
 * emulator stops in afterAll and, unless `resetEach` is false, is reset in beforeEach.
 *
 *   const emu = useEmulator(() => startEmulator({ autoTick: false }));
 *
 * The returned emulator reads the one beforeAll started, so use it in hooks and tests, not while the
 * file loads. The file itself calls startEmulator: test/harness/tiers.js puts a file in the aws tier
 * by that call, and does not look inside the harness or testkit/emulator.ts.
 *
 * Jest runs `test.concurrent` tests without beforeEach: a file of them passes `resetEach: false`
 * and gives each test AWS resources of its own instead.
 *
 * Hooks of one kind run in the order they are declared: a file whose own afterAll must run before the
 * emulator stops (SDK clients of its own) declares it before calling useEmulator.
 */
export function useEmulator(start: () => Promise<Emulator>, { resetEach = true }: UseEmulatorOptions = {}): Emulator {
  let started: Emulator | undefined;
  const current = (): Emulator => {
    if (!started) throw new Error('the emulator starts in beforeAll: use it in hooks and tests');
    return started;
  };
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    await started?.stop();
  });
  if (resetEach) {
    beforeEach(async () => {
      await current().reset();
    });
  }
  return {
    get endpoint() {
      return current().endpoint;
    },
    region: 'us-east-1',
    get motoUrl() {
      return current().motoUrl;
    },
    get aws() {
      return current().aws;
    },
    get worker() {
      return current().worker;
    },
    get sim() {
      return current().sim;
    },
    get simulator() {
      return current().simulator;
    },
    get motoStartMs() {
      return current().motoStartMs;
    },
    reset: () => current().reset(),
    stop: () => current().stop(),
  };
}
