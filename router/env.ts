import { z } from 'zod';
import { DEFAULT_MAX_REQUESTS_IN_FLIGHT, DEFAULT_MAX_WORKFLOWS_PER_REQUEST } from './http';

/**
 * The router's environment, validated at start like the config: a bad value is named with what it
 * must be, and the process exits 2 before it listens (router/main.ts).
 */
const int = (min: number, max: number, what: string) =>
  z
    .string()
    .regex(/^\d+$/, `must be ${what}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be ${what}`);

export const routerEnvSchema = z.object({
  FLEETOPS_ROUTER_TOKEN: z.string({ error: 'must be set to a secret of at least 16 characters' }).min(16, 'must be a secret of at least 16 characters'),
  FLEETOPS_ROUTER_HOST: z.string().min(1).default('127.0.0.1'),
  FLEETOPS_ROUTER_PORT: int(0, 65_535, 'a TCP port number (0-65535)').default(8787),
  /** Slack's own listener (/slack/* only): the one port to expose to the internet. Unset: Slack shares FLEETOPS_ROUTER_PORT. */
  FLEETOPS_SLACK_PORT: int(0, 65_535, 'a TCP port number (0-65535)').optional(),
  /** Where the Slack listener binds; FLEETOPS_ROUTER_HOST when unset. */
  FLEETOPS_SLACK_HOST: z.string().min(1).optional(),
  FLEETOPS_ROUTER_MAX_WORKFLOWS_PER_REQUEST: int(1, 100_000, 'an integer from 1 to 100000 (workflows one request may start or signal)').default(DEFAULT_MAX_WORKFLOWS_PER_REQUEST),
  FLEETOPS_ROUTER_MAX_REQUESTS_IN_FLIGHT: int(1, 10_000, 'an integer from 1 to 10000 (POST /events requests worked on at once)').default(DEFAULT_MAX_REQUESTS_IN_FLIGHT),
  FLEETOPS_EVENTS_QUEUE_URL: z.url({ protocol: /^https?$/, error: 'must be the URL of an SQS queue' }).optional(),
  /** The kit's lifecycle queue (ASG lifecycle notifications sent straight to SQS); only with FLEETOPS_EVENTS_QUEUE_URL. */
  FLEETOPS_LIFECYCLE_QUEUE_URL: z.url({ protocol: /^https?$/, error: 'must be the URL of an SQS queue' }).optional(),
  FLEETOPS_ROUTER_SQS_MAX_IN_FLIGHT: int(1, 10_000, 'an integer from 1 to 10000 (SQS messages worked on at once)').default(40),
  FLEETOPS_ROUTER_DRY_RUN: z.enum(['0', '1'], { error: 'must be 0 or 1' }).default('0'),
});

export type RouterEnv = z.infer<typeof routerEnvSchema>;

/** The parsed environment, or one message per bad variable (`NAME: must be ...`). */
export function parseRouterEnv(env: NodeJS.ProcessEnv): { ok: true; env: RouterEnv } | { ok: false; errors: string[] } {
  const parsed = routerEnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (parsed.success) return { ok: true, env: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}${typeof env[String(i.path[0])] === 'string' && !String(i.path[0]).includes('TOKEN') ? ` (got ${JSON.stringify(env[String(i.path[0])])})` : ''}`) };
}
