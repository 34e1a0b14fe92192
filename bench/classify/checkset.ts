import { existsSync, readFileSync } from 'node:fs';
import { loadCatalog } from '../../core/catalog/catalog';
import { loadCategoryModel } from '../../core/catalog/category-model';
import { Classifier, type ClassifyInput } from '../../core/catalog/classify';
import { loadModel, rowText } from '../../core/catalog/model';
import { Router } from '../../core/routing/router';
import { sharedDataDir } from '../../core/util/shared-data';
import { categoryFigures, rounded } from './category-metrics';
import { readCheckset, runReport, ticketOf, type CheckOutcome } from './checkset-run';

/**
 * Per-channel figures on the labelled check set (bench/classify/checkset/reports.jsonl: realistic
 * reports of every channel, written from the docs): acceptable-category share, triage share,
 * acceptable-or-triage, the expectations (gas leaks → 市燃气集团 at P1), every miss; and the cost of
 * classification in µs per ticket (median of runs) on the check set and on real long message-board
 * texts (tipdm2020c/unlabeled.jsonl when present).
 *
 *   npm run build && node dist/bench/classify/checkset.js [--misses] [--runs N]
 */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : 0;
}

export function main(argv: string[] = process.argv.slice(2)): void {
  const catalog = loadCatalog();
  const model = loadModel();
  const cm = loadCategoryModel();
  const classifier = new Classifier(catalog, model, {}, cm);
  const router = new Router(catalog);
  const reports = readCheckset();
  const outcomes: CheckOutcome[] = reports.map((r) => runReport(r, classifier, router, catalog));
  const byChannel = new Map<string, CheckOutcome[]>();
  for (const o of outcomes) byChannel.set(o.report.connector, [...(byChannel.get(o.report.connector) ?? []), o]);
  const fig = (os: CheckOutcome[]): Record<string, number> => {
    const f = categoryFigures(os.map((o) => ({ primary: o.report.primary, acceptable: o.report.acceptable, triageOk: o.report.triage_ok, predicted: o.category, suggestion: o.result.suggestion })));
    const acceptableShare = os.filter((o) => o.acceptable).length / (os.length || 1);
    const methods: Record<string, number> = {};
    for (const o of os) methods[o.result.method] = (methods[o.result.method] ?? 0) + 1;
    return { rows: f.rows, acceptable: acceptableShare, triage: f.triageShare, acceptableOrTriage: f.acceptableOrTriage, acceptableOrTriageStrict: f.acceptableOrTriageStrict, primaryAccuracy: f.primaryAccuracy, ...Object.fromEntries(Object.entries(methods).map(([k, v]) => [`method.${k}`, v])) };
  };
  const channels = Object.fromEntries([...byChannel].map(([k, os]) => [k, rounded(fig(os) as Record<string, number>, 3)]));
  const expectations = outcomes.filter((o) => o.report.expect).map((o) => ({ id: o.report.id, department: o.routing.department, priority: o.routing.priority, ok: o.expectFailures.length === 0, ...(o.expectFailures.length ? { failures: o.expectFailures } : {}) }));
  const misses = outcomes
    .filter((o) => !o.acceptable)
    .map((o) => ({ id: o.report.id, routed: o.category ?? `triage (suggestion ${o.result.suggestion ?? '-'})`, acceptable: o.report.acceptable.join('/'), method: o.result.method, evidence: o.result.evidence.slice(0, 160), text: o.ticket.text.slice(0, 60) }));

  // cost: classification only (the stage's work), medians over runs
  const runs = Number(argv[argv.indexOf('--runs') + 1]) || 7;
  const tickets = reports.map((r) => ticketOf(r));
  const inputs: ClassifyInput[] = tickets.map((t) => ({ text: t.text, title: t.title, channelCategory: t.channelCategory ? { scheme: t.channelCategory.scheme, code: t.channelCategory.code, name: t.channelCategory.name ?? null } : null }));
  const timeIt = (items: ClassifyInput[], reps: number): number => {
    const per: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < reps; k++) for (const x of items) classifier.classify(x);
      per.push(Number(process.hrtime.bigint() - t0) / 1000 / (reps * items.length));
    }
    return median(per);
  };
  timeIt(inputs, 5); // warm-up
  const usCheck = timeIt(inputs, 40);
  let usLong: number | null = null;
  let longN = 0;
  const unl = `${sharedDataDir()}/tipdm2020c/unlabeled.jsonl`;
  if (existsSync(unl)) {
    const texts = readFileSync(unl, 'utf8').split('\n').filter((l) => l.trim()).map((l) => ({ text: rowText(JSON.parse(l) as Record<string, unknown>) }));
    longN = texts.length;
    timeIt(texts.slice(0, 500), 1);
    usLong = timeIt(texts, 2);
  }
  // determinism: the same input gives the same output
  const again = reports.map((r) => runReport(r, classifier, router, catalog));
  const deterministic = again.every((o, i) => JSON.stringify(o.result) === JSON.stringify(outcomes[i]?.result) && JSON.stringify(o.routing) === JSON.stringify(outcomes[i]?.routing));

  console.log(
    JSON.stringify(
      {
        bench: 'classify-checkset',
        date: new Date().toISOString(),
        catalog: catalog.version,
        model: model.version,
        categoryModel: cm.version,
        overall: rounded(fig(outcomes) as Record<string, number>, 3),
        channels,
        expectations,
        deterministic,
        costMicrosecondsPerTicket: { checkset: Number(usCheck.toFixed(1)), realLongTexts: usLong === null ? 'unlabeled.jsonl not found' : Number(usLong.toFixed(1)), realLongTextsRows: longN, runs },
        ...(argv.includes('--misses') ? { misses } : { missCount: misses.length }),
      },
      null,
      1,
    ),
  );
}

if (require.main === module) main();
