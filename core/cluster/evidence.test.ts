/**
 * One test per evidence rule of issue 13. Each also runs the same reports with the rule turned
 * off (through its config factor, or a resident instead of staff), and asserts the opposite
 * outcome: the rule, not some other part of the score, decides.
 */
import { ClusterEngine, isCategoryTitle, type ClusterInput, type ClusterOutcome } from './engine';
import type { ClusterConfigInput } from './config';
import { extractPlaces, extractRegions, normalizeText, placeScore, regionConflict } from './text';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 8);
const SPOT = { lon: 112.98, lat: 28.19 };

function report(id: string, minutes: number, text: string, extra: Partial<ClusterInput> = {}): ClusterInput {
  return {
    ticketId: id,
    timeMs: T0 + minutes * MIN,
    title: null,
    text,
    contactToken: `tok-${id}`,
    channel: 'message-board',
    sourceId: id,
    jurisdiction: null,
    point: null,
    categoryFamily: null,
    appealType: 'complaint',
    ...extra,
  };
}

function run(reports: ClusterInput[], config: ClusterConfigInput = {}): ClusterOutcome[] {
  const engine = new ClusterEngine(config);
  return reports.map((r) => engine.process(r));
}

/** The names of the places extracted from `text`. */
const placeNames = (text: string): string[] => extractPlaces(normalizeText(text)).map((p) => p.name);

const together = (o: ClusterOutcome[], i: number, j: number): boolean => (o[i] as ClusterOutcome).clusterId === (o[j] as ClusterOutcome).clusterId;

describe('a swapped estate, school or firm name separates two template posts', () => {
  // Identical bodies would be exact duplicates (copy-pasted petitions): the template names the place in its body too.
  const body = (place: string): string => `${place}楼下一楼麻将馆每天营业到凌晨两点，洗牌声和吵闹声严重影响居民休息，多次投诉无果，恳请相关部门依法取缔。`;
  const a = report('a', 0, body('泉塘小区'), { title: 'A7县泉塘小区麻将馆扰民' });
  const b = report('b', 60, body('申奥美域小区'), { title: 'A2区申奥美域小区麻将馆扰民' });

  it('extracted names: the place conflict vetoes the link', () => {
    expect(together(run([a, b]), 0, 1)).toBe(false);
    expect(together(run([a, b], { placeConflictFactor: 1 }), 0, 1)).toBe(true);
  });

  it('a name with no place suffix: the title place the other never mentions vetoes the link', () => {
    const c = report('c', 60, body('丁家岭安置区'), { title: 'A7县丁家岭安置区麻将馆扰民' });
    expect(together(run([a, c]), 0, 1)).toBe(false);
    expect(together(run([a, c], { placeUnmentionedFactor: 1 }), 0, 1)).toBe(true);
  });

  it('firm names are read past 投资/有限 and compared without the legal suffix', () => {
    const x = extractPlaces(normalizeText('西地省聚利人普惠投资有限公司涉嫌诈骗'));
    const y = extractPlaces(normalizeText('举报西地省展星投资有限公司涉嫌诈骗'));
    expect(x.map((p) => p.name)).toEqual(['聚利人普惠投资公司']);
    expect(y.map((p) => p.name)).toEqual(['展星投资公司']);
    expect(placeScore(x, y)).toBe(0);
    // a typo of the same firm still matches
    expect(placeScore(x, extractPlaces(normalizeText('西地省利聚人普惠投资有限公司')))).toBeGreaterThan(0.5);
  });

  it('a demonstrative before the suffix (该公司, 此小区) names no place', () => {
    expect(placeNames('市金融办认为该公司涉嫌非法集资')).toEqual([]);
    expect(placeNames('此小区的业主多次反映停车难')).toEqual([]);
    expect(placeNames('多次致电贵公司无人处理')).toEqual([]);
    expect(placeNames('富贵花园门口垃圾无人清运')).toEqual(['富贵花园']);
    expect(placeNames('举报聚汇企信息科技有限公司，该公司冒充客服')).toEqual(['聚汇企信息科技公司']);
  });

  it('words any firm’s name holds (信息, 科技, 公司) do not mention a firm', () => {
    const scam = (who: string): string => `${who}以高息理财为名吸收资金，工作人员承诺每月返息，现在人去楼空，我们的血汗钱无法追回，恳请依法查处。`;
    const x = report('x', 0, scam('聚汇企信息科技有限公司'), { title: 'A市聚汇企信息科技有限公司涉嫌诈骗' });
    // another firm, written without a suffix: it shares only generic words with x's firm
    const y = report('y', 60, `${scam('惠伏天下')}他们自称做信息服务和科技推广。`, { title: '西地省惠伏天下工作人员涉嫌诈骗' });
    expect(extractPlaces(normalizeText(`${y.title as string}|${y.text}`))).toEqual([]);
    expect(normalizeText(y.text)).toContain('信息');
    expect(normalizeText(y.text)).toContain('科技');
    expect(together(run([x, y]), 0, 1)).toBe(false);
    expect(together(run([x, y], { placeUnmentionedFactor: 1 }), 0, 1)).toBe(true);
  });

  it('court words (立案庭, 执行庭, 当庭) are no place', () => {
    expect(placeNames('区法院立案庭不予立案，执行庭至今未执行，法官当庭承诺')).toEqual([]);
    expect(placeNames('恒大翡翠华庭业主反映')).toEqual(['恒大翡翠华庭']);
  });

  it('generic firms (自来水公司, 物业公司) are no place', () => {
    expect(placeNames('A市自来水公司强停居民用水')).toEqual([]);
    expect(placeNames('小区物业管理有限公司不作为')).toEqual([]);
  });

  it('kinds and verbs before a suffix (配套幼儿园, 公办学校, 进入小区, 贫困村) are no place, and still end a word', () => {
    expect(placeNames('新建楼盘的配套幼儿园迟迟不开')).toEqual([]);
    expect(placeNames('公办学校学位紧张')).toEqual([]);
    expect(placeNames('渣土车夜间进入小区，贫困村的道路被压坏')).toEqual([]);
    // the generic name ends where its suffix ends: the next name does not reach back into it
    expect(placeNames('市里多家医院楚雅医院收费过高')).toEqual(['楚雅医院']);
    expect(placeNames('该公司金阳小区捆绑销售车位')).toEqual(['金阳小区']);
  });
});

describe('a city-wide question of one city is not another city’s', () => {
  const text = (city: string): string => `请问${city}灵活就业人员的社保补贴如何申请，需要准备哪些材料，去哪个窗口办理？`;
  it('regions of the widest common level decide', () => {
    const o = [report('j', 0, text('J11市'), { title: '咨询J11市灵活就业社保补贴的问题' }), report('k', 60, text('K市'), { title: '咨询K市灵活就业社保补贴的问题' })];
    expect(together(run(o), 0, 1)).toBe(false);
    expect(together(run(o, { placeConflictFactor: 1 }), 0, 1)).toBe(true);
  });

  it('districts mentioned in passing under one city do not conflict', () => {
    expect(regionConflict(extractRegions('a市人才购房补贴|我在a3区申报居住'), extractRegions('a市人才购房补贴|在a6区购房'))).toBe(false);
    expect(regionConflict(['j11市'], ['k市'])).toBe(true);
    expect(regionConflict(['a7县'], ['a市'])).toBeNull();
    expect(extractRegions(normalizeText('湖南省长沙市岳麓区金阳小区'))).toEqual(['长沙市', '岳麓区']);
    expect(extractRegions(normalizeText('小区超市门口'))).toEqual([]);
  });
});

describe('one place, another problem', () => {
  it('油烟 and 楼板开裂 at one estate are two issues', () => {
    const o = [
      report('f', 0, '幸福小区楼下餐馆油烟直排，严重影响生活', { title: '幸福小区餐馆油烟扰民' }),
      report('c', 120, '幸福小区楼板开裂渗水，严重影响生活', { title: '幸福小区房屋楼板开裂' }),
    ];
    expect(together(run(o), 0, 1)).toBe(false);
    expect(together(run(o, { conceptConflictFactor: 1 }), 0, 1)).toBe(true);
  });

  it('a shared place does not carry weak words by itself', () => {
    const p = report('p', 0, '幸福小区有人开家庭旅馆，人员进出复杂', { title: '幸福小区有非法经营的家庭旅馆' });
    const q = report('q', 120, '幸福小区物业公司乱收费，物业费一年一涨', { title: '幸福小区物业违规收取物业费' });
    const strict = new ClusterEngine().explain(q, p);
    const loose = new ClusterEngine({ placeMinText: 0 }).explain(q, p);
    expect(strict.place).toBe(1);
    expect(strict.total).toBeLessThan(0.13);
    expect(loose.total).toBeGreaterThan(0.13);
  });
});

describe('anti-chaining: a single pair never unions two clusters', () => {
  // Cluster A: three reports about one thing. Cluster B: a chain b1–b2–b3. The bridge x is like
  // A and like b1 alone (a merge-grade pair); y is like b1 and b2.
  const A = '甲乙丙丁戊己庚辛壬癸';
  const reports = [
    report('a1', 0, `${A}一`),
    report('a2', 10, `${A}二`),
    report('a3', 20, `${A}三`),
    report('b1', 30, '子丑寅卯辰巳午未申酉'),
    report('b2', 40, '午未申酉戌亥天地玄黄'),
    report('b3', 50, '天地玄黄宇宙洪荒日月'),
  ];

  it('the bridge joins A and does not merge B through its one pair', () => {
    const engine = new ClusterEngine();
    const o = reports.map((r) => engine.process(r));
    expect(together(o, 3, 4) && together(o, 4, 5)).toBe(true);
    const bridge = report('x', 60, `${A}子丑寅卯辰巳`);
    expect(engine.explain(bridge, reports[3] as ClusterInput).total).toBeGreaterThanOrEqual(engine.config.mergeThreshold);
    const x = engine.process(bridge);
    expect(x.clusterId).toBe((o[0] as ClusterOutcome).clusterId);
    expect(x.events.map((e) => e.type)).not.toContain('merged');
    expect(x.score?.support).toBeGreaterThanOrEqual(2);
  });

  it('with support on both sides the bridge merges', () => {
    const o = run([...reports, report('y', 60, `${A}巳午未申酉戌亥`)]);
    expect((o[6] as ClusterOutcome).events.map((e) => e.type)).toContain('merged');
  });
});

describe('duplicates, repeats and staff', () => {
  const call = report('call', 0, '市民来电反映：芙蓉路金阳小区门口井盖缺失，晚上很危险，已经有人差点掉下去，请相关部门尽快处理。', {
    channel: 'hotline-12345',
    contactToken: 'caller',
    point: SPOT,
    reporterRole: 'resident',
  });
  const handover = report('110', 12, '报警人称：金阳小区门口有个井盖没了。经研判属非警务警情，转12345处置。', {
    channel: 'police-110',
    contactToken: 'caller',
    title: '市政设施',
    categoryName: '市政设施',
    point: { lon: SPOT.lon + 0.001, lat: SPOT.lat },
    reporterRole: 'resident',
  });

  it('the same caller through another channel 12 minutes later is a duplicate, not a repeat', () => {
    const [, h] = run([call, handover]) as [ClusterOutcome, ClusterOutcome];
    expect(h.duplicateOf).toBe('call');
    expect(h.repeatOf).toBeNull();
    const [, late] = run([call, handover], { duplicateSameReporterHours: 0.1 }) as [ClusterOutcome, ClusterOutcome];
    expect(late.duplicateOf).toBeNull();
    expect(late.repeatOf).toBe('call');
  });

  it('staff never repeat: an inspector’s second case 100 m away is a case of its own', () => {
    const mk = (id: string, minutes: number, text: string, lonShift: number, role: string): ClusterInput =>
      report(id, minutes, text, { channel: 'city-management', contactToken: 'inspector-7', title: '井盖', categoryName: '井盖', point: { lon: SPOT.lon + lonShift, lat: SPOT.lat }, reporterRole: role });
    const cases = (role: string): ClusterInput[] => [mk('s1', 0, '监督员巡查上报：芙蓉路人行道井盖破损', 0, role), mk('s2', 40, '监督员巡查上报：芙蓉路人行道井盖破损缺失', 0.001, role)];
    expect((run(cases('inspector'))[1] as ClusterOutcome).repeatOf).toBeNull();
    expect((run(cases('resident'))[1] as ClusterOutcome).repeatOf).toBe('s1');
  });

  it('a title that is only the category name carries no similarity weight', () => {
    const mk = (id: string, minutes: number, text: string, categoryName: string | null): ClusterInput =>
      report(id, minutes, text, { channel: 'police-110', title: '噪音扰民', categoryName, contactToken: `t-${id}` });
    const pair = (cat: string | null): ClusterInput[] => [
      mk('u1', 0, '报警人称：楼上邻居半夜装修电钻声不断。经研判属非警务警情，转12345处置。', cat),
      mk('u2', 30, '报警人称：夜市摊主音箱放歌到凌晨。经研判属非警务警情，转12345处置。', cat),
    ];
    expect(together(run(pair('噪音扰民')), 0, 1)).toBe(false);
    expect(together(run(pair(null)), 0, 1)).toBe(true);
    expect(isCategoryTitle('噪音扰民', '噪音扰民')).toBe(true);
    expect(isCategoryTitle('金阳小区噪音扰民', '噪音扰民')).toBe(false);
  });

  it('a reporter’s own posts link only through the repeat decision', () => {
    const posts = (poster: string | null): ClusterInput[] =>
      ['请加快A市地铁建设力度', '请加快A市图书馆建设力度'].map((title, i) => report(`p${i}`, i * 60, `${title}，望领导重视`, { title, contactToken: poster ?? `t${i}` }));
    // Not a repeat (the text is below repeatMinText, no shared place or problem): then the
    // reporter's own earlier post is no cluster link either; two residents' posts would link.
    const own = run(posts('poster'), { repeatMinText: 0.9 });
    expect((own[1] as ClusterOutcome).repeatOf).toBeNull();
    expect(together(own, 0, 1)).toBe(false);
    expect(together(run(posts(null), { repeatMinText: 0.9 }), 0, 1)).toBe(true);
    expect((run(posts('poster'), { repeatMinText: 0 })[1] as ClusterOutcome).repeatOf).toBe('p0');
  });

  it('points kilometres apart are two incidents, even with the same words', () => {
    const mk = (id: string, minutes: number, lat: number): ClusterInput =>
      report(id, minutes, '监督员巡查上报：芙蓉路商户占道经营堆放货物', { channel: 'city-management', contactToken: `i-${id}`, point: { lon: SPOT.lon, lat } });
    expect(together(run([mk('f1', 0, SPOT.lat), mk('f2', 30, SPOT.lat + 0.03)]), 0, 1)).toBe(false);
    expect(together(run([mk('f1', 0, SPOT.lat), mk('f2', 30, SPOT.lat + 0.03)], { farDistanceM: 100_000 }), 0, 1)).toBe(true);
  });
});
