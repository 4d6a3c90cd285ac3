import type { ScheduleHandle } from '@temporalio/client';
import { FleetopsPhase } from '../../common/search-attributes';
import { icsKey, idTime } from '../../contracts/readiness/ical';
import type { ImportRow } from '../../contracts/readiness/ical-plan';
import type { ReadinessTriggerInput } from '../../contracts/readiness-trigger/input';
import type { ReadinessTriggerResult } from '../../contracts/readiness-trigger/messages';
import { until } from '../../testkit/poll';
import { parseJson } from '../cli/helpers';
import { recordHistory } from '../harness/temporal';
import { calendarWorld, icsCalendar, icsUtc, type CalendarWorld } from '../readiness/calendar-world';

/**
 * A recurring readiness window's Schedule firing on the dev server: a daily event whose first
 * occurrence is 45 s away, at a level with a 5 s lead, so the Schedule's first time (30 s ahead of the
 * raise) comes about 10 s after the import. Its trigger starts the occurrence's window and moves the
 * Schedule on to the next day's.
 */


let w: CalendarWorld;

beforeAll(async () => {
  w = await calendarWorld('readiness-trigger');
});

afterAll(async () => {
  await w?.close();
});

/** The nth run of the Schedule (1-based), once it has been taken, and its result. */
async function run(schedule: ScheduleHandle, nth: number) {
  const action = await until(`run ${nth} of ${schedule.scheduleId}`, async () => (await schedule.describe()).info.recentActions[nth - 1], { timeoutMs: 40_000, intervalMs: 250 });
  const handle = w.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
  return { handle, result: (await handle.result()) as ReadinessTriggerResult };
}

const outcomes = (rows: ImportRow[]) => rows.map((r) => `${r.outcome} ${r.kind} ${r.id}`);

describe('readiness trigger (a recurring window\'s Schedule, dev server)', () => {
  it('fires ahead of an occurrence\'s raise, starts its window, and rolls the Schedule on to the next occurrence', async () => {
    const { cluster } = w;
    const start = Math.ceil((Date.now() + 45_000) / 1000) * 1000;
    const key = icsKey('daily-drop@shop.example');
    const event = ['UID:daily-drop@shop.example', `DTSTART:${icsUtc(start)}`, 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=3', 'SUMMARY:Daily drop'];
    const out = await w.run(['readiness', 'import', w.file('daily.ics', icsCalendar(event)), cluster, '--level', '2', '--json']);
    expect([out.code, out.stderr]).toEqual([0, '']);
    const scheduleId = `readiness-schedule-${cluster}-ics-${key}`;
    expect(outcomes(parseJson<{ rows: ImportRow[] }>(out.stdout).rows)).toEqual([`created recurring ${scheduleId}`]);
    const schedule = w.client.schedule.getHandle(scheduleId);
    expect((await schedule.describe()).info.nextActionTimes[0]?.toISOString()).toBe(new Date(start - 5_000 - 30_000).toISOString());

    const { handle, result } = await run(schedule, 1);
    expect(handle.workflowId.startsWith(`${scheduleId}-`)).toBe(true);
    const windowId = `readiness-${cluster}-ics-${key}-${idTime(start)}`;
    expect(outcomes(result.rows)).toEqual([`created window ${windowId}`, `unchanged recurring ${scheduleId}`]);
    expect((await handle.describe()).typedSearchAttributes.get(FleetopsPhase)).toBe('started');
    await recordHistory(handle, 'readiness-trigger', 'started');

    const window = await w.client.workflow.getHandle(windowId).describe();
    expect([window.type, window.status.name, window.memo]).toEqual(['readiness', 'RUNNING', { icsKey: key }]);
    expect(await w.status(windowId)).toMatchObject({ id: `ics-${key}-${idTime(start)}`, start: new Date(start).toISOString(), reason: 'Daily drop', level: { level: 2, leadSeconds: 5 } });

    // The Schedule now holds the two occurrences left, the next one a day on.
    const after = await schedule.describe();
    expect(((after.action as { args?: readonly unknown[] }).args?.[0] as ReadinessTriggerInput).raiseAt).toEqual([start + 86_400_000 - 5_000, start + 2 * 86_400_000 - 5_000].map((t) => new Date(t).toISOString()));
    expect(after.info.nextActionTimes[0]?.toISOString()).toBe(new Date(start + 86_400_000 - 35_000).toISOString());

    // Run again by hand: the occurrence is started already, so nothing new starts.
    await schedule.trigger();
    const second = await run(schedule, 2);
    expect(outcomes(second.result.rows)).toEqual([`unchanged window ${windowId}`, `unchanged recurring ${scheduleId}`]);
    expect((await second.handle.describe()).typedSearchAttributes.get(FleetopsPhase)).toBe('unchanged');
    await w.client.workflow.getHandle(windowId).terminate('test over');
  });
});
