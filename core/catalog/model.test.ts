import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import { hashNgrams, loadModel, modelFromFile, rowText, saveModel, toModelFile, train, TextModel } from './model';
import { toyModel, toyRows, TOY_OPTIONS } from './testing';

describe('hashed n-grams', () => {
  it('counts distinct buckets without allocating n-gram strings, deterministically', () => {
    const f = { bits: 16, ngramMin: 1, ngramMax: 3 };
    const counts = new Float32Array(1 << 16);
    const touched = new Int32Array(1000);
    const n = hashNgrams('路灯不亮', f, counts, touched);
    // 4 unigrams + 3 bigrams + 2 trigrams (barring collisions)
    expect(n).toBe(9);
    const first = Array.from(touched.slice(0, n)).sort();
    for (const b of first) counts[b] = 0;
    const n2 = hashNgrams('路灯不亮', f, counts, touched);
    expect(Array.from(touched.slice(0, n2)).sort()).toEqual(first);
  });

  it('treats digits alike and collapses whitespace runs', () => {
    const f = { bits: 16, ngramMin: 1, ngramMax: 2 };
    const a = new Float32Array(1 << 16);
    const b = new Float32Array(1 << 16);
    const t = new Int32Array(100);
    const na = hashNgrams('编号123  A', f, a, t);
    const nb = hashNgrams('编号987 a', f, b, t);
    expect(na).toBe(nb);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('TextModel', () => {
  it('learns a toy corpus', () => {
    const m = toyModel();
    expect(m.predict('小区物业乱收费，拆迁补偿不到位').label).toBe('城乡建设');
    expect(m.predict('孩子幼儿园入学，学校要求补课').label).toBe('教育文体');
    const p = m.predict('医院医生态度差');
    expect(p.label).toBe('卫生计生');
    expect(p.confidence).toBeGreaterThan(0.5);
    expect(Array.from(p.probs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('round-trips through the model file with identical predictions', () => {
    const t = train(toyRows(), TOY_OPTIONS);
    const a = TextModel.fromTrained(t.labels, 'toy-1', TOY_OPTIONS, t.w, t.idf, t.bias);
    const file = toModelFile(t.labels, 'toy-1', TOY_OPTIONS, t.w, t.idf, t.bias, [{ file: 'toy', rows: 90 }], '2026-01-01T00:00:00Z');
    const path = join(mkdtempSync(join(tmpdir(), 'model-')), 'm.json.gz');
    saveModel(path, file);
    const b = loadModel(path);
    expect(b.version).toBe('toy-1');
    for (const s of ['物业拆迁', '学校收费', '医院疫苗']) {
      expect(b.predict(s).label).toBe(a.predict(s).label);
      expect(b.predict(s).confidence).toBeCloseTo(a.predict(s).confidence, 6);
    }
  });

  it('rejects an unknown format and mismatched sizes', () => {
    const t = train(toyRows(), TOY_OPTIONS);
    const file = toModelFile(t.labels, 'toy-1', TOY_OPTIONS, t.w, t.idf, t.bias, [], '2026-01-01T00:00:00Z');
    expect(() => modelFromFile({ ...file, format: 'other' as never })).toThrow(ConfigError);
    expect(() => modelFromFile({ ...file, features: { ...file.features, bits: 4 } })).toThrow(/sizes/);
    expect(() => loadModel('/nonexistent/model.json')).toThrow(/cannot read model/);
  });

  it('reads text from text, title + detail, or segmented tokens', () => {
    expect(rowText({ text: 'a' })).toBe('a');
    expect(rowText({ title: 't', detail: 'd' })).toBe('t\nd');
    expect(rowText({ tokens: '市 西湖 建筑' })).toBe('市西湖建筑');
  });
});
