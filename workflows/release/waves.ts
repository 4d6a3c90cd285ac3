import type { FailureBudget, WaveSize } from '../../contracts/release/input';

/**
 * The release's arithmetic, pure: how its services fall into waves, and how many failures a wave may
 * have before the release halts.
 */

const percentOf = (p: string): number => Number(p.slice(0, -1));

/**
 * The waves' sizes for `total` services and a shape. A number is the wave's own size; a percentage is
 * the share of all services deployed once that wave is over (rounded up), so `[1, "10%", "25%",
 * "100%"]` over 200 services is waves of 1, 19, 30 and 150. A wave that would add nobody is dropped
 * (10% of 3 services is reached by the first wave already), and the last wave takes the rest.
 */
export function planWaves(total: number, shape: readonly WaveSize[]): number[] {
  const sizes: number[] = [];
  let done = 0;
  for (let k = 0; k < shape.length && done < total; k++) {
    const s = shape[k]!;
    let reach = typeof s === 'number' ? done + s : Math.ceil((total * percentOf(s)) / 100);
    if (k === shape.length - 1) reach = total;
    reach = Math.min(total, reach);
    if (reach > done) {
      sizes.push(reach - done);
      done = reach;
    }
  }
  return sizes;
}

/** Failures a wave of `size` services tolerates: a count as given, a percentage of the wave rounded down. */
export function failuresAllowed(budget: FailureBudget, size: number): number {
  return typeof budget === 'number' ? budget : Math.floor((size * percentOf(budget)) / 100);
}

/** Index ranges [start, end) of each wave over the services in release order. */
export function waveRanges(sizes: readonly number[]): { start: number; end: number }[] {
  let start = 0;
  return sizes.map((n) => {
    const r = { start, end: start + n };
    start += n;
    return r;
  });
}
