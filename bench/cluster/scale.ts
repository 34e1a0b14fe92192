/**
 * Scale benchmark: per-report cost with 10k, 100k and 1M reports in the window (synthetic city),
 * median and p99, and memory per windowed report (heap after GC). Run with --expose-gc:
 *
 *   npx tsc -p tsconfig.build.json && node --expose-gc --max-old-space-size=12000 dist/bench/cluster/scale.js [10000,100000,1000000]
 *
 * Prints JSON; never gates on wall-clock time.
 */
import { ClusterEngine } from '../../core/cluster/engine';
import { generateSynthetic } from '../../core/cluster/synthetic';

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) {
    g();
    g();
  }
}

function quantile(xs: Float64Array, q: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

function main(): void {
  const sizes = (process.argv[2] ?? '10000,100000,1000000').split(',').map(Number);
  const results: unknown[] = [];
  for (const n of sizes) {
    // A window that holds all n reports: a city of n/5 incidents over 7 days.
    const reports = generateSynthetic({ seed: 1, incidents: Math.ceil(n / 5.3), spanHours: 24 * 6, estates: Math.max(2000, Math.ceil(n / 20)) });
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const engine = new ClusterEngine({ windowHours: 24 * 30, repeatWindowHours: 24 * 30 });
    const measureFrom = Math.max(0, reports.length - 20000);
    const times = new Float64Array(reports.length - measureFrom);
    for (let i = 0; i < reports.length; i++) {
      const r = reports[i];
      if (r === undefined) continue;
      if (i < measureFrom) {
        engine.process(r.input);
        continue;
      }
      const t = process.hrtime.bigint();
      engine.process(r.input);
      times[i - measureFrom] = Number(process.hrtime.bigint() - t) / 1e6;
    }
    gc();
    const heap1 = process.memoryUsage().heapUsed;
    results.push({
      windowReports: engine.size,
      measuredLast: times.length,
      medianMs: +quantile(times, 0.5).toFixed(4),
      p99Ms: +quantile(times, 0.99).toFixed(4),
      maxMs: +quantile(times, 1).toFixed(3),
      bytesPerReport: Math.round((heap1 - heap0) / Math.max(1, engine.size)),
      stats: engine.stats(),
    });
    console.error(JSON.stringify(results[results.length - 1]));
  }
  console.log(JSON.stringify({ node: process.version, results }, null, 2));
}

main();
