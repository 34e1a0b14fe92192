import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadCatalog } from '../../core/catalog/catalog';
import { chooseCategoryThreshold, fitMixParams, joinGold, labelModelOof, oofProbs, readCategoryLabels, teacherOof, type GoldRow } from '../../core/catalog/category-train';
import { DEFAULT_CLASSIFICATION_CONFIG } from '../../core/catalog/classify';
import { rulesFor, type RuleHit } from '../../core/catalog/rules';
import { DEFAULT_TRAIN_OPTIONS, readLabelled } from '../../core/catalog/model';
import { sharedDataFile } from '../../core/util/shared-data';
import { TEACHER_TRAIN_OPTIONS } from '../../core/catalog/category-model';
import { replyWeakDocuments } from '../../core/catalog/weak-labels';
import { extraAnnotatedDocuments, messageTexts, readExtraAnnotations } from '../../core/catalog/extra-labels';
import { categoryFigures, rounded, type JudgedRow } from './category-metrics';

/**
 * Cross-validation of the category model on the annotated TRAINING messages only
 * (catalog-labels/train_categories.jsonl; the 600 random rows are evaluated, the 150 street-boost rows
 * always train). The label model's probabilities are out-of-fold too (5 folds over train.jsonl, as in
 * bench/classify/calibrate.ts), cached in --l1-cache because they take minutes.
 *
 * The mixing parameters are chosen by OOF log-likelihood and the threshold by the rule of
 * `chooseCategoryThreshold`, exactly as `intake-hub catalog train --categories` does.
 *
 *   node dist/bench/classify/category-cv.js [--l1-cache FILE] [--weak-weight 0.3 [--replies FILE]]
 *     [--extra FILE[,FILE…] [--extra-weight W]]   extra annotations (core/catalog/extra-labels.ts), training only
 *     [--rows FILE]   each evaluated row's out-of-fold outcome, as JSONL
 *     [--teacher JSON]   teacher training options overlaid on TEACHER_TRAIN_OPTIONS, e.g. '{"minDf":2}'
 */

function arg(argv: string[], k: string): string | undefined {
  const i = argv.indexOf(k);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function judged(rows: GoldRow[], probs: Float64Array, categories: string[], threshold: number): JudgedRow[] {
  const C = categories.length;
  return rows.map((r, i) => {
    let best = 0;
    for (let c = 1; c < C; c++) if ((probs[i * C + c] as number) > (probs[i * C + best] as number)) best = c;
    const conf = probs[i * C + best] as number;
    const cat = categories[best] as string;
    return { primary: r.primary, acceptable: r.acceptable, triageOk: r.triageOk, predicted: conf >= threshold ? cat : null, suggestion: cat };
  });
}

export function main(argv: string[] = process.argv.slice(2)): void {
  const t0 = Date.now();
  const catalog = loadCatalog();
  const categories = catalog.categories.map((c) => c.code);
  const l1Labels = catalog.doc.l1Labels.slice();
  const train1 = readLabelled(sharedDataFile('tipdm2020c', 'train.jsonl'));
  const gold = joinGold(readCategoryLabels(sharedDataFile('catalog-labels', 'train_categories.jsonl')), train1);
  const cache = arg(argv, '--l1-cache');
  let l1: Map<number, number[]>;
  if (cache && existsSync(cache)) l1 = new Map(JSON.parse(readFileSync(cache, 'utf8')) as Array<[number, number[]]>);
  else {
    const seg = readLabelled(sharedDataFile('tipdm2020c', 'train_segmented.jsonl'));
    l1 = labelModelOof(train1, seg, DEFAULT_TRAIN_OPTIONS, [...l1Labels].sort());
    // labelModelOof orders probabilities by the sorted labels (the shipped model's order); re-order to l1Labels
    const sorted = [...l1Labels].sort();
    for (const [k, v] of l1) l1.set(k, l1Labels.map((l) => v[sorted.indexOf(l)] as number));
    if (cache) writeFileSync(cache, JSON.stringify([...l1]));
  }
  const tL1 = Date.now();
  const evalRows = gold.filter((g) => g.sample === 'random');
  const boost = gold.filter((g) => g.sample !== 'random');
  // weak labels from government replies (core/catalog/weak-labels.ts), at --weak-weight (0: none)
  const weakWeight = Number(arg(argv, '--weak-weight') ?? 0);
  const weak = weakWeight > 0 ? replyWeakDocuments(arg(argv, '--replies') ?? sharedDataFile('tipdm2020c', 'messages_with_replies.jsonl'), catalog, weakWeight, gold.map((g) => g.text)) : { docs: [], rows: 0, excluded: 0 };
  // extra annotations (core/catalog/labels/*.jsonl): training documents in every fold, never evaluated
  const extraFiles = arg(argv, '--extra')?.split(',').filter(Boolean) ?? [];
  const extraWeight = Number(arg(argv, '--extra-weight') ?? 1);
  const extra = extraFiles.length
    ? extraAnnotatedDocuments(readExtraAnnotations(extraFiles), messageTexts(sharedDataFile('tipdm2020c', 'train.jsonl'), sharedDataFile('tipdm2020c', 'unlabeled.jsonl'), sharedDataFile('tipdm2020c', 'messages_with_votes.jsonl')), catalog, extraWeight, gold.map((g) => g.text))
    : { docs: [], used: 0, excluded: 0, byCategory: {} };
  const teacherOptions = { ...TEACHER_TRAIN_OPTIONS, ...(JSON.parse(arg(argv, '--teacher') ?? '{}') as Partial<typeof TEACHER_TRAIN_OPTIONS>) };
  const oof = teacherOof(catalog, evalRows, boost, categories, 5, teacherOptions, [...weak.docs, ...extra.docs]);
  const tT = Date.now();

  const fit = fitMixParams(oof, catalog, l1, l1Labels);
  const probs = fit.probs;
  const chosen = chooseCategoryThreshold(probs, evalRows, categories);
  const curve = [0, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6].map((th) => ({ threshold: th, ...rounded(categoryFigures(judged(evalRows, probs, categories, th))) }));
  // per-category F1 at the chosen threshold (triage = no category)
  const j = judged(evalRows, probs, categories, chosen.threshold);
  const perCategory = Object.fromEntries(
    categories.map((c) => {
      const tp = j.filter((r) => r.primary === c && r.predicted === c).length;
      const fp = j.filter((r) => r.primary !== c && r.predicted === c).length;
      const fn = j.filter((r) => r.primary === c && r.predicted !== c).length;
      const f1 = tp ? (2 * tp) / (2 * tp + fp + fn) : 0;
      return [c, { support: tp + fn, f1: Number(f1.toFixed(3)) }];
    }),
  );
  // --rows FILE: every evaluated row's out-of-fold outcome at the chosen threshold (to read the misses)
  const rowsFile = arg(argv, '--rows');
  if (rowsFile) writeFileSync(rowsFile, evalRows.map((r, i) => JSON.stringify({ row: r.row, primary: r.primary, acceptable: r.acceptable, predicted: (j[i] as JudgedRow).predicted, suggestion: (j[i] as JudgedRow).suggestion, note: r.note })).join('\n') + '\n');
  // the keyword-rules step in front of the model, as the cascade runs it (decisive keywords, model not against)
  const rules = rulesFor(catalog);
  const C = categories.length;
  const cascade = evalRows.map((r, i) => {
    const h = rules.match(r.text);
    const jr = j[i] as JudgedRow;
    if (!h.length) return jr;
    const top = h[0] as RuleHit;
    const topCat = top.subcategory.slice(0, 3);
    let runnerUp = 0;
    for (const x of h) if (x.subcategory.slice(0, 3) !== topCat && x.score > runnerUp) runnerUp = x.score;
    const tied = h.length > 1 && (h[1] as RuleHit).score === top.score;
    const cfg = DEFAULT_CLASSIFICATION_CONFIG;
    const p = probs[i * C + categories.indexOf(topCat)] as number;
    if (top.score >= cfg.ruleMinScore && top.score >= cfg.ruleMinMargin * runnerUp && !tied && p >= cfg.ruleMinModelProb) return { ...jr, predicted: topCat };
    return jr;
  });
  const uniform = new Map([...l1].map(([k]) => [k, l1Labels.map(() => 1 / l1Labels.length)]));
  const tOnly = oofProbs(oof, catalog, uniform, l1Labels, { teacherT: fit.params.teacherT, alpha: 1e6, temperature: 1 });
  console.log(
    JSON.stringify(
      {
        bench: 'category-cv',
        date: new Date().toISOString(),
        rows: evalRows.length,
        teacherOptions,
        seconds: { l1Oof: (tL1 - t0) / 1000, teacherOof: (tT - tL1) / 1000, total: (Date.now() - t0) / 1000 },
        weak: { weight: weakWeight, rows: weak.rows, documents: weak.docs.length, excluded: weak.excluded, byCategory: Object.fromEntries(categories.map((c) => [c, weak.docs.filter((d) => d.label === c).length])) },
        extra: { files: extraFiles.length, weight: extraWeight, annotations: extra.used, excluded: extra.excluded, documents: extra.docs.length, byCategory: extra.byCategory },
        best: { ...fit.params, nll: Number(fit.nll.toFixed(4)) },
        grid: fit.grid.slice(0, 6).map((r) => rounded(r)),
        chosen: rounded(chosen),
        atChosen: rounded(categoryFigures(j)),
        cascadeWithRulesAtChosen: rounded(categoryFigures(cascade)),
        perCategory,
        curve,
        teacherOnlyAtZero: rounded(categoryFigures(judged(evalRows, tOnly, categories, 0))),
      },
      null,
      1,
    ),
  );
}

if (require.main === module) main();
