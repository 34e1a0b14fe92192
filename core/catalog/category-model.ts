import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConfigError } from '../errors';
import { packageRoot } from '../util/paths';
import type { Catalog } from './catalog';
import { featuresOf, modelFromFile, softmaxT, TextModel, toModelFile, trainSoftmax, vectorize, type ModelFile, type TrainOptions } from './model';

/**
 * The category model: P(category | text) over the catalog's categories (the 20 of the default
 * catalog), built from two linear text models that share the hashed char n-gram features.
 *
 * - The **label model** (`TextModel` over the 7 message-board labels, trained on 10k labelled
 *   messages) is strong at the coarse level but its labels are not categories: 城乡建设 alone covers
 *   eleven categories.
 * - The **category teacher** (a `TextModel` over the categories) is trained on few examples: the
 *   messages labelled with categories by the project's annotators, their one-line notes, and one
 *   short document per catalog subcategory (name + keywords). It knows the categories but has seen
 *   little text.
 *
 * They are combined as a mixture over the label: P(c | x) = Σ_l P(l | x) · q(c | x, l) with
 * q(c | x, l) ∝ t_c(x) · M[l][c], where t = softmax(teacher margins / `teacherT`) and M[l][c] is the
 * share of category c among annotated messages of label l (additively smoothed by `alpha` towards
 * the catalog's own projection of categories onto labels). The result is calibrated by a power
 * (temperature) `temperature` fitted on out-of-fold rows. No category is ever reached by a fixed
 * projection of a label: a label only weighs the categories it was seen with.
 */

export const CATEGORY_MODEL_FORMAT = 'intake-hub-categorymodel/1';

export interface CategoryModelFile {
  format: typeof CATEGORY_MODEL_FORMAT;
  version: string;
  /** Category codes, in the teacher's label order. */
  categories: string[];
  /** The label model's labels (rows of `compat`), in its order. */
  l1Labels: string[];
  /** The label model version the mixture was fitted with. */
  l1Model: string;
  /** M[l][c]: P(category | label), rows sum to 1. */
  compat: number[][];
  teacherT: number;
  temperature: number;
  teacher: ModelFile;
  trainedOn: Array<{ file: string; rows: number }>;
  createdAt: string;
  notes?: string;
  /** Cross-validated figures recorded at training time (informative). */
  cv?: Record<string, number>;
}

export interface CategoryPrediction {
  /** Index into `categories` of the best category. */
  best: number;
  category: string;
  confidence: number;
  /** P(category) per category (reused by the next call). */
  probs: Float64Array;
}

/** A loaded category model. Not thread-safe (scratch buffers); one instance per worker. */
export class CategoryModel {
  readonly version: string;
  readonly categories: readonly string[];
  readonly l1Labels: readonly string[];
  readonly l1Model: string;
  private readonly compat: Float64Array;
  private readonly teacherT: number;
  private readonly temperature: number;
  private readonly z: Float64Array;
  private readonly t: Float64Array;
  private readonly out: Float64Array;

  constructor(
    readonly teacher: TextModel,
    f: Pick<CategoryModelFile, 'version' | 'categories' | 'l1Labels' | 'l1Model' | 'compat' | 'teacherT' | 'temperature'>,
  ) {
    const C = f.categories.length;
    if (teacher.labels.length !== C || teacher.labels.some((l, i) => l !== f.categories[i])) throw new ConfigError(`category model ${f.version}: teacher labels do not match its categories`);
    if (f.compat.length !== f.l1Labels.length || f.compat.some((r) => r.length !== C)) throw new ConfigError(`category model ${f.version}: compat must be ${f.l1Labels.length} × ${C}`);
    if (!(f.teacherT > 0) || !(f.temperature > 0)) throw new ConfigError(`category model ${f.version}: temperatures must be > 0`);
    this.version = f.version;
    this.categories = f.categories;
    this.l1Labels = f.l1Labels;
    this.l1Model = f.l1Model;
    this.compat = Float64Array.from(f.compat.flat());
    this.teacherT = f.teacherT;
    this.temperature = f.temperature;
    this.z = new Float64Array(C);
    this.t = new Float64Array(C);
    this.out = new Float64Array(C);
  }

  /** The teacher's category probabilities t (before mixing) into `out`. */
  teacherProbs(text: string, out: Float64Array): void {
    this.teacher.margins(text, this.z);
    softmaxT(this.z, this.teacherT, out);
  }

  /**
   * P(category | text), given the label model's probabilities for the same text (in `l1Labels`
   * order). Deterministic; allocation-free apart from the result object.
   */
  predict(text: string, l1Probs: ArrayLike<number>): CategoryPrediction {
    this.teacherProbs(text, this.t);
    mixInto(l1Probs, this.t, this.compat, this.temperature, this.out);
    let best = 0;
    for (let c = 1; c < this.out.length; c++) if ((this.out[c] as number) > (this.out[best] as number)) best = c;
    return { best, category: this.categories[best] as string, confidence: this.out[best] as number, probs: this.out };
  }

  /** True when the label model gives its probabilities in the order this model was fitted with. */
  mixesWith(labelModel: TextModel): boolean {
    return labelModel.labels.length === this.l1Labels.length && this.l1Labels.every((l, i) => labelModel.labels[i] === l);
  }

  /** True when every category of the model exists in `catalog` (a city catalog with other codes cannot use it). */
  fits(catalog: Catalog): boolean {
    return this.categories.every((c) => catalog.category(c) !== undefined);
  }
}

/**
 * The mixture: out[c] ∝ (Σ_l p[l] · t[c]·M[l][c] / Σ_c' t[c']·M[l][c'])^(1/T). `compat` is M flat
 * (labels × categories).
 */
export function mixInto(p: ArrayLike<number>, t: ArrayLike<number>, compat: ArrayLike<number>, T: number, out: Float64Array): void {
  const C = out.length;
  const L = p.length;
  out.fill(0);
  for (let l = 0; l < L; l++) {
    const pl = p[l] as number;
    if (pl < 1e-9) continue;
    let s = 0;
    const o = l * C;
    for (let c = 0; c < C; c++) s += (t[c] as number) * (compat[o + c] as number);
    if (s <= 0) continue;
    const k = pl / s;
    for (let c = 0; c < C; c++) out[c] = (out[c] as number) + k * (t[c] as number) * (compat[o + c] as number);
  }
  let sum = 0;
  const inv = 1 / T;
  for (let c = 0; c < C; c++) {
    const v = (out[c] as number) > 0 ? Math.pow(out[c] as number, inv) : 0;
    out[c] = v;
    sum += v;
  }
  if (sum > 0) for (let c = 0; c < C; c++) out[c] = (out[c] as number) / sum;
  else out.fill(1 / C);
}

/**
 * M[l][c] = (n(l, c) + alpha · prior(l, c)) / row sum, from annotated rows' (label, category) pairs;
 * prior(l, c) is 1 when the catalog projects category c onto label l (its `l1` or one of its
 * subcategories' `l1`), else 0.05 (any label may hold any category, rarely).
 */
export function compatMatrix(pairs: Array<{ label: string; category: string }>, l1Labels: readonly string[], categories: readonly string[], catalog: Catalog, alpha: number): number[][] {
  const prior = l1Labels.map((l) =>
    categories.map((c) => {
      const cat = catalog.category(c);
      if (!cat) return 0.05;
      return cat.l1 === l || cat.subcategories.some((s) => s.l1 === l) ? 1 : 0.05;
    }),
  );
  const n = l1Labels.map(() => categories.map(() => 0));
  for (const { label, category } of pairs) {
    const l = l1Labels.indexOf(label);
    const c = categories.indexOf(category);
    if (l >= 0 && c >= 0) (n[l] as number[])[c] = ((n[l] as number[])[c] as number) + 1;
  }
  return n.map((row, l) => {
    const r = row.map((v, c) => v + alpha * ((prior[l] as number[])[c] as number));
    const s = r.reduce((a, b) => a + b, 0);
    return r.map((v) => v / s);
  });
}

/** One short training document per subcategory: its name and keywords, labelled with its category. */
export function catalogDocuments(catalog: Catalog): Array<{ text: string; label: string }> {
  const out: Array<{ text: string; label: string }> = [];
  for (const c of catalog.categories) {
    for (const s of c.subcategories) {
      const name = s.name.replace(/（[^）]*）/g, '');
      out.push({ text: [name, ...s.keywords].join('，'), label: c.code });
    }
  }
  return out;
}

/** The teacher's training options: the label model's features and solver, on its own few documents. */
export const TEACHER_TRAIN_OPTIONS: TrainOptions = {
  // chosen by CV likelihood (docs/catalog.md): 2^20 buckets and the first 1,500 chars (OOF NLL 0.649)
  // against 2^16 / 384 chars (0.730), 2^18 / 1,500 (0.681), 2^19 / 1,500 (0.656)
  bits: 20,
  ngramMin: 1,
  ngramMax: 3,
  maxChars: 1500,
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
};

/** A teacher training document; `weight` (default 1) scales its cost (weak labels weigh less). */
export interface TeacherDocument {
  text: string;
  label: string;
  weight?: number;
}

/** Trains the teacher on labelled documents; `categories` fixes the label order. */
export function trainTeacher(docs: TeacherDocument[], categories: readonly string[], o: TrainOptions = TEACHER_TRAIN_OPTIONS): { w: Float32Array; idf: Float32Array; bias: Float64Array } {
  const y = Int32Array.from(docs.map((d) => categories.indexOf(d.label)));
  if (y.some((v) => v < 0)) throw new ConfigError('teacher documents carry a category outside the category list');
  const { vecs, idf } = vectorize(
    docs.map((d) => d.text),
    o,
  );
  // weights only when a document has one (the SGD solver takes none)
  const weights = docs.some((d) => d.weight !== undefined) ? Float64Array.from(docs.map((d) => d.weight ?? 1)) : undefined;
  const { w, bias } = trainSoftmax(vecs, y, categories.length, o, undefined, weights);
  return { w, idf, bias };
}

export function teacherModel(categories: string[], version: string, o: TrainOptions, t: { w: Float32Array; idf: Float32Array; bias: Float64Array }): TextModel {
  return TextModel.fromTrained(categories, version, o, t.w, t.idf, t.bias);
}

export function toCategoryModelFile(
  f: Omit<CategoryModelFile, 'format' | 'teacher'>,
  teacherOpts: TrainOptions,
  t: { w: Float32Array; idf: Float32Array; bias: Float64Array },
): CategoryModelFile {
  const teacher = toModelFile(f.categories, `${f.version}-teacher`, teacherOpts, t.w, t.idf, t.bias, f.trainedOn, f.createdAt);
  return { format: CATEGORY_MODEL_FORMAT, ...f, teacher };
}

export function categoryModelFromFile(m: CategoryModelFile, source = 'category model'): CategoryModel {
  if (m.format !== CATEGORY_MODEL_FORMAT) throw new ConfigError(`${source}: unsupported category model format ${String(m.format)} (expected ${CATEGORY_MODEL_FORMAT})`);
  const teacher = modelFromFile(m.teacher, source);
  return new CategoryModel(teacher, m);
}

/** The category model that ships with the project. */
export function defaultCategoryModelPath(): string {
  return join(packageRoot(), 'core', 'catalog', 'models', 'category-model.json.gz');
}

export function loadCategoryModel(file: string = defaultCategoryModelPath()): CategoryModel {
  let m: CategoryModelFile;
  try {
    const buf = readFileSync(file);
    m = JSON.parse((file.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8')) as CategoryModelFile;
  } catch (e) {
    throw new ConfigError(`cannot read category model ${file}: ${(e as Error).message}`, { cause: e });
  }
  return categoryModelFromFile(m, file);
}

export function saveCategoryModel(file: string, m: CategoryModelFile): void {
  const json = Buffer.from(JSON.stringify(m) + '\n', 'utf8');
  writeFileSync(file, file.endsWith('.gz') ? gzipSync(json, { level: 9 }) : json);
}

export { featuresOf };
