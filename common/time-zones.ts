/**
 * Wall-clock times in an IANA zone, with the runtime's own zone database (Intl). A calendar that
 * names its zone by TZID without a VTIMEZONE definition (many producers leave it out for IANA
 * names), or a floating time read in a zone an operator gives, is turned into an instant here.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether the runtime knows `zone` as an IANA time zone (Asia/Tokyo). */
export function isIanaZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at the instant, in ms (east positive). */
function offsetAt(zone: string, epochMs: number): number {
  const parts = Object.fromEntries(formatter(zone).formatToParts(new Date(epochMs)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(epochMs / 1000) * 1000;
}

export interface WallTime {
  year: number;
  /** 1-12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/**
 * The instant at which clocks in `zone` show `wall`. A wall time that occurs twice (the hour clocks go
 * back) is its first occurrence; one that does not occur (the hour clocks skip) is read with the
 * offset before the change, so it lands just after it, as calendar programs place it.
 */
export function instantOf(wall: WallTime, zone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const before = offsetAt(zone, asUtc - 86_400_000);
  const after = offsetAt(zone, asUtc + 86_400_000);
  // Both candidates; the earliest that shows the wall time wins, else the one before the change.
  const candidates = [asUtc - Math.max(before, after), asUtc - Math.min(before, after)];
  for (const c of candidates) if (c + offsetAt(zone, c) === asUtc) return c;
  return asUtc - before;
}
