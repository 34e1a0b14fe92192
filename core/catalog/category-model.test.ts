import { loadCatalog } from './catalog';
import { catalogDocuments, compatMatrix, loadCategoryModel, mixInto, teacherModel, trainTeacher, TEACHER_TRAIN_OPTIONS, type TeacherDocument } from './category-model';
import { goldFolds } from './category-train';
import { loadModel, trainSoftmax, vectorize } from './model';

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

describe('teacher instance weights', () => {
  // small options: the behaviour, not the shipped size
  const o = { ...TEACHER_TRAIN_OPTIONS, bits: 14 };
  const categories = ['C12', 'C18'];
  const base = [
    { text: '派出所民警出警处理打架斗殴', label: 'C12' },
    { text: '民政局低保评定困难家庭救助', label: 'C18' },
  ];
  const winner = (docs: TeacherDocument[]): string => {
    const m = teacherModel(categories, 'w', o, trainTeacher(docs, categories, o));
    const z = new Float64Array(2);
    m.margins('社区老人求助邻里纠纷', z);
    return (z[0] as number) > (z[1] as number) ? 'C12' : 'C18';
  };

  it('a text labelled twice goes to the label of the heavier document', () => {
    const a = winner([...base, { text: '社区老人求助邻里纠纷', label: 'C12', weight: 1 }, { text: '社区老人求助邻里纠纷', label: 'C18', weight: 0.1 }]);
    const b = winner([...base, { text: '社区老人求助邻里纠纷', label: 'C12', weight: 0.1 }, { text: '社区老人求助邻里纠纷', label: 'C18', weight: 1 }]);
    expect([a, b]).toEqual(['C12', 'C18']);
  });

  it('weights of 1 train the same model as no weights (the solver path with weights)', () => {
    const docs = [...base, { text: '社区老人求助邻里纠纷', label: 'C12' }];
    const { vecs } = vectorize(docs.map((d) => d.text), o);
    const y = Int32Array.from(docs.map((d) => categories.indexOf(d.label)));
    const plain = trainSoftmax(vecs, y, 2, o);
    const ones = trainSoftmax(vecs, y, 2, o, undefined, new Float64Array(docs.length).fill(1));
    expect(Array.from(ones.bias)).toEqual(Array.from(plain.bias));
    expect(Buffer.from(ones.w.buffer).equals(Buffer.from(plain.w.buffer))).toBe(true);
  });

  it('refuses a weight that is not > 0', () => {
    expect(() => trainTeacher([...base, { text: '社区老人求助邻里纠纷', label: 'C12', weight: 0 }, { text: 'x', label: 'C18', weight: 0.5 }], categories, o)).toThrow(/weight/);
  });
});
