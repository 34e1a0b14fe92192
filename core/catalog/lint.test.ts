import { EMITTED_CODE_TABLES } from '../../connectors/code-tables';
import { readFileSync } from 'node:fs';
import { defaultCatalogPath } from './catalog';
import { lintCatalog, formatLintReport, type LintCode } from './lint';
import type { CatalogDoc, Subcategory } from './types';

const fresh = (): CatalogDoc => JSON.parse(readFileSync(defaultCatalogPath(), 'utf8')) as CatalogDoc;
const sub = (d: CatalogDoc, c: number, s: number): Subcategory => {
  const x = d.categories[c]?.subcategories[s];
  if (!x) throw new Error('fixture');
  return x;
};
const codes = (d: unknown): LintCode[] => lintCatalog(d).findings.filter((f) => f.level === 'error').map((f) => f.code);

describe('catalog lint', () => {
  it('passes on the default catalog (20 / 828), reporting ambiguous keywords as warnings', () => {
    const r = lintCatalog(fresh());
    expect(r.ok).toBe(true);
    expect(r.errors).toBe(0);
    expect(r.counts).toEqual({ categories: 20, subcategories: 828 });
    expect(r.findings.some((f) => f.code === 'AMBIGUOUS_KEYWORD' && f.level === 'warning')).toBe(true);
    expect(formatLintReport(r, 'default')).toMatch(/20 categories, 828 subcategories — 0 error\(s\)/);
  });

  it('catches duplicate codes', () => {
    const d = fresh();
    sub(d, 0, 2).code = sub(d, 0, 1).code;
    expect(codes(d)).toContain('DUPLICATE_CODE');
    const d2 = fresh();
    (d2.categories[1] as { code: string }).code = 'C01';
    expect(codes(d2)).toContain('DUPLICATE_CODE');
  });

  it('catches a subcategory code outside its category', () => {
    const d = fresh();
    sub(d, 1, 1).code = 'C05.999';
    expect(codes(d)).toContain('CODE_PREFIX');
  });

  it('catches wrong counts', () => {
    const d = fresh();
    d.categories[0]?.subcategories.pop();
    const r = lintCatalog(d);
    expect(r.findings.find((f) => f.code === 'COUNT_MISMATCH')?.message).toMatch(/827 subcategories, expected 828/);
    expect(codes(fresh()).length).toBe(0);
    expect(lintCatalog(fresh(), { expectedCounts: { categories: 11, subcategories: 118 } }).findings.filter((f) => f.code === 'COUNT_MISMATCH')).toHaveLength(2);
  });

  it('catches a subcategory without a department (not routable)', () => {
    const d = fresh();
    sub(d, 2, 3).department = ' ';
    expect(codes(d)).toContain('NOT_ROUTABLE');
  });

  it('catches a missing SLA', () => {
    const d = fresh();
    delete (sub(d, 4, 1).sla as Partial<Subcategory['sla']>).urgent;
    const r = lintCatalog(d);
    expect(r.findings.filter((f) => f.level === 'error').map((f) => f.code)).toEqual(expect.arrayContaining(['NO_SLA', 'SCHEMA']));
    expect(r.findings.find((f) => f.code === 'NO_SLA')?.path).toBe('/categories/4/subcategories/1/sla/urgent');
  });

  it('catches a mapped channel code that its scheme does not have, and an undeclared scheme', () => {
    const d = fresh();
    sub(d, 0, 1).channelCodes['gbt47678.5'] = ['99999'];
    expect(codes(d)).toContain('UNKNOWN_CHANNEL_CODE');
    sub(d, 0, 1).channelCodes['made-up'] = ['1'];
    expect(codes(d)).toContain('UNKNOWN_SCHEME');
  });

  it('catches an unmapped GB/T 47678.5 code (all 403 must map)', () => {
    const d = fresh();
    const s = d.categories.flatMap((c) => c.subcategories).find((x) => x.channelCodes['gbt47678.5']?.includes('06028'));
    if (!s) throw new Error('fixture');
    s.channelCodes['gbt47678.5'] = (s.channelCodes['gbt47678.5'] ?? []).filter((c) => c !== '06028');
    const r = lintCatalog(d);
    expect(r.findings.find((f) => f.code === 'UNMAPPED_CHANNEL_CODE')?.message).toMatch(/06028/);
  });

  it('catches one channel code mapped to two subcategories, and mapping to a non-categorical scheme', () => {
    const d = fresh();
    sub(d, 0, 5).channelCodes['police-110'] = ['1802'];
    expect(codes(d)).toContain('CHANNEL_CODE_CONFLICT');
    sub(d, 0, 6).channelCodes['message-board-type'] = ['T1'];
    expect(codes(d)).toContain('NOT_CATEGORICAL');
  });

  it('catches unknown l1 labels and bad l1 defaults', () => {
    const d = fresh();
    (d.categories[0] as { l1: string }).l1 = '党务政务';
    d.l1Defaults['卫生计生'] = 'C99.001';
    expect(codes(d)).toEqual(expect.arrayContaining(['UNKNOWN_L1', 'BAD_L1_DEFAULT']));
  });

  it('reports a keyword shared by subcategories as ambiguous', () => {
    const d = fresh();
    sub(d, 0, 1).keywords.push('独一无二关键词');
    sub(d, 5, 1).keywords.push('独一无二关键词');
    const f = lintCatalog(d).findings.find((x) => x.code === 'AMBIGUOUS_KEYWORD' && x.message.includes('独一无二关键词'));
    expect(f?.level).toBe('warning');
  });

  it('reports codes a connector emits that the catalog does not map (UNMAPPED_EMITTED_CODE)', () => {
    const d = fresh();
    expect(lintCatalog(d, { emitted: EMITTED_CODE_TABLES }).findings.filter((f) => f.code === 'UNMAPPED_EMITTED_CODE')).toEqual([]);
    // drop the 110 gas code from its subcategory and the family fallback: now it maps to nothing
    const gas = d.categories.flatMap((c) => c.subcategories).find((x) => x.channelCodes['police-110']?.includes('1302'));
    if (!gas) throw new Error('fixture');
    gas.channelCodes['police-110'] = (gas.channelCodes['police-110'] ?? []).filter((c) => c !== '1302');
    const scheme = d.channelSchemes['police-110'];
    if (!scheme) throw new Error('fixture');
    scheme.codes = scheme.codes.filter((c) => c.code !== '13');
    scheme.requireAllMapped = false;
    const r = lintCatalog(d, { emitted: EMITTED_CODE_TABLES });
    const msgs = r.findings.filter((f) => f.code === 'UNMAPPED_EMITTED_CODE').map((f) => f.message);
    expect(msgs).toHaveLength(2);
    expect(msgs).toEqual(expect.arrayContaining([expect.stringContaining('code 1302 (燃气泄漏)'), expect.stringContaining('code 13 (水电气暖)')]));
    expect(r.ok).toBe(false);
    // a catalog without the whole scheme: a warning per scheme (a city that does not run the connector)
    delete d.channelSchemes['resident-app'];
    const w = lintCatalog(d, { emitted: EMITTED_CODE_TABLES }).findings.filter((f) => f.code === 'UNMAPPED_EMITTED_CODE' && f.level === 'warning');
    expect(w.map((f) => f.message)).toEqual([expect.stringContaining('"resident-app"')]);
  });

  it('checks the categories a broad code names', () => {
    const d = fresh();
    const code = d.channelSchemes['police-110']?.codes.find((c) => c.code === '1101');
    if (!code) throw new Error('fixture');
    code.categories = ['C12', 'C99'];
    expect(codes(d)).toContain('BAD_CODE_CATEGORY');
  });

  it('survives a document that is not a catalog at all', () => {
    const r = lintCatalog({ hello: 1 });
    expect(r.ok).toBe(false);
    expect(r.findings.some((f) => f.code === 'SCHEMA')).toBe(true);
    expect(lintCatalog(null).ok).toBe(false);
  });
});
