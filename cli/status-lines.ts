import type { WorkflowStatus } from '../contracts/controls';

/**
 * A workflow's `status` answer as lines a person reads: phase and summary first, then every other
 * field; lists of records (a drain's steps and events, the capacity decisions, a deploy's timeline)
 * one record a line, its time first, then what it is, then the rest, its reason or detail last.
 * `--json` prints the answer itself.
 */

const KNOWN_STATUS_FIELDS = new Set(['phase', 'summary', 'paused', 'dryRun']);
/** Fields that say when (the first found leads the line). */
const TIME_KEYS = ['at', 'time', 'startedAt', 'receivedAt', 'eventTime', 'since'];
/** Fields that say what the record is. */
const TITLE_KEYS = ['name', 'action', 'decision', 'step', 'kind', 'source', 'pool', 'instanceType'];
const STATUS_KEYS = ['status', 'outcome', 'phase'];
/** Fields of free text: last, after a colon. */
const TEXT_KEYS = ['reason', 'detail', 'text', 'message', 'summary'];

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function scalar(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** `k=v` pairs, nested records as `k.sub=v`. */
function pairs(rec: Rec, skip: ReadonlySet<string> = new Set(), prefix = ''): string[] {
  return Object.entries(rec).flatMap(([k, v]) => {
    if (skip.has(k) || v === undefined) return [];
    if (isRecord(v)) return pairs(v, new Set(), `${prefix}${k}.`);
    if (Array.isArray(v) && v.every((x) => !isRecord(x) && !Array.isArray(x))) return [`${prefix}${k}=${v.map(scalar).join(',') || '[]'}`];
    return [`${prefix}${k}=${scalar(v)}`];
  });
}

function seconds(from: unknown, to: unknown): string | undefined {
  const ms = typeof from === 'string' && typeof to === 'string' ? Date.parse(to) - Date.parse(from) : NaN;
  return Number.isFinite(ms) && ms >= 0 ? `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s` : undefined;
}

const isRecordList = (v: unknown): v is Rec[] => Array.isArray(v) && v.length > 0 && v.every(isRecord);

/** One record of a list as one line, and the records of lists inside it on lines below, indented. */
export function recordLines(rec: Rec, indent: string): string[] {
  const nested = Object.entries(rec).filter(([, v]) => isRecordList(v)) as [string, Rec[]][];
  const flat = Object.fromEntries(Object.entries(rec).filter(([, v]) => !isRecordList(v)));
  return [`${indent}${recordLine(flat)}`, ...nested.flatMap(([k, list]) => [`${indent}  ${k}:`, ...list.flatMap((r) => recordLines(r, `${indent}    `))])];
}

/** One record of a list as one line. */
export function recordLine(rec: Rec): string {
  const time = TIME_KEYS.find((k) => typeof rec[k] === 'string');
  const title = TITLE_KEYS.find((k) => rec[k] !== undefined && !isRecord(rec[k]));
  const status = STATUS_KEYS.find((k) => k !== title && typeof rec[k] === 'string');
  const text = TEXT_KEYS.find((k) => typeof rec[k] === 'string' && rec[k] !== '');
  const took = time === 'startedAt' ? seconds(rec.startedAt, rec.endedAt) : undefined;
  const used = new Set([time, title, status, text, ...(took ? ['endedAt'] : [])].filter((k): k is string => k !== undefined));
  const parts = [
    ...(time ? [scalar(rec[time])] : []),
    ...(title ? [scalar(rec[title])] : []),
    ...(status ? [scalar(rec[status])] : []),
    ...(took ? [`(${took})`] : []),
    ...pairs(rec, used),
  ];
  return `${parts.join('  ')}${text ? `: ${scalar(rec[text])}` : ''}`;
}

function fieldLines(key: string, value: unknown): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) return [`  ${key}: none`];
    if (value.every(isRecord)) return [`  ${key}:`, ...value.flatMap((r) => recordLines(r, '    '))];
    return [`  ${key}: ${value.map(scalar).join(', ')}`];
  }
  if (isRecord(value)) {
    // A record of lists (a nested set of steps) reads better one list at a time.
    if (Object.values(value).some(isRecordList)) {
      return [`  ${key}:`, ...Object.entries(value).flatMap(([k, v]) => fieldLines(k, v).map((l) => `  ${l}`))];
    }
    return [`  ${key}: ${pairs(value).join('  ') || '-'}`];
  }
  return [`  ${key}: ${scalar(value)}`];
}

/** Human lines for a status answer: phase and summary first, the workflow-specific fields after. */
export function statusLines(status: WorkflowStatus): string[] {
  const lines = [`  phase:    ${status.phase}`, `  summary:  ${status.summary}`];
  if (status.paused) lines.push('  paused:   yes (resume to continue)');
  if (status.dryRun) lines.push('  dry run:  yes (mutating AWS calls are recorded, not made)');
  for (const [key, value] of Object.entries(status)) {
    if (KNOWN_STATUS_FIELDS.has(key) || value === undefined) continue;
    lines.push(...fieldLines(key, value));
  }
  return lines;
}
