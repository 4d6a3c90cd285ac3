import type { ScheduleSummary } from '@temporalio/client';
import { CliError } from '../../cli/errors';
import { parseAt, parseCron, scheduleWhen } from '../../cli/schedule-input';
import { rowOf, scheduleTable, sortRows } from '../../contracts/schedule-rows';

/** `fleetops deploy … --at/--cron` as typed, and the `fleetops schedules` table: no server. */

const now = new Date('2025-06-01T00:00:00Z');
const usage = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    return (err as CliError).message;
  }
  throw new Error('no usage error');
};

describe('scheduled deploy flags', () => {
  it('--at takes an ISO time with its zone, in the future and within a year', () => {
    expect(parseAt('2025-06-01T14:00+09:00', now).toISOString()).toBe('2025-06-01T05:00:00.000Z');
    expect(parseAt('2025-06-02T05:00:30Z', now).toISOString()).toBe('2025-06-02T05:00:30.000Z');
    expect(usage(() => parseAt('2025-06-01T14:00', now))).toMatch(/with its zone/);
    expect(usage(() => parseAt('tomorrow', now))).toMatch(/with its zone/);
    expect(usage(() => parseAt('2025-05-31T23:00Z', now))).toMatch(/not in the future/);
    expect(usage(() => parseAt('2027-06-01T00:00Z', now))).toMatch(/more than a year/);
    expect(usage(() => parseAt('2025-13-01T00:00Z', now))).toMatch(/not a valid time/);
  });

  it('--cron takes five fields or a shorthand', () => {
    expect(parseCron('0 14 * * FRI')).toBe('0 14 * * FRI');
    expect(parseCron('  */15  9-17 * * 1-5 ')).toBe('*/15 9-17 * * 1-5');
    expect(parseCron('@daily')).toBe('@daily');
    expect(usage(() => parseCron('0 14 * *'))).toMatch(/five fields/);
    expect(usage(() => parseCron('0 14 * * FRI; rm'))).toMatch(/five fields/);
  });

  it('at most one of --at and --cron; --timezone only with --cron; none: deploy now', () => {
    expect(scheduleWhen({}, now)).toBeUndefined();
    expect(scheduleWhen({ cron: '0 14 * * FRI', timezone: 'Asia/Tokyo' }, now)).toEqual({ cron: '0 14 * * FRI', timezone: 'Asia/Tokyo' });
    expect(scheduleWhen({ at: '2025-06-01T01:00Z', name: 'release' }, now)).toEqual({ at: new Date('2025-06-01T01:00Z') });
    expect(usage(() => scheduleWhen({ at: '2025-06-01T01:00Z', cron: '@daily' }, now))).toMatch(/at most one/);
    expect(usage(() => scheduleWhen({ at: '2025-06-01T01:00Z', timezone: 'UTC' }, now))).toMatch(/--timezone is for --cron/);
    expect(usage(() => scheduleWhen({ name: 'x' }, now))).toMatch(/give --at or --cron/);
    expect(usage(() => scheduleWhen({ cron: '@daily', timezone: 'Mars/Olympus' }, now))).toMatch(/IANA/);
  });
});

function summary(scheduleId: string, memo: Record<string, unknown>, next: string[], opts: { paused?: boolean; last?: string } = {}): ScheduleSummary {
  const last = opts.last ? [{ scheduledAt: new Date(opts.last), takenAt: new Date(opts.last), action: { type: 'startWorkflow' as const, workflow: { workflowId: 'w', firstExecutionRunId: 'r' } } }] : [];
  return { scheduleId, memo, state: { paused: opts.paused ?? false }, info: { recentActions: last, nextActionTimes: next.map((t) => new Date(t)) } };
}

describe('the schedules table', () => {
  const memo = (service: string, when: string) => ({ cluster: 'demo', service, target: `registry.example/${service}:2`, when, requestedBy: 'cli:alice' });

  it('lists scheduled deploys soonest first, done ones last, and leaves other schedules out', () => {
    const rows = sortRows(
      [
        summary('deploy-schedule-demo-web-1', memo('web', 'at 2025-06-01T05:00:00.000Z'), [], { last: '2025-06-01T05:00:00Z' }),
        summary('deploy-schedule-demo-api-fridays', memo('api', 'cron 0 14 * * FRI Asia/Tokyo'), ['2025-06-06T05:00:00Z']),
        summary('deploy-schedule-demo-web-2', memo('web', 'at 2025-06-03T05:00:00.000Z'), ['2025-06-03T05:00:00Z']),
        summary('someone-elses-schedule', {}, ['2025-06-02T00:00:00Z']),
      ].flatMap((s) => rowOf(s) ?? []),
    );
    expect(rows.map((r) => r.scheduleId)).toEqual(['deploy-schedule-demo-web-2', 'deploy-schedule-demo-api-fridays', 'deploy-schedule-demo-web-1']);
    expect(rows[2]).toEqual({
      kind: 'deploy',
      scheduleId: 'deploy-schedule-demo-web-1',
      what: 'demo/web -> registry.example/web:2',
      when: 'at 2025-06-01T05:00:00.000Z',
      next: null,
      lastRun: '2025-06-01T05:00:00.000Z',
      paused: false,
      requestedBy: 'cli:alice',
    });
    const table = scheduleTable(rows);
    expect(table[0]).toMatch(/^ID\s+KIND\s+WHAT\s+WHEN\s+NEXT\s+LAST RUN\s+BY$/);
    expect(table[3]).toMatch(/^deploy-schedule-demo-web-1\s+deploy\s+demo\/web -> registry.example\/web:2\s+at 2025-06-01T05:00:00.000Z\s+done\s+2025-06-01T05:00:00.000Z\s+cli:alice$/);
    // Columns line up: every row's WHAT starts where the header's does.
    const col = table[0]!.indexOf('WHAT');
    expect(table.slice(1).map((l) => l.indexOf('demo/'))).toEqual([col, col, col]);
    expect(scheduleTable([])).toEqual(['nothing scheduled']);
  });

  it('a paused schedule shows paused, not its next time', () => {
    const row = rowOf(summary('deploy-schedule-demo-web-3', memo('web', 'cron @daily'), ['2025-06-02T00:00:00Z'], { paused: true }));
    expect(row).toEqual(expect.objectContaining({ paused: true, next: null }));
    expect(scheduleTable([row!])[1]).toContain('paused');
  });
});
