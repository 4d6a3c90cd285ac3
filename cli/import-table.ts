import type { ImportRow } from '../contracts/readiness/ical-plan';

/** `fleetops readiness import`'s report: a row per window, recurring window, feed and event skipped or refused. */
const COLUMNS: { title: string; cell: (r: ImportRow) => string }[] = [
  { title: 'OUTCOME', cell: (r) => r.outcome },
  { title: 'KIND', cell: (r) => r.kind },
  { title: 'ID', cell: (r) => r.id || '-' },
  { title: 'LEVEL', cell: (r) => (r.level === null ? '-' : String(r.level)) },
  { title: 'START', cell: (r) => r.start ?? '-' },
  { title: 'END', cell: (r) => r.end ?? '-' },
  { title: 'WHAT', cell: (r) => [r.summary, r.note].filter((x) => x).join(': ') },
];

export function importTable(rows: ImportRow[]): string[] {
  if (rows.length === 0) return ['the calendar has no events'];
  const cells = [COLUMNS.map((c) => c.title), ...rows.map((r) => COLUMNS.map((c) => c.cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}
