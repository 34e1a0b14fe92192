import { loadCatalog } from './catalog';
import { ClassifyStage, Classifier } from './classify';
import { rulesFor } from './rules';
import { testTicket, toyModel } from './testing';

const catalog = loadCatalog();
const model = toyModel();
const byName = (name: string): string => {
  const s = catalog.subcategories.find((x) => x.name === name);
  if (!s) throw new Error(`no ${name}`);
  return s.code;
};

describe('keyword rules (Aho–Corasick)', () => {
  const rules = rulesFor(catalog);
  it('finds every keyword in one pass, longest evidence first', () => {
    const hits = rules.match('小区门口有人占道经营，还有烧烤油烟污染，噪声扰民严重');
    const names = hits.map((h) => catalog.subcategory(h.subcategory)?.name);
    expect(names).toEqual(expect.arrayContaining(['占道经营', '油烟污染', '噪声扰民']));
  });
  it('counts title matches double and is cached per catalog', () => {
    const a = rules.match('路灯不亮', null)[0];
    const b = rules.match('没有', '路灯不亮')[0];
    expect(b?.score).toBe((a?.score ?? 0) * 2);
    expect(rulesFor(catalog)).toBe(rules);
  });
  it('finds overlapping keywords (failure links)', () => {
    const hits = rules.match('燃气泄漏');
    expect(hits.some((h) => h.keywords.includes('燃气泄漏'))).toBe(true);
    expect(hits.some((h) => h.keywords.includes('燃气'))).toBe(true);
  });
});

describe('classification cascade', () => {
  const c = new Classifier(catalog, model);

  it('channel-code: the channel code decides, confidence 1', () => {
    const r = c.classify({ text: '随便写点什么', channelCategory: { scheme: 'gbt47678.5', code: '06028' } });
    expect(r).toMatchObject({ method: 'channel-code', confidence: 1, subcategory: { code: byName('噪声扰民') }, catalogVersion: 'default-2026.11.1', labelL1: '城乡建设' });
  });

  it('channel-code: a domain code maps to a category, keywords narrow the subcategory', () => {
    const r = c.classify({ text: '小区物业公司乱收物业费', channelCategory: { scheme: 'message-board-domain', code: 'MB21' } });
    expect(r.method).toBe('channel-code');
    expect(r.subcategory?.code).toBe(byName('物业服务'));
    const bare = c.classify({ text: '没有关键词的留言', channelCategory: { scheme: 'message-board-domain', code: 'MB21' } });
    expect(bare.subcategory?.code).toBe('C08.000');
  });

  it('falls through an unknown channel code', () => {
    const r = c.classify({ text: '学校乱收费', channelCategory: { scheme: 'police-110', code: 'NP99' } });
    expect(r.method).not.toBe('channel-code');
  });

  it('rules: decisive keywords decide', () => {
    const r = c.classify({ text: '楼下饭店油烟污染严重，餐饮油烟直排', title: '油烟扰民' });
    expect(r.method).toBe('rules');
    expect(r.subcategory?.code).toBe(byName('油烟污染'));
    expect(r.confidence).toBeGreaterThan(0.5);
  });

  it('model: no decisive rule — the model picks the label, rules or the label default pick the subcategory', () => {
    const r = c.classify({ text: '孩子幼儿园入学难，学校要求补课' });
    expect(r.method).toBe('model');
    expect(r.labelL1).toBe('教育文体');
    expect(catalog.l1Of(r.subcategory?.code ?? '')).toBe('教育文体');
    expect(r.alternatives.length).toBeGreaterThan(0);
  });

  it('manual: below the confidence threshold no category is set', () => {
    const strict = new Classifier(catalog, model, { minConfidence: 0.999 });
    const r = strict.classify({ text: '孩子幼儿园入学难' });
    expect(r).toMatchObject({ method: 'manual', category: null, subcategory: null });
    expect(r.alternatives[0]?.subcategory).toMatch(/^C\d\d\.\d{3}$/);
    // label_l1 still carries the model's best label as the suggestion
    expect(r.labelL1).toBe(c.classify({ text: '孩子幼儿园入学难' }).labelL1);
    expect(r.labelL1).toBe(model.predict('孩子幼儿园入学难').label);
  });

  it('manual: no model and no decisive rule', () => {
    const r = new Classifier(catalog, null).classify({ text: '一段没有任何关键词的话' });
    expect(r.method).toBe('manual');
  });

  it('can ignore channel codes by config', () => {
    const r = new Classifier(catalog, model, { useChannelCodes: false }).classify({ text: '学校', channelCategory: { scheme: 'gbt47678.5', code: '06028' } });
    expect(r.method).not.toBe('channel-code');
  });
});

describe('ClassifyStage', () => {
  it('fills classification and stamps the catalog version on the trace', () => {
    const stage = new ClassifyStage(catalog, model);
    expect(stage.name).toBe('classify');
    const t = stage.run(testTicket({ text: '路边井盖丢失', channelCategory: { scheme: 'hotline-12345', code: '301', name: '无主井盖缺损' } }), { events: [] });
    expect(t.classification).toMatchObject({ method: 'channel-code', catalogVersion: 'default-2026.11.1', category: { code: 'C01' } });
    expect(t.trace.catalogVersion).toBe('default-2026.11.1');
  });
});
