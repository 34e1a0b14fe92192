import { loadCatalog } from './catalog';
import { ClassifyStage, Classifier } from './classify';
import { rulesFor } from './rules';
import { Router } from '../routing/router';
import { testTicket, toyCategoryModel, toyModel } from './testing';

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
    expect(r).toMatchObject({ method: 'channel-code', confidence: 1, subcategory: { code: byName('噪声扰民') }, catalogVersion: 'default-2026.12.1', labelL1: '城乡建设' });
  });

  it('channel-code: a code naming one category fixes it, keywords narrow the subcategory', () => {
    const r = c.classify({ text: '发生医疗事故，医院推卸责任', channelCategory: { scheme: 'message-board-domain', code: '9', name: '医疗' } });
    expect(r).toMatchObject({ method: 'channel-code', confidence: 1, category: { code: 'C16' } });
    expect(r.subcategory?.code).not.toBe('C16.000');
    expect(r.subcategoryConfidence).toBeGreaterThan(0);
    expect(r.subcategoryConfidence).toBeLessThan(1);
    const bare = c.classify({ text: '没有关键词的留言', channelCategory: { scheme: 'message-board-domain', code: '9' } });
    expect(bare).toMatchObject({ category: { code: 'C16' }, subcategory: { code: 'C16.000' } });
    expect(bare.subcategoryConfidence).toBeLessThan(0.5);
  });

  it('falls through an unknown channel code', () => {
    const r = c.classify({ text: '学校乱收费', channelCategory: { scheme: 'police-110', code: '7777' } });
    expect(r.method).not.toBe('channel-code');
  });

  it('no default projection: without a category model a label alone never decides a category', () => {
    // regression (issue 13): 城乡建设 used to land on C08.000 at the label's confidence
    const r = c.classify({ text: '小区物业不作为，拆迁安置补偿不到位，违章建筑影响采光，请尽快处理' });
    if (r.method === 'model') expect(r.subcategory?.code).not.toMatch(/\.000$/);
    const bare = c.classify({ text: '违章建筑影响采光问题何时解决呢' });
    expect(bare.subcategory?.code ?? null).not.toBe('C08.000');
  });

  it('rules: decisive keywords decide', () => {
    const r = c.classify({ text: '楼下饭店油烟污染严重，餐饮油烟直排', title: '油烟扰民' });
    expect(r.method).toBe('rules');
    expect(r.subcategory?.code).toBe(byName('油烟污染'));
    expect(r.confidence).toBeGreaterThan(0.5);
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

describe('classification cascade with a category model', () => {
  const cm = toyCategoryModel(catalog, model);
  const c = new Classifier(catalog, model, {}, cm);

  it('model: calibrated category probabilities, the best category decides above minConfidence', () => {
    const r = c.classify({ text: '孩子上学的学校乱收费，幼儿园入学难' });
    expect(['model', 'rules', 'manual']).toContain(r.method);
    if (r.method === 'model') {
      expect(r.confidence).toBeGreaterThanOrEqual(c.config.minConfidence);
      expect(r.subcategoryConfidence).toBeLessThanOrEqual(r.confidence);
    }
    const strict = new Classifier(catalog, model, { minConfidence: 1.01, ruleMinScore: 1e9 }, cm);
    const m = strict.classify({ text: '孩子上学的学校乱收费，幼儿园入学难' });
    expect(m).toMatchObject({ method: 'manual', category: null, subcategory: null });
    expect(m.suggestion).toMatch(/^C\d\d$/);
    expect(m.alternatives[0]?.subcategory).toMatch(/^C\d\d\.000$/);
    // label_l1 is the label model's label, triage or not
    expect(m.labelL1).toBe(model.predict('孩子上学的学校乱收费，幼儿园入学难').label);
  });

  it('a code naming several categories keeps the decision among them', () => {
    for (const text of ['工地夜间施工噪音很大，机器轰鸣', '楼上邻居装修噪音', '随便说点什么']) {
      const r = c.classify({ text, channelCategory: { scheme: 'police-110', code: '1101', name: '噪音扰民' } }, { explain: true });
      if (r.category) expect(['C12', 'C03', 'C06', 'C07']).toContain(r.category.code);
      else expect(['C12', 'C03', 'C06', 'C07']).toContain(r.suggestion);
      expect(r.steps?.[0]).toMatchObject({ step: 'channel-code' });
    }
  });

  it('is deterministic: the same input gives the same output', () => {
    const input = { text: '小区门口井盖破损，晚上很危险', title: '井盖', channelCategory: { scheme: 'resident-app', code: '市政设施', name: '市政设施' } };
    const a = c.classify(input, { explain: true });
    c.classify({ text: '别的文本，别的分类' });
    expect(c.classify(input, { explain: true })).toEqual(a);
  });

  it('explains every step', () => {
    const r = c.classify({ text: '楼道里有燃气味', channelCategory: { scheme: 'hotline-12345', code: '012', name: '供水问题' } }, { explain: true });
    const steps = r.steps?.map((s) => s.step);
    expect(steps?.[0]).toBe('channel-code');
    expect(JSON.stringify(r.steps?.[0])).toMatch(/set aside/);
    expect(steps).toContain('decision');
  });
});

describe('gas emergencies (regression, issue 13)', () => {
  const c = new Classifier(catalog, model, {}, toyCategoryModel(catalog, model));
  const router = new Router(catalog);
  const route = (channel: string, scheme: string, code: string, name: string, urgency: 'normal' | 'critical', text: string) => {
    const r = c.classify({ text, channelCategory: { scheme, code, name } });
    const t = testTicket({ text, urgency, channelCategory: { scheme, code, name }, source: { ...testTicket().source, channel: channel as never }, classification: { catalogVersion: r.catalogVersion, category: r.category, subcategory: r.subcategory, confidence: r.confidence, method: r.method, alternatives: r.alternatives } });
    return router.route(t);
  };
  it('a 110 gas leak (1302) goes to the gas utility at P1, even handed over as 一般', () => {
    for (const urgency of ['normal', 'critical'] as const) {
      expect(route('police-110', 'police-110', '1302', '燃气泄漏', urgency, '报警人称厨房有浓烈煤气味')).toMatchObject({ status: 'routed', department: '市燃气集团', priority: 'P1' });
    }
  });
  it('a grid B02 特急 gas hazard goes to the gas utility at P1', () => {
    expect(route('grid-worker', 'grid-affairs', 'B02', '燃气安全隐患', 'critical', '小吃店后厨液化气管道接口漏气')).toMatchObject({ status: 'routed', department: '市燃气集团', priority: 'P1' });
  });
});

describe('ClassifyStage', () => {
  it('fills classification and stamps the catalog version on the trace', () => {
    const stage = new ClassifyStage(catalog, model);
    expect(stage.name).toBe('classify');
    const t = stage.run(testTicket({ text: '路边井盖丢失', channelCategory: { scheme: 'hotline-12345', code: '301', name: '无主井盖缺损' } }), { events: [] });
    expect(t.classification).toMatchObject({ method: 'channel-code', catalogVersion: 'default-2026.12.1', category: { code: 'C01' } });
    expect(t.trace.catalogVersion).toBe('default-2026.12.1');
  });
});
