import { loadCatalog } from './catalog';
import { catalogDocuments, compatMatrix, loadCategoryModel, mixInto } from './category-model';
import { goldFolds } from './category-train';
import { loadModel } from './model';

const catalog = loadCatalog();
const categories = catalog.categories.map((c) => c.code);
const labels = catalog.doc.l1Labels;

describe('category model', () => {
  it('compat: rows are distributions; annotated pairs move them; every category keeps some weight', () => {
    const m = compatMatrix([{ label: '城乡建设', category: 'C03' }, { label: '城乡建设', category: 'C03' }], labels, categories, catalog, 1);
    for (const row of m) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const build = m[labels.indexOf('城乡建设')] as number[];
    expect(build[categories.indexOf('C03')]).toBeGreaterThan(build[categories.indexOf('C01')] as number);
    // the catalog projects C01 onto 城乡建设, C13 not: prior 1 vs 0.05
    expect(build[categories.indexOf('C01')]).toBeGreaterThan(build[categories.indexOf('C13')] as number);
    expect(Math.min(...m.flat())).toBeGreaterThan(0);
  });

  it('mix: a distribution; a sure label weighs only the categories it was seen with; the power sharpens or flattens', () => {
    const C = categories.length;
    const compat = Float64Array.from(compatMatrix([], labels, categories, catalog, 1).flat());
    const t = new Float64Array(C).fill(1 / C);
    const p = labels.map((l) => (l === '教育文体' ? 1 : 0));
    const out = new Float64Array(C);
    mixInto(p, t, compat, 1, out);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const best = categories[out.indexOf(Math.max(...out))];
    expect(['C13', 'C14']).toContain(best);
    const sharp = new Float64Array(C);
    mixInto(p, t, compat, 0.5, sharp);
    expect(Math.max(...sharp)).toBeGreaterThan(Math.max(...out));
  });

  it('one training document per subcategory, labelled with its category', () => {
    const docs = catalogDocuments(catalog);
    expect(docs).toHaveLength(828);
    expect(new Set(docs.map((d) => d.label))).toEqual(new Set(categories));
  });

  it('gold folds are stratified and deterministic', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ primary: i < 60 ? 'C15' : i < 90 ? 'C13' : 'C20' }));
    const a = goldFolds(rows, 5);
    expect(Array.from(goldFolds(rows, 5))).toEqual(Array.from(a));
    for (let f = 0; f < 5; f++) expect(rows.filter((r, i) => r.primary === 'C15' && a[i] === f)).toHaveLength(12);
    expect(new Set(rows.map((r, i) => (r.primary === 'C20' ? a[i] : -1)).filter((x) => x !== undefined && x >= 0)).size).toBe(5);
  });

  it('the shipped model fits the default catalog and the shipped label model', () => {
    const m = loadCategoryModel();
    expect(m.fits(catalog)).toBe(true);
    expect(m.mixesWith(loadModel())).toBe(true);
    expect(m.categories).toEqual(categories);
  });
});
