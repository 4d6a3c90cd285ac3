/**
 * Who asked or approved, as one string: `slack:<user id>` (Slack), `cli:<unix user>` (the CLI: only as
 * strong as Temporal namespace access), `token:<name>` (a router HTTP token), or `person:<name>` (a
 * person of the config's `people` table, config/people.ts). Here, not in config/, because the deploy
 * workflow checks approvals with it and workflows take only types from config/.
 */
export type Identity = `${'slack' | 'cli' | 'token' | 'person'}:${string}`;

const IDENTITY = /^(slack|cli|token|person):[^\s:][^\s]{0,254}$/;

export function isIdentity(s: unknown): s is Identity {
  return typeof s === 'string' && IDENTITY.test(s);
}
