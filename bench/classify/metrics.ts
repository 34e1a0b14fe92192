/** Macro-F1, accuracy and a confusion matrix over string labels. */
export interface EvalResult {
  macroF1: number;
  accuracy: number;
  perLabel: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  /** confusion[gold][predicted] = count. */
  confusion: Record<string, Record<string, number>>;
  labels: string[];
}

export function evaluate(gold: string[], pred: string[], labels?: string[]): EvalResult {
  const labs = labels ?? [...new Set(gold)].sort();
  const confusion: Record<string, Record<string, number>> = {};
  for (const g of labs) confusion[g] = Object.fromEntries(labs.map((p) => [p, 0]));
  let correct = 0;
  gold.forEach((g, i) => {
    const p = pred[i] ?? '';
    if (g === p) correct++;
    const row = confusion[g] ?? (confusion[g] = {});
    row[p] = (row[p] ?? 0) + 1;
  });
  const perLabel: EvalResult['perLabel'] = {};
  let f1sum = 0;
  for (const l of labs) {
    const tp = confusion[l]?.[l] ?? 0;
    const support = Object.values(confusion[l] ?? {}).reduce((a, b) => a + b, 0);
    const predicted = labs.reduce((a, g) => a + (confusion[g]?.[l] ?? 0), 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perLabel[l] = { precision, recall, f1, support };
    f1sum += f1;
  }
  return { macroF1: f1sum / labs.length, accuracy: gold.length ? correct / gold.length : 0, perLabel, confusion, labels: labs };
}

/** The confusion matrix as a Markdown table (rows: gold, columns: predicted). */
export function confusionMarkdown(r: EvalResult): string {
  const head = `| gold \\ predicted | ${r.labels.join(' | ')} |`;
  const sep = `|---|${r.labels.map(() => '---:').join('|')}|`;
  const rows = r.labels.map((g) => `| ${g} | ${r.labels.map((p) => String(r.confusion[g]?.[p] ?? 0)).join(' | ')} |`);
  return [head, sep, ...rows].join('\n');
}
