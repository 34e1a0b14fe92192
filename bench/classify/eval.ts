import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../core/catalog/catalog';
import { Classifier } from '../../core/catalog/classify';
import { loadCategoryModel } from '../../core/catalog/category-model';
import { loadModel } from '../../core/catalog/model';
import { packageRoot } from '../../core/util/paths';
import { sharedDataFile } from '../../core/util/shared-data';
import { confusionMarkdown, evaluate } from './metrics';

/**
 * Acceptance evaluation on tipdm2020c/holdout.jsonl — run, report, never tune on it.
 * Runs our shipped classifier (the full cascade; label_l1 = the 7-label model's label, also for rows
 * sent to manual triage) and, in the same run, the scikit-learn
 * TF-IDF char n-gram + LinearSVC peer (bench/classify/sklearn_baseline.py, needs
 * `pip install scikit-learn`). Prints both macro-F1 and our confusion matrix.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/classify/eval.js [--no-sklearn]
 */
export function main(argv: string[] = process.argv.slice(2)): void {
  // --file FILE: the same report on another labelled file (e.g. train.jsonl, to look at the rules
  // step without touching the holdout)
  const fi = argv.indexOf('--file');
  const file = fi >= 0 ? (argv[fi + 1] as string) : sharedDataFile('tipdm2020c', 'holdout.jsonl');
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { text?: string; title?: string; detail?: string; label_l1: string });
  const catalog = loadCatalog();
  const model = loadModel();
  // the shipped cascade; label_l1 is the 7-label model's label whether or not the ticket is triaged
  const classifier = new Classifier(catalog, model, {}, loadCategoryModel());
  const gold: string[] = [];
  const cascade: string[] = [];
  const modelOnly: string[] = [];
  const methods: Record<string, number> = {};
  const autoGold: string[] = [];
  const autoPred: string[] = [];
  for (const r of rows) {
    const text = r.text ?? `${r.title ?? ''}\n${r.detail ?? ''}`;
    const c = classifier.classify({ text });
    methods[c.method] = (methods[c.method] ?? 0) + 1;
    gold.push(r.label_l1);
    cascade.push(c.labelL1 ?? '');
    modelOnly.push(model.predict(text).label);
    if (c.method !== 'manual') {
      autoGold.push(r.label_l1);
      autoPred.push(c.labelL1 ?? '');
    }
  }
  const labels = catalog.doc.l1Labels;
  const ours = evaluate(gold, cascade, labels);
  const oursModel = evaluate(gold, modelOnly, labels);
  const oursAuto = evaluate(autoGold, autoPred, labels);

  let sklearn: unknown = 'skipped';
  if (!argv.includes('--no-sklearn') && fi < 0) {
    const py = spawnSync('python3', [join(packageRoot(), 'bench', 'classify', 'sklearn_baseline.py')], { encoding: 'utf8', maxBuffer: 1 << 24 });
    try {
      sklearn = JSON.parse(py.stdout.trim().split('\n').pop() ?? '');
    } catch {
      sklearn = { error: (py.stderr || py.stdout || 'no output').slice(-500) };
    }
  }
  const f = (x: number): number => Number(x.toFixed(4));
  console.log(
    JSON.stringify(
      {
        bench: 'classify-holdout',
        date: new Date().toISOString(),
        data: `${file.split('/').slice(-2).join('/')} (${rows.length} rows)`,
        model: model.version,
        catalog: catalog.version,
        ours: { macroF1: f(ours.macroF1), accuracy: f(ours.accuracy), perLabelF1: Object.fromEntries(labels.map((l) => [l, f(ours.perLabel[l]?.f1 ?? 0)])) },
        oursModelOnly: { macroF1: f(oursModel.macroF1), accuracy: f(oursModel.accuracy) },
        oursAutoClassifiedOnly: { rows: autoGold.length, macroF1: f(oursAuto.macroF1), accuracy: f(oursAuto.accuracy) },
        methods,
        sklearn,
      },
      null,
      2,
    ),
  );
  console.log('\nConfusion matrix (ours, cascade label_l1):\n' + confusionMarkdown(ours));
}

if (require.main === module) main();
