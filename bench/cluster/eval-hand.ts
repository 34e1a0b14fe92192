/**
 * Clustering precision and recall on hand-labelled real messages, per error class (issue 13):
 * template posts with a swapped estate, school or firm name; one weak link chaining clusters;
 * one place with another problem; policy questions of other cities or other policies. Labels
 * (ids only) are in `hand-labels.json`; the texts are read at run time from
 * ../shared/data/tipdm2020c (the three message files, one time-ordered stream, so document
 * frequencies and candidates are those of real traffic).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/cluster/eval-hand.js ['{"linkThreshold":0.12}']
 *
 * Pairwise: a pair of labelled messages is positive when one issue lists both; precision is the
 * share of labelled pairs put in one cluster that are positive, recall the share of positive
 * pairs put in one cluster. Per class: pairs with at least one message of the class.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../core/util/paths';
import { sharedDataFile } from '../../core/util/shared-data';
import type { ClusterConfigInput } from '../../core/cluster/config';
import { TIPDM_CONFIG, clusterTipdm, readJsonl, type TipdmMessage } from '../../core/cluster/tipdm';

interface HandIssue {
  id: string;
  class: string;
  msgs: string[];
}

interface Counts {
  positives: number;
  together: number;
  correct: number;
}

function main(): void {
  const overlay = process.argv[2] !== undefined ? (JSON.parse(process.argv[2]) as ClusterConfigInput) : {};
  const labels = JSON.parse(readFileSync(join(packageRoot(), 'bench', 'cluster', 'hand-labels.json'), 'utf8')) as { stream: string[]; issues: HandIssue[] };
  const seen = new Set<string>();
  const messages: TipdmMessage[] = [];
  for (const f of labels.stream) {
    for (const m of readJsonl<TipdmMessage>(sharedDataFile('tipdm2020c', f))) {
      if (seen.has(m.msg_id)) continue;
      seen.add(m.msg_id);
      messages.push(m);
    }
  }
  const outcomes = clusterTipdm(messages, { ...TIPDM_CONFIG, ...overlay });
  const issueOf = new Map<string, HandIssue>();
  for (const i of labels.issues) for (const m of i.msgs) issueOf.set(m, i);
  const missing = [...issueOf.keys()].filter((m) => !outcomes.has(m));
  if (missing.length > 0) throw new Error(`labelled messages not in the stream: ${missing.join(', ')}`);

  const ids = [...issueOf.keys()].sort();
  const all: Counts = { positives: 0, together: 0, correct: 0 };
  const byClass = new Map<string, Counts>();
  const wrong: string[] = [];
  const missed: string[] = [];
  for (let a = 0; a < ids.length; a++) {
    for (let b = a + 1; b < ids.length; b++) {
      const x = ids[a] as string;
      const y = ids[b] as string;
      const ix = issueOf.get(x) as HandIssue;
      const iy = issueOf.get(y) as HandIssue;
      const positive = ix === iy;
      const together = outcomes.get(x)?.clusterId === outcomes.get(y)?.clusterId;
      const classes = new Set([ix.class, iy.class]);
      for (const c of [all, ...[...classes].map((k) => byClass.get(k) ?? byClass.set(k, { positives: 0, together: 0, correct: 0 }).get(k) as Counts)]) {
        if (positive) c.positives++;
        if (together) c.together++;
        if (positive && together) c.correct++;
      }
      if (together && !positive) wrong.push(`${x}(${ix.id}) ~ ${y}(${iy.id})`);
      if (positive && !together) missed.push(`${x} ~ ${y} (${ix.id})`);
    }
  }
  const score = (c: Counts): Record<string, number> => ({
    ...c,
    precision: c.together === 0 ? 1 : Math.round((c.correct / c.together) * 1000) / 1000,
    recall: c.positives === 0 ? 1 : Math.round((c.correct / c.positives) * 1000) / 1000,
  });
  const perClass: Record<string, Record<string, number>> = {};
  for (const [k, c] of [...byClass].sort((p, q) => (p[0] < q[0] ? -1 : 1))) perClass[k] = score(c);
  console.log(
    JSON.stringify(
      { config: overlay, messages: messages.length, labelled: ids.length, issues: labels.issues.length, ...score(all), perClass, wrongPairs: wrong.slice(0, 200), missedPairs: missed.slice(0, 200) },
      null,
      2,
    ),
  );
}

main();
