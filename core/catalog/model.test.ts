import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import { chooseThreshold, fitTemperature, hashBuckets, hashNgrams, loadModel, maxNgrams, modelFromFile, rowText, saveModel, softmaxT, toModelFile, train, TextModel, type LabelledText } from './model';
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

describe('hashBuckets', () => {
  it('yields every occurrence in order, the same buckets hashNgrams counts', () => {
    const f = { bits: 16, ngramMin: 1, ngramMax: 3 };
    const text = '小区路灯不亮，路灯坏了 123';
    const out = new Int32Array(maxNgrams(text, f));
    const n = hashBuckets(text, f, out);
    const counts = new Float32Array(1 << 16);
    const touched = new Int32Array(1000);
    const nt = hashNgrams(text, f, counts, touched);
    expect(new Set(out.subarray(0, n)).size).toBe(nt);
    let total = 0;
    for (let k = 0; k < nt; k++) total += counts[touched[k] as number] as number;
    expect(total).toBe(n);
  });

  it('the unrolled 1–3-gram path hashes like the generic loop (1–4-grams share the 1–3 buckets)', () => {
    const text = '反映A市A1区某小区物业乱收停车费的问题';
    const f3 = { bits: 18, ngramMin: 1, ngramMax: 3 };
    const f4 = { bits: 18, ngramMin: 1, ngramMax: 4 };
    const o3 = new Int32Array(maxNgrams(text, f3));
    const o4 = new Int32Array(maxNgrams(text, f4));
    const s3 = new Set(o3.subarray(0, hashBuckets(text, f3, o3)));
    const s4 = new Set(o4.subarray(0, hashBuckets(text, f4, o4)));
    for (const b of s3) expect(s4.has(b)).toBe(true);
  });

  it('reads only the first maxChars chars', () => {
    const f = { bits: 16, ngramMin: 1, ngramMax: 3, maxChars: 5 };
    const a = new Int32Array(100);
    const b = new Int32Array(100);
    const na = hashBuckets('路灯不亮了，还有很多别的内容', f, a);
    const nb = hashBuckets('路灯不亮了', { ...f, maxChars: 0 }, b);
    expect(na).toBe(nb);
    expect(Array.from(a.subarray(0, na))).toEqual(Array.from(b.subarray(0, nb)));
  });
});

describe('calibration', () => {
  it('softmaxT flattens with T > 1 and fitTemperature recovers an over-confident scale', () => {
    const p1 = new Float64Array(3);
    const p2 = new Float64Array(3);
    softmaxT([2, 0, 0], 1, p1);
    softmaxT([2, 0, 0], 4, p2);
    expect(p2[0]).toBeLessThan(p1[0] as number);
    // margins 10× too large: label 0 right 70% of the time at margin 10
    const n = 1000;
    const z = new Float64Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      z[i * 2] = 10;
      y[i] = i % 10 < 7 ? 0 : 1;
    }
    const T = fitTemperature(z, y, 2);
    softmaxT([10, 0], T, p1);
    expect(p1[0]).toBeCloseTo(0.7, 2);
  });

  it('chooseThreshold: the smallest threshold whose auto-routed rows reach the target accuracy', () => {
    const conf = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    const correct = [1, 1, 1, 1, 0, 0];
    expect(chooseThreshold(conf, correct, 0.95)).toEqual({ threshold: 0.51, triageShare: 2 / 6, autoAccuracy: 1 });
    expect(chooseThreshold(conf, correct, 0.7).threshold).toBe(0.41);
  });

  it('train with calibrationFolds folds a temperature into the weights', () => {
    const rows: LabelledText[] = toyRows().map((r, i) => ({ ...r, row: i, source: 'a.jsonl' }));
    const plain = train(rows, TOY_OPTIONS);
    const cal = train(rows, { ...TOY_OPTIONS, calibrationFolds: 3 });
    expect(plain.temperature).toBe(1);
    expect(cal.temperature).not.toBe(1);
    expect(cal.w[5]).toBeCloseTo((plain.w[5] as number) / cal.temperature, 4);
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

  it('margins equal the dense linear score for 7 labels and for the wide layout (rows only where an IDF is, located by bit rank)', () => {
    // a reference computed straight from the dense arrays: v = (1 + ln count) × idf per bucket, L2-normalised
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const features = { bits: 10, ngramMin: 1, ngramMax: 3 };
    const dim = 2 ** features.bits;
    const texts = ['小区物业乱收费，拆迁补偿不到位', '孩子幼儿园入学，学校要求补课 2026 年', '医院医生态度差、排队三小时', 'abc 路灯不亮已经一周了，晚上出行很不安全'];
    for (const L of [7, 20, 5]) {
      const wq = new Int8Array(dim * L);
      const idfq = new Uint8Array(dim);
      for (let b = 0; b < dim; b++) {
        // about half the buckets carry an IDF; every 32nd-bucket word boundary and bit 31 get some of both
        idfq[b] = rnd() < 0.5 ? 0 : 1 + Math.floor(rnd() * 255);
        for (let c = 0; c < L; c++) wq[b * L + c] = Math.floor(rnd() * 255) - 127;
      }
      idfq[31] = 200; // bit 31 of the first word
      idfq[32] = 0;
      idfq[dim - 1] = 17;
      const scales = Array.from({ length: L }, () => 0.01 + rnd());
      const bias = Array.from({ length: L }, () => rnd() - 0.5);
      const labels = Array.from({ length: L }, (_, i) => `l${i}`);
      const m = new TextModel(labels, `t${L}`, features, wq, scales, idfq, bias);
      const z = new Float64Array(L);
      let withIdf = 0;
      for (const text of texts) {
        const buf = new Int32Array(maxNgrams(text, features));
        const n = hashBuckets(text, features, buf);
        const counts = new Map<number, number>();
        for (let i = 0; i < n; i++) counts.set(buf[i] as number, (counts.get(buf[i] as number) ?? 0) + 1);
        const acc = new Float64Array(L);
        let norm = 0;
        for (const [b, k] of counts) {
          const idf = idfq[b] as number;
          if (idf === 0) continue;
          withIdf++;
          const v = (1 + Math.log(k)) * idf;
          norm += v * v;
          for (let c = 0; c < L; c++) acc[c] = (acc[c] as number) + v * (wq[b * L + c] as number);
        }
        m.margins(text, z);
        for (let c = 0; c < L; c++) {
          const want = ((acc[c] as number) * (scales[c] as number)) / Math.sqrt(norm) + (bias[c] as number);
          expect(Math.abs((z[c] as number) - want)).toBeLessThan(1e-9 * Math.max(1, Math.abs(want)));
        }
      }
      expect(withIdf).toBeGreaterThan(20);
    }
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

  it('loads format 1 files (whole texts) and writes format 2 with maxChars', () => {
    const t = train(toyRows(), TOY_OPTIONS);
    const file = toModelFile(t.labels, 'toy-1', { ...TOY_OPTIONS, maxChars: 40 }, t.w, t.idf, t.bias, [], '2026-01-01T00:00:00Z');
    expect(file.format).toBe('intake-hub-textmodel/2');
    expect(file.features.maxChars).toBe(40);
    expect(modelFromFile(file).features.maxChars).toBe(40);
    const v1 = modelFromFile({ ...file, format: 'intake-hub-textmodel/1', features: { bits: 14, ngramMin: 1, ngramMax: 3 } });
    expect(v1.features.maxChars).toBeUndefined();
    expect(v1.predict('医院医生态度差').label).toBe('卫生计生');
  });

  it('rejects an unknown format and mismatched sizes', () => {
    const t = train(toyRows(), TOY_OPTIONS);
    const file = toModelFile(t.labels, 'toy-1', TOY_OPTIONS, t.w, t.idf, t.bias, [], '2026-01-01T00:00:00Z');
    expect(() => modelFromFile({ ...file, format: 'other' as never })).toThrow(ConfigError);
    expect(() => modelFromFile({ ...file, features: { ...file.features, bits: 4 } })).toThrow(/sizes/);
    expect(() => loadModel('/nonexistent/model.json')).toThrow(/cannot read model/);
  });

  it('trains the NB-SVM by dual coordinate descent (the default solver) and ships it as one linear score per label', () => {
    const o = { ...TOY_OPTIONS, solver: 'cd' as const, C: 1, classWeight: 'balanced' as const, nb: true, epochs: 50 };
    const t = train(toyRows(), o);
    const m = TextModel.fromTrained(t.labels, 'toy-nb', o, t.w, t.idf, t.bias);
    expect(m.predict('小区物业乱收费，拆迁补偿不到位').label).toBe('城乡建设');
    expect(m.predict('孩子幼儿园入学，学校要求补课').label).toBe('教育文体');
    expect(m.predict('医院医生态度差').label).toBe('卫生计生');
    const again = train(toyRows(), o);
    expect(Array.from(again.w.subarray(0, 200))).toEqual(Array.from(t.w.subarray(0, 200)));
    const plain = train(toyRows(), { ...o, nb: false, classWeight: 'none' });
    expect(TextModel.fromTrained(plain.labels, 'toy-svm', o, plain.w, plain.idf, plain.bias).predict('医院医生态度差').label).toBe('卫生计生');
  });

  it('reads text from text, title + detail, or segmented tokens', () => {
    expect(rowText({ text: 'a' })).toBe('a');
    expect(rowText({ title: 't', detail: 'd' })).toBe('t\nd');
    expect(rowText({ tokens: '市 西湖 建筑' })).toBe('市西湖建筑');
  });
});
