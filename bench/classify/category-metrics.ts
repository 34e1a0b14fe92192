/**
 * Figures for classification at the catalog's level, on rows labelled with a primary category, the
 * acceptable categories (primary included) and whether manual triage would also be right.
 */
export interface JudgedRow {
  primary: string;
  acceptable: string[];
  triageOk: boolean;
  /** The category the ticket was routed to; null = manual triage. */
  predicted: string | null;
  /** For triaged rows: the best guess (else the prediction). */
  suggestion?: string | null;
}

export interface CategoryFigures {
  rows: number;
  triageShare: number;
  /** Share routed to an acceptable category or sent to triage (any triage counts). */
  acceptableOrTriage: number;
  /** As above, but triage counts only where triage_ok. */
  acceptableOrTriageStrict: number;
  /** Share of routed rows whose category is acceptable. */
  routedAcceptable: number;
  /** Primary category right, over all rows (triage = wrong). */
  primaryAccuracy: number;
  /** Macro-F1 over the gold primary categories present; triage is a miss (no category). */
  macroF1: number;
  /** As macroF1, but a routed acceptable non-primary category counts as the primary. */
  macroF1Acceptable: number;
  /** Macro-F1 of the best guesses (triaged rows counted with their suggestion). */
  macroF1Suggestion: number;
}

function macroF1(gold: string[], pred: Array<string | null>): number {
  const labs = [...new Set(gold)].sort();
  let sum = 0;
  for (const l of labs) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    gold.forEach((g, i) => {
      const p = pred[i];
      if (g === l && p === l) tp++;
      else {
        if (p === l) fp++;
        if (g === l) fn++;
      }
    });
    const pr = tp + fp ? tp / (tp + fp) : 0;
    const rc = tp + fn ? tp / (tp + fn) : 0;
    sum += pr + rc ? (2 * pr * rc) / (pr + rc) : 0;
  }
  return labs.length ? sum / labs.length : 0;
}

export function categoryFigures(rows: JudgedRow[]): CategoryFigures {
  const n = rows.length || 1;
  const triage = rows.filter((r) => r.predicted === null);
  const routed = rows.filter((r) => r.predicted !== null);
  const okRouted = routed.filter((r) => r.acceptable.includes(r.predicted as string)).length;
  const gold = rows.map((r) => r.primary);
  return {
    rows: rows.length,
    triageShare: triage.length / n,
    acceptableOrTriage: (okRouted + triage.length) / n,
    acceptableOrTriageStrict: (okRouted + triage.filter((r) => r.triageOk).length) / n,
    routedAcceptable: routed.length ? okRouted / routed.length : 0,
    primaryAccuracy: rows.filter((r) => r.predicted === r.primary).length / n,
    macroF1: macroF1(gold, rows.map((r) => r.predicted)),
    macroF1Acceptable: macroF1(
      gold,
      rows.map((r) => (r.predicted !== null && r.acceptable.includes(r.predicted) ? r.primary : r.predicted)),
    ),
    macroF1Suggestion: macroF1(gold, rows.map((r) => r.predicted ?? r.suggestion ?? null)),
  };
}

export function rounded<T extends object>(o: T, digits = 4): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toFixed(digits)) : v])) as T;
}
