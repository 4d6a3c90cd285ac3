import { z } from 'zod';
import { slackUserId } from './slack';

/**
 * The people fleetops knows, each with the identities they use: Slack user ids and CLI (unix) user
 * names. An identity is written `slack:<user id>`, `cli:<user>`, `token:<router token name>` or
 * `person:<name>` (config/people.ts). Approvals compare people, not strings: Bob requesting in the CLI
 * and approving in Slack is one person and is refused.
 */
export const personSchema = z
  .object({
    slack: z.array(slackUserId).default([]),
    cli: z.array(z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, 'must be a unix user name')).default([]),
  })
  .strict();

export type PersonConfig = z.infer<typeof personSchema>;
