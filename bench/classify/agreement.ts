import { join } from 'node:path';
import { readCategoryLabels } from '../../core/catalog/category-train';
import { readExtraAnnotations } from '../../core/catalog/extra-labels';
import { packageRoot } from '../../core/util/paths';
import { sharedDataFile } from '../../core/util/shared-data';

/**
 * Agreement of this project's extra annotations (core/catalog/labels/) with the catalog-labels
 * annotators: a blind re-labelling of annotated messages by the same process that labelled the
 * boost scan (`bench/classify/agreement-2026-12-04.jsonl`: 60 of the 600 random rows, chosen by a
 * seeded sample, labelled without their annotations in view). Prints how often the primaries agree
 * and how often each side's primary is among the other's acceptable categories.
 *
 *   node dist/bench/classify/agreement.js [FILE]
 */
export function agreement(blindFile: string, goldFile: string): Record<string, unknown> {
  const gold = new Map(readCategoryLabels(goldFile).map((g) => [String(g.row), g]));
  const blind = readExtraAnnotations([blindFile]);
  let primary = 0;
  let blindInGold = 0;
  let goldInBlind = 0;
  let triage = 0;
  const disagreements: unknown[] = [];
  for (const b of blind) {
    const g = gold.get(b.id);
    if (!g) throw new Error(`row ${b.id} of ${blindFile} is not an annotated row`);
    if (b.primary === g.primary) primary++;
    else disagreements.push({ row: Number(b.id), ours: b.acceptable, annotators: g.acceptable });
    if (g.acceptable.includes(b.primary)) blindInGold++;
    if (b.acceptable.includes(g.primary)) goldInBlind++;
    if (b.triageOk === g.triageOk) triage++;
  }
  const n = blind.length;
  const share = (k: number): number => Number((k / n).toFixed(3));
  return { rows: n, primaryAgrees: share(primary), oursAmongTheirAcceptable: share(blindInGold), theirsAmongOurAcceptable: share(goldInBlind), triageFlagAgrees: share(triage), disagreements };
}

if (require.main === module) {
  const file = process.argv[2] ?? join(packageRoot(), 'bench', 'classify', 'agreement-2026-12-04.jsonl');
  console.log(JSON.stringify({ bench: 'annotation-agreement', ...agreement(file, sharedDataFile('catalog-labels', 'train_categories.jsonl')) }, null, 1));
}
