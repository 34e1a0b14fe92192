import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { EMITTED_CODE_TABLES } from '../../../connectors/code-tables';
import { writeDefaultCatalog } from '../../catalog/build';
import { defaultCatalogPath, loadCatalog } from '../../catalog/catalog';
import { formatLintReport, lintCatalog } from '../../catalog/lint';
import { bool, num, runGroup, str, strs, UsageError, type CommandSpec, type Parsed } from '../args';
import { compatMatrix, defaultCategoryModelPath, saveCategoryModel, TEACHER_TRAIN_OPTIONS, toCategoryModelFile, trainTeacher } from '../../catalog/category-model';
import { chooseCategoryThreshold, fitMixParams, joinGold, labelModelOof, readCategoryLabels, teacherDocuments, teacherOof } from '../../catalog/category-train';
import { replyWeakDocuments } from '../../catalog/weak-labels';
import { extraAnnotatedDocuments, messageTexts, readExtraAnnotations } from '../../catalog/extra-labels';
import { DEFAULT_TRAIN_OPTIONS, defaultModelPath, loadModel, readLabelled, saveModel, toModelFile, train, type TrainOptions } from '../../catalog/model';
import { sharedDataFile } from '../../util/shared-data';

const CATALOG_FILE = { names: '[FILE]', min: 0, max: 1 };

const SPECS = {
  build: { name: 'catalog build', summary: 'build the default catalog from ../shared/data', options: { out: { type: 'string', value: 'FILE', help: 'where to write it (default: schemas/catalog/default.catalog.json)' } } },
  lint: { name: 'catalog lint', summary: 'check a catalog (default: the default catalog); exit 1 on errors', options: { json: { type: 'boolean', help: 'print the findings as JSON' } }, positionals: CATALOG_FILE },
  stats: { name: 'catalog stats', summary: 'counts: categories, subcategories, channel codes', options: { json: { type: 'boolean', help: 'print JSON' } }, positionals: CATALOG_FILE },
  train: {
    name: 'catalog train',
    summary: 'train the 7-label text model on labelled JSONL (label_l1 + text), or with --categories the 20-category model',
    details: `With --categories: trains the category model from the annotated messages (--labels
catalog-labels/train_categories.jsonl, joined to the first --data file by row), extra --data files
and the catalog's names and keywords, mixed with the 7-label model (--label-model); mixing and
calibration chosen by 5-fold CV (several minutes). Default output: the shipped category model.`,
    options: {
      categories: { type: 'boolean', help: 'train the 20-category model (core/catalog/category-model.ts)' },
      labels: { type: 'string', value: 'FILE', help: 'with --categories: the annotated category labels (JSONL)' },
      'label-model': { type: 'string', value: 'FILE', help: 'with --categories: the 7-label model to mix with (default: the shipped one)' },
      'l1-oof-cache': { type: 'string', value: 'FILE', help: "with --categories: cache of the 7-label model's out-of-fold probabilities (reused when present)" },
      'weak-replies': { type: 'string', value: 'FILE', help: 'with --categories: messages with government replies (tipdm2020c/messages_with_replies.jsonl); the answering unit is a weak category label (core/catalog/weak-labels.ts)' },
      'weak-weight': { type: 'string', value: 'W', help: 'with --weak-replies: the weight of a weak label, in (0, 1] (default 0.3)' },
      'extra-labels': { type: 'string', multiple: true, value: 'FILE', help: 'with --categories: extra annotations of train.jsonl / unlabeled.jsonl / messages_with_votes.jsonl messages (core/catalog/labels/*.jsonl; core/catalog/extra-labels.ts), training only' },
      'extra-weight': { type: 'string', value: 'W', help: 'with --extra-labels: their weight, in (0, 1] (default 1)' },
      unlabeled: { type: 'string', value: 'FILE', help: 'with --extra-labels: the unlabeled messages their msg_ids name (default ../shared/data/tipdm2020c/unlabeled.jsonl)' },
      votes: { type: 'string', value: 'FILE', help: 'with --extra-labels: the messages with votes their "votes" msg_ids name (default ../shared/data/tipdm2020c/messages_with_votes.jsonl)' },
      data: { type: 'string', multiple: true, value: 'FILE', help: 'labelled JSONL; more files may follow as arguments (--data a.jsonl b.jsonl)' },
      out: { type: 'string', value: 'FILE', help: 'model file (default: core/catalog/models/l1-model.json.gz)' },
      version: { type: 'string', value: 'V', help: 'model version (default: l1-<date>)' },
      bits: { type: 'string', value: 'N', help: 'feature hash bits' },
      epochs: { type: 'string', value: 'N', help: 'training epochs' },
      lambda: { type: 'string', value: 'X', help: 'regularisation' },
      lr: { type: 'string', value: 'X', help: 'learning rate' },
      'ngram-max': { type: 'string', value: 'N', help: 'longest character n-gram' },
      loss: { type: 'string', value: 'LOSS', choices: ['hinge', 'softmax'], help: 'loss' },
    },
    positionals: { names: '[FILE...]', min: 0, max: 64 },
  },
} satisfies Record<string, CommandSpec>;

function abs(file: string): string {
  return isAbsolute(file) ? file : resolve(process.cwd(), file);
}

function catalogFile(p: Parsed): string {
  return p.positionals[0] ? abs(p.positionals[0]) : defaultCatalogPath();
}

/** `intake-hub catalog …`. Returns the process exit code. */
export async function catalogCommand(argv: string[]): Promise<number> {
  return runGroup('catalog', 'the 20/828 catalog and the text model (docs/catalog.md)', {
    build: { spec: SPECS.build, run: build },
    lint: { spec: SPECS.lint, run: lint },
    stats: { spec: SPECS.stats, run: stats },
    train: { spec: SPECS.train, run: trainCommand },
  }, argv, CONSOLE);
}

const CONSOLE = { out: (s: string) => console.log(s.replace(/\n$/, '')), err: (s: string) => console.error(s.replace(/\n$/, '')) };

function build(p: Parsed): number {
  const out = abs(str(p, 'out') ?? defaultCatalogPath());
  const counts = writeDefaultCatalog(out, EMITTED_CODE_TABLES);
  console.log(`wrote ${out}: ${counts.categories} categories, ${counts.subcategories} subcategories`);
  return 0;
}

function lint(p: Parsed): number {
  const file = catalogFile(p);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`error: cannot read ${file}: ${(e as Error).message}`);
    return 1;
  }
  const r = lintCatalog(doc, { emitted: EMITTED_CODE_TABLES });
  console.log(bool(p, 'json') ? JSON.stringify(r, null, 2) : formatLintReport(r, file));
  return r.ok ? 0 : 1;
}

function stats(p: Parsed): number {
  const file = catalogFile(p);
  const cat = loadCatalog(file);
  const schemes = Object.fromEntries(
    Object.entries(cat.doc.channelSchemes).map(([name, s]) => [name, { codes: s.codes.length, mapped: s.codes.filter((c) => cat.byChannelCode(name, c.code)).length }]),
  );
  const stats = {
    catalogVersion: cat.version,
    categories: cat.counts.categories,
    subcategories: cat.counts.subcategories,
    territorial: cat.subcategories.filter((s) => s.territorial).length,
    departments: new Set(cat.subcategories.map((s) => s.department)).size,
    keywords: cat.subcategories.reduce((a, s) => a + s.keywords.length, 0),
    byCategory: cat.categories.map((c) => ({ code: c.code, name: c.name, l1: c.l1, subcategories: c.subcategories.length })),
    channelSchemes: schemes,
  };
  if (bool(p, 'json')) console.log(JSON.stringify(stats));
  else {
    console.log(`${file}\ncatalog ${stats.catalogVersion}: ${stats.categories} categories, ${stats.subcategories} subcategories (${stats.territorial} territorial), ${stats.departments} departments, ${stats.keywords} keywords`);
    for (const c of stats.byCategory) console.log(`  ${c.code} ${c.name} (${c.l1}): ${c.subcategories}`);
    for (const [n, s] of Object.entries(schemes)) console.log(`  scheme ${n}: ${s.mapped}/${s.codes} codes mapped`);
  }
  return 0;
}

function trainCommand(p: Parsed): number {
  if (bool(p, 'categories')) return trainCategories(p);
  const data = [...strs(p, 'data'), ...p.positionals].map(abs);
  if (!data.length) throw new UsageError('catalog train needs --data FILE...');
  const bad = data.find((f) => /holdout/i.test(basename(f)));
  if (bad) {
    console.error(`error: refusing to train on ${bad}: the holdout set is for acceptance evaluation only`);
    return 2;
  }
  const o: TrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    bits: num(p, 'bits', DEFAULT_TRAIN_OPTIONS.bits, 8, 30, true),
    epochs: num(p, 'epochs', DEFAULT_TRAIN_OPTIONS.epochs, 1, 10_000, true),
    lambda: num(p, 'lambda', DEFAULT_TRAIN_OPTIONS.lambda, 0),
    lr: num(p, 'lr', DEFAULT_TRAIN_OPTIONS.lr, 0),
    ngramMax: num(p, 'ngram-max', DEFAULT_TRAIN_OPTIONS.ngramMax, 1, 8, true),
    loss: str(p, 'loss') === 'softmax' ? 'softmax' : DEFAULT_TRAIN_OPTIONS.loss,
  };
  const perFileRows = data.map((f) => readLabelled(f));
  const rows = perFileRows.flat();
  const perFile = data.map((f, i) => ({ file: basename(f), rows: perFileRows[i]?.length ?? 0 }));
  const t0 = Date.now();
  const m = train(rows, o);
  const createdAt = new Date().toISOString();
  const version = str(p, 'version') ?? `l1-${createdAt.slice(0, 10)}`;
  const file = toModelFile(m.labels, version, o, m.w, m.idf, m.bias, perFile, createdAt, `${o.loss === 'softmax' ? 'multinomial logistic regression' : `one-vs-rest squared-hinge linear SVM (${o.solver === 'cd' ? `dual coordinate descent, C ${o.C}` : 'SGD'}${o.nb ? ', naive-Bayes feature scaling (NB-SVM)' : ''}${o.classWeight === 'balanced' ? ', balanced class weights' : ''})`} on hashed char ${o.ngramMin}-${o.ngramMax}-grams; hyper-parameters chosen by 5-fold CV on the training files (bench/classify/cv.ts)`);
  const out = abs(str(p, 'out') ?? defaultModelPath());
  saveModel(out, file);
  console.log(`trained ${version} on ${rows.length} rows (${m.labels.length} labels) in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${out}`);
  return 0;
}

/** `catalog train --categories`: the category model (core/catalog/category-model.ts). */
function trainCategories(p: Parsed): number {
  const data = [...strs(p, 'data'), ...p.positionals].map(abs);
  const labelsFile = str(p, 'labels');
  if (!data.length || !labelsFile) throw new UsageError('catalog train --categories needs --labels FILE and --data TRAIN.jsonl [EXTRA.jsonl...]');
  const bad = [...data, abs(labelsFile)].find((f) => /holdout/i.test(basename(f)));
  if (bad) {
    console.error(`error: refusing to train on ${bad}: the holdout set is for acceptance evaluation only`);
    return 2;
  }
  const t0 = Date.now();
  const catalog = loadCatalog(defaultCatalogPath());
  const categories = catalog.categories.map((c) => c.code);
  const labelModel = loadModel(abs(str(p, 'label-model') ?? defaultModelPath()));
  const l1Labels = [...labelModel.labels];
  const [first = '', ...others] = data;
  const train1 = readLabelled(first);
  const extra = others.flatMap((f) => readLabelled(f));
  const labels = readCategoryLabels(abs(labelsFile));
  const gold = joinGold(labels, train1);
  console.error(`category model: ${gold.length} annotated rows; label-model out-of-fold probabilities (5 folds over ${basename(first)})…`);
  const cache = str(p, 'l1-oof-cache');
  let l1: Map<number, number[]>;
  if (cache && existsSync(abs(cache))) {
    // {labels, probs: [[row, [p…]]…]} from an earlier run (the 5 label-model fold trainings take minutes)
    const c = JSON.parse(readFileSync(abs(cache), 'utf8')) as { labels: string[]; probs: Array<[number, number[]]> };
    l1 = new Map(c.probs.map(([row, v]) => [row, l1Labels.map((l) => v[c.labels.indexOf(l)] as number)]));
  } else {
    l1 = labelModelOof(train1, extra, DEFAULT_TRAIN_OPTIONS, l1Labels);
    if (cache) writeFileSync(abs(cache), JSON.stringify({ labels: l1Labels, probs: [...l1] }));
  }
  const evalRows = gold.filter((g) => g.sample === 'random');
  const repliesFile = str(p, 'weak-replies');
  const weakWeight = num(p, 'weak-weight', 0.3, 0, 1);
  if (repliesFile && /holdout/i.test(basename(repliesFile))) throw new UsageError(`refusing to train on ${repliesFile}: the holdout set is for acceptance evaluation only`);
  // weak labels leave out any reply message whose text is one of the annotated rows (CV would see it labelled)
  const weak = repliesFile ? replyWeakDocuments(abs(repliesFile), catalog, weakWeight, gold.map((g) => g.text)) : null;
  if (weak) console.error(`category model: ${weak.docs.length} weak labels from ${weak.rows} replies (weight ${weakWeight}; ${weak.excluded} left out as annotated texts)`);
  const extraFiles = strs(p, 'extra-labels');
  const extraWeight = num(p, 'extra-weight', 1, 0, 1);
  for (const f of extraFiles) if (/holdout/i.test(basename(f))) throw new UsageError(`refusing to train on ${f}: the holdout set is for acceptance evaluation only`);
  const extraDocs = extraFiles.length
    ? extraAnnotatedDocuments(readExtraAnnotations(extraFiles.map(abs)), messageTexts(abs(first), abs(str(p, 'unlabeled') ?? sharedDataFile('tipdm2020c', 'unlabeled.jsonl')), abs(str(p, 'votes') ?? sharedDataFile('tipdm2020c', 'messages_with_votes.jsonl'))), catalog, extraWeight, gold.map((g) => g.text))
    : null;
  if (extraDocs) console.error(`category model: ${extraDocs.used} extra annotations (weight ${extraWeight}; ${extraDocs.excluded} left out as annotated texts) → ${extraDocs.docs.length} documents`);
  const more = [...(weak?.docs ?? []), ...(extraDocs?.docs ?? [])];
  const oof = teacherOof(catalog, evalRows, gold.filter((g) => g.sample !== 'random'), categories, 5, TEACHER_TRAIN_OPTIONS, more);
  const fit = fitMixParams(oof, catalog, l1, l1Labels);
  const th = chooseCategoryThreshold(fit.probs, evalRows, categories);
  const t = trainTeacher(teacherDocuments(catalog, gold, more), categories);
  const createdAt = new Date().toISOString();
  const version = str(p, 'version') ?? `cat-${createdAt.slice(0, 10)}`;
  const file = toCategoryModelFile(
    {
      version,
      categories,
      l1Labels,
      l1Model: labelModel.version,
      compat: compatMatrix(gold.map((g) => ({ label: g.label, category: g.primary })), l1Labels, categories, catalog, fit.params.alpha).map((r) => r.map((v) => Number(v.toPrecision(6)))),
      teacherT: fit.params.teacherT,
      temperature: Number(fit.params.temperature.toPrecision(6)),
      trainedOn: [
        { file: basename(abs(labelsFile)), rows: gold.length },
        { file: 'catalog subcategories (name + keywords)', rows: catalog.subcategories.length },
        ...(weak && repliesFile ? [{ file: `${basename(abs(repliesFile))} (weak labels, weight ${weakWeight})`, rows: weak.docs.length }] : []),
        ...extraFiles.map((f) => ({ file: `${basename(f)} (extra annotations, weight ${extraWeight})`, rows: readExtraAnnotations([abs(f)]).length })),
      ],
      createdAt,
      notes: `category teacher: NB-SVM (dual CD, C ${TEACHER_TRAIN_OPTIONS.C}, balanced) on annotated messages, their notes and the catalog's names/keywords${weak ? `, ${weak.docs.length} weak labels from government replies at weight ${weakWeight}` : ''}${extraDocs ? `, ${extraDocs.used} extra annotations at weight ${extraWeight}` : ''}; mixed with label model ${labelModel.version} through P(category | label); teacherT, alpha by 5-fold CV NLL, temperature fitted on the same out-of-fold rows (bench/classify/category-cv.ts)`,
      cv: { rows: evalRows.length, nll: Number(fit.nll.toFixed(4)), threshold: th.threshold, triageShare: Number(th.triageShare.toFixed(4)), acceptableOrTriage: Number(th.acceptableOrTriage.toFixed(4)), routedAcceptable: Number(th.routedAcceptable.toFixed(4)) },
    },
    TEACHER_TRAIN_OPTIONS,
    t,
  );
  const out = abs(str(p, 'out') ?? defaultCategoryModelPath());
  saveCategoryModel(out, file);
  console.log(`trained ${version} (${categories.length} categories; teacherT ${fit.params.teacherT}, alpha ${fit.params.alpha}, T ${fit.params.temperature.toFixed(3)}; CV: threshold ${th.threshold} → triage ${(th.triageShare * 100).toFixed(1)}%, acceptable-or-triage ${(th.acceptableOrTriage * 100).toFixed(1)}%) in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${out}`);
  return 0;
}
