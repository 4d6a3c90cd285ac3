import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScheduleHandle } from '@temporalio/client';
import type { ScheduleRow } from '../../contracts/schedule-rows';
import { FleetopsPhase } from '../../common/search-attributes';
import { icsKey } from '../../contracts/readiness/ical';
import type { ImportRow } from '../../contracts/readiness/ical-plan';
import type { ReadinessStatus } from '../../contracts/readiness/messages';
import type { ReadinessFeedResult } from '../../contracts/readiness-feed/messages';
import { until } from '../../testkit/poll';
import { parseJson } from '../cli/helpers';
import { recordHistory } from '../harness/temporal';
import { calendarWorld, icsCalendar, icsUtc, type CalendarWorld } from '../readiness/calendar-world';

/**
 * A readiness feed on the dev server: `fleetops readiness import <url> --feed` imports a calendar a
 * local HTTP server serves and makes the Schedule `readiness-feed-<name>`; a run of it (triggered by
 * hand, not waited for) reads the feed again: a changed event changes its window, removed events
 * cancel their windows not started yet and delete their Schedules. A feed that answers 404 fails the run.
 */


let w: CalendarWorld;
let server: Server;
let served: { status: number; body: string } = { status: 200, body: '' };
let url: string;

beforeAll(async () => {
  w = await calendarWorld('readiness-feed');
  server = createServer((_req, res) => {
    res.writeHead(served.status, { 'content-type': 'text/calendar' });
    res.end(served.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/shop.ics`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await w?.close();
});

const HOUR = 3_600_000;
const base = Math.ceil(Date.now() / 60_000) * 60_000;
const oneOff = (uid: string, summary: string, startIn: number) => [`UID:${uid}`, `DTSTART:${icsUtc(base + startIn)}`, `DTEND:${icsUtc(base + startIn + HOUR)}`, `SUMMARY:${summary}`];
const weekly = ['UID:weekly@shop.example', `DTSTART:${icsUtc(base + 5 * HOUR)}`, 'DURATION:PT2H', 'RRULE:FREQ=WEEKLY', 'SUMMARY:Weekly sale'];
const outcomes = (rows: ImportRow[]) => rows.map((r) => `${r.outcome} ${r.kind} ${r.id}`);

/** The nth run of the Schedule (1-based) and its outcome. */
async function run(schedule: ScheduleHandle, nth: number) {
  await schedule.trigger();
  const action = await until(`run ${nth} of ${schedule.scheduleId}`, async () => (await schedule.describe()).info.recentActions[nth - 1], { timeoutMs: 20_000, intervalMs: 200 });
  return w.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
}

describe('readiness feed (dev server)', () => {
  it('imports the feed, keeps it on a Schedule, and a run takes its changes and removals', async () => {
    const { cluster } = w;
    const id = (uid: string) => `readiness-${cluster}-ics-${icsKey(uid)}`;
    const scheduleId = `readiness-schedule-${cluster}-ics-${icsKey('weekly@shop.example')}`;
    served = { status: 200, body: icsCalendar(oneOff('tv@shop.example', 'TV spot', 3 * HOUR), oneOff('mail@shop.example', 'Mailing', 4 * HOUR), weekly) };
    const args = ['readiness', 'import', url, cluster, '--level', '2', '--feed', 'shop', '--every', '60', '--json'];
    const first = await w.run(args);
    expect([first.code, first.stderr]).toEqual([0, '']);
    expect(outcomes(parseJson<{ rows: ImportRow[] }>(first.stdout).rows)).toEqual([
      `created window ${id('tv@shop.example')}`,
      `created window ${id('mail@shop.example')}`,
      `created recurring ${scheduleId}`,
      'created feed readiness-feed-shop',
    ]);
    expect((await w.client.workflow.getHandle(id('tv@shop.example')).describe()).memo).toEqual({ icsKey: icsKey('tv@shop.example'), icsFeed: 'shop' });
    const again = await w.run(args);
    expect(outcomes(parseJson<{ rows: ImportRow[] }>(again.stdout).rows).map((r) => r.split(' ')[0])).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    const feed = w.client.schedule.getHandle('readiness-feed-shop');
    expect((await feed.describe()).spec.intervals).toEqual([expect.objectContaining({ every: 3_600_000 })]);
    const listed = await until('the feed listed', async () => parseJson<{ schedules: ScheduleRow[] }>((await w.run(['schedules', '--json'])).stdout).schedules.find((r) => r.kind === 'readiness-feed'), { timeoutMs: 15_000, intervalMs: 250 });
    // The feed's path (often its secret) is not shown: its origin only.
    expect(listed).toMatchObject({ scheduleId: 'readiness-feed-shop', what: `${new URL(url).origin}/… -> ${cluster} level 2`, when: 'every 60 min', requestedBy: 'cli:alice' });
    // The recurring window's Schedule is listed before a run may delete it (the listing is eventually consistent).
    await until('the recurring window listed', async () => {
      for await (const s of w.client.schedule.list()) if (s.scheduleId === scheduleId) return true;
      return undefined;
    }, { timeoutMs: 15_000, intervalMs: 250 });

    // The feed now renames the TV spot, and no longer has the mailing nor the weekly sale.
    served = { status: 200, body: icsCalendar(oneOff('tv@shop.example', 'TV spot (prime time)', 3 * HOUR)) };
    const handle = await run(feed, 1);
    const result = (await handle.result()) as ReadinessFeedResult;
    expect(outcomes(result.rows)).toEqual([`changed window ${id('tv@shop.example')}`, `cancelled window ${id('mail@shop.example')}`, `deleted recurring ${scheduleId}`]);
    expect(result.counts).toEqual({ changed: 1, cancelled: 1, deleted: 1 });
    expect((await handle.describe()).typedSearchAttributes.get(FleetopsPhase)).toBe('imported');
    await recordHistory(handle, 'readiness-feed', 'imported');
    expect((await w.status(id('tv@shop.example'))).reason).toBe('TV spot (prime time)');
    const mail = (await w.client.workflow.getHandle(id('mail@shop.example')).result()) as ReadinessStatus;
    expect(mail).toMatchObject({ phase: 'cancelled', summary: expect.stringContaining('cancelled by feed:shop: no longer in the calendar') });
    await expect(w.client.schedule.getHandle(scheduleId).describe()).rejects.toThrow();

    // A feed gone (404) fails the run at once; its windows stay as they are.
    served = { status: 404, body: 'not found' };
    const failed = await run(feed, 2);
    await expect(failed.result()).rejects.toThrow();
    expect((await w.status(id('tv@shop.example'))).phase).toBe('waiting');

    const cancel = await w.run(['schedules', 'cancel', 'readiness-feed-shop']);
    expect([cancel.code, cancel.stdout]).toEqual([0, expect.stringContaining('the feed is no longer read')]);
    await w.client.workflow.getHandle(id('tv@shop.example')).terminate('test over');
  });
});
