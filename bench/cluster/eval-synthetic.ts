/**
 * Precision / recall per kind (duplicate, cluster, repeat) on the synthetic multi-channel city.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/cluster/eval-synthetic.js [incidents] [seed]
 */
import { ClusterEngine, type ClusterOutcome } from '../../core/cluster/engine';
import { evaluateSynthetic, generateSynthetic } from '../../core/cluster/synthetic';
import { MergeMap } from '../../core/cluster/tipdm';

function main(): void {
  const incidents = Number(process.argv[2] ?? 2000);
  const seed = Number(process.argv[3] ?? 7);
  const reports = generateSynthetic({ seed, incidents, spanHours: 24 * 30, estates: 1500 });
  const engine = new ClusterEngine();
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
  console.log(JSON.stringify({ seed, incidents, reports: reports.length, ...scores, events }, null, 2));
}

main();
