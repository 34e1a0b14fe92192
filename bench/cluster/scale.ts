/**
 * Scale benchmark: per-report cost with 10k, 100k and 1M reports in the window (synthetic city),
 * median and p99, and memory per windowed report (after GC: JS heap, and JS heap + ArrayBuffers). Run with --expose-gc:
 *
 *   npx tsc -p tsconfig.build.json && node --expose-gc --max-old-space-size=16000 dist/bench/cluster/scale.js [10000,100000,1000000]
 *
 * Each size runs in a fresh child process (same Node flags), so one size's garbage and heap
 * growth never count in another's memory figure. Prints JSON; never gates on wall-clock time.
 */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
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

/** JIT warm-up on a throwaway engine, so the first size does not measure compilation. */
function warmUp(): void {
  const warm = new ClusterEngine();
  for (const r of generateSynthetic({ seed: 99, incidents: 4000, spanHours: 24 * 6, estates: 2000 })) warm.process(r.input);
}

function main(): void {
  const sizes = (process.argv[2] ?? '10000,100000,1000000').split(',').map(Number);
  for (const n of sizes) if (!Number.isInteger(n) || n < 1000) throw new Error(`sizes must be integers ≥ 1000 (got ${process.argv[2]})`);
  if (sizes.length > 1 && process.env.SCALE_CHILD === undefined) {
    const results: unknown[] = [];
    for (const n of sizes) {
      const out = execFileSync(process.execPath, [...process.execArgv, __filename, String(n)], {
        env: { ...process.env, SCALE_CHILD: '1' },
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 24,
      });
      results.push(...(JSON.parse(out.toString('utf8')) as { results: unknown[] }).results);
    }
    console.log(JSON.stringify({ node: process.version, results }, null, 2));
    return;
  }
  const results: unknown[] = [];
  warmUp();
  for (const n of sizes) {
    // A window that holds all n reports: a city of n/5 incidents over 7 days.
    const reports = generateSynthetic({ seed: 1, incidents: Math.ceil(n / 5.3), spanHours: 24 * 6, estates: Math.max(2000, Math.ceil(n / 20)) });
    gc();
    const m0 = process.memoryUsage();
    const engine = new ClusterEngine({ windowHours: 24 * 30, repeatWindowHours: 24 * 30 });
    // The last 20,000 reports (the last half for small windows): the window then holds ≈ n.
    const measureFrom = Math.max(Math.floor(reports.length / 2), reports.length - 20000);
    const times = new Float64Array(reports.length - measureFrom);
    // CPU time of the process per report (µs resolution): wall time on a shared machine also
    // counts the time the thread was descheduled.
    const cpu = new Float64Array(reports.length - measureFrom);
    let w0 = engine.work();
    for (let i = 0; i < reports.length; i++) {
      const r = reports[i];
      if (r === undefined) continue;
      if (i < measureFrom) {
        engine.process(r.input);
        if (i === measureFrom - 1) w0 = engine.work();
        continue;
      }
      const c0 = process.cpuUsage();
      const t = process.hrtime.bigint();
      engine.process(r.input);
      times[i - measureFrom] = Number(process.hrtime.bigint() - t) / 1e6;
      const c1 = process.cpuUsage(c0);
      cpu[i - measureFrom] = (c1.user + c1.system) / 1000;
    }
    const w1 = engine.work();
    const per = (k: keyof typeof w1): number => +((w1[k] - w0[k]) / Math.max(1, w1.reports - w0.reports)).toFixed(1);
    gc();
    const m1 = process.memoryUsage();
    results.push({
      // (Reading `reports` here keeps the input array alive through the memory reading above: once
      // dead, V8 may collect it before m1 and the heap figure would come out too small.)
      generated: reports.length,
      windowReports: engine.size,
      measuredLast: times.length,
      medianMs: +quantile(times, 0.5).toFixed(4),
      p99Ms: +quantile(times, 0.99).toFixed(4),
      p999Ms: +quantile(times, 0.999).toFixed(4),
      maxMs: +quantile(times, 1).toFixed(3),
      cpuMedianMs: +quantile(cpu, 0.5).toFixed(4),
      cpuP99Ms: +quantile(cpu, 0.99).toFixed(4),
      loadAvg: os.loadavg().map((x) => +x.toFixed(2)),
      // JS heap only, and JS heap plus ArrayBuffer backing stores (typed arrays over 64 bytes live
      // outside the JS heap: posting rings, the struct-of-arrays ring).
      bytesPerReport: Math.round((m1.heapUsed - m0.heapUsed) / Math.max(1, engine.size)),
      bytesPerReportWithBuffers: Math.round((m1.heapUsed + m1.arrayBuffers - m0.heapUsed - m0.arrayBuffers) / Math.max(1, engine.size)),
      // Work per measured report: posting-table lookups, ring entries read, distinct candidates,
      // candidates scored in full (bounded by the caps: 5 × 48 lookups, entryBudget − 1 + 5 × 16
      // = 207 entries by default, 48 + the reporter's own reports scored).
      workPerReport: { lookups: per('lookups'), entries: per('entries'), candidates: per('candidates'), scored: per('scored') },
      stats: engine.stats(),
    });
    console.error(JSON.stringify(results[results.length - 1]));
  }
  console.log(JSON.stringify({ node: process.version, results }, null, 2));
}

main();
