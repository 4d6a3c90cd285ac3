/**
 * Draws the readiness window of the stack's end-to-end test as an SVG: shop's ACTIVE units (and the
 * on-demand ones) over time, the floor, the window, and the moments that matter (floor raised, floor
 * ACTIVE, spot warning, floor released). No dependency: the SVG is written by hand.
 *
 *   npx tsx scripts/plot-readiness.ts [samples.json] [out.svg]
 *
 * Defaults: artifacts/e2e/readiness-window.json (written by test/e2e/stack-e2e.test.ts) and
 * docs/readiness-window.svg.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ROOT } from '../stack/settings';

const fileSchema = z.object({
  window: z.string(),
  level: z.number(),
  floor: z.number(),
  onDemandFloor: z.number(),
  minUnits: z.number(),
  start: z.string(),
  end: z.string(),
  raiseAt: z.string(),
  reachedAt: z.string(),
  interrupted: z.object({ instanceId: z.string(), warnedAt: z.string() }),
  releasedAt: z.string(),
  samples: z.array(z.object({ at: z.string(), active: z.number(), activeOnDemand: z.number(), drainingIds: z.array(z.string()) })),
});

const [input = join(ROOT, 'artifacts', 'e2e', 'readiness-window.json'), output = join(ROOT, 'docs', 'readiness-window.svg')] = process.argv.slice(2);
const data = fileSchema.parse(JSON.parse(readFileSync(input, 'utf8')));
const t0 = Date.parse(data.start);
const sec = (iso: string) => (Date.parse(iso) - t0) / 1000;
const points = data.samples.map((s) => ({ t: sec(s.at), active: s.active, onDemand: s.activeOnDemand, draining: s.drainingIds.length }));

const W = 760;
const H = 300;
const M = { left: 50, right: 20, top: 30, bottom: 60 };
const tMin = Math.min(sec(data.raiseAt) - 15, ...points.map((p) => p.t));
const tMax = Math.max(sec(data.releasedAt) + 15, ...points.map((p) => p.t));
const uMax = Math.max(data.floor + 1, ...points.map((p) => p.active + p.draining));
const x = (t: number) => M.left + ((t - tMin) / (tMax - tMin)) * (W - M.left - M.right);
const y = (u: number) => H - M.bottom - (u / uMax) * (H - M.top - M.bottom);
const f = (n: number) => n.toFixed(1);

/** A step line through the samples: each value holds until the next sample. */
function steps(value: (p: (typeof points)[number]) => number): string {
  return points.map((p, i) => `${i === 0 ? 'M' : `H${f(x(p.t))} V`}${i === 0 ? `${f(x(p.t))},${f(y(value(p)))}` : f(y(value(p)))}`).join(' ');
}

const marker = (t: number, label: string, row: number) =>
  `<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${M.top}" y2="${H - M.bottom}" stroke="#888" stroke-dasharray="2,3"/>` +
  `<text x="${f(x(t) + 3)}" y="${M.top + 12 + row * 13}" font-size="11" fill="#444">${label}</text>`;

const yTicks = Array.from({ length: uMax + 1 }, (_, u) => `<text x="${M.left - 8}" y="${f(y(u) + 4)}" font-size="11" text-anchor="end">${u}</text>`).join('');
const step = tMax - tMin > 240 ? 60 : 30;
const xTicks: string[] = [];
for (let t = Math.ceil(tMin / step) * step; t <= tMax; t += step) xTicks.push(`<text x="${f(x(t))}" y="${H - M.bottom + 16}" font-size="11" text-anchor="middle">${t}</text>`);

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${M.left}" y="18" font-size="13" font-weight="bold">Readiness window on shop (level ${data.level}: floor ${data.floor} units, ${data.onDemandFloor} on-demand): ACTIVE units over time</text>
<rect x="${f(x(0))}" y="${M.top}" width="${f(x(sec(data.end)) - x(0))}" height="${H - M.top - M.bottom}" fill="#e8f0fe"/>
<line x1="${M.left}" x2="${W - M.right}" y1="${f(y(0))}" y2="${f(y(0))}" stroke="#000"/>
<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${f(y(0))}" stroke="#000"/>
${yTicks}${xTicks.join('')}
<text x="${(W + M.left) / 2}" y="${H - M.bottom + 32}" font-size="11" text-anchor="middle">seconds from the window's start (shaded: the window)</text>
<line x1="${M.left}" x2="${W - M.right}" y1="${f(y(data.floor))}" y2="${f(y(data.floor))}" stroke="#d93025" stroke-dasharray="6,4"/>
<text x="${W - M.right - 4}" y="${f(y(data.floor) - 4)}" font-size="11" fill="#d93025" text-anchor="end">floor ${data.floor}</text>
<line x1="${M.left}" x2="${W - M.right}" y1="${f(y(data.minUnits))}" y2="${f(y(data.minUnits))}" stroke="#999" stroke-dasharray="1,3"/>
<text x="${W - M.right - 4}" y="${f(y(data.minUnits) - 4)}" font-size="11" fill="#777" text-anchor="end">min ${data.minUnits}</text>
${marker(sec(data.raiseAt), 'floor raised', 0)}${marker(sec(data.reachedAt), 'floor ACTIVE', 1)}${marker(sec(data.interrupted.warnedAt), 'spot warning', 2)}${marker(sec(data.releasedAt), 'released', 3)}
<path d="${steps((p) => p.onDemand)}" fill="none" stroke="#f29900" stroke-width="2"/>
<path d="${steps((p) => p.active)}" fill="none" stroke="#1a73e8" stroke-width="2.5"/>
<text x="${M.left}" y="${H - 10}" font-size="11"><tspan fill="#1a73e8">━ ACTIVE units</tspan>   <tspan fill="#f29900">━ of them on-demand</tspan>   (sampled every 2 s from ECS by test/e2e/stack-e2e.test.ts; ${data.window})</text>
</svg>
`;
writeFileSync(output, svg);
process.stdout.write(`${points.length} samples → ${output}\n`);
