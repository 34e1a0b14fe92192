/**
 * The bottom-k selection of `core/cluster/sort.ts` against Node's native sort, on what the
 * clustering engine sorts per report: 300 sampling keys (a 32-bit mix · 65536 + index), of which it
 * needs the smallest 60. Prints the median over 9 rounds of the time per array.
 *
 *   npm run build && node dist/bench/cluster/sort.js
 */
import { smallestFirst } from '../../core/cluster/sort';

const N = 300;
const K = 60;
const ARRAYS = 64;
const PER_ROUND = 40_000;

function main(): void {
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  const src = Array.from({ length: ARRAYS }, () => Float64Array.from({ length: N }, (_, i) => rand() * 65536 + i));
  const work = src.map((a) => a.slice());
  const time = (f: (a: Float64Array) => void): number => {
    const t = process.hrtime.bigint();
    for (let r = 0; r < PER_ROUND; r++) {
      const a = work[r % ARRAYS] as Float64Array;
      a.set(src[r % ARRAYS] as Float64Array);
      f(a);
    }
    return Number(process.hrtime.bigint() - t) / PER_ROUND / 1000;
  };
  const native: number[] = [];
  const select: number[] = [];
  for (let round = 0; round < 9; round++) {
    native.push(time((a) => a.sort()));
    select.push(time((a) => smallestFirst(a, N, K)));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const m = { native: median(native), select: median(select) };
  process.stdout.write(JSON.stringify({ figure: `smallest ${K} of ${N} doubles`, nativeSortUs: +m.native.toFixed(2), smallestFirstUs: +m.select.toFixed(2), ratio: +(m.select / m.native).toFixed(3) }) + '\n');
}

main();
