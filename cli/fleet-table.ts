import type { ClusterReport } from './fleet-report';

/** `fleetops fleet` as text: per cluster, a table of its pools, then one line per other figure. */

const pct = (r: number | undefined) => (r === undefined ? '-' : `${Math.round(r * 100)}%`);
const usd = (n: number) => `$${n.toFixed(n < 10 ? 4 : 2)}`;
const list = (xs: string[]) => (xs.length ? xs.join(',') : '-');

export function table(header: string[], rows: string[][], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

function savingsLine(r: ClusterReport): string {
  const c = r.cost;
  if (!c) return '  savings: unknown';
  const sources = new Set(Object.values(r.prices?.onDemand ?? {}).map((p) => (p.source === 'config' ? 'config table' : 'Price List API')));
  const from = `on-demand prices: ${[...sources].sort().join(' and ') || 'none'}${r.prices?.apiError ? ` (Price List API not used: ${r.prices.apiError})` : ''}`;
  const left = c.unpricedInstances ? `; ${c.unpricedInstances} instance(s) unpriced: ${c.unpricedTypes.join(', ')}` : '';
  if (c.savingsRatio === undefined) return `  savings: unknown, nothing priced (${from}${left})`;
  return `  savings: ${usd(c.actual)}/h as it runs vs ${usd(c.onDemand)}/h on demand, ${pct(c.savingsRatio)} saved (${from}${left})`;
}

export function clusterLines(r: ClusterReport, now = Date.now()): string[] {
  const out = [`cluster ${r.cluster}`];
  const v = r.view;
  if (!v) out.push('  capacity workflow: not running (nothing known of the pools)');
  else {
    out.push(`  pools read: ${v.poolsAt ? `${v.poolsAt} (${ago(v.poolsAt, now)})` : 'not yet'}`);
    out.push(
      ...table(
        ['POOL', 'MARKET', 'TYPES', 'ZONES', 'WANTED', 'ACTIVE', 'SHARE'],
        v.pools.map((p) => [p.name, p.market, list(p.instanceTypes), list(p.zones), String(p.wantedUnits), String(p.activeUnits), pct(p.shareOfActive)]),
      ),
    );
    out.push(`  spot share: ${v.spotShare === undefined ? 'no ACTIVE units' : `${pct(v.spotShare)} of ${v.units.active} ACTIVE units (${v.units.activeSpot} spot)`}`);
    const f = v.fallback;
    out.push(`  on-demand fallback: ${f ? `${f.movableUnits} unit(s) to move back to spot, since ${f.since}${f.floorUnits ? ` (${f.floorUnits} kept on demand by the readiness floor)` : ''}` : 'no'}`);
    out.push(`  unmet: ${v.unmet.units > 0 ? `${v.unmet.units} unit(s)${v.unmet.since ? ` since ${v.unmet.since}` : ''}` : 'none'}`);
    if (v.floor) out.push(`  readiness floor: ${v.floor.units} unit(s), ${v.floor.onDemandUnits} on demand (${v.floor.windows.join(', ')})`);
  }
  const i = r.interruptions;
  out.push(`  interruptions (last ${i.hours} h): ${i.count}${i.capped ? '+' : ''}`);
  out.push(
    `  readiness windows: ${
      r.readinessWindows.length === 0
        ? 'none'
        : r.readinessWindows.map((w) => `${w.workflowId} (level ${w.level}, ${w.phase}, ${w.start} -> ${w.end}${w.floorUnits !== undefined ? `, floor ${w.floorUnits}` : ''})`).join('; ')
    }`,
  );
  if (v) out.push(savingsLine(r));
  return out;
}

export function fleetLines(reports: ClusterReport[], now = Date.now()): string[] {
  if (reports.length === 0) return ['no clusters: no capacity workflow runs and the config names none'];
  return reports.flatMap((r, i) => [...(i > 0 ? [''] : []), ...clusterLines(r, now)]);
}
