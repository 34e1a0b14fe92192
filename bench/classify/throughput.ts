import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { loadCatalog } from '../../core/catalog/catalog';
import { Classifier } from '../../core/catalog/classify';
import { loadCategoryModel } from '../../core/catalog/category-model';
import { loadModel, rowText } from '../../core/catalog/model';
import { rulesFor } from '../../core/catalog/rules';
import { sharedDataFile } from '../../core/util/shared-data';

/**
 * Classification throughput on one core (Node is single-threaded here): the full cascade
 * (channel code → rules → model → triage) over real message-board texts (unlabeled.jsonl, not the
 * holdout), repeated to at least `--min N` tickets per run; prints the median of `--runs` runs and the
 * model load time. Never gates: it prints figures.
 *
 * On a shared machine the wall-clock rate swings with other jobs; the bench also reports the rate
 * per second of this process's own CPU time (process.cpuUsage, user + system), which is much steadier
 * (it still includes cache contention from neighbours). `--file F` reads another JSONL (e.g.
 * train.jsonl); the texts are passed as `text` only, as the classify CLI does for message-board rows.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/classify/throughput.js [--runs 7] [--min 50000]
 */
export function main(argv: string[] = process.argv.slice(2)): void {
  const arg = (k: string, d: number): number => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? Number(argv[i + 1]) : d;
  };
  const runs = arg('runs', 7);
  const min = arg('min', 50_000);

  const t0 = process.hrtime.bigint();
  const model = loadModel();
  const modelLoadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const t1 = process.hrtime.bigint();
  const catalog = loadCatalog();
  rulesFor(catalog);
  const catalogLoadMs = Number(process.hrtime.bigint() - t1) / 1e6;
  const t2 = process.hrtime.bigint();
  const categoryModel = argv.includes('--no-category-model') ? null : loadCategoryModel();
  const categoryModelLoadMs = Number(process.hrtime.bigint() - t2) / 1e6;
  const classifier = new Classifier(catalog, model, {}, categoryModel);

  const fi = argv.indexOf('--file');
  const file = fi >= 0 ? (argv[fi + 1] as string) : sharedDataFile('tipdm2020c', 'unlabeled.jsonl');
  const texts = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => rowText(JSON.parse(l) as Record<string, unknown>));
  const meanChars = texts.reduce((a, t) => a + t.length, 0) / texts.length;
  const reps = Math.max(1, Math.ceil(min / texts.length));

  // warm-up (JIT)
  for (const t of texts) classifier.classify({ text: t });

  const rates: number[] = [];
  const cpuRates: number[] = [];
  const modelRates: number[] = [];
  const modelCpuRates: number[] = [];
  const cpuSec = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
  let sink = 0;
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const s = process.hrtime.bigint();
    const c = process.cpuUsage();
    for (let k = 0; k < reps; k++) for (const t of texts) {
      sink += classifier.classify({ text: t }).confidence;
      n++;
    }
    cpuRates.push(n / cpuSec(process.cpuUsage(c)));
    rates.push(n / (Number(process.hrtime.bigint() - s) / 1e9));
    const s2 = process.hrtime.bigint();
    const c2 = process.cpuUsage();
    for (let k = 0; k < reps; k++) for (const t of texts) sink += model.predict(t).confidence;
    modelCpuRates.push((reps * texts.length) / cpuSec(process.cpuUsage(c2)));
    modelRates.push((reps * texts.length) / (Number(process.hrtime.bigint() - s2) / 1e9));
  }
  const median = (a: number[]): number => {
    const b = [...a].sort((x, y) => x - y);
    return b[Math.floor(b.length / 2)] as number;
  };
  console.log(
    JSON.stringify({
      bench: 'classify-throughput',
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadAvg: loadavg().map((x) => Number(x.toFixed(2))),
      data: `${file.split('/').slice(-2).join('/')} (${texts.length} texts, mean ${Math.round(meanChars)} chars) × ${reps} per run`,
      model: model.version,
      catalog: catalog.version,
      modelLoadMs: Math.round(modelLoadMs),
      catalogLoadMs: Math.round(catalogLoadMs),
      categoryModel: categoryModel ? { version: categoryModel.version, loadMs: Math.round(categoryModelLoadMs) } : 'not used (--no-category-model)',
      runs,
      cascadeTicketsPerSecMedian: Math.round(median(rates)),
      cascadeTicketsPerSecRuns: rates.map(Math.round),
      cascadeTicketsPerCpuSecMedian: Math.round(median(cpuRates)),
      cascadeTicketsPerCpuSecRuns: cpuRates.map(Math.round),
      modelOnlyTicketsPerSecMedian: Math.round(median(modelRates)),
      modelOnlyTicketsPerCpuSecMedian: Math.round(median(modelCpuRates)),
      checksum: Math.round(sink) % 1000,
    }),
  );
}

if (require.main === module) main();
