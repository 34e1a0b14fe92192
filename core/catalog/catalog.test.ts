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
    expect(cat.version).toBe('default-2026.12.1');
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
    expect(cat.byChannelCode('police-110', '1802')?.name).toBe('开锁求助');
    expect(cat.byChannelCode('nope', 'x')).toBeUndefined();
    expect(normalizeChannelCode('gbt47678.5', 'P-01001')).toBe('01001');
  });

  it('resolves channel codes: subcategory, category, several categories, family prefix, names, Open311', () => {
    const sub = (r: ReturnType<typeof cat.resolveChannel>): string | undefined => (r?.kind === 'subcategory' ? r.subcategory.name : undefined);
    const cats = (r: ReturnType<typeof cat.resolveChannel>): readonly string[] | undefined => (r?.kind === 'categories' ? r.categories : undefined);
    // 110 gas leak and the grid's gas hazard: the gas utility's emergency subcategory
    expect(sub(cat.resolveChannel('police-110', '1302', '燃气泄漏'))).toBe('天然气抢修类问题');
    expect(sub(cat.resolveChannel('grid-affairs', 'B02', '燃气安全隐患'))).toBe('天然气抢修类问题');
    expect(cat.resolveChannel('police-110', '1302')?.kind === 'subcategory' && cat.resolveChannel('police-110', '1302')).toMatchObject({ subcategory: { department: '市燃气集团', minUrgency: 'critical' } });
    expect(cats(cat.resolveChannel('police-110', '1301', '停水停电'))).toEqual(['C10']);
    expect(cats(cat.resolveChannel('police-110', '1101'))).toEqual(['C12', 'C03', 'C06', 'C07']);
    // an unknown item of a known family resolves as the family
    expect(cat.resolveChannel('police-110', '1109')).toMatchObject({ kind: 'categories', via: 'prefix', code: '11' });
    expect(cat.resolveChannel('grid-affairs', 'A09')).toMatchObject({ kind: 'categories', via: 'prefix', code: 'A' });
    expect(cat.resolveChannel('police-110', '7777')).toBeUndefined();
    // a known code that says nothing about the category
    expect(cats(cat.resolveChannel('police-110', '1801'))).toEqual([]);
    // message-board domains by id, by name alone, by alias
    expect(cats(cat.resolveChannel('message-board-domain', '3', '城建'))).toContain('C08');
    expect(cat.resolveChannel('message-board-domain', '城建', '城建')).toMatchObject({ kind: 'categories', via: 'name', code: '3' });
    expect(cat.resolveChannel('message-board-domain', '房产')).toMatchObject({ via: 'name', code: '8' });
    // Open311 service codes are the catalog's own subcategory codes; a general one names the category
    expect(sub(cat.resolveChannel('open311', 'C01.002'))).toBe(cat.subcategory('C01.002')?.name);
    expect(cats(cat.resolveChannel('open311', 'C03.000'))).toEqual(['C03']);
    expect(cat.resolveChannel('open311', 'C99.999')).toBeUndefined();
  });

  it('sets a code aside when the channel\'s name for it disagrees, and lets a matching name win', () => {
    // Wuhan 012 is 占道经营: a record saying 012 供水问题 is inconsistent
    const r = cat.resolveChannel('hotline-12345', '012', '供水问题');
    expect(r).toMatchObject({ kind: 'categories', categories: [] });
    expect(r?.conflict).toMatch(/set aside/);
    // the same code with its own name resolves normally; a name that is another code's name wins
    expect(cat.resolveChannel('hotline-12345', '012', '占道经营')?.kind).toBe('subcategory');
    const w = cat.resolveChannel('hotline-12345', '012', '停水或水压低问题');
    expect(w).toMatchObject({ kind: 'subcategory', via: 'name', code: '220' });
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
    expect(before.version).toBe('default-2026.12.1'); // a reader holding the old one is unaffected
    expect(seen).toEqual(['default-2026.12.1->city-2027.1']);
  });

  it('keeps the running catalog when the new file is invalid', () => {
    const store = new CatalogStore();
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"catalogVersion": "x"}');
    expect(() => store.reload(file)).toThrow(ConfigError);
    expect(store.version).toBe('default-2026.12.1');
    writeFileSync(file, '{not json');
    expect(() => store.reload(file)).toThrow(/cannot read catalog/);
  });

  it('cannot reload without a file when built from a Catalog', () => {
    const store = new CatalogStore(loadCatalog());
    expect(() => store.reload()).toThrow(/no file/);
  });
});
