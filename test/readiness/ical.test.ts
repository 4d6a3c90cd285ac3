import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../config/load';
import { CalendarInvalid, icsKey, parseReadinessCalendar } from '../../contracts/readiness/ical';
import { planImport, TRIGGER_AHEAD_MS } from '../../contracts/readiness/ical-plan';
import { ROOT } from '../../testkit/paths';

/**
 * iCalendar as readiness windows read it (contracts/readiness/ical.ts, ical-plan.ts): occurrences
 * expanded by ical.js in the event's zone, across a daylight-saving change, with EXDATE and
 * RECURRENCE-ID overrides, and what an import plans from them.
 */

const BERLIN = `BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE`;

const calendar = (...parts: string[]) => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n${parts.join('\r\n')}\r\nEND:VCALENDAR\r\n`.replace(/\r?\n/g, '\r\n');

/** Every Friday 20:00-23:00 in Berlin from 17 October 2025 (clocks go back on the 26th), not on the 24th. */
const FRIDAYS = `BEGIN:VEVENT
UID:friday-sale@shop.example
DTSTAMP:20250901T000000Z
DTSTART;TZID=Europe/Berlin:20251017T200000
DTEND;TZID=Europe/Berlin:20251017T230000
RRULE:FREQ=WEEKLY;BYDAY=FR
EXDATE;TZID=Europe/Berlin:20251024T200000
SUMMARY:Friday sale
END:VEVENT`;

const at = (iso: string) => new Date(iso);
const times = (occ: { recurrence: string; start: string; end: string }[]) => occ.map((o) => `${o.recurrence} ${o.start} ${o.end}`);

describe('parseReadinessCalendar', () => {
  it('expands a weekly RRULE over three weeks in its TZID, across the change to winter time, without the EXDATE', () => {
    const { events, problems } = parseReadinessCalendar(calendar(BERLIN, FRIDAYS), { now: at('2025-10-13T00:00:00Z'), horizonDays: 21 });
    expect(problems).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ uid: 'friday-sale@shop.example', key: icsKey('friday-sale@shop.example'), recurring: true, summary: 'Friday sale', rule: 'FREQ=WEEKLY;BYDAY=FR', timeZone: 'Europe/Berlin', cancelled: false });
    // 20:00 is 18:00Z in summer time (UTC+2) and 19:00Z in winter time (UTC+1); the 24th is excluded.
    expect(times(events[0]!.occurrences)).toEqual(['20251017-1800 2025-10-17T18:00:00.000Z 2025-10-17T21:00:00.000Z', '20251031-1900 2025-10-31T19:00:00.000Z 2025-10-31T22:00:00.000Z']);
  });

  it('reads a TZID without its VTIMEZONE as an IANA zone, to the same instants', () => {
    const { events } = parseReadinessCalendar(calendar(FRIDAYS), { now: at('2025-10-13T00:00:00Z'), horizonDays: 21 });
    expect(times(events[0]!.occurrences)).toEqual(['20251017-1800 2025-10-17T18:00:00.000Z 2025-10-17T21:00:00.000Z', '20251031-1900 2025-10-31T19:00:00.000Z 2025-10-31T22:00:00.000Z']);
  });

  it('takes an override (RECURRENCE-ID) with its own times, summary and level under the id of the occurrence it replaces, and drops a cancelled one', () => {
    const moved = `BEGIN:VEVENT
UID:friday-sale@shop.example
RECURRENCE-ID;TZID=Europe/Berlin:20251031T200000
DTSTART;TZID=Europe/Berlin:20251031T210000
DTEND;TZID=Europe/Berlin:20251031T235900
SUMMARY:Halloween sale
X-FLEETOPS-LEVEL:4
END:VEVENT`;
    const dropped = `BEGIN:VEVENT
UID:friday-sale@shop.example
RECURRENCE-ID;TZID=Europe/Berlin:20251107T200000
DTSTART;TZID=Europe/Berlin:20251107T200000
STATUS:CANCELLED
END:VEVENT`;
    const master = FRIDAYS.replace('SUMMARY:Friday sale', 'SUMMARY:Friday sale\nX-FLEETOPS-CLUSTERS:shop, shop-eu\nX-FLEETOPS-LEVEL:3');
    const { events } = parseReadinessCalendar(calendar(BERLIN, master, moved, dropped), { now: at('2025-10-13T00:00:00Z'), horizonDays: 33 });
    expect(events[0]!.occurrences).toEqual([
      { recurrence: '20251017-1800', start: '2025-10-17T18:00:00.000Z', end: '2025-10-17T21:00:00.000Z', summary: 'Friday sale', clusters: ['shop', 'shop-eu'], level: 3 },
      { recurrence: '20251031-1900', start: '2025-10-31T20:00:00.000Z', end: '2025-10-31T22:59:00.000Z', summary: 'Halloween sale', clusters: ['shop', 'shop-eu'], level: 4 },
      { recurrence: '20251114-1900', start: '2025-11-14T19:00:00.000Z', end: '2025-11-14T22:00:00.000Z', summary: 'Friday sale', clusters: ['shop', 'shop-eu'], level: 3 },
    ]);
    // The event's own text, which its Schedule keeps, expands to the same occurrences.
    const again = parseReadinessCalendar(events[0]!.source!, { now: at('2025-10-13T00:00:00Z'), horizonDays: 33 });
    expect(again.events[0]!.occurrences).toEqual(events[0]!.occurrences);
  });

  it('keeps occurrences not over at now, within the horizon, or the next one when none is', () => {
    const yearly = `BEGIN:VEVENT\nUID:black-friday\nDTSTART:20241129T060000Z\nDURATION:PT18H\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4FR\nSUMMARY:Black Friday\nEND:VEVENT`;
    const { events } = parseReadinessCalendar(calendar(yearly), { now: at('2025-11-28T12:00:00Z') });
    // The 2025 one is under way (not over), so it is kept; the next is a year out, beyond the horizon.
    expect(times(events[0]!.occurrences)).toEqual(['20251128-0600 2025-11-28T06:00:00.000Z 2025-11-29T00:00:00.000Z']);
    const after = parseReadinessCalendar(calendar(yearly), { now: at('2025-12-01T00:00:00Z') });
    expect(times(after.events[0]!.occurrences)).toEqual(['20261127-0600 2026-11-27T06:00:00.000Z 2026-11-28T00:00:00.000Z']);
  });

  it('refuses floating times and all-day events without a zone, and reads them in the zone given', () => {
    const floating = `BEGIN:VEVENT\nUID:tv\nDTSTART:20301017T200000\nDTEND:20301017T210000\nSUMMARY:TV spot\nEND:VEVENT`;
    const allDay = `BEGIN:VEVENT\nUID:bf\nDTSTART;VALUE=DATE:20301129\nSUMMARY:Black Friday\nEND:VEVENT`;
    const bad = `BEGIN:VEVENT\nUID:bad\nDTSTART:20301017T200000Z\nDTEND:20301017T210000Z\nX-FLEETOPS-LEVEL:high\nEND:VEVENT`;
    const noUid = `BEGIN:VEVENT\nDTSTART:20301017T200000Z\nEND:VEVENT`;
    const without = parseReadinessCalendar(calendar(floating, allDay, bad, noUid), { now: at('2030-01-01T00:00:00Z') });
    expect(without.events).toEqual([]);
    expect(without.problems.map((p) => `${p.uid}: ${p.reason}`).sort()).toEqual([
      ': no UID: a window is named after its event UID',
      'bad: X-FLEETOPS-LEVEL "high" is not a level number, 1 to 99',
      'bf: an all-day event has no time zone: give --timezone',
      'tv: a floating time (no TZID, no Z): give --timezone',
    ]);
    const tokyo = parseReadinessCalendar(calendar(floating, allDay), { now: at('2030-01-01T00:00:00Z'), floatingZone: 'Asia/Tokyo' });
    expect(tokyo.events.map((e) => [e.uid, e.timeZone, times(e.occurrences)])).toEqual([
      ['tv', 'Asia/Tokyo', ['20301017-1100 2030-10-17T11:00:00.000Z 2030-10-17T12:00:00.000Z']],
      ['bf', 'Asia/Tokyo', ['20301128-1500 2030-11-28T15:00:00.000Z 2030-11-29T15:00:00.000Z']],
    ]);
  });

  it('throws CalendarInvalid for what is no iCalendar', () => {
    expect(() => parseReadinessCalendar('<html>not found</html>', { now: new Date() })).toThrow(CalendarInvalid);
  });
});

describe('planImport', () => {
  const fixture = parseConfigText(readFileSync(join(ROOT, 'test', 'fixtures', 'fleetops.valid.yaml'), 'utf8'));
  const config = {
    ...fixture,
    clusters: { ...fixture.clusters, demo: { ...fixture.clusters.demo!, readiness: { bootToActiveSeconds: 600, levels: { '2': { onDemandShare: 0, freezeDeploys: false, notify: [] }, '3': { onDemandShare: 0, leadSeconds: 3600, freezeDeploys: true, notify: [] } } } } },
  };

  it('plans a one-off window, the due occurrences of a recurring one as windows and the rest as its Schedule, and skips what is over or refused', () => {
    const now = at('2025-10-17T17:30:00Z');
    const oneOff = `BEGIN:VEVENT\nUID:tv-spot\nDTSTART:20251020T190000Z\nDTEND:20251020T200000Z\nSUMMARY:TV spot\nX-FLEETOPS-LEVEL:2\nEND:VEVENT`;
    const over = `BEGIN:VEVENT\nUID:old\nDTSTART:20250101T190000Z\nDTEND:20250101T200000Z\nSUMMARY:Old\nEND:VEVENT`;
    const unknownLevel = `BEGIN:VEVENT\nUID:big\nDTSTART:20251020T190000Z\nDTEND:20251020T200000Z\nSUMMARY:Big\nX-FLEETOPS-LEVEL:9\nEND:VEVENT`;
    const parsed = parseReadinessCalendar(calendar(BERLIN, FRIDAYS, oneOff, over, unknownLevel), { now, horizonDays: 21 });
    const plan = planImport(parsed, { clusters: ['demo'], level: 3, requestedBy: 'cli:alice' }, config, now);
    const key = icsKey('friday-sale@shop.example');
    expect(plan.windows.map((w) => [w.input.id, w.input.level.level, w.input.reason, w.due])).toEqual([
      // The first Friday raises at 17:00Z (an hour's lead): due. The next one is the Schedule's.
      [`ics-${key}-20251017-1800`, 3, 'Friday sale', true],
      [`ics-${key}-20251031-1900`, 3, 'Friday sale', false],
      [`ics-${icsKey('tv-spot')}`, 2, 'TV spot', true],
    ]);
    expect(plan.windows[0]!.input).toMatchObject({ cluster: 'demo', start: '2025-10-17T18:00:00.000Z', end: '2025-10-17T21:00:00.000Z', timeZone: 'Europe/Berlin', requestedBy: 'cli:alice' });
    expect(plan.schedules).toHaveLength(1);
    expect(plan.schedules[0]!.scheduleId).toBe(`readiness-schedule-demo-ics-${key}`);
    expect(plan.schedules[0]!.trigger).toMatchObject({ cluster: 'demo', key, level: 3, rule: 'FREQ=WEEKLY;BYDAY=FR', raiseAt: ['2025-10-31T18:00:00.000Z'], defaults: { clusters: ['demo'], level: 3 } });
    expect(plan.rows.map((r) => [r.id, r.outcome, r.note])).toEqual([
      ['old', 'skipped', 'over'],
      ['big', 'refused', 'no readiness level 9 for cluster "demo" (levels: 2, 3)'],
    ]);
    expect(plan.heldKeys).toEqual([icsKey('big')]);
    expect(plan.keys).toHaveLength(4);
    expect(TRIGGER_AHEAD_MS).toBeLessThan(60_000);
  });

  it("refuses, on a feed's poll, an event naming a cluster the feed's set-up was not checked for, and plans the rest", () => {
    const now = at('2025-10-17T17:30:00Z');
    const shop = { ...config, clusters: { ...config.clusters, shop: config.clusters.demo! } };
    const elsewhere = `BEGIN:VEVENT\nUID:elsewhere\nDTSTART:20251020T190000Z\nDTEND:20251020T200000Z\nSUMMARY:Elsewhere\nX-FLEETOPS-CLUSTERS:demo,shop\nX-FLEETOPS-LEVEL:2\nEND:VEVENT`;
    const parsed = parseReadinessCalendar(calendar(elsewhere), { now, horizonDays: 21 });
    const plan = planImport(parsed, { clusters: ['demo'], level: 2, requestedBy: 'cli:alice', feed: 'tv', authorisedClusters: ['demo'] }, shop, now);
    expect(plan.windows.map((w) => w.input.cluster)).toEqual(['demo']);
    expect(plan.rows.map((r) => [r.id, r.cluster, r.outcome, r.note])).toEqual([
      ['elsewhere', 'shop', 'refused', 'shop is not among the clusters feed tv was set up for (demo): import it again with that cluster to allow it'],
    ]);
  });
});
