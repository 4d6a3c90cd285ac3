import type { ScheduleDescription } from '@temporalio/client';
import { icsKey } from '../../contracts/readiness/ical';
import type { ImportRow } from '../../contracts/readiness/ical-plan';
import type { ReadinessTriggerInput } from '../../contracts/readiness-trigger/input';
import type { ScheduleRow } from '../../contracts/schedule-rows';
import { untilValue } from '../../testkit/poll';
import { calendarWorld, icsCalendar, icsUtc, type CalendarWorld } from '../readiness/calendar-world';
import { parseJson } from './helpers';

/**
 * `fleetops readiness import <file>` on the dev server: a one-off event becomes a window, a recurring
 * one a Schedule on the cluster (its occurrences hours ahead: nothing is due yet), an event over is
 * skipped; importing the same file again starts nothing; a changed event changes its window, and a
 * cancelled one deletes its Schedule. `fleetops schedules` lists the recurring window and cancels it.
 */


let w: CalendarWorld;

beforeAll(async () => {
  w = await calendarWorld('cli-import');
});

afterAll(async () => {
  await w?.close();
});

const HOUR = 3_600_000;
const base = Math.ceil(Date.now() / 60_000) * 60_000;

const launch = (summary: string, startIn: number) => ['UID:launch@shop.example', `DTSTAMP:${icsUtc(base)}`, `DTSTART:${icsUtc(base + startIn)}`, `DTEND:${icsUtc(base + startIn + 2 * HOUR)}`, `SUMMARY:${summary}`];
const fridays = (extra: string[] = []) => ['UID:fridays@shop.example', `DTSTART:${icsUtc(base + 5 * HOUR)}`, 'DURATION:PT3H', 'RRULE:FREQ=WEEKLY', 'SUMMARY:Weekly sale', 'X-FLEETOPS-LEVEL:3', ...extra];
const over = ['UID:old@shop.example', 'DTSTART:20240101T100000Z', 'DTEND:20240101T110000Z', 'SUMMARY:Old sale'];

const rowsOf = (out: { code: number; stdout: string; stderr: string }): ImportRow[] => {
  expect([out.code, out.stderr]).toEqual([0, '']);
  return parseJson<{ rows: ImportRow[] }>(out.stdout).rows;
};
const outcomes = (rows: ImportRow[]) => rows.map((r) => `${r.outcome} ${r.kind} ${r.id}`);

describe('fleetops readiness import', () => {
  it('imports one-off and recurring events, again without starting anything, then their changes; schedules lists and cancels the recurring window', async () => {
    const { cluster } = w;
    const windowId = `readiness-${cluster}-ics-${icsKey('launch@shop.example')}`;
    const scheduleId = `readiness-schedule-${cluster}-ics-${icsKey('fridays@shop.example')}`;
    const path = w.file('shop.ics', icsCalendar(launch('Spring launch', 3 * HOUR), fridays(), over));

    const first = rowsOf(await w.run(['readiness', 'import', path, cluster, '--level', '2', '--json']));
    expect(outcomes(first)).toEqual(['skipped event old@shop.example', `created window ${windowId}`, `created recurring ${scheduleId}`]);
    expect(first[2]).toMatchObject({ cluster, level: 3, start: new Date(base + 5 * HOUR).toISOString(), summary: 'Weekly sale', note: expect.stringMatching(/^9 occurrences ahead/) });
    expect(await w.status(windowId)).toMatchObject({ phase: 'waiting', reason: 'Spring launch', start: new Date(base + 3 * HOUR).toISOString(), level: { level: 2 } });
    const described = await w.client.workflow.getHandle(windowId).describe();
    expect(described.memo).toEqual({ icsKey: icsKey('launch@shop.example') });

    // The Schedule: one exact time per weekly occurrence in 60 days, 30 s ahead of its raise (start minus the 10 min lead).
    const schedule: ScheduleDescription = await w.client.schedule.getHandle(scheduleId).describe();
    expect(schedule.info.nextActionTimes[0]?.toISOString()).toBe(new Date(base + 5 * HOUR - 600_000 - 30_000).toISOString());
    expect(schedule.spec.calendars).toHaveLength(9);
    expect(schedule.memo).toEqual({ cluster, icsKey: icsKey('fridays@shop.example') });
    const args = (schedule.action as { args?: readonly unknown[] }).args?.[0] as ReadinessTriggerInput;
    expect(args).toMatchObject({ cluster, level: 3, rule: 'FREQ=WEEKLY', defaults: { clusters: [cluster], level: 2, requestedBy: 'cli:alice' } });

    // The same file again: nothing new, nothing changed.
    const again = rowsOf(await w.run(['readiness', 'import', path, cluster, '--level', '2', '--json']));
    expect(outcomes(again)).toEqual(['skipped event old@shop.example', `unchanged window ${windowId}`, `unchanged recurring ${scheduleId}`]);
    const table = await w.run(['readiness', 'import', path, cluster, '--level', '2']);
    expect(table.stdout).toMatch(/^OUTCOME\s+KIND\s+ID\s+LEVEL\s+START\s+END\s+WHAT/);

    // schedules lists the recurring window; its next run is its trigger's.
    const listed = await untilValue(
      'the recurring window listed',
      async () => parseJson<{ schedules: ScheduleRow[] }>((await w.run(['schedules', '--json'])).stdout).schedules,
      (rows) => rows.some((r) => r.scheduleId === scheduleId),
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(listed.find((r) => r.scheduleId === scheduleId)).toEqual(
      expect.objectContaining({ kind: 'readiness-recurring', what: `${cluster} level 3: Weekly sale`, when: 'FREQ=WEEKLY', next: schedule.info.nextActionTimes[0]!.toISOString(), requestedBy: 'cli:alice' }),
    );

    // Moved an hour and renamed: the window takes the change; the series is cancelled: its Schedule goes.
    const changed = w.file('shop-changed.ics', icsCalendar(launch('Spring launch (moved)', 4 * HOUR), fridays(['STATUS:CANCELLED']), over));
    const third = rowsOf(await w.run(['readiness', 'import', changed, cluster, '--level', '2', '--json'], 'bob'));
    expect(outcomes(third)).toEqual(['skipped event fridays@shop.example', 'skipped event old@shop.example', `changed window ${windowId}`, `deleted recurring ${scheduleId}`]);
    const status = await w.status(windowId);
    expect(status).toMatchObject({ reason: 'Spring launch (moved)', start: new Date(base + 4 * HOUR).toISOString() });
    expect(status.events.map((e) => e.what)).toContainEqual(expect.stringMatching(/^changed by cli:bob: /));
    await expect(w.client.schedule.getHandle(scheduleId).describe()).rejects.toThrow();

    // Recreated, then cancelled by hand.
    rowsOf(await w.run(['readiness', 'import', path, cluster, '--level', '2', '--json']));
    const cancel = await w.run(['schedules', 'cancel', scheduleId]);
    expect([cancel.code, cancel.stderr, cancel.stdout]).toEqual([0, '', expect.stringContaining(`cancelled ${scheduleId}: no more occurrences start`)]);
  });

  it('refuses what readiness add refuses, before anything starts: a cluster without authority, an unknown level, a file that is no calendar', async () => {
    const path = w.file('one.ics', icsCalendar(launch('x', 3 * HOUR)));
    const elsewhere = w.file('elsewhere.ics', icsCalendar([...launch('x', 3 * HOUR), 'X-FLEETOPS-CLUSTERS:nowhere']));
    expect((await w.run(['readiness', 'import', path, w.cluster, '--level', '7'])).stderr).toContain('no readiness level 7');
    const refused = await w.run(['readiness', 'import', elsewhere, w.cluster, '--level', '2']);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('no cluster "nowhere"')]);
    expect((await w.run(['readiness', 'import', w.file('bad.ics', 'hello'), w.cluster, '--level', '2'])).code).toBe(2);
    expect((await w.run(['readiness', 'import', path, w.cluster, '--level', '2', '--feed', 'x'])).code).toBe(2);
    expect((await w.run(['readiness', 'import', 'http://example.com/cal.ics', w.cluster, '--level', '2'])).code).toBe(2);
  });
});
