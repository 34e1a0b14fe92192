import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConfigError } from '../errors';
import { packageRoot } from '../util/paths';

/**
 * The text model of the classification cascade: hashed character n-grams (sublinear TF × IDF,
 * L2-normalised) and a linear model over the 7 message-board labels (default: NB-SVM by dual
 * coordinate descent, `trainDualCD`; SGD hinge / multinomial logistic regression via `trainSoftmax`).
 * Pure TypeScript, no dependencies.
 *
 * Speed: n-grams are hashed with a rolling multiply-xor over char codes straight into a fixed
 * feature space — no n-gram string is ever allocated — and counted in a reused scratch array, so a
 * prediction costs O(text length × n-gram orders) plus O(distinct features × labels).
 *
 * File: gzip-compressed JSON holding, for the buckets that carry weight only, base64 int8-quantised
 * weights (per-label scale) and uint8-quantised IDF; a few MB at most, loaded in well under a second. Versioned: `format` is the file layout, `version` names
 * the trained model and is recorded in docs/catalog.md.
 */

/** Format 2: adds `features.maxChars` (only a text's first maxChars chars are read). Format 1 files still load. */
export const MODEL_FORMAT = 'intake-hub-textmodel/2';
const MODEL_FORMAT_V1 = 'intake-hub-textmodel/1';

export interface FeatureConfig {
  /** log2 of the hashed feature space size. */
  bits: number;
  ngramMin: number;
  ngramMax: number;
  /** Only the first maxChars chars of a text are read (0 or absent: all). */
  maxChars?: number;
}

export interface TrainOptions extends FeatureConfig {
  /** Buckets seen in fewer training texts get IDF 0 (dropped), like scikit-learn's min_df. */
  minDf: number;
  epochs: number;
  /** L2 regularisation strength (per example). */
  lambda: number;
  /** Initial learning rate; decays as lr0 / (1 + t·lambda·lr0). */
  lr: number;
  /** softmax: multinomial logistic regression; hinge: one-vs-rest squared hinge (a linear SVM). */
  loss?: 'softmax' | 'hinge';
  /**
   * sgd (default): the SGD above for `epochs` epochs. cd: one-vs-rest squared-hinge L2 SVM solved by
   * dual coordinate descent (the LinearSVC / liblinear solver, Hsieh et al. 2008) with cost `C`,
   * a regularised bias feature of value 1 and up to `epochs` passes (stops earlier when the
   * projected-gradient range falls below 1e-3); `lambda` and `lr` unused.
   */
  solver?: 'sgd' | 'cd';
  /** Cost of the cd solver (LinearSVC's C). */
  C?: number;
  /** balanced: each example's loss × n / (labels × n_class) (scikit-learn's class_weight='balanced'). */
  classWeight?: 'none' | 'balanced';
  /**
   * cd only: NB-SVM (Wang & Manning 2012) — class c's SVM sees each feature scaled by its naive-Bayes
   * log-count ratio r_c (smoothing 1, binarised features); the saved weight is w_c ∘ r_c, so
   * prediction is unchanged (one linear score per label).
   */
  nb?: boolean;
  seed: number;
  /**
   * > 1: calibrate the confidences by temperature scaling fitted on out-of-fold margins of the
   * first data file's rows (k-fold as in bench/classify/cv.ts); the temperature is folded into the
   * saved weights and biases (softmax(z/T) = softmax of z scaled by 1/T). 0 or absent: no calibration.
   */
  calibrationFolds?: number;
}

/**
 * The shipped model's options (l1-2026.11.3, chosen by 5-fold CV, docs/catalog.md): NB-SVM — one-vs-rest
 * squared-hinge SVM by dual coordinate descent, C = 1, balanced class weights, naive-Bayes feature
 * scaling. `lambda`/`lr` only apply to `solver: 'sgd'` (l1-2026.11.2 used sgd, 10 epochs, λ 1e-5).
 */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  bits: 18,
  ngramMin: 1,
  ngramMax: 3,
  maxChars: 384,
  minDf: 1,
  epochs: 100,
  lambda: 1e-5,
  lr: 0.5,
  seed: 7,
  loss: 'hinge',
  solver: 'cd',
  C: 1,
  classWeight: 'balanced',
  nb: true,
  calibrationFolds: 5,
};

export interface ModelFile {
  format: typeof MODEL_FORMAT | 'intake-hub-textmodel/1';
  version: string;
  labels: string[];
  features: FeatureConfig;
  /** Buckets that carry weight (all others are zero): base64 of LEB128 varint deltas. */
  buckets: string;
  /** IDF of those buckets, uint8 quantised: idf = q × idfScale. */
  idfScale: number;
  idf: string;
  /** Weights of those buckets [bucket × labels], int8, per label: w = q × weightScales[label]. */
  weightScales: number[];
  weights: string;
  bias: number[];
  trainedOn: Array<{ file: string; rows: number }>;
  trainOptions: TrainOptions;
  createdAt: string;
  notes?: string;
}

/** Normalised char code: digits → '0', ASCII letters lower-cased, whitespace and full-width space → ' '. */
function normChar(c: number): number {
  if (c >= 48 && c <= 57) return 48;
  if (c >= 65 && c <= 90) return c + 32;
  if (c >= 0xff10 && c <= 0xff19) return 48; // full-width digits
  if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0x3000 || c === 160) return 32;
  return c;
}

/** How many n-gram occurrences `text` yields at most (the size `hashBuckets` needs for `out`). */
export function maxNgrams(text: string, f: FeatureConfig): number {
  const len = f.maxChars && f.maxChars > 0 ? Math.min(text.length, f.maxChars) : text.length;
  return len * (f.ngramMax - f.ngramMin + 1);
}

/**
 * Writes the hashed bucket of every n-gram occurrence of `text` (its first `maxChars` chars when
 * set) into `out`, in order, repeats included; returns how many. `out` must hold `maxNgrams`.
 * A rolling multiply-xor (FNV-1a step) over normalised char codes kept in locals — no n-gram string,
 * no window array; runs of spaces count once. The single feature function of training and prediction.
 */
export function hashBuckets(text: string, f: FeatureConfig, out: Int32Array): number {
  const mask = (1 << f.bits) - 1;
  const nMax = f.ngramMax;
  const nMin = f.ngramMin;
  if (nMax > 4 || nMin < 1 || nMin > nMax) throw new ConfigError(`n-gram orders ${nMin}-${nMax} unsupported (1 ≤ min ≤ max ≤ 4)`);
  const len = f.maxChars && f.maxChars > 0 ? Math.min(text.length, f.maxChars) : text.length;
  // the last 4 normalised chars, newest in c0
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  let filled = 0;
  let prev = -1;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = normChar(text.charCodeAt(i));
    if (c === 32 && prev === 32) continue;
    prev = c;
    c3 = c2;
    c2 = c1;
    c1 = c0;
    c0 = c;
    if (filled < nMax) filled++;
    else if (nMax === 3 && nMin === 1) {
      // steady state of the default 1–3-grams, unrolled (same hashes as the loop below)
      const h1 = Math.imul(0x811c9dc5 ^ c0, 0x01000193);
      const h2 = Math.imul(h1 ^ c1, 0x01000193);
      const h3 = Math.imul(h2 ^ c2, 0x01000193);
      let x = Math.imul(h1 ^ 1, 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      out[n] = (x ^ (x >>> 16)) & mask;
      x = Math.imul(h2 ^ 2, 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      out[n + 1] = (x ^ (x >>> 16)) & mask;
      x = Math.imul(h3 ^ 3, 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      out[n + 2] = (x ^ (x >>> 16)) & mask;
      n += 3;
      continue;
    }
    let h = 0x811c9dc5;
    for (let k = 1; k <= filled; k++) {
      h = Math.imul(h ^ (k === 1 ? c0 : k === 2 ? c1 : k === 3 ? c2 : c3), 0x01000193);
      if (k < nMin) continue;
      // finalise with the order so "ab" and "a","b" land apart
      let x = Math.imul(h ^ k, 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      out[n++] = (x ^ (x >>> 16)) & mask;
    }
  }
  return n;
}

/**
 * Counts the hashed n-grams of `text` into `counts` (indexed by bucket), appending each bucket seen
 * for the first time to `touched`; returns how many buckets were touched. Runs of spaces count once.
 * (Training path; prediction dedupes in a small per-text open-addressing table instead.)
 */
export function hashNgrams(text: string, f: FeatureConfig, counts: Float32Array, touched: Int32Array): number {
  const all = new Int32Array(maxNgrams(text, f));
  const m = hashBuckets(text, f, all);
  let nt = 0;
  for (let i = 0; i < m; i++) {
    const b = all[i] as number;
    if (counts[b] === 0) {
      if (nt < touched.length) touched[nt++] = b;
      else continue;
    }
    counts[b] = (counts[b] as number) + 1;
  }
  return nt;
}

/** A sparse, L2-normalised TF-IDF vector. */
export interface SparseVec {
  idx: Int32Array;
  val: Float32Array;
}

/** Turns texts into sparse TF-IDF vectors for training (IDF supplied or computed from `texts`). */
export function vectorize(texts: string[], f: FeatureConfig & { minDf?: number }, idf?: Float32Array): { vecs: SparseVec[]; idf: Float32Array } {
  const dim = 1 << f.bits;
  const counts = new Float32Array(dim);
  const touched = new Int32Array(1 << 16);
  const raw: Array<{ idx: Int32Array; tf: Float32Array }> = [];
  const df = new Float32Array(dim);
  for (const t of texts) {
    const nt = hashNgrams(t, f, counts, touched);
    const idx = touched.slice(0, nt).sort();
    const tf = new Float32Array(nt);
    for (let k = 0; k < nt; k++) {
      const b = idx[k] as number;
      tf[k] = 1 + Math.log(counts[b] as number);
      counts[b] = 0;
      df[b] = (df[b] as number) + 1;
    }
    raw.push({ idx, tf });
  }
  let useIdf = idf;
  if (!useIdf) {
    useIdf = new Float32Array(dim);
    const n = texts.length;
    const minDf = f.minDf ?? 1;
    for (let b = 0; b < dim; b++) useIdf[b] = (df[b] as number) >= minDf ? Math.log((1 + n) / (1 + (df[b] as number))) + 1 : 0;
  }
  const vecs = raw.map(({ idx, tf }) => {
    let norm = 0;
    for (let k = 0; k < idx.length; k++) {
      const v = (tf[k] as number) * (useIdf[idx[k] as number] as number);
      tf[k] = v;
      norm += v * v;
    }
    const s = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = 0; k < tf.length; k++) tf[k] = (tf[k] as number) * s;
    return { idx, val: tf };
  });
  return { vecs, idf: useIdf };
}

/** Small deterministic PRNG for shuffling. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Multinomial logistic regression by SGD with L2 (lazy scaling), on precomputed vectors.
 * Returns weights [bucket × labels] and biases.
 */
export function trainSoftmax(
  vecs: SparseVec[],
  y: Int32Array,
  nLabels: number,
  o: TrainOptions,
  onEpoch?: (epoch: number, score: (v: SparseVec) => number) => void,
  sampleWeight?: Float64Array,
): { w: Float32Array; bias: Float64Array } {
  if (o.solver === 'cd') return trainDualCD(vecs, y, nLabels, o, onEpoch, sampleWeight);
  if (sampleWeight) throw new ConfigError('sample weights need the dual CD solver');
  const dim = 1 << o.bits;
  const L = nLabels;
  const w = new Float32Array(dim * L);
  const bias = new Float64Array(L);
  let scale = 1;
  const order = Array.from(vecs.keys());
  const rnd = mulberry32(o.seed);
  const scores = new Float64Array(L);
  const cw = new Float64Array(L).fill(1);
  if (o.classWeight === 'balanced') {
    const cnt = new Float64Array(L);
    for (let i = 0; i < y.length; i++) cnt[y[i] as number] = (cnt[y[i] as number] as number) + 1;
    for (let c = 0; c < L; c++) cw[c] = y.length / (L * Math.max(1, cnt[c] as number));
  }
  let t = 0;
  for (let ep = 0; ep < o.epochs; ep++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      const tmp = order[i] as number;
      order[i] = order[j] as number;
      order[j] = tmp;
    }
    for (const i of order) {
      const lr = o.lr / (1 + o.lr * o.lambda * t);
      t++;
      const v = vecs[i] as SparseVec;
      scores.fill(0);
      for (let k = 0; k < v.idx.length; k++) {
        const base = (v.idx[k] as number) * L;
        const x = v.val[k] as number;
        for (let c = 0; c < L; c++) scores[c] = (scores[c] as number) + x * (w[base + c] as number);
      }
      let max = -Infinity;
      for (let c = 0; c < L; c++) {
        scores[c] = (scores[c] as number) * scale + (bias[c] as number);
        if ((scores[c] as number) > max) max = scores[c] as number;
      }
      let sum = 0;
      for (let c = 0; c < L; c++) {
        scores[c] = Math.exp((scores[c] as number) - max);
        sum += scores[c] as number;
      }
      const yi = y[i] as number;
      scale *= 1 - lr * o.lambda;
      if (scale < 1e-6) {
        for (let k = 0; k < w.length; k++) w[k] = (w[k] as number) * scale;
        scale = 1;
      }
      for (let c = 0; c < L; c++) {
        let g: number;
        if (o.loss === 'hinge') {
          const yc = c === yi ? 1 : -1;
          const margin = yc * (Math.log(scores[c] as number) + max);
          g = margin < 1 ? -2 * yc * (1 - margin) : 0;
        } else g = (scores[c] as number) / sum - (c === yi ? 1 : 0);
        g *= cw[yi] as number;
        scores[c] = g;
        bias[c] = (bias[c] as number) - lr * g * 0.1;
      }
      const step = lr / scale;
      for (let k = 0; k < v.idx.length; k++) {
        const base = (v.idx[k] as number) * L;
        const x = (v.val[k] as number) * step;
        for (let c = 0; c < L; c++) w[base + c] = (w[base + c] as number) - x * (scores[c] as number);
      }
    }
    if (onEpoch) {
      const sc = new Float64Array(L);
      onEpoch(ep + 1, (v) => {
        sc.fill(0);
        for (let k = 0; k < v.idx.length; k++) {
          const base = (v.idx[k] as number) * L;
          for (let c = 0; c < L; c++) sc[c] = (sc[c] as number) + (v.val[k] as number) * (w[base + c] as number);
        }
        let best = 0;
        for (let c = 0; c < L; c++) if ((sc[c] as number) * scale + (bias[c] as number) > (sc[best] as number) * scale + (bias[best] as number)) best = c;
        return best;
      });
    }
  }
  if (scale !== 1) for (let k = 0; k < w.length; k++) w[k] = (w[k] as number) * scale;
  return { w, bias };
}

/**
 * One-vs-rest L2-regularised squared-hinge SVM (L2-loss SVC) by dual coordinate descent, as in
 * liblinear (solver 1 of LinearSVC): min ½‖w‖² + C Σ max(0, 1 − y·w·x)², with the bias as an extra
 * feature of constant 1 (regularised, like liblinear's intercept_scaling = 1). Deterministic (seeded
 * permutations). `onEpoch` is called once, after training. `sampleWeight` (default 1 each) scales
 * an example's cost C_i (liblinear's instance weights) and its share in the naive-Bayes counts: a
 * weak label at 0.3 pulls less than an annotated one.
 */
export function trainDualCD(
  vecs: SparseVec[],
  y: Int32Array,
  nLabels: number,
  o: TrainOptions,
  onEpoch?: (epoch: number, score: (v: SparseVec) => number) => void,
  sampleWeight?: Float64Array,
): { w: Float32Array; bias: Float64Array } {
  const dim = 1 << o.bits;
  const L = nLabels;
  const n = vecs.length;
  if (sampleWeight && (sampleWeight.length !== n || sampleWeight.some((v) => !(v > 0)))) throw new ConfigError('sample weights: one weight > 0 per example');
  const sw = (i: number): number => (sampleWeight ? (sampleWeight[i] as number) : 1);
  const C = o.C ?? 1;
  const maxPass = Math.max(1, o.epochs);
  const w = new Float32Array(dim * L);
  const bias = new Float64Array(L);
  const counts = new Float64Array(L);
  // balanced costs from weighted counts (n and n_class as sums of weights; plain counts without weights)
  let nw = 0;
  for (let i = 0; i < n; i++) {
    counts[y[i] as number] = (counts[y[i] as number] as number) + sw(i);
    nw += sw(i);
  }
  const qii = new Float64Array(n);
  const r = new Float64Array(dim).fill(1);
  const pos = o.nb ? new Float64Array(dim) : r;
  const neg = o.nb ? new Float64Array(dim) : r;
  const wc = new Float64Array(dim);
  const alpha = new Float64Array(n);
  const order = new Int32Array(n);
  const rnd = mulberry32(o.seed);
  for (let c = 0; c < L; c++) {
    wc.fill(0);
    alpha.fill(0);
    let b = 0;
    // class-dependent cost: positives (class c) and negatives (the rest)
    const balanced = o.classWeight === 'balanced';
    const cPos = balanced ? (C * nw) / (L * Math.max(1, counts[c] as number)) : C;
    if (o.nb) {
      // naive-Bayes log-count ratios of class c vs the rest (binarised features, smoothing 1)
      pos.fill(1);
      neg.fill(1);
      let sp = dim;
      let sn = dim;
      for (let i = 0; i < n; i++) {
        const v = vecs[i] as SparseVec;
        const side = y[i] === c ? pos : neg;
        const wi = sw(i);
        for (let k = 0; k < v.idx.length; k++) side[v.idx[k] as number] = (side[v.idx[k] as number] as number) + wi;
        if (y[i] === c) sp += wi * v.idx.length;
        else sn += wi * v.idx.length;
      }
      for (let j = 0; j < dim; j++) r[j] = Math.log((pos[j] as number) / sp / ((neg[j] as number) / sn));
    }
    for (let i = 0; i < n; i++) {
      const v = vecs[i] as SparseVec;
      let s2 = 1; // the bias feature
      for (let k = 0; k < v.val.length; k++) {
        const x = (v.val[k] as number) * (r[v.idx[k] as number] as number);
        s2 += x * x;
      }
      qii[i] = s2;
    }
    for (let i = 0; i < n; i++) order[i] = i;
    for (let pass = 0; pass < maxPass; pass++) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        const t = order[i] as number;
        order[i] = order[j] as number;
        order[j] = t;
      }
      let pgMax = -Infinity;
      let pgMin = Infinity;
      for (let q = 0; q < n; q++) {
        const i = order[q] as number;
        const yi = y[i] === c ? 1 : -1;
        const ci = (yi > 0 ? cPos : balanced ? (C * nw) / (L * Math.max(1, counts[y[i] as number] as number)) : C) * sw(i);
        const dii = 1 / (2 * ci);
        const v = vecs[i] as SparseVec;
        let dot = b;
        for (let k = 0; k < v.idx.length; k++) {
          const j = v.idx[k] as number;
          dot += (v.val[k] as number) * (r[j] as number) * (wc[j] as number);
        }
        const a = alpha[i] as number;
        const g = yi * dot - 1 + dii * a;
        const pg = a === 0 ? Math.min(g, 0) : g;
        if (pg > pgMax) pgMax = pg;
        if (pg < pgMin) pgMin = pg;
        if (pg === 0) continue;
        const na = Math.max(a - g / ((qii[i] as number) + dii), 0);
        const d = (na - a) * yi;
        if (d === 0) continue;
        alpha[i] = na;
        b += d;
        for (let k = 0; k < v.idx.length; k++) {
          const j = v.idx[k] as number;
          wc[j] = (wc[j] as number) + d * (v.val[k] as number) * (r[j] as number);
        }
      }
      if (pgMax - pgMin < 1e-3) break;
    }
    for (let j = 0; j < dim; j++) w[j * L + c] = (wc[j] as number) * (r[j] as number);
    bias[c] = b;
  }
  if (onEpoch) {
    const sc = new Float64Array(L);
    onEpoch(maxPass, (v) => {
      for (let c = 0; c < L; c++) sc[c] = bias[c] as number;
      for (let k = 0; k < v.idx.length; k++) {
        const base = (v.idx[k] as number) * L;
        for (let c = 0; c < L; c++) sc[c] = (sc[c] as number) + (v.val[k] as number) * (w[base + c] as number);
      }
      let best = 0;
      for (let c = 1; c < L; c++) if ((sc[c] as number) > (sc[best] as number)) best = c;
      return best;
    });
  }
  return { w, bias };
}

export interface Prediction {
  /** Index into `labels` of the most probable label. */
  best: number;
  label: string;
  /** Probability of the best label. */
  confidence: number;
  /** Probabilities per label (same order as `labels`). The array is reused by the next call. */
  probs: Float64Array;
}

const LOG1P_LUT = Float64Array.from({ length: 256 }, (_, i) => (i === 0 ? 0 : 1 + Math.log(i)));

/** WebAssembly memory: a page-aligned ArrayBuffer (not in the ES2022 lib typings, hence the cast). */
const wasm = (globalThis as unknown as { WebAssembly?: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly;

/** A zeroed ArrayBuffer of `bytes` whose start is page-aligned when WebAssembly is available. */
function alignedBuffer(bytes: number): ArrayBuffer {
  return wasm ? new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) }).buffer : new ArrayBuffer(bytes);
}

/** Set bits of a 32-bit integer. */
function popcount32(x: number): number {
  x = (x - ((x >>> 1) & 0x55555555)) | 0;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Smallest power of two ≥ n (n ≥ 1). */
function pow2(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

/**
 * A loaded model. Not thread-safe by design (reused scratch buffers keep prediction allocation
 * free apart from the small result object); give each worker its own instance.
 *
 * Memory layout, 7 labels: one 8-byte row per hashed bucket — the 7 int8 label weights, then the
 * uint8 IDF — so a feature costs one cache line (2 MB at 2^18).
 * Wider models (the 20-category teacher at 2^20) keep rows only for the buckets that have an IDF
 * (n-grams of some training document; 46% of the teacher's buckets): `present` holds one bit per
 * bucket and `rank` the rows before each 32-bucket word, so a bucket's row is
 * `rank[w] + popcount(bits below it)`; the row holds the label weights (L bytes rounded up to 4)
 * and `rowIdf` the row's IDF. The small arrays (128 KB each for `present` and `rank`, 0.5 MB of
 * IDF for the teacher) stay in cache, so an n-gram in no training document costs no miss in the
 * rows; the rows (20 bytes for 20 labels: 9.6 MB for the teacher instead of 32 MB of 32-byte rows
 * for every bucket) leave more of the cache to the other stages.
 * Scores are accumulated on the quantised integers and scaled per label once at the end; the IDF
 * scale cancels out in the L2 normalisation. A text's n-grams are counted in a small open-addressing
 * table (≥ 2 × its n-grams, cleared slot by slot after use) that stays in L1/L2, not in a 2^bits
 * scratch array.
 */
export class TextModel {
  readonly labels: readonly string[];
  readonly version: string;
  readonly features: FeatureConfig;
  /** Softmax temperature fitted on out-of-fold margins (1: uncalibrated). */
  readonly temperature: number;
  private readonly stride: number;
  /** Rows: one per bucket (7 labels), or one per bucket with an IDF (`present`, wider models). */
  private readonly w8: Int8Array;
  /** 7 labels: the rows as bytes (the IDF at offset 7); empty for wider models. */
  private readonly u8: Uint8Array;
  /** Wider models: bit b % 32 of word b >>> 5 is set when bucket b has a row. */
  private readonly present: Int32Array;
  /** Wider models: rows before each word of `present`. */
  private readonly rank: Int32Array;
  /** Wider models: the IDF of each row, apart from the rows (small enough to stay in cache). */
  private readonly rowIdf: Uint8Array;
  private readonly scales: Float64Array;
  private readonly bias: Float64Array;
  private readonly probs: Float64Array;
  private readonly acc: Float64Array;
  // scratch
  private buf = new Int32Array(0);
  /** Open-addressing table of a text's distinct buckets: bucket + 1 (0: empty; cleared after use). */
  private tab = new Int32Array(0);
  private cnt = new Int32Array(0);
  /** The occupied slots of `tab`, in first-seen order. */
  private slots = new Int32Array(0);
  /** Generic label path: row offset and feature value of each distinct bucket that carries weight. */
  private bases = new Int32Array(0);
  private vals = new Float64Array(0);

  /**
   * @param wq quantised weights [bucket × labels] (w = q × scales[label])
   * @param idfq quantised IDF per bucket (any positive scale: it cancels out)
   */
  constructor(labels: string[], version: string, features: FeatureConfig, wq: Int8Array, scales: ArrayLike<number>, idfq: Uint8Array, bias: ArrayLike<number>, temperature = 1) {
    const dim = 2 ** features.bits;
    const L = labels.length;
    if (wq.length !== dim * L || idfq.length !== dim) throw new ConfigError(`model ${version}: weight/idf sizes do not match ${L} labels × 2^${features.bits}`);
    if (!(temperature > 0)) throw new ConfigError(`model ${version}: temperature must be > 0`);
    this.labels = labels;
    this.version = version;
    this.features = { ...features };
    this.temperature = temperature;
    if (L === 7) {
      this.stride = 8;
      // page-aligned backing store (WebAssembly memory): each 8-byte row sits inside one cache line
      const buf = alignedBuffer(dim * 8);
      this.w8 = new Int8Array(buf);
      this.u8 = new Uint8Array(buf);
      this.present = new Int32Array(0);
      this.rank = new Int32Array(0);
      this.rowIdf = new Uint8Array(0);
      for (let b = 0; b < dim; b++) {
        const o = b * 8;
        for (let c = 0; c < L; c++) this.w8[o + c] = wq[b * L + c] as number;
        this.u8[o + L] = idfq[b] as number;
      }
    } else {
      // the labels, read in blocks of four (see `margins`): L bytes rounded up to 4
      const stride = (L + 3) & ~3;
      this.stride = stride;
      const words = Math.ceil(dim / 32);
      this.present = new Int32Array(words);
      this.rank = new Int32Array(words);
      let rows = 0;
      for (let w = 0; w < words; w++) {
        this.rank[w] = rows;
        let bits = 0;
        for (let j = 0; j < 32 && w * 32 + j < dim; j++) {
          if ((idfq[w * 32 + j] as number) !== 0) {
            bits |= 1 << j;
            rows++;
          }
        }
        this.present[w] = bits;
      }
      this.w8 = new Int8Array(Math.max(1, rows) * stride);
      this.u8 = new Uint8Array(0);
      this.rowIdf = new Uint8Array(rows);
      let r = 0;
      for (let b = 0; b < dim; b++) {
        const idf = idfq[b] as number;
        if (idf === 0) continue;
        this.rowIdf[r] = idf;
        const o = r++ * stride;
        for (let c = 0; c < L; c++) this.w8[o + c] = wq[b * L + c] as number;
      }
    }
    this.scales = Float64Array.from(scales);
    this.bias = Float64Array.from(bias);
    this.probs = new Float64Array(L);
    this.acc = new Float64Array(L);
    this.grow(4096);
  }

  private grow(n: number): void {
    const size = pow2(n);
    this.buf = new Int32Array(size);
    this.slots = new Int32Array(size);
    this.tab = new Int32Array(size * 2);
    this.cnt = new Int32Array(size * 2);
    this.bases = new Int32Array(size);
    this.vals = new Float64Array(size);
  }

  /** The margins z (before the softmax, before the temperature) into `out`. */
  margins(text: string, out: Float64Array): void {
    const f = this.features;
    const need = maxNgrams(text, f);
    if (need > this.buf.length) this.grow(need);
    const buf = this.buf;
    const n = hashBuckets(text, f, buf);
    // distinct buckets and their counts: open addressing (linear probing), table ≥ 2 × n
    const tmask = pow2(2 * n) - 1;
    const tab = this.tab;
    const cnt = this.cnt;
    const slots = this.slots;
    let nu = 0;
    for (let i = 0; i < n; i++) {
      const key = (buf[i] as number) + 1;
      let h = key & tmask;
      for (;;) {
        const t = tab[h] as number;
        if (t === key) {
          cnt[h] = (cnt[h] as number) + 1;
          break;
        }
        if (t === 0) {
          tab[h] = key;
          cnt[h] = 1;
          slots[nu++] = h;
          break;
        }
        h = (h + 1) & tmask;
      }
    }
    const L = this.labels.length;
    const stride = this.stride;
    const w8 = this.w8;
    const u8 = this.u8;
    const acc = this.acc;
    acc.fill(0);
    let norm = 0;
    if (L === 7) {
      // the 7-label case with locals (no stores per feature)
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0;
      for (let u = 0; u < nu; u++) {
        const h = slots[u] as number;
        const base = ((tab[h] as number) - 1) << 3;
        const k = cnt[h] as number;
        tab[h] = 0;
        const idf = u8[base + 7] as number;
        if (idf === 0) continue;
        const v = (k < 256 ? (LOG1P_LUT[k] as number) : 1 + Math.log(k)) * idf;
        norm += v * v;
        a0 += v * (w8[base] as number);
        a1 += v * (w8[base + 1] as number);
        a2 += v * (w8[base + 2] as number);
        a3 += v * (w8[base + 3] as number);
        a4 += v * (w8[base + 4] as number);
        a5 += v * (w8[base + 5] as number);
        a6 += v * (w8[base + 6] as number);
      }
      acc[0] = a0;
      acc[1] = a1;
      acc[2] = a2;
      acc[3] = a3;
      acc[4] = a4;
      acc[5] = a5;
      acc[6] = a6;
    } else {
      // any label count (the category teacher: 20): feature values first, then the labels in blocks
      // of four with the sums in locals — the rows of a text's few hundred buckets stay in cache
      const bases = this.bases;
      const vals = this.vals;
      const present = this.present;
      const rank = this.rank;
      const rowIdf = this.rowIdf;
      let m = 0;
      for (let u = 0; u < nu; u++) {
        const h = slots[u] as number;
        const bucket = (tab[h] as number) - 1;
        const k = cnt[h] as number;
        tab[h] = 0;
        const word = present[bucket >>> 5] as number;
        const bit = bucket & 31;
        if (((word >>> bit) & 1) === 0) continue;
        const row = (rank[bucket >>> 5] as number) + popcount32(word & ((1 << bit) - 1));
        const base = row * stride;
        const idf = rowIdf[row] as number;
        const v = (k < 256 ? (LOG1P_LUT[k] as number) : 1 + Math.log(k)) * idf;
        norm += v * v;
        bases[m] = base;
        vals[m++] = v;
      }
      for (let c = 0; c < L; c += 4) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (let j = 0; j < m; j++) {
          const b = (bases[j] as number) + c;
          const v = vals[j] as number;
          a0 += v * (w8[b] as number);
          a1 += v * (w8[b + 1] as number);
          a2 += v * (w8[b + 2] as number);
          a3 += v * (w8[b + 3] as number);
        }
        acc[c] = a0;
        if (c + 1 < L) acc[c + 1] = a1;
        if (c + 2 < L) acc[c + 2] = a2;
        if (c + 3 < L) acc[c + 3] = a3;
      }
    }
    const s = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let c = 0; c < L; c++) out[c] = (acc[c] as number) * (this.scales[c] as number) * s + (this.bias[c] as number);
  }

  predict(text: string): Prediction {
    const L = this.labels.length;
    const p = this.probs;
    this.margins(text, p);
    let max = -Infinity;
    let best = 0;
    for (let c = 0; c < L; c++) {
      if ((p[c] as number) > max) {
        max = p[c] as number;
        best = c;
      }
    }
    const invT = 1 / this.temperature;
    let sum = 0;
    for (let c = 0; c < L; c++) {
      const e = Math.exp(((p[c] as number) - max) * invT);
      p[c] = e;
      sum += e;
    }
    for (let c = 0; c < L; c++) p[c] = (p[c] as number) / sum;
    return { best, label: this.labels[best] as string, confidence: p[best] as number, probs: p };
  }

  /** Builds a model from trained weights (quantised the same way as a saved file, so scores match). */
  static fromTrained(labels: string[], version: string, o: TrainOptions, w: Float32Array, idf: Float32Array, bias: ArrayLike<number>, temperature = 1): TextModel {
    const q = quantize(labels.length, w, idf);
    return new TextModel(labels, version, featuresOf(o), q.wq, q.scales, q.idfq, bias, temperature);
  }
}

/** The feature part of training options. */
export function featuresOf(o: FeatureConfig): FeatureConfig {
  return { bits: o.bits, ngramMin: o.ngramMin, ngramMax: o.ngramMax, ...(o.maxChars ? { maxChars: o.maxChars } : {}) };
}

/** Softmax with temperature T of margins z; returns the probability of each label into `out`. */
export function softmaxT(z: ArrayLike<number>, T: number, out: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < z.length; c++) if ((z[c] as number) > max) max = z[c] as number;
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    const e = Math.exp(((z[c] as number) - max) / T);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < z.length; c++) out[c] = (out[c] as number) / sum;
}

/**
 * Temperature scaling: the T > 0 minimising the mean negative log-likelihood of softmax(z / T) on
 * out-of-fold margins `z` (rows × labels, flat) with gold labels `y`. Golden-section search on log T.
 */
export function fitTemperature(z: Float64Array, y: Int32Array, L: number): number {
  const p = new Float64Array(L);
  const nll = (T: number): number => {
    let s = 0;
    for (let i = 0; i < y.length; i++) {
      softmaxT(z.subarray(i * L, i * L + L), T, p);
      s -= Math.log(Math.max(1e-300, p[y[i] as number] as number));
    }
    return s / y.length;
  };
  let a = Math.log(0.01);
  let b = Math.log(100);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = nll(Math.exp(c));
  let fd = nll(Math.exp(d));
  for (let it = 0; it < 60; it++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = nll(Math.exp(c));
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = nll(Math.exp(d));
    }
  }
  return Math.exp((a + b) / 2);
}

interface Quantized {
  wq: Int8Array;
  scales: number[];
  idfq: Uint8Array;
  idfScale: number;
  w: Float32Array;
  idf: Float32Array;
}

function quantize(L: number, w: Float32Array, idf: Float32Array): Quantized {
  const scales = new Array<number>(L).fill(0);
  for (let k = 0; k < w.length; k++) {
    const c = k % L;
    const a = Math.abs(w[k] as number);
    if (a > (scales[c] as number)) scales[c] = a;
  }
  for (let c = 0; c < L; c++) scales[c] = ((scales[c] as number) || 1) / 127;
  const wq = new Int8Array(w.length);
  const wd = new Float32Array(w.length);
  for (let k = 0; k < w.length; k++) {
    const sc = scales[k % L] as number;
    const q = Math.max(-127, Math.min(127, Math.round((w[k] as number) / sc)));
    wq[k] = q;
    wd[k] = q * sc;
  }
  let maxIdf = 0;
  for (let b = 0; b < idf.length; b++) if ((idf[b] as number) > maxIdf) maxIdf = idf[b] as number;
  const idfScale = (maxIdf || 1) / 255;
  const idfq = new Uint8Array(idf.length);
  const idfd = new Float32Array(idf.length);
  for (let b = 0; b < idf.length; b++) {
    const q = Math.max(0, Math.min(255, Math.round((idf[b] as number) / idfScale)));
    idfq[b] = q;
    idfd[b] = q * idfScale;
  }
  return { wq, scales, idfq, idfScale, w: wd, idf: idfd };
}

function encodeVarints(values: number[]): Buffer {
  const out: number[] = [];
  let prev = 0;
  for (const v of values) {
    let d = v - prev;
    prev = v;
    while (d >= 0x80) {
      out.push((d & 0x7f) | 0x80);
      d >>>= 7;
    }
    out.push(d);
  }
  return Buffer.from(out);
}

function decodeVarints(buf: Buffer): Int32Array {
  const out: number[] = [];
  let prev = 0;
  for (let i = 0; i < buf.length; ) {
    let d = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = buf[i++] as number;
      d |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    prev += d;
    out.push(prev);
  }
  return Int32Array.from(out);
}

/** Serialises trained weights into the model file format (only buckets that carry weight). */
export function toModelFile(
  labels: string[],
  version: string,
  o: TrainOptions,
  w: Float32Array,
  idf: Float32Array,
  bias: ArrayLike<number>,
  trainedOn: ModelFile['trainedOn'],
  createdAt: string,
  notes?: string,
): ModelFile {
  const L = labels.length;
  const q = quantize(L, w, idf);
  const rows: number[] = [];
  for (let b = 0; b < q.idfq.length; b++) {
    if (q.idfq[b] === 0) continue;
    let any = false;
    for (let c = 0; c < L && !any; c++) any = q.wq[b * L + c] !== 0;
    if (any) rows.push(b);
  }
  const wq = new Int8Array(rows.length * L);
  const idfq = new Uint8Array(rows.length);
  rows.forEach((b, i) => {
    idfq[i] = q.idfq[b] as number;
    for (let c = 0; c < L; c++) wq[i * L + c] = q.wq[b * L + c] as number;
  });
  return {
    format: MODEL_FORMAT,
    version,
    labels,
    features: featuresOf(o),
    buckets: encodeVarints(rows).toString('base64'),
    idfScale: q.idfScale,
    idf: Buffer.from(idfq.buffer, idfq.byteOffset, idfq.byteLength).toString('base64'),
    weightScales: q.scales,
    weights: Buffer.from(wq.buffer, wq.byteOffset, wq.byteLength).toString('base64'),
    bias: Array.from(bias, (b) => Math.round(b * 1e6) / 1e6),
    trainedOn,
    trainOptions: o,
    createdAt,
    ...(notes ? { notes } : {}),
  };
}

/** Builds a TextModel from a parsed model file (format 2, or format 1: whole texts, T = 1). */
export function modelFromFile(m: ModelFile, source = 'model'): TextModel {
  if (m.format !== MODEL_FORMAT && m.format !== (MODEL_FORMAT_V1 as string)) throw new ConfigError(`${source}: unsupported model format ${String(m.format)} (expected ${MODEL_FORMAT})`);
  const L = m.labels.length;
  const dim = 2 ** m.features.bits;
  const rows = decodeVarints(Buffer.from(m.buckets, 'base64'));
  const raw = Buffer.from(m.weights, 'base64');
  const wi = new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const iraw = Buffer.from(m.idf, 'base64');
  if (wi.length !== rows.length * L || iraw.length !== rows.length || (rows.length && (rows[rows.length - 1] as number) >= dim)) {
    throw new ConfigError(`${source}: weight/idf sizes do not match ${rows.length} buckets × ${L} labels in 2^${m.features.bits}`);
  }
  const wq = new Int8Array(dim * L);
  const idfq = new Uint8Array(dim);
  for (let i = 0; i < rows.length; i++) {
    const b = rows[i] as number;
    idfq[b] = iraw[i] as number;
    wq.set(wi.subarray(i * L, i * L + L), b * L);
  }
  return new TextModel(m.labels, m.version, featuresOf(m.features), wq, m.weightScales, idfq, m.bias, 1);
}

/** The model that ships with the project. */
export function defaultModelPath(): string {
  return join(packageRoot(), 'core', 'catalog', 'models', 'l1-model.json.gz');
}

export function loadModel(file: string = defaultModelPath()): TextModel {
  let m: ModelFile;
  try {
    const buf = readFileSync(file);
    m = JSON.parse((file.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8')) as ModelFile;
  } catch (e) {
    throw new ConfigError(`cannot read model ${file}: ${(e as Error).message}`, { cause: e });
  }
  return modelFromFile(m, file);
}

/** Writes a model file; gzip-compressed when the name ends with `.gz`. */
export function saveModel(file: string, m: ModelFile): void {
  const json = Buffer.from(JSON.stringify(m) + '\n', 'utf8');
  writeFileSync(file, file.endsWith('.gz') ? gzipSync(json, { level: 9 }) : json);
}

// ---------------------------------------------------------------------------------------------
// Training data

export interface LabelledText {
  text: string;
  label: string;
  /** The data set's row id when it has one (train_segmented repeats train.jsonl rows by `row`). */
  row?: number;
  /** The file it was read from (basename). */
  source?: string;
}

/** The text of a data row: `text`, else `title` + `detail`, else segmented `tokens` joined without spaces. */
export function rowText(r: Record<string, unknown>): string {
  if (typeof r.text === 'string' && r.text) return r.text;
  if (typeof r.tokens === 'string') return r.tokens.replace(/ /g, '');
  const t = typeof r.title === 'string' ? r.title : '';
  const d = typeof r.detail === 'string' ? r.detail : '';
  return t && d ? `${t}\n${d}` : t || d;
}

/** Reads labelled JSONL (`label_l1` + text fields). */
export function readLabelled(file: string): LabelledText[] {
  const out: LabelledText[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (typeof r.label_l1 !== 'string') throw new ConfigError(`${file}:${i + 1}: no label_l1`);
    const text = rowText(r);
    if (!text) throw new ConfigError(`${file}:${i + 1}: no text, title/detail or tokens`);
    out.push({ text, label: r.label_l1, source: basename(file), ...(typeof r.row === 'number' ? { row: r.row } : {}) });
  });
  return out;
}

/**
 * Trains a model on labelled rows; `labels` fixes the label order (default: sorted). With
 * `o.calibrationFolds` > 1 the confidences are calibrated: out-of-fold margins of the first source
 * file's rows (the others — e.g. train_segmented — always train, minus the copies of held-out rows)
 * fit a softmax temperature T, and the weights and biases are divided by T.
 */
export function train(rows: LabelledText[], o: TrainOptions, labels?: string[]): { labels: string[]; w: Float32Array; idf: Float32Array; bias: Float64Array; temperature: number } {
  const labs = labels ?? [...new Set(rows.map((r) => r.label))].sort();
  const y = Int32Array.from(rows.map((r) => labs.indexOf(r.label)));
  if (y.some((v) => v < 0)) throw new ConfigError('training rows carry a label outside the label set');
  const { vecs, idf } = vectorize(rows.map((r) => r.text), o);
  const { w, bias } = trainSoftmax(vecs, y, labs.length, o);
  let temperature = 1;
  const k = o.calibrationFolds ?? 0;
  if (k > 1) {
    const first = rows[0]?.source;
    const primary = rows.filter((r) => r.source === first);
    const extra = rows.filter((r) => r.source !== first);
    if (primary.length >= k * labs.length) {
      temperature = fitTemperature(outOfFold(primary, extra, o, k, labs).margins, Int32Array.from(primary.map((r) => labs.indexOf(r.label))), labs.length);
      for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) / temperature;
      for (let c = 0; c < bias.length; c++) bias[c] = (bias[c] as number) / temperature;
    }
  }
  return { labels: labs, w, idf, bias, temperature };
}

// ---------------------------------------------------------------------------------------------
// Out-of-fold predictions, calibration and the triage threshold (training files only)

/** Stratified fold of each row (deterministic LCG shuffle per label; the folds of bench/classify/cv.ts). */
export function foldsOf(rows: LabelledText[], k: number): Int32Array {
  const byLabel = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const a = byLabel.get(r.label);
    if (a) a.push(i);
    else byLabel.set(r.label, [i]);
  });
  const fold = new Int32Array(rows.length);
  let s = 12345;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  for (const idx of byLabel.values()) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    idx.forEach((row, n) => (fold[row] = n % k));
  }
  return fold;
}

export interface OutOfFold {
  labels: string[];
  /** Margins of the primary rows, rows × labels (flat), each from the fold model that did not see the row. */
  margins: Float64Array;
  /** With `quantised`: the same margins from each fold model after int8 quantisation (what ships). */
  marginsQ?: Float64Array;
  /** Gold label index of each primary row. */
  y: Int32Array;
  fold: Int32Array;
  k: number;
}

/**
 * Out-of-fold margins: k stratified folds over the `primary` rows (train.jsonl: full texts, like
 * production traffic); `extra` rows (train_segmented.jsonl) always train, except those sharing a
 * `row` id with the validation fold. Vectors are computed once (IDF over all training texts).
 */
export function outOfFold(primary: LabelledText[], extra: LabelledText[], o: TrainOptions, k = 5, labels?: string[], quantised = false): OutOfFold {
  const labs = labels ?? [...new Set(primary.map((r) => r.label))].sort();
  const L = labs.length;
  const all = [...primary, ...extra];
  const { vecs, idf } = vectorize(
    all.map((r) => r.text),
    o,
  );
  const yAll = Int32Array.from(all.map((r) => labs.indexOf(r.label)));
  const fold = foldsOf(primary, k);
  const margins = new Float64Array(primary.length * L);
  const marginsQ = quantised ? new Float64Array(primary.length * L) : undefined;
  const zq = new Float64Array(L);
  for (let f = 0; f < k; f++) {
    const held = new Set<number>();
    primary.forEach((r, i) => {
      if (fold[i] === f && r.row !== undefined) held.add(r.row);
    });
    const trIdx: number[] = [];
    for (let i = 0; i < all.length; i++) {
      const r = all[i] as LabelledText;
      if (i < primary.length ? fold[i] !== f : !(r.row !== undefined && held.has(r.row))) trIdx.push(i);
    }
    const { w, bias } = trainSoftmax(
      trIdx.map((i) => vecs[i] as SparseVec),
      Int32Array.from(trIdx.map((i) => yAll[i] as number)),
      L,
      o,
    );
    const qm = marginsQ ? TextModel.fromTrained(labs, 'oof', o, w, idf, bias) : undefined;
    for (let i = 0; i < primary.length; i++) {
      if (fold[i] !== f) continue;
      if (qm && marginsQ) {
        qm.margins((primary[i] as LabelledText).text, zq);
        marginsQ.set(zq, i * L);
      }
      const v = vecs[i] as SparseVec;
      const at = i * L;
      for (let c = 0; c < L; c++) margins[at + c] = bias[c] as number;
      for (let j = 0; j < v.idx.length; j++) {
        const base = (v.idx[j] as number) * L;
        const x = v.val[j] as number;
        for (let c = 0; c < L; c++) margins[at + c] = (margins[at + c] as number) + x * (w[base + c] as number);
      }
    }
  }
  return { labels: labs, margins, ...(marginsQ ? { marginsQ } : {}), y: yAll.slice(0, primary.length), fold, k };
}

/** Confidence (max probability at temperature T), predicted label and correctness of each OOF row. */
export function oofConfidences(oof: OutOfFold, T: number): { conf: Float64Array; correct: Uint8Array; pred: Int32Array } {
  const L = oof.labels.length;
  const n = oof.y.length;
  const p = new Float64Array(L);
  const conf = new Float64Array(n);
  const correct = new Uint8Array(n);
  const pred = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    softmaxT(oof.margins.subarray(i * L, i * L + L), T, p);
    let best = 0;
    for (let c = 1; c < L; c++) if ((p[c] as number) > (p[best] as number)) best = c;
    conf[i] = p[best] as number;
    pred[i] = best;
    correct[i] = best === oof.y[i] ? 1 : 0;
  }
  return { conf, correct, pred };
}

export interface ThresholdChoice {
  threshold: number;
  /** Share of rows below the threshold (manual triage). */
  triageShare: number;
  /** Accuracy on rows at or above the threshold (auto-routed). */
  autoAccuracy: number;
}

/**
 * The rule for the default `minConfidence`: the smallest threshold on the grid 0.00, 0.01, … 0.99
 * whose auto-routed rows (confidence ≥ threshold) reach `targetAccuracy` — the lowest triage share
 * meeting the accuracy target. `correct[i]` is 1 when row i's predicted label is right.
 */
export function chooseThreshold(conf: ArrayLike<number>, correct: ArrayLike<number>, targetAccuracy = 0.95): ThresholdChoice {
  const n = conf.length;
  let last: ThresholdChoice = { threshold: 1, triageShare: 1, autoAccuracy: 1 };
  for (let t100 = 0; t100 < 100; t100++) {
    const t = t100 / 100;
    let auto = 0;
    let ok = 0;
    for (let i = 0; i < n; i++) {
      if ((conf[i] as number) >= t) {
        auto++;
        ok += correct[i] as number;
      }
    }
    const acc = auto ? ok / auto : 1;
    last = { threshold: t, triageShare: n ? (n - auto) / n : 0, autoAccuracy: acc };
    if (acc >= targetAccuracy) return last;
  }
  return last;
}
