import { join } from 'node:path';
import { packageRoot } from '../../core/util/paths';
import { sharedDataFile } from '../../core/util/shared-data';
import { agreement } from './agreement';

describe('extra annotations agree with the catalog-labels annotators', () => {
  it('on the blind re-labelling of 60 annotated messages', () => {
    const a = agreement(join(packageRoot(), 'bench', 'classify', 'agreement-2026-12-04.jsonl'), sharedDataFile('catalog-labels', 'train_categories.jsonl'));
    expect(a.rows).toBe(60);
    // the figures docs/catalog.md gives: 58 of 60 primaries, every primary acceptable to the other side
    expect(a.primaryAgrees).toBeGreaterThanOrEqual(0.95);
    expect(a.oursAmongTheirAcceptable).toBe(1);
    expect(a.theirsAmongOurAcceptable).toBe(1);
  });
});
