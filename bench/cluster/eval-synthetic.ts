/**
 * Precision / recall per kind (duplicate, cluster, repeat) on the synthetic multi-channel city.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/cluster/eval-synthetic.js [incidents] [seed]
 *   node dist/bench/cluster/eval-synthetic.js --dense 100000
 *
 * `--dense N` evaluates the scale benchmark's city instead (`scale.ts`: about N reports in 6 days
 * over a fixed area, N/20 estates, a 30-day window): the same engine at the density the cost
 * figures are measured at.
 */
import { ClusterEngine, type ClusterOutcome } from '../../core/cluster/engine';
import type { ClusterConfigInput } from '../../core/cluster/config';
import { evaluateSynthetic, generateSynthetic, type SyntheticReport } from '../../core/cluster/synthetic';
import { MergeMap } from '../../core/cluster/tipdm';

function main(): void {
  let reports: SyntheticReport[];
  let config: ClusterConfigInput = {};
  let label: Record<string, unknown>;
  if (process.argv[2] === '--dense') {
    const n = Number(process.argv[3] ?? 100000);
    if (!Number.isInteger(n) || n < 1000) throw new Error(`--dense needs a report count ≥ 1000 (got ${process.argv[3]})`);
    reports = generateSynthetic({ seed: 1, incidents: Math.ceil(n / 5.3), spanHours: 24 * 6, estates: Math.max(2000, Math.ceil(n / 20)) });
    config = { windowHours: 24 * 30, repeatWindowHours: 24 * 30 };
    label = { dense: n };
  } else {
    const incidents = Number(process.argv[2] ?? 2000);
    const seed = Number(process.argv[3] ?? 7);
    reports = generateSynthetic({ seed, incidents, spanHours: 24 * 30, estates: 1500 });
    label = { seed, incidents };
  }
  const engine = new ClusterEngine(config);
  const merges = new MergeMap();
  const out = new Map<string, ClusterOutcome>();
  for (const r of reports) {
    const o = engine.process(r.input);
    merges.apply(o.events);
    out.set(r.input.ticketId, o);
  }
  for (const o of out.values()) o.clusterId = merges.resolve(o.clusterId);
  const scores = evaluateSynthetic(reports, out);
  const events: Record<string, number> = {};
  for (const o of out.values()) for (const e of o.events) events[e.type] = (events[e.type] ?? 0) + 1;
  console.log(JSON.stringify({ ...label, reports: reports.length, ...scores, events }, null, 2));
}

main();
