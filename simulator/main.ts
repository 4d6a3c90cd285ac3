/**
 * The simulator as a process (used by the local stack): moto_server on an internal port, the
 * simulator in front of it on FLEETOPS_AWS_PORT (default 4566), both on 127.0.0.1.
 *
 * Env: FLEETOPS_AWS_PORT, FLEETOPS_AWS_HOST (default 127.0.0.1), FLEETOPS_MOTO_BIN,
 * FLEETOPS_MOTO_PORT (default: a free port), FLEETOPS_MOTO_LOG (moto's request log file).
 * Prints one JSON line `{"msg":"simulator ready",...}` when both answer. SIGINT/SIGTERM stop both;
 * moto also dies with this process however it ends (see simulator/moto.ts).
 */
import { z } from 'zod';
import { createLogger } from '../common/logger';
import { startMoto } from './moto';
import { Simulator } from './server';

const envSchema = z.object({
  FLEETOPS_AWS_PORT: z.coerce.number().int().min(1).max(65_535).default(4566),
  FLEETOPS_AWS_HOST: z.string().default('127.0.0.1'),
  FLEETOPS_MOTO_BIN: z.string().optional(),
  FLEETOPS_MOTO_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  FLEETOPS_MOTO_LOG: z.string().optional(),
});

async function main(): Promise<void> {
  const log = createLogger('simulator');
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const i of parsed.error.issues) log.error({ field: i.path.join('.') }, i.message);
    process.exit(2);
  }
  const env = parsed.data;
  // Behaviours call moto through the SDK's default credential chain; moto accepts any credentials.
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';

  const moto = await startMoto({ bin: env.FLEETOPS_MOTO_BIN, port: env.FLEETOPS_MOTO_PORT, logFile: env.FLEETOPS_MOTO_LOG });
  const simulator = new Simulator({ motoUrl: moto.url, log });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'simulator stopping');
    await simulator.close().catch((err: unknown) => log.warn({ err }, 'simulator close failed'));
    await moto.stop().catch((err: unknown) => log.warn({ err }, 'moto stop failed'));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    const { url } = await simulator.listen(env.FLEETOPS_AWS_PORT, env.FLEETOPS_AWS_HOST);
    log.info({ endpoint: url, moto: moto.url, motoStartMs: moto.startMs, behaviours: simulator.behaviours.map((b) => b.name) }, 'simulator ready');
  } catch (err) {
    log.error({ err }, 'simulator failed to listen');
    await moto.stop();
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`fleetops simulator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
