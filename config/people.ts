import type { FleetopsConfig } from './schema';

/**
 * One person across channels. Requests and approvals name an identity: `slack:<user id>` (Slack),
 * `cli:<unix user>` (the CLI: only as strong as Temporal namespace access), `token:<name>` (a router
 * HTTP token), or `person:<name>`. The config's `people` table says which identities are one person,
 * so "nobody approves their own deploy" holds whichever channel each side used. An identity the table
 * does not name is a person of its own.
 */
export { isIdentity, type Identity } from '../common/identity';

/** identity → person name, for every identity the config names. */
export function identityIndex(config: Pick<FleetopsConfig, 'people'>): Map<string, string> {
  const index = new Map<string, string>();
  for (const [person, p] of Object.entries(config.people)) {
    index.set(`person:${person}`, person);
    for (const u of p.slack) index.set(`slack:${u}`, person);
    for (const u of p.cli) index.set(`cli:${u}`, person);
  }
  return index;
}

/** The person an identity belongs to: `person:<name>`, or the identity itself when no person claims it. */
export function personOf(config: Pick<FleetopsConfig, 'people'>, identity: string): string {
  const person = identityIndex(config).get(identity);
  return person ? `person:${person}` : identity;
}

/** Every identity of the person an identity belongs to (itself included). */
export function identitiesOf(config: Pick<FleetopsConfig, 'people'>, identity: string): string[] {
  const person = identityIndex(config).get(identity);
  if (!person) return [identity];
  const p = config.people[person];
  return [`person:${person}`, ...p.slack.map((u) => `slack:${u}`), ...p.cli.map((u) => `cli:${u}`)];
}
