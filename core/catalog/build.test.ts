import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataDir, sharedDataFile } from '../util/shared-data';
import { EMITTED_CODE_TABLES } from '../../connectors/code-tables';
import { buildDefaultCatalog } from './build';
import { defaultCatalogPath } from './catalog';
import { serializeCatalog } from './serialize';

// The build reads the GB/T directory from ../shared/data: without it these tests fail, never skip.
beforeAll(() => {
  sharedDataFile('gbt47678-5', 'directory.csv');
});

describe('catalog build', () => {
  it('rebuilds the committed default catalog byte for byte (deterministic, not stale)', () => {
    const built = serializeCatalog(buildDefaultCatalog(EMITTED_CODE_TABLES));
    expect(built).toBe(readFileSync(defaultCatalogPath(), 'utf8'));
  });

  it('carries provenance on every subcategory and all source codes', () => {
    const doc = buildDefaultCatalog(EMITTED_CODE_TABLES);
    const subs = doc.categories.flatMap((c) => c.subcategories);
    expect(subs).toHaveLength(828);
    for (const s of subs) expect(s.provenance.length).toBeGreaterThan(0);
    const gbtRows = readFileSync(join(sharedDataDir(), 'gbt47678-5', 'directory.csv'), 'utf8').trim().split('\n').length - 1;
    expect(doc.channelSchemes['gbt47678.5']?.codes).toHaveLength(gbtRows);
    const wuhan = readFileSync(join(sharedDataDir(), 'wuhan12345', 'subcategories.csv'), 'utf8').trim().split('\n').filter((l) => /^\uFEFF?\d/.test(l) || /^\d/.test(l)).length;
    expect(doc.channelSchemes['hotline-12345']?.codes).toHaveLength(wuhan);
  });
});
