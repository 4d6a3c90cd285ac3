import { z } from 'zod';
import { ROUTER_SCOPES } from '../common/router-scopes';
import { resolveSecret, secretFile, secretValue } from './secrets';

/**
 * The router's HTTP tokens beyond FLEETOPS_ROUTER_TOKEN (which is `default`: deploy and incident).
 * Each has a name (what logs and a deploy's requester show: `token:<name>`), its scopes
 * (router/authority.ts) and its value as a `${ENV_VAR}` reference (token) or a file (tokenFile);
 * never the value itself.
 *
 *   router:
 *     tokens:
 *       - { name: release-bot, scopes: [deploy], token: '${RELEASE_BOT_TOKEN}' }
 *       - { name: oncall, scopes: [deploy, force, incident], tokenFile: /run/secrets/oncall-token }
 */
export const ROUTER_TOKEN_MIN_LENGTH = 16;
export const RESERVED_TOKEN_NAME = 'default';

const routerTokenSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a token is named with letters, digits, dot, dash or underscore (at most 64)')
      .refine((n) => n !== RESERVED_TOKEN_NAME, `"${RESERVED_TOKEN_NAME}" is FLEETOPS_ROUTER_TOKEN's name`),
    scopes: z.array(z.enum(ROUTER_SCOPES)).min(1, `name at least one of ${ROUTER_SCOPES.join(', ')}`),
    token: secretValue.optional(),
    tokenFile: secretFile.optional(),
  })
  .strict()
  .transform((t, ctx) => {
    const secret = resolveSecret(t, 'token', ctx, { literal: false, required: true });
    if (secret !== undefined && secret.length < ROUTER_TOKEN_MIN_LENGTH) {
      ctx.addIssue({ code: 'custom', path: [t.tokenFile !== undefined ? 'tokenFile' : 'token'], message: `must be a secret of at least ${ROUTER_TOKEN_MIN_LENGTH} characters` });
    }
    return { name: t.name, scopes: [...new Set(t.scopes)], secret: secret ?? '' };
  });

export const routerSchema = z
  .object({ tokens: z.array(routerTokenSchema).default([]) })
  .strict()
  .superRefine((r, ctx) => {
    const byName = new Map<string, number>();
    const bySecret = new Map<string, number>();
    r.tokens.forEach((t, i) => {
      const other = byName.get(t.name);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'name'], message: `tokens[${other}] is named "${t.name}" too` });
      byName.set(t.name, i);
      // Two names for one value: a request would act under whichever came first. (The value is not shown.)
      const same = t.secret ? bySecret.get(t.secret) : undefined;
      if (same !== undefined) ctx.addIssue({ code: 'custom', path: ['tokens', i], message: `has the same value as tokens[${same}]: each token needs its own` });
      if (t.secret) bySecret.set(t.secret, i);
    });
  });

export type RouterConfig = z.infer<typeof routerSchema>;
