import type { ReadinessStatus } from './messages';

/** One row of `readiness list` (CLI and Slack), and the upcoming windows of `schedules`. */
export interface WindowRow {
  workflowId: string;
  cluster: string;
  level: number;
  phase: string;
  start: string;
  end: string;
  /** When its floor is (or was) raised. */
  raiseAt: string;
  floorUnits: number | null;
  freezesDeploys: boolean;
  reason: string;
}

export function windowRows(windows: readonly ReadinessStatus[]): WindowRow[] {
  return windows
    .map((s) => ({
      workflowId: `readiness-${s.cluster}-${s.id}`,
      cluster: s.cluster,
      level: s.level.level,
      phase: s.phase,
      start: s.start,
      end: s.end,
      raiseAt: s.raiseAt,
      floorUnits: s.floorUnits ?? null,
      freezesDeploys: s.level.freezeDeploys,
      reason: s.reason,
    }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.workflowId < b.workflowId ? -1 : a.workflowId > b.workflowId ? 1 : 0));
}

const COLUMNS: { title: string; cell: (r: WindowRow) => string }[] = [
  { title: 'ID', cell: (r) => r.workflowId },
  { title: 'LEVEL', cell: (r) => String(r.level) },
  { title: 'PHASE', cell: (r) => r.phase },
  { title: 'START', cell: (r) => r.start },
  { title: 'END', cell: (r) => r.end },
  { title: 'FLOOR', cell: (r) => (r.floorUnits === null ? '-' : String(r.floorUnits)) },
  { title: 'FREEZE', cell: (r) => (r.freezesDeploys ? 'yes' : 'no') },
  { title: 'REASON', cell: (r) => r.reason },
];

export function windowTable(rows: WindowRow[]): string[] {
  if (rows.length === 0) return ['no readiness windows'];
  const cells = [COLUMNS.map((c) => c.title), ...rows.map((r) => COLUMNS.map((c) => c.cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}
