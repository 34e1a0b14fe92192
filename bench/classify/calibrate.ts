import { chooseThreshold, fitTemperature, oofConfidences, outOfFold, readLabelled, DEFAULT_TRAIN_OPTIONS, type OutOfFold, type TrainOptions } from '../../core/catalog/model';
import { sharedDataFile } from '../../core/util/shared-data';
import { evaluate } from './metrics';

/**
 * Calibration and the default triage threshold, by 5-fold cross-validation on the TRAINING files
 * only (train.jsonl folds; train_segmented.jsonl always trains except the copies of held-out rows),
 * never the holdout. Prints:
 * - out-of-fold macro-F1 / accuracy of the model (the CV figure of the shipped options),
 * - the temperature T fitted on the out-of-fold margins (what `catalog train` folds into the model),
 *   with NLL and expected calibration error before/after,
 * - the threshold rule: the smallest minConfidence whose auto-routed out-of-fold rows reach
 *   `--target` accuracy (default 0.95), and its triage share, at T = 1 and at the fitted T,
 * - a nested estimate of that rule (T and threshold chosen on k−1 folds' OOF rows, applied to the
 *   k-th), and the accuracy / triage share for a grid of thresholds.
 *
 *   node dist/bench/classify/calibrate.js ['{"bits":17}'] [--target 0.95]
 */
function nll(oof: OutOfFold, T: number, rows: number[]): number {
  const L = oof.labels.length;
  let s = 0;
  for (const i of rows) {
    const z = oof.margins.subarray(i * L, i * L + L);
    let max = -Infinity;
    for (const v of z) max = Math.max(max, v);
    let sum = 0;
    for (const v of z) sum += Math.exp((v - max) / T);
    s -= (z[oof.y[i] as number] as number) / T - max / T - Math.log(sum);
  }
  return s / rows.length;
}

/** Expected calibration error over 10 equal-width confidence bins. */
function ece(conf: Float64Array, correct: Uint8Array): number {
  const n = new Float64Array(10);
  const c = new Float64Array(10);
  const a = new Float64Array(10);
  conf.forEach((p, i) => {
    const b = Math.min(9, Math.floor(p * 10));
    n[b] = (n[b] as number) + 1;
    c[b] = (c[b] as number) + p;
    a[b] = (a[b] as number) + (correct[i] as number);
  });
  let e = 0;
  for (let b = 0; b < 10; b++) if (n[b]) e += Math.abs((c[b] as number) - (a[b] as number));
  return e / conf.length;
}

export function main(argv: string[] = process.argv.slice(2)): void {
  const ti = argv.indexOf('--target');
  const target = ti >= 0 ? Number(argv[ti + 1]) : 0.95;
  const optArg = argv.find((a) => a.startsWith('{'));
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...(optArg ? (JSON.parse(optArg) as Partial<TrainOptions>) : {}) };
  const t1 = readLabelled(sharedDataFile('tipdm2020c', 'train.jsonl'));
  const seg = readLabelled(sharedDataFile('tipdm2020c', 'train_segmented.jsonl'));
  const t0 = Date.now();
  const oof = outOfFold(t1, seg, o, 5, undefined, true);
  const L = oof.labels.length;
  const all = Array.from(oof.y.keys());
  const T = fitTemperature(oof.margins, oof.y, L);
  const raw = oofConfidences(oof, 1);
  const cal = oofConfidences(oof, T);
  const gold = Array.from(oof.y, (y) => oof.labels[y] as string);
  const ev = evaluate(
    gold,
    Array.from(raw.pred, (p) => oof.labels[p] as string),
    oof.labels,
  );
  const f = (x: number): number => Number(x.toFixed(4));
  const predQ = oofConfidences({ ...oof, margins: oof.marginsQ ?? oof.margins }, 1).pred;
  const evQ = evaluate(
    gold,
    Array.from(predQ, (p) => oof.labels[p] as string),
    oof.labels,
  );

  // nested: per outer fold, fit T and the threshold on the other folds' OOF rows
  const nested: Array<{ fold: number; T: number; threshold: number; triageShare: number; autoAccuracy: number }> = [];
  let nAuto = 0;
  let nOk = 0;
  for (let f0 = 0; f0 < oof.k; f0++) {
    const inner = all.filter((i) => oof.fold[i] !== f0);
    const outer = all.filter((i) => oof.fold[i] === f0);
    const zin = new Float64Array(inner.length * L);
    inner.forEach((i, j) => zin.set(oof.margins.subarray(i * L, i * L + L), j * L));
    const Ti = fitTemperature(zin, Int32Array.from(inner.map((i) => oof.y[i] as number)), L);
    const ci = oofConfidences(oof, Ti);
    const th = chooseThreshold(
      inner.map((i) => ci.conf[i] as number),
      inner.map((i) => ci.correct[i] as number),
      target,
    ).threshold;
    let auto = 0;
    let ok = 0;
    for (const i of outer)
      if ((ci.conf[i] as number) >= th) {
        auto++;
        ok += ci.correct[i] as number;
      }
    nAuto += auto;
    nOk += ok;
    nested.push({ fold: f0, T: f(Ti), threshold: th, triageShare: f((outer.length - auto) / outer.length), autoAccuracy: f(auto ? ok / auto : 1) });
  }
  const grid = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9].map((t) => {
    let auto = 0;
    let ok = 0;
    cal.conf.forEach((p, i) => {
      if (p >= t) {
        auto++;
        ok += cal.correct[i] as number;
      }
    });
    return { threshold: t, triageShare: f((cal.conf.length - auto) / cal.conf.length), autoAccuracy: f(ok / Math.max(1, auto)) };
  });
  console.log(
    JSON.stringify(
      {
        bench: 'classify-calibration-cv',
        date: new Date().toISOString(),
        data: `train.jsonl ${t1.length} rows in 5 folds (+ train_segmented.jsonl ${seg.length} rows in every training part, minus the held-out rows' copies)`,
        options: o,
        oof: { macroF1: f(ev.macroF1), accuracy: f(ev.accuracy) },
        // the fold models after int8 quantisation (as shipped), predicting from the raw texts
        oofQuantised: { macroF1: f(evQ.macroF1), accuracy: f(evQ.accuracy) },
        temperature: f(T),
        nll: { uncalibrated: f(nll(oof, 1, all)), calibrated: f(nll(oof, T, all)) },
        ece: { uncalibrated: f(ece(raw.conf, raw.correct)), calibrated: f(ece(cal.conf, cal.correct)) },
        targetAccuracy: target,
        rule: 'smallest threshold on a 0.01 grid whose auto-routed OOF rows reach the target accuracy',
        uncalibratedChoice: chooseThreshold(raw.conf, raw.correct, target),
        calibratedChoice: chooseThreshold(cal.conf, cal.correct, target),
        uncalibratedAt040: chooseAt(raw.conf, raw.correct, 0.4),
        calibratedAt040: chooseAt(cal.conf, cal.correct, 0.4),
        nested: { folds: nested, triageShare: f(1 - nAuto / all.length), autoAccuracy: f(nOk / Math.max(1, nAuto)) },
        calibratedGrid: grid,
        seconds: (Date.now() - t0) / 1000,
      },
      null,
      1,
    ),
  );
}

function chooseAt(conf: Float64Array, correct: Uint8Array, t: number): { threshold: number; triageShare: number; autoAccuracy: number } {
  let auto = 0;
  let ok = 0;
  conf.forEach((p, i) => {
    if (p >= t) {
      auto++;
      ok += correct[i] as number;
    }
  });
  return { threshold: t, triageShare: Number(((conf.length - auto) / conf.length).toFixed(4)), autoAccuracy: Number((ok / Math.max(1, auto)).toFixed(4)) };
}

if (require.main === module) main();
