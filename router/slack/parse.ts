import { slackPerson } from '../../common/chat';
import { listed, ROLE_NAMES, roleNamed, SEVERITY_RANGE } from '../../common/incident/help-words';
import type { IncidentRole } from '../../common/incident/model';
import type { IncidentSeverity } from '../../contracts/incident/input';
import type { FleetopsConfig, ServiceConfig } from '../../config/schema';
import type { DeployWhen } from '../../contracts/deploy-trigger/start';
import { CommandError, parse, rest, tokens } from './parse-words';
import { parseDeployWhen, parseReadiness, parseSchedules, READINESS_ADD_USAGE, SCHEDULE_USAGE, type ReadinessCommand, type SchedulesCommand } from './parse-schedules';
import { parseRelease, RELEASE_START_USAGE, type ReleaseCommand } from './parse-release';
import { imageSchema, personSchema, severitySchema, textSchema, workflowIdSchema } from '../../common/operator-input';

/**
 * `/fleetops …` and `@fleetops …` text, parsed and validated before anything reaches Temporal, with
 * the CLI's own schemas (common/operator-input.ts) so a value the CLI refuses is refused here too. Pure: no
 * I/O, so every rule is testable without Slack or a server.
 */

export type SlashCommand =
  | { kind: 'help' }
  | { kind: 'deploy'; service: ServiceConfig; image: string }
  | { kind: 'schedule-deploy'; service: ServiceConfig; image: string; when: DeployWhen; name?: string }
  | ReadinessCommand
  | ReleaseCommand
  | SchedulesCommand
  | { kind: 'status'; target: string }
  | { kind: 'declare'; severity: IncidentSeverity; title: string }
  | IncidentUpdateCommand;

export { CommandError };

export type IncidentUpdateCommand =
  | { kind: 'note'; workflowId: string; text: string }
  | { kind: 'assign'; workflowId: string; role: IncidentRole; person: string }
  | { kind: 'resolve'; workflowId: string; text: string }
  | { kind: 'severity'; workflowId: string; severity: IncidentSeverity; reason: string };

export const HELP_TEXT = [
  '*fleetops* commands:',
  '`/fleetops deploy <service> <image>` start a canary deploy (service as `<name>`, `<cluster>/<name>` or `<cluster> <name>`)',
  '`/fleetops deploy <service> <image> at <time>` or `… cron "<expr>" [timezone <zone>]`, then `[name <name>]`: schedule it (time as 2025-06-01T14:00+09:00); it waits at a gate when it runs',
  '`/fleetops schedules` what is scheduled; `/fleetops schedules cancel <schedule-id>` cancel a scheduled deploy',
  `\`/fleetops ${READINESS_ADD_USAGE.replace('usage: /fleetops ', '')}\` add a readiness window (a capacity floor, maybe a deploy freeze)`,
  '`/fleetops readiness list [cluster]`, `readiness change <window-id> [level <n>] [from <time>] [to <time>] [reason <text>]`, `readiness cancel <window-id> [reason]`',
  `\`/fleetops ${RELEASE_START_USAGE.replace('usage: /fleetops ', '')}\` start a release: one image to the services picked, in waves`,
  '`/fleetops release status <id>`, `release approve <id> [wave <n>]`, `release continue <id>`, `release skip <id> <service>`, `release rollback <id> <reason>`',
  'Schedules, windows and releases are for the deployers of every service they touch; a wave is approved by an approver of each of its services, not its requester.',
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

const DEPLOY_USAGE = `usage: /fleetops deploy <service> <image>, or deploy <service> <image> ${SCHEDULE_USAGE}`;

/** `deploy <service> <image>` (the service as name, cluster/name or cluster name), maybe with when it runs. */
function parseDeploy(text: string, config: FleetopsConfig, now: Date): SlashCommand {
  const words = tokens(text).slice(1);
  const k = words.findIndex((w) => !w.quoted && (w.text === 'at' || w.text === 'cron'));
  const head = (k === -1 ? words : words.slice(0, k)).map((w) => w.text);
  if (head.length < 2 || head.length > 3) throw new CommandError(DEPLOY_USAGE);
  const service = findService(config, head.length === 3 ? `${head[0]}/${head[1]}` : head[0]!);
  const image = parse(imageSchema, head[head.length - 1], 'image');
  if (k === -1) return { kind: 'deploy', service, image };
  return { kind: 'schedule-deploy', service, image, ...parseDeployWhen(words.slice(k), now) };
}

/** `/fleetops <text>`. Throws CommandError with what to fix. `now` is for the times of schedules. */
export function parseSlashCommand(text: string, config: FleetopsConfig, now = new Date()): SlashCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb, ...args] = words;
  switch (verb) {
    case undefined:
    case 'help':
      return { kind: 'help' };
    case 'deploy':
      return parseDeploy(text, config, now);
    case 'readiness':
      return parseReadiness(text);
    case 'release':
      return parseRelease(text);
    case 'schedules':
      return parseSchedules(words);
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
