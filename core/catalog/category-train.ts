import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';
import type { Catalog } from './catalog';
import { catalogDocuments, compatMatrix, mixInto, teacherModel, trainTeacher, TEACHER_TRAIN_OPTIONS, type TeacherDocument } from './category-model';
import { fitTemperature, outOfFold, softmaxT, type LabelledText, type TrainOptions } from './model';

/**
 * Training and cross-validation of the category model (`category-model.ts`) on annotated messages
 * (`../shared/data/catalog-labels/train_categories.jsonl`, joined to `tipdm2020c/train.jsonl` by
 * `row`). Offline tooling: used by `intake-hub catalog train --categories` and bench/classify.
 */

export interface CategoryLabel {
  row: number;
  primary: string;
  acceptable: string[];
  triageOk: boolean;
  note: string;
  sample: string;
}

export function readCategoryLabels(file: string): CategoryLabel[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      if (typeof r.row !== 'number' || typeof r.primary !== 'string' || !Array.isArray(r.acceptable)) throw new ConfigError(`${file}:${i + 1}: needs row, primary, acceptable`);
      const acceptable = (r.acceptable as unknown[]).map(String);
      if (!acceptable.includes(r.primary)) acceptable.unshift(r.primary);
      return { row: r.row, primary: r.primary, acceptable, triageOk: r.triage_ok === true, note: typeof r.note === 'string' ? r.note : '', sample: typeof r.sample === 'string' ? r.sample : '' };
    });
}

/** An annotated message: its text, its message-board label, its categories. */
export interface GoldRow extends CategoryLabel {
  text: string;
  label: string;
}

export function joinGold(labels: CategoryLabel[], train: LabelledText[]): GoldRow[] {
  const byRow = new Map<number, LabelledText>();
  for (const t of train) if (t.row !== undefined) byRow.set(t.row, t);
  return labels.map((g) => {
    const t = byRow.get(g.row);
    if (!t) throw new ConfigError(`category label row ${g.row} is not in the training file`);
    return { ...g, text: t.text, label: t.label };
  });
}

/** Stratified folds (by primary) of the rows, deterministic. */
export function goldFolds(rows: Array<{ primary: string }>, k: number, seed = 20261202): Int32Array {
  const by = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const a = by.get(r.primary);
    if (a) a.push(i);
    else by.set(r.primary, [i]);
  });
  const fold = new Int32Array(rows.length);
  let s = seed >>> 0;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  let offset = 0;
  for (const key of [...by.keys()].sort()) {
    const idx = by.get(key) as number[];
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    // continue the round-robin across categories so small classes do not all land in fold 0
    idx.forEach((r, n) => (fold[r] = (n + offset) % k));
    offset = (offset + idx.length) % k;
  }
  return fold;
}

/**
 * Teacher documents: the catalog's, the weak-labelled ones given (`weak-labels.ts`), plus each annotated row's text and note labelled with its
 * primary, and its text once more for each other acceptable category (the teacher learns that a
 * message can belong to several; chosen by CV likelihood over primary-only: OOF NLL 0.758 → 0.730).
 */
export function teacherDocuments(catalog: Catalog, gold: GoldRow[], weak: readonly TeacherDocument[] = []): TeacherDocument[] {
  const docs: TeacherDocument[] = [...catalogDocuments(catalog), ...weak];
  for (const g of gold) pushAnnotated(docs, g.text, g);
  return docs;
}

/** The documents of one annotated message (see `teacherDocuments`), at `weight` when given (default 1). */
export function pushAnnotated(docs: TeacherDocument[], text: string, a: { primary: string; note: string; acceptable: readonly string[] }, weight?: number): void {
  const w = weight === undefined ? {} : { weight };
  docs.push({ text, label: a.primary, ...w });
  if (a.note) docs.push({ text: a.note, label: a.primary, ...w });
  for (const c of a.acceptable) if (c !== a.primary) docs.push({ text, label: c, ...w });
}

/**
 * The label model's out-of-fold probabilities for every row of the primary training file (each from
 * the fold model that did not see the row, temperature fitted on the same out-of-fold margins):
 * what the label model says about a message it has not been trained on.
 */
export function labelModelOof(primary: LabelledText[], extra: LabelledText[], o: TrainOptions, labels: string[], k = 5): Map<number, number[]> {
  const oof = outOfFold(primary, extra, o, k, labels);
  const L = labels.length;
  const T = fitTemperature(oof.margins, oof.y, L);
  const p = new Float64Array(L);
  const out = new Map<number, number[]>();
  primary.forEach((r, i) => {
    softmaxT(oof.margins.subarray(i * L, i * L + L), T, p);
    if (r.row !== undefined) out.set(r.row, Array.from(p));
  });
  return out;
}

export interface MixParams {
  teacherT: number;
  alpha: number;
  temperature: number;
}

export interface CategoryOof {
  /** Rows evaluated (the random sample), in order. */
  rows: GoldRow[];
  /** Per row: the fold's teacher probabilities at teacherT = 1 (raw margins kept to re-temper). */
  teacherMargins: Float64Array;
  /** Per row: the fold's compat matrix (labels × categories, flat) at each alpha asked. */
  pairsByFold: Array<Array<{ label: string; category: string }>>;
  fold: Int32Array;
  categories: string[];
}

/**
 * Out-of-fold teacher margins for the `evalRows` (k folds stratified by primary). Rows of `alwaysTrain`
 * (e.g. the street-boost sample, not random) are always in the training part.
 */
export function teacherOof(catalog: Catalog, evalRows: GoldRow[], alwaysTrain: GoldRow[], categories: string[], k = 5, o: TrainOptions = TEACHER_TRAIN_OPTIONS, weak: readonly TeacherDocument[] = []): CategoryOof {
  const fold = goldFolds(evalRows, k);
  const C = categories.length;
  const teacherMargins = new Float64Array(evalRows.length * C);
  const pairsByFold: CategoryOof['pairsByFold'] = [];
  const z = new Float64Array(C);
  for (let f = 0; f < k; f++) {
    const trainRows = [...evalRows.filter((_, i) => fold[i] !== f), ...alwaysTrain];
    const t = trainTeacher(teacherDocuments(catalog, trainRows, weak), categories, o);
    const m = teacherModel(categories, `oof-${f}`, o, t);
    evalRows.forEach((r, i) => {
      if (fold[i] !== f) return;
      m.margins(r.text, z);
      teacherMargins.set(z, i * C);
    });
    pairsByFold.push(trainRows.map((r) => ({ label: r.label, category: r.primary })));
  }
  return { rows: evalRows, teacherMargins, pairsByFold, fold, categories };
}

/** Mixture probabilities of every OOF row under `params` (temperature 1 if `raw`). */
export function oofProbs(oof: CategoryOof, catalog: Catalog, l1: Map<number, number[]>, l1Labels: string[], params: MixParams, raw = false): Float64Array {
  const C = oof.categories.length;
  const out = new Float64Array(oof.rows.length * C);
  const compat = oof.pairsByFold.map((pairs) => Float64Array.from(compatMatrix(pairs, l1Labels, oof.categories, catalog, params.alpha).flat()));
  const t = new Float64Array(C);
  const o = new Float64Array(C);
  oof.rows.forEach((r, i) => {
    const p = l1.get(r.row);
    if (!p) throw new ConfigError(`no label-model probabilities for row ${r.row}`);
    softmaxT(oof.teacherMargins.subarray(i * C, i * C + C), params.teacherT, t);
    mixInto(p, t, compat[oof.fold[i] as number] as Float64Array, raw ? 1 : params.temperature, o);
    out.set(o, i * C);
  });
  return out;
}

/** Temperature of the mixture (power calibration) minimising the OOF negative log-likelihood of the primary. */
export function fitMixTemperature(probs: Float64Array, rows: GoldRow[], categories: string[]): number {
  const C = categories.length;
  const logp = new Float64Array(probs.length);
  for (let i = 0; i < probs.length; i++) logp[i] = Math.log(Math.max(1e-12, probs[i] as number));
  const y = Int32Array.from(rows.map((r) => categories.indexOf(r.primary)));
  // softmax(log p / T) = p^(1/T) / Σ — exactly the power calibration
  return fitTemperature(logp, y, C);
}

/** Mean negative log-likelihood of the primary under the rows' probabilities. */
export function meanNll(probs: Float64Array, rows: GoldRow[], categories: string[]): number {
  const C = categories.length;
  let s = 0;
  rows.forEach((r, i) => (s -= Math.log(Math.max(1e-12, probs[i * C + categories.indexOf(r.primary)] as number))));
  return s / rows.length;
}

export interface CvFigures {
  threshold: number;
  triageShare: number;
  acceptableOrTriage: number;
  routedAcceptable: number;
  primaryAccuracy: number;
}

/** OOF figures of probabilities at a triage threshold (triage: best probability below it). */
export function figuresAt(probs: Float64Array, rows: GoldRow[], categories: string[], threshold: number): CvFigures {
  const C = categories.length;
  let triage = 0;
  let okRouted = 0;
  let primary = 0;
  rows.forEach((r, i) => {
    let best = 0;
    for (let c = 1; c < C; c++) if ((probs[i * C + c] as number) > (probs[i * C + best] as number)) best = c;
    const cat = categories[best] as string;
    if ((probs[i * C + best] as number) < threshold) triage++;
    else {
      if (r.acceptable.includes(cat)) okRouted++;
      if (cat === r.primary) primary++;
    }
  });
  const n = rows.length || 1;
  return { threshold, triageShare: triage / n, acceptableOrTriage: (okRouted + triage) / n, routedAcceptable: okRouted / Math.max(1, rows.length - triage), primaryAccuracy: primary / n };
}

/** The rule for the default triage threshold: the lowest (0.01 grid) whose OOF acceptable-or-triage share reaches `target`. */
export function chooseCategoryThreshold(probs: Float64Array, rows: GoldRow[], categories: string[], target = 0.97): CvFigures {
  let last = figuresAt(probs, rows, categories, 0);
  for (let t = 0; t <= 99; t++) {
    last = figuresAt(probs, rows, categories, t / 100);
    if (last.acceptableOrTriage >= target) return last;
  }
  return last;
}

export interface FitResult {
  params: MixParams;
  nll: number;
  probs: Float64Array;
  grid: Array<MixParams & { nll: number }>;
}

export const TEACHER_T_GRID = [0.05, 0.08, 0.12, 0.16, 0.2, 0.3];
export const ALPHA_GRID = [3, 8, 16, 32, 64, 128];

/** Chooses teacherT and alpha by OOF negative log-likelihood (temperature fitted for each). */
export function fitMixParams(oof: CategoryOof, catalog: Catalog, l1: Map<number, number[]>, l1Labels: string[], teacherTs = TEACHER_T_GRID, alphas = ALPHA_GRID): FitResult {
  const grid: FitResult['grid'] = [];
  let best: FitResult | undefined;
  for (const teacherT of teacherTs) {
    for (const alpha of alphas) {
      const raw = oofProbs(oof, catalog, l1, l1Labels, { teacherT, alpha, temperature: 1 }, true);
      const temperature = fitMixTemperature(raw, oof.rows, oof.categories);
      const params = { teacherT, alpha, temperature };
      const probs = oofProbs(oof, catalog, l1, l1Labels, params);
      const nll = meanNll(probs, oof.rows, oof.categories);
      grid.push({ ...params, nll });
      if (!best || nll < best.nll) best = { params, nll, probs, grid };
    }
  }
  if (!best) throw new ConfigError('empty parameter grid');
  return { ...best, grid: grid.sort((a, b) => a.nll - b.nll) };
}
