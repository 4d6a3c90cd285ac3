import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs for the processes (worker, router, CLI, stack). Tokens and auth headers are
 * redacted wherever they appear; event bodies are logged only at debug level by the code that has them.
 */
export function createLogger(name: string, level = process.env.FLEETOPS_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    base: { process: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
