import { foldsOf, readLabelled, trainSoftmax, vectorize, DEFAULT_TRAIN_OPTIONS, type LabelledText, type TrainOptions } from '../../core/catalog/model';
import { sharedDataFile } from '../../core/util/shared-data';
import { evaluate } from './metrics';

/**
 * K-fold cross-validation of the text model on the TRAINING files only (never the holdout), used to
 * choose hyper-parameters. Folds over train.jsonl, stratified by label; train_segmented.jsonl rows
 * are always in the training part except the segmented copies (same `row`) of the validation fold.
 * Vectors are computed once per feature configuration (IDF over all training texts, an
 * unsupervised statistic); macro-F1 is reported after every epoch.
 *
 *   node dist/bench/classify/cv.js '{"bits":18,"lambda":1e-5,"epochs":16}' ...
 *   node dist/bench/classify/cv.js '{"solver":"cd","C":1,"epochs":100}'   (one figure: after the last pass)
 *
 * The scikit-learn peer under the same folds: python3 bench/classify/sklearn_baseline.py --cv
 */
export { foldsOf };

export function crossValidate(train1: LabelledText[], seg: LabelledText[], o: TrainOptions, k = 5): { byEpoch: number[]; folds: number[][] } {
  const labels = [...new Set(train1.map((r) => r.label))].sort();
  const all = [...train1, ...seg];
  const { vecs } = vectorize(all.map((r) => r.text), o);
  const y = Int32Array.from(all.map((r) => labels.indexOf(r.label)));
  const fold = foldsOf(train1, k);
  const perEpoch: number[][] = [];
  for (let f = 0; f < k; f++) {
    const testIdx = train1.map((_, i) => i).filter((i) => fold[i] === f);
    const held = new Set(testIdx.map((i) => train1[i]?.row));
    const trIdx = all.map((_, i) => i).filter((i) => (i < train1.length ? fold[i] !== f : !held.has(all[i]?.row)));
    const gold = testIdx.map((i) => labels[y[i] as number] as string);
    trainSoftmax(trIdx.map((i) => vecs[i]!), Int32Array.from(trIdx.map((i) => y[i] as number)), labels.length, o, (ep, score) => {
      const pred = testIdx.map((i) => labels[score(vecs[i]!)] as string);
      (perEpoch[ep - 1] ??= []).push(evaluate(gold, pred, labels).macroF1);
    });
  }
  // the cd solver reports only its last pass: drop the epochs nobody reported
  const reported = perEpoch.filter((a) => a !== undefined);
  return { byEpoch: reported.map((a) => a.reduce((x, z) => x + z, 0) / a.length), folds: reported };
}

export function main(argv: string[] = process.argv.slice(2)): void {
  const t1 = readLabelled(sharedDataFile('tipdm2020c', 'train.jsonl'));
  const seg = readLabelled(sharedDataFile('tipdm2020c', 'train_segmented.jsonl'));
  for (const a of argv.length ? argv : ['{}']) {
    const o = { ...DEFAULT_TRAIN_OPTIONS, ...(JSON.parse(a) as Partial<TrainOptions>) };
    const t0 = Date.now();
    const r = crossValidate(t1, seg, o);
    console.log(JSON.stringify({ options: a, cvMacroF1ByEpoch: r.byEpoch.map((x) => Number(x.toFixed(4))), seconds: (Date.now() - t0) / 1000 }));
  }
}

if (require.main === module) main();
