import { clusterNameSchema, textSchema, workflowIdSchema } from '../../common/operator-input';
import { cronSchema, deployAtSchema, isoWithZoneSchema, readinessLevelNumberSchema, scheduleIdSchema, scheduleNameSchema, timezoneSchema } from '../../common/time-input';
import type { DeployWhen } from '../../contracts/deploy-trigger/start';
import { readinessIdSchema } from '../../contracts/readiness/input';
import { CommandError, parse, rest, tokens, type Token } from './parse-words';

/**
 * `/fleetops readiness …`, `/fleetops schedules …` and the `at …` / `cron …` of a scheduled deploy, in
 * the words of the other commands: positional what, then `keyword value` pairs, a free text last
 * (`reason …`). Values go through the CLI's schemas (common/time-input.ts). Pure, as parse.ts is.
 */

export type ReadinessCommand =
  | { kind: 'readiness-add'; clusters: string[]; level: number; start: string; end: string; reason: string; timeZone?: string; id?: string }
  | { kind: 'readiness-list'; cluster?: string }
  | { kind: 'readiness-change'; workflowId: string; level?: number; start?: string; end?: string; reason?: string }
  | { kind: 'readiness-cancel'; workflowId: string; reason?: string };

export type SchedulesCommand = { kind: 'schedules' } | { kind: 'schedule-cancel'; scheduleId: string };

export const READINESS_ADD_USAGE = 'usage: /fleetops readiness add <cluster…> level <n> from <time> to <time> [timezone <zone>] [id <id>] reason <text>';
const READINESS_USAGE = `${READINESS_ADD_USAGE}; readiness list [cluster]; readiness change <window-id> [level <n>] [from <time>] [to <time>] [reason <text>]; readiness cancel <window-id> [reason]`;
export const SCHEDULE_USAGE = 'after the image: at <time with zone> | cron "<expr>" [timezone <zone>], then [name <name>]';

/** `keyword value` pairs, each keyword once and one of `allowed`. */
function pairs(words: readonly Token[], allowed: readonly string[], usage: string): Map<string, Token> {
  const out = new Map<string, Token>();
  for (let i = 0; i < words.length; i += 2) {
    const key = words[i]!;
    if (key.quoted || !allowed.includes(key.text)) throw new CommandError(`unexpected "${key.text}"; ${usage}`);
    if (out.has(key.text)) throw new CommandError(`"${key.text}" given twice; ${usage}`);
    const value = words[i + 1];
    if (value === undefined) throw new CommandError(`"${key.text}" needs a value; ${usage}`);
    out.set(key.text, value);
  }
  return out;
}

/** The text before the first word `reason`, and what follows it as the user wrote it (undefined: none). */
function splitReason(text: string): { head: string; reason: string | undefined } {
  const m = /^([\s\S]*?)(?:^|\s)reason(?:\s+([\s\S]*))?$/.exec(text.trim());
  return m ? { head: m[1]!, reason: m[2] ?? '' } : { head: text.trim(), reason: undefined };
}

const reasonOf = (text: string) => parse(textSchema(1000), text, 'reason');

/** `<clusters…> level <n> from <time> to <time> [timezone <zone>] [id <id>] reason <text>`, after `readiness add`. */
function parseAdd(text: string): ReadinessCommand {
  const { head, reason } = splitReason(text);
  const words = tokens(head);
  const k = words.findIndex((w) => !w.quoted && ['level', 'from', 'to', 'timezone', 'id'].includes(w.text));
  const clusters = (k === -1 ? words : words.slice(0, k)).map((w) => parse(clusterNameSchema, w.text, 'cluster'));
  const opts = pairs(k === -1 ? [] : words.slice(k), ['level', 'from', 'to', 'timezone', 'id'], READINESS_ADD_USAGE);
  const level = opts.get('level');
  const from = opts.get('from');
  const to = opts.get('to');
  if (clusters.length === 0 || !level || !from || !to || reason === undefined) throw new CommandError(READINESS_ADD_USAGE);
  const zone = opts.get('timezone');
  const id = opts.get('id');
  return {
    kind: 'readiness-add',
    clusters: [...new Set(clusters)],
    level: parse(readinessLevelNumberSchema, level.text, 'level'),
    start: parse(isoWithZoneSchema, from.text, 'from'),
    end: parse(isoWithZoneSchema, to.text, 'to'),
    reason: reasonOf(reason),
    ...(zone ? { timeZone: parse(timezoneSchema, zone.text, 'timezone') } : {}),
    ...(id ? { id: parse(readinessIdSchema, id.text, 'id') } : {}),
  };
}

function windowId(word: string | undefined): string {
  const id = parse(workflowIdSchema, word ?? '', 'window id');
  if (!id.startsWith('readiness-')) throw new CommandError(`"${id}" is not a readiness window (ids start with readiness-; /fleetops readiness list shows them)`);
  return id;
}

/** `/fleetops readiness <sub> …`; `text` is the whole command text. */
export function parseReadiness(text: string): ReadinessCommand {
  const words = text.trim().split(/\s+/);
  const sub = words[1];
  switch (sub) {
    case 'add':
      return parseAdd(rest(text, 2));
    case 'list':
      if (words.length > 3) throw new CommandError('usage: /fleetops readiness list [cluster]');
      return words[2] === undefined ? { kind: 'readiness-list' } : { kind: 'readiness-list', cluster: parse(clusterNameSchema, words[2], 'cluster') };
    case 'change': {
      const workflowId = windowId(words[2]);
      const { head, reason } = splitReason(rest(text, 3));
      const opts = pairs(tokens(head), ['level', 'from', 'to'], READINESS_USAGE);
      if (opts.size === 0 && reason === undefined) throw new CommandError('give at least one of level, from, to, reason: /fleetops readiness change <window-id> [level <n>] [from <time>] [to <time>] [reason <text>]');
      const level = opts.get('level');
      const from = opts.get('from');
      const to = opts.get('to');
      return {
        kind: 'readiness-change',
        workflowId,
        ...(level ? { level: parse(readinessLevelNumberSchema, level.text, 'level') } : {}),
        ...(from ? { start: parse(isoWithZoneSchema, from.text, 'from') } : {}),
        ...(to ? { end: parse(isoWithZoneSchema, to.text, 'to') } : {}),
        ...(reason !== undefined ? { reason: reasonOf(reason) } : {}),
      };
    }
    case 'cancel': {
      const workflowId = windowId(words[2]);
      const why = rest(text, 3).replace(/^reason(\s+|$)/, '');
      return { kind: 'readiness-cancel', workflowId, ...(why !== '' ? { reason: reasonOf(why) } : {}) };
    }
    default:
      throw new CommandError(READINESS_USAGE);
  }
}

/** `/fleetops schedules [cancel <schedule-id>]`. */
export function parseSchedules(words: readonly string[]): SchedulesCommand {
  if (words.length === 1) return { kind: 'schedules' };
  if (words[1] === 'cancel' && words.length === 3) return { kind: 'schedule-cancel', scheduleId: parse(scheduleIdSchema, words[2], 'schedule id') };
  throw new CommandError('usage: /fleetops schedules, or /fleetops schedules cancel <schedule-id>');
}

/**
 * When a scheduled deploy runs and its name, from the words after its image: `at <time>` or `cron
 * "<expr>"` (quoted, an @-shorthand, or five bare fields) `[timezone <zone>]`, then `[name <name>]`.
 */
export function parseDeployWhen(words: readonly Token[], now: Date): { when: DeployWhen; name?: string } {
  const flat: Token[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const w = words[i]!;
    flat.push(w);
    const next = words[i + 1];
    // Five bare cron fields are one value, as if they had been quoted.
    if (!w.quoted && w.text === 'cron' && next && !next.quoted && !next.text.startsWith('@')) {
      flat.push({ text: words.slice(i + 1, i + 6).map((t) => t.text).join(' '), quoted: true });
      i += 5;
    }
  }
  const opts = pairs(flat, ['at', 'cron', 'timezone', 'name'], SCHEDULE_USAGE);
  const at = opts.get('at');
  const cron = opts.get('cron');
  const zone = opts.get('timezone');
  const nameWord = opts.get('name');
  if ((at === undefined) === (cron === undefined)) throw new CommandError(`give one of at or cron; ${SCHEDULE_USAGE}`);
  if (at && zone) throw new CommandError('timezone is for cron; the time of at carries its zone');
  const name = nameWord ? { name: parse(scheduleNameSchema, nameWord.text, 'name') } : {};
  if (at) return { when: { at: parse(deployAtSchema(now), at.text, 'at') }, ...name };
  const expr = parse(cronSchema, cron!.text, 'cron');
  return { when: zone ? { cron: expr, timezone: parse(timezoneSchema, zone.text, 'timezone') } : { cron: expr }, ...name };
}
