/**
 * Pairwise clustering metrics used by the evaluators and the tests. A "pair" is two items in one
 * cluster; predicted and true clusterings are compared pair by pair.
 */

/** Pairwise precision / recall counts. */
export interface PairCounts {
  truePairs: number;
  predictedPairs: number;
  correctPairs: number;
}

export interface PairScores extends PairCounts {
  precision: number;
  recall: number;
  f1: number;
}

export function pairScores(c: PairCounts): PairScores {
  const precision = c.predictedPairs === 0 ? 1 : c.correctPairs / c.predictedPairs;
  const recall = c.truePairs === 0 ? 1 : c.correctPairs / c.truePairs;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...c, precision: round(precision), recall: round(recall), f1: round(f1) };
}

/** Group item ids by a key function (items with a null key are left out). */
export function groupBy<T>(items: Iterable<T>, key: (t: T) => string | null): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    if (k === null) continue;
    const g = out.get(k);
    if (g === undefined) out.set(k, [it]);
    else g.push(it);
  }
  return out;
}

function pairsIn(n: number): number {
  return (n * (n - 1)) / 2;
}

/**
 * Pairwise counts of a predicted clustering against a true one, over the items the truth labels.
 * `truth` maps item → true cluster; `predicted` maps item → predicted cluster (unlabelled items of
 * `predicted` are ignored: a pair counts only when both items are in `truth`).
 */
export function pairCounts(truth: ReadonlyMap<string, string>, predicted: ReadonlyMap<string, string>): PairCounts {
  const byTrue = groupBy(truth.keys(), (k) => truth.get(k) ?? null);
  const byPred = groupBy(truth.keys(), (k) => predicted.get(k) ?? `__missing:${k}`);
  let truePairs = 0;
  for (const g of byTrue.values()) truePairs += pairsIn(g.length);
  let predictedPairs = 0;
  let correctPairs = 0;
  for (const g of byPred.values()) {
    predictedPairs += pairsIn(g.length);
    const sub = groupBy(g, (k) => truth.get(k) ?? null);
    for (const s of sub.values()) correctPairs += pairsIn(s.length);
  }
  return { truePairs, predictedPairs, correctPairs };
}

/** Recall of true pairs only (the truth may label just some clusters, e.g. hot issues). */
export function pairRecall(truth: ReadonlyMap<string, string>, predicted: ReadonlyMap<string, string>): PairScores {
  const c = pairCounts(truth, predicted);
  return pairScores(c);
}

export function addCounts(a: PairCounts, b: PairCounts): PairCounts {
  return {
    truePairs: a.truePairs + b.truePairs,
    predictedPairs: a.predictedPairs + b.predictedPairs,
    correctPairs: a.correctPairs + b.correctPairs,
  };
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
