import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConfigError } from '../errors';
import { packageRoot } from '../util/paths';

/**
 * The text model of the classification cascade: hashed character n-grams (sublinear TF × IDF,
 * L2-normalised) and a multinomial logistic regression over the 7 message-board labels. Pure
 * TypeScript, no dependencies.
 *
 * Speed: n-grams are hashed with a rolling multiply-xor over char codes straight into a fixed
 * feature space — no n-gram string is ever allocated — and counted in a reused scratch array, so a
 * prediction costs O(text length × n-gram orders) plus O(distinct features × labels).
 *
 * File: gzip-compressed JSON holding, for the buckets that carry weight only, base64 int8-quantised
 * weights (per-label scale) and uint8-quantised IDF; a few MB at most, loaded in well under a second. Versioned: `format` is the file layout, `version` names
 * the trained model and is recorded in docs/catalog.md.
 */

export const MODEL_FORMAT = 'intake-hub-textmodel/1';

export interface FeatureConfig {
  /** log2 of the hashed feature space size. */
  bits: number;
  ngramMin: number;
  ngramMax: number;
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
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { bits: 18, ngramMin: 1, ngramMax: 3, minDf: 1, epochs: 10, lambda: 1e-5, lr: 0.5, seed: 7, loss: 'hinge' };

export interface ModelFile {
  format: typeof MODEL_FORMAT;
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

/**
 * Counts the hashed n-grams of `text` into `counts` (indexed by bucket), appending each bucket seen
 * for the first time to `touched`; returns how many buckets were touched. Runs of spaces count once.
 */
export function hashNgrams(text: string, f: FeatureConfig, counts: Float32Array, touched: Int32Array): number {
  const mask = (1 << f.bits) - 1;
  const nMax = f.ngramMax;
  const nMin = f.ngramMin;
  const win = new Int32Array(nMax);
  let filled = 0;
  let nt = 0;
  let prev = -1;
  const len = text.length;
  for (let i = 0; i < len; i++) {
    const c = normChar(text.charCodeAt(i));
    if (c === 32 && prev === 32) continue;
    prev = c;
    for (let k = nMax - 1; k > 0; k--) win[k] = win[k - 1] as number;
    win[0] = c;
    if (filled < nMax) filled++;
    let h = 0x811c9dc5;
    for (let n = 1; n <= filled; n++) {
      h = Math.imul(h ^ (win[n - 1] as number), 0x01000193);
      if (n < nMin) continue;
      // finalise with the order so "ab" and "a","b" land apart
      let x = Math.imul(h ^ n, 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      x ^= x >>> 16;
      const b = x & mask;
      if (counts[b] === 0) {
        if (nt < touched.length) touched[nt++] = b;
        else continue;
      }
      counts[b] = (counts[b] as number) + 1;
    }
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
): { w: Float32Array; bias: Float64Array } {
  const dim = 1 << o.bits;
  const L = nLabels;
  const w = new Float32Array(dim * L);
  const bias = new Float64Array(L);
  let scale = 1;
  const order = Array.from(vecs.keys());
  const rnd = mulberry32(o.seed);
  const scores = new Float64Array(L);
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

export interface Prediction {
  /** Index into `labels` of the most probable label. */
  best: number;
  label: string;
  /** Probability of the best label. */
  confidence: number;
  /** Probabilities per label (same order as `labels`). The array is reused by the next call. */
  probs: Float64Array;
}

/**
 * A loaded model. Not thread-safe by design (a reused scratch buffer keeps prediction allocation
 * free); give each worker its own instance.
 */
const LOG1P_LUT = Float32Array.from({ length: 256 }, (_, i) => (i === 0 ? 0 : 1 + Math.log(i)));

export class TextModel {
  readonly labels: readonly string[];
  readonly version: string;
  readonly features: FeatureConfig;
  /** Rows of stride labels+1: the label weights of a bucket, then its IDF — one cache line per bucket. */
  private readonly rows: Float32Array;
  private readonly stride: number;
  private readonly bias: Float64Array;
  private readonly counts: Float32Array;
  private readonly touched = new Int32Array(1 << 16);
  private readonly probs: Float64Array;

  constructor(labels: string[], version: string, features: FeatureConfig, w: Float32Array, idf: Float32Array, bias: ArrayLike<number>) {
    const dim = 2 ** features.bits;
    const L = labels.length;
    if (w.length !== dim * L || idf.length !== dim) throw new ConfigError(`model ${version}: weight/idf sizes do not match ${L} labels × 2^${features.bits}`);
    this.labels = labels;
    this.version = version;
    this.features = features;
    this.stride = L + 1;
    this.rows = new Float32Array(dim * this.stride);
    for (let b = 0; b < dim; b++) {
      const o = b * this.stride;
      for (let c = 0; c < L; c++) this.rows[o + c] = w[b * L + c] as number;
      this.rows[o + L] = idf[b] as number;
    }
    this.bias = Float64Array.from(bias);
    this.counts = new Float32Array(dim);
    this.probs = new Float64Array(L);
  }

  predict(text: string): Prediction {
    const L = this.labels.length;
    const stride = this.stride;
    const rows = this.rows;
    const counts = this.counts;
    const touched = this.touched;
    const p = this.probs;
    p.fill(0);
    const nt = hashNgrams(text, this.features, counts, touched);
    let norm = 0;
    for (let k = 0; k < nt; k++) {
      const b = touched[k] as number;
      const n = counts[b] as number;
      counts[b] = 0;
      const base = b * stride;
      const v = (n < 256 ? (LOG1P_LUT[n] as number) : 1 + Math.log(n)) * (rows[base + L] as number);
      if (v === 0) continue;
      norm += v * v;
      for (let c = 0; c < L; c++) p[c] = (p[c] as number) + v * (rows[base + c] as number);
    }
    const s = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    let max = -Infinity;
    let best = 0;
    for (let c = 0; c < L; c++) {
      const z = (p[c] as number) * s + (this.bias[c] as number);
      p[c] = z;
      if (z > max) {
        max = z;
        best = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < L; c++) {
      const e = Math.exp((p[c] as number) - max);
      p[c] = e;
      sum += e;
    }
    for (let c = 0; c < L; c++) p[c] = (p[c] as number) / sum;
    return { best, label: this.labels[best] as string, confidence: p[best] as number, probs: p };
  }

  /** Builds a model from trained weights (quantised the same way as a saved file, so scores match). */
  static fromTrained(labels: string[], version: string, o: TrainOptions, w: Float32Array, idf: Float32Array, bias: ArrayLike<number>): TextModel {
    const q = quantize(labels.length, w, idf);
    return new TextModel(labels, version, { bits: o.bits, ngramMin: o.ngramMin, ngramMax: o.ngramMax }, q.w, q.idf, bias);
  }
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
    features: { bits: o.bits, ngramMin: o.ngramMin, ngramMax: o.ngramMax },
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

/** Builds a TextModel from a parsed model file. */
export function modelFromFile(m: ModelFile, source = 'model'): TextModel {
  if (m.format !== MODEL_FORMAT) throw new ConfigError(`${source}: unsupported model format ${String(m.format)} (expected ${MODEL_FORMAT})`);
  const L = m.labels.length;
  const dim = 2 ** m.features.bits;
  const rows = decodeVarints(Buffer.from(m.buckets, 'base64'));
  const raw = Buffer.from(m.weights, 'base64');
  const wi = new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const iraw = Buffer.from(m.idf, 'base64');
  if (wi.length !== rows.length * L || iraw.length !== rows.length || (rows.length && (rows[rows.length - 1] as number) >= dim)) {
    throw new ConfigError(`${source}: weight/idf sizes do not match ${rows.length} buckets × ${L} labels in 2^${m.features.bits}`);
  }
  const w = new Float32Array(dim * L);
  const idf = new Float32Array(dim);
  for (let i = 0; i < rows.length; i++) {
    const b = rows[i] as number;
    idf[b] = (iraw[i] as number) * m.idfScale;
    for (let c = 0; c < L; c++) w[b * L + c] = (wi[i * L + c] as number) * (m.weightScales[c] as number);
  }
  return new TextModel(m.labels, m.version, m.features, w, idf, m.bias);
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
    out.push({ text, label: r.label_l1, ...(typeof r.row === 'number' ? { row: r.row } : {}) });
  });
  return out;
}

/** Trains a model on labelled rows; `labels` fixes the label order (default: sorted). */
export function train(rows: LabelledText[], o: TrainOptions, labels?: string[]): { labels: string[]; w: Float32Array; idf: Float32Array; bias: Float64Array } {
  const labs = labels ?? [...new Set(rows.map((r) => r.label))].sort();
  const y = Int32Array.from(rows.map((r) => labs.indexOf(r.label)));
  if (y.some((v) => v < 0)) throw new ConfigError('training rows carry a label outside the label set');
  const { vecs, idf } = vectorize(rows.map((r) => r.text), o);
  const { w, bias } = trainSoftmax(vecs, y, labs.length, o);
  return { labels: labs, w, idf, bias };
}
