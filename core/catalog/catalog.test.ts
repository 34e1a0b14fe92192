import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import { Catalog, CatalogStore, defaultCatalogPath, loadCatalog, normalizeChannelCode } from './catalog';
import type { CatalogDoc } from './types';

const doc = (): CatalogDoc => JSON.parse(readFileSync(defaultCatalogPath(), 'utf8')) as CatalogDoc;

describe('default catalog', () => {
  const cat = loadCatalog();

  it('has exactly 20 categories and 828 subcategories', () => {
    expect(cat.counts).toEqual({ categories: 20, subcategories: 828 });
    expect(cat.version).toBe('default-2026.11.1');
  });

  it('maps every one of the 403 GB/T 47678.5 part/matter codes', () => {
    const scheme = cat.doc.channelSchemes['gbt47678.5'];
    expect(scheme?.codes).toHaveLength(403);
    for (const c of scheme?.codes ?? []) expect(cat.byChannelCode('gbt47678.5', c.code)).toBeDefined();
  });

  it('looks up channel codes, normalising GB/T code spellings', () => {
    expect(cat.byChannelCode('gbt47678.5', '06028')?.name).toBe('噪声扰民');
    expect(cat.byChannelCode('gbt47678.5', '部件01037')?.name).toBe('路灯');
    expect(cat.byChannelCode('hotline-12345', '305')?.name).toBe('路灯');
    expect(cat.byChannelCode('police-110', 'NP22')?.name).toBe('开锁求助');
    expect(cat.byChannelCode('nope', 'x')).toBeUndefined();
    expect(normalizeChannelCode('gbt47678.5', 'P-01001')).toBe('01001');
  });

  it('projects every subcategory onto one of the 7 labels', () => {
    for (const s of cat.subcategories) expect(cat.doc.l1Labels).toContain(cat.l1Of(s.code));
  });

  it('is committed compact (one subcategory per line, well under 20,000 lines)', () => {
    const lines = readFileSync(defaultCatalogPath(), 'utf8').split('\n').length;
    expect(lines).toBeLessThan(2500);
  });
});

describe('validation', () => {
  it('names the data path of a schema error', () => {
    const d = doc();
    delete (d.categories[3]?.subcategories[7] as unknown as Record<string, unknown>).sla;
    expect(() => Catalog.fromDoc(d)).toThrow(ConfigError);
    expect(() => Catalog.fromDoc(d)).toThrow(/\/categories\/3\/subcategories\/7\/sla is required/);
  });

  it('rejects duplicate subcategory codes', () => {
    const d = doc();
    const c0 = d.categories[0];
    if (!c0?.subcategories[1] || !c0.subcategories[2]) throw new Error('fixture');
    c0.subcategories[2].code = c0.subcategories[1].code;
    expect(() => Catalog.fromDoc(d)).toThrow(/used twice/);
  });

  it('rejects an l1Defaults entry naming an unknown subcategory', () => {
    const d = doc();
    d.l1Defaults['环境保护'] = 'C99.999';
    expect(() => Catalog.fromDoc(d)).toThrow(/l1Defaults/);
  });
});

describe('CatalogStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-'));

  it('reloads a new catalog without restart and swaps atomically', () => {
    const store = new CatalogStore();
    const seen: string[] = [];
    store.onChange((c, prev) => seen.push(`${prev.version}->${c.version}`));
    const d = doc();
    d.catalogVersion = 'city-2027.1';
    const file = join(dir, 'city.json');
    writeFileSync(file, JSON.stringify(d));
    const before = store.current();
    store.reload(file);
    expect(store.version).toBe('city-2027.1');
    expect(before.version).toBe('default-2026.11.1'); // a reader holding the old one is unaffected
    expect(seen).toEqual(['default-2026.11.1->city-2027.1']);
  });

  it('keeps the running catalog when the new file is invalid', () => {
    const store = new CatalogStore();
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"catalogVersion": "x"}');
    expect(() => store.reload(file)).toThrow(ConfigError);
    expect(store.version).toBe('default-2026.11.1');
    writeFileSync(file, '{not json');
    expect(() => store.reload(file)).toThrow(/cannot read catalog/);
  });

  it('cannot reload without a file when built from a Catalog', () => {
    const store = new CatalogStore(loadCatalog());
    expect(() => store.reload()).toThrow(/no file/);
  });
});
