import { z } from 'zod';
import { slackPerson } from '../../common/chat';
import { listed, ROLE_NAMES, roleNamed, SEVERITY_RANGE } from '../../common/incident/help-words';
import type { IncidentRole } from '../../common/incident/model';
import type { IncidentSeverity } from '../../contracts/incident/input';
import type { FleetopsConfig, ServiceConfig } from '../../config/schema';
import { imageSchema, personSchema, severitySchema, textSchema, workflowIdSchema } from '../../common/operator-input';

/**
 * `/fleetops …` and `@fleetops …` text, parsed and validated before anything reaches Temporal, with
 * the CLI's own schemas (common/operator-input.ts) so a value the CLI refuses is refused here too. Pure: no
 * I/O, so every rule is testable without Slack or a server.
 */

export type SlashCommand =
  | { kind: 'help' }
  | { kind: 'deploy'; service: ServiceConfig; image: string }
  | { kind: 'status'; target: string }
  | { kind: 'declare'; severity: IncidentSeverity; title: string }
  | IncidentUpdateCommand;

export type IncidentUpdateCommand =
  | { kind: 'note'; workflowId: string; text: string }
  | { kind: 'assign'; workflowId: string; role: IncidentRole; person: string }
  | { kind: 'resolve'; workflowId: string; text: string }
  | { kind: 'severity'; workflowId: string; severity: IncidentSeverity; reason: string };

export class CommandError extends Error {
  override readonly name = 'CommandError';
}

export const HELP_TEXT = [
  '*fleetops* commands:',
  '`/fleetops deploy <service> <image>` start a canary deploy (service as `<name>` or `<cluster>/<name>`)',
  '`/fleetops status <workflow-id | instance-id | service>` phase and summary of a workflow',
  `\`/fleetops incident <${SEVERITY_RANGE}> <title>\` declare an incident (its thread is in the incidents channel)`,
  '`/fleetops incident note <incident-id> <text>` add to its timeline',
  `\`/fleetops incident assign <incident-id> <${ROLE_NAMES.join('|')}> <@person>\` set a role`,
  '`/fleetops incident resolve <incident-id> <how>` resolve it; the postmortem becomes due',
  `\`/fleetops incident severity <incident-id> <${SEVERITY_RANGE}> <why>\` escalate or de-escalate it`,
  `Incident changes are for the incident's ${listed(ROLE_NAMES, 'and')}, and the configured responders.`,
  "In an incident's thread, mention the app instead (`@fleetops note …`, `@fleetops assign commander @alice`, `@fleetops severity sev1 …`, `@fleetops resolve …`):",
  'Slack does not run custom slash commands in threads.',
  '`/fleetops help` this text',
].join('\n');

function parse<S extends z.ZodType>(schema: S, value: unknown, label: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const shown = typeof value === 'string' && value !== '' ? ` "${value.length > 80 ? `${value.slice(0, 77)}...` : value}"` : '';
  throw new CommandError(`invalid ${label}${shown}: ${r.error.issues[0]?.message ?? 'not valid'}`);
}

/** A configured service by `name` (unique across clusters) or `cluster/name`. */
export function findService(config: FleetopsConfig, arg: string): ServiceConfig {
  const [a, b] = arg.split('/');
  const matches = b === undefined ? config.services.filter((s) => s.name === a) : config.services.filter((s) => s.cluster === a && s.name === b);
  if (matches.length === 1) return matches[0]!;
  const known = config.services.map((s) => `${s.cluster}/${s.name}`).join(', ') || 'none';
  if (matches.length === 0) throw new CommandError(`no service "${arg}" in the config (services: ${known})`);
  throw new CommandError(`"${arg}" is in several clusters; name it as <cluster>/<service> (${matches.map((s) => `${s.cluster}/${s.name}`).join(', ')})`);
}

/**
 * A person as Slack sends a mention when the command escapes users (`<@U0123|alice>`), recorded as
 * `slack:U0123`; or a plain handle as the CLI takes it.
 */
export function parsePerson(arg: string | undefined): string {
  const mention = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(arg ?? '');
  if (mention) return slackPerson(mention[1]!);
  return parse(personSchema, arg ?? '', 'person');
}

/** Words of `text` after the first `n`, joined back as the user wrote them. */
function rest(text: string, n: number): string {
  let s = text.trim();
  for (let i = 0; i < n; i++) s = s.replace(/^\S+\s*/, '');
  return s;
}

export function parseIncidentUpdate(verb: string, text: string, workflowId: string | undefined, restFrom: number): IncidentUpdateCommand {
  const words = text.trim().split(/\s+/);
  const id = parse(workflowIdSchema, workflowId ?? '', 'incident id');
  switch (verb) {
    case 'note':
      return { kind: 'note', workflowId: id, text: parse(textSchema(4000), rest(text, restFrom), 'note text') };
    case 'resolve':
      return { kind: 'resolve', workflowId: id, text: parse(textSchema(4000), rest(text, restFrom), 'resolution') };
    case 'severity': {
      const severity = parse(severitySchema, words[restFrom] ?? '', 'severity');
      return { kind: 'severity', workflowId: id, severity, reason: parse(textSchema(2000), rest(text, restFrom + 1), 'reason') };
    }
    case 'assign': {
      const role = roleNamed(words[restFrom] ?? '');
      if (!role) throw new CommandError(`role must be one of ${ROLE_NAMES.join(', ')}`);
      if (words.length !== restFrom + 2) throw new CommandError('assign takes a role and one person, e.g. assign commander @alice');
      return { kind: 'assign', workflowId: id, role, person: parsePerson(words[restFrom + 1]) };
    }
    default:
      throw new CommandError(`unknown incident action "${verb}" (note, assign, severity or resolve)`);
  }
}

/** `/fleetops <text>`. Throws CommandError with what to fix. */
export function parseSlashCommand(text: string, config: FleetopsConfig): SlashCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb, ...args] = words;
  switch (verb) {
    case undefined:
    case 'help':
      return { kind: 'help' };
    case 'deploy': {
      if (args.length !== 2) throw new CommandError('usage: /fleetops deploy <service> <image>');
      return { kind: 'deploy', service: findService(config, args[0]!), image: parse(imageSchema, args[1], 'image') };
    }
    case 'status':
      if (args.length !== 1) throw new CommandError('usage: /fleetops status <workflow-id | instance-id | service>');
      return { kind: 'status', target: parse(workflowIdSchema, args[0], 'target') };
    case 'incident': {
      const sub = args[0];
      if (sub === 'note' || sub === 'assign' || sub === 'resolve' || sub === 'severity') return parseIncidentUpdate(sub, text, args[1], 3);
      if (sub === undefined) throw new CommandError(`usage: /fleetops incident <${SEVERITY_RANGE}> <title>, or incident note|assign|severity|resolve <incident-id> …`);
      const severity = parse(severitySchema, sub, 'severity');
      return { kind: 'declare', severity, title: parse(textSchema(200), rest(text, 2), 'title') };
    }
    default:
      throw new CommandError(`unknown command "${verb}"; /fleetops help lists them`);
  }
}

/** What follows `@fleetops` in an incident thread: `note …`, `assign <role> <person>`, `severity <sev> <why>`, `resolve …` (an `incident ` prefix is fine). */
export function parseThreadMention(text: string, workflowId: string): IncidentUpdateCommand {
  const cleaned = text.replace(/<@[UW][A-Z0-9]+(?:\|[^>]*)?>/, '').trim().replace(/^incident\s+/, '');
  const verb = cleaned.split(/\s+/)[0] ?? '';
  return parseIncidentUpdate(verb, cleaned, workflowId, 1);
}
