/**
 * Text features for clustering Chinese resident reports: normalisation that strips operator
 * boilerplate and masked numbers, character-bigram shingles, and place-entity extraction.
 * Everything here is pure and deterministic.
 */

/**
 * Operator boilerplate and courtesy phrases that say nothing about the issue, each with the words
 * one of which every match contains (null: none short enough to check): a text with none of them
 * is not scanned by the pattern (most texts have no boilerplate of most kinds). Two reports about
 * the same pothole taken by two operators share these phrases, and two reports about different
 * issues taken by one operator share them too, so they are removed before comparing texts.
 */
const BOILERPLATE: [RegExp, string[] | null][] = [
  [/(?:市民|群众|居民|网友|来电人|来电市民|诉求人|反映人|据群众|据市民|来电|来信)(?:来电|来信|留言|致电)?(?:反映|反应|称|表示|诉求|咨询|求助|投诉|举报)[:：，,]?/g, null],
  [/(?:反映|诉求|问题|内容)[:：]/g, [':', '：']],
  [/(?:请|望|希望|恳请|烦请|麻烦)?(?:相关|有关|职能)部门(?:尽快|及时|抓紧|予以|进行|帮忙)*(?:核实|调查|查处|处理|解决|处置|跟进|协调|落实)*(?:为盼|为谢)?/g, ['部门']],
  [/(?:请|望|希望|恳请)(?:尽快|及时|予以)(?:核实|处理|解决|处置)(?:一下)?/g, ['尽快', '及时', '予以']],
  [/尊敬的[\u4e00-\u9fa5]{0,6}?(?:领导|书记|市长|区长|县长|局长|主任|同志|工作人员)(?:们)?/g, ['尊敬的']],
  [/(?:领导|书记|市长|各位)?(?:您好|你好)|(?:领导|书记|市长|各位)好/g, ['好']],
  [/(?:谢谢|感谢|多谢)(?:您|你|领导|政府)?(?:的)?(?:关注|支持|帮助|回复)?/g, ['谢']],
  [/感谢您?在百忙之中[\u4e00-\u9fa5]{0,12}/g, ['百忙之中']],
  [/此致敬礼|此致|敬礼/g, ['此致', '敬礼']],
  [/(?:联系|来电|手机)(?:号码|电话|方式)[:：]?|电话[:：]/g, ['号码', '电话', '方式']],
  [/工单(?:编号|号)?[:：]/g, ['工单']],
  // channel notes: 110 hand-over, city-management inspector, grid worker, message board
  [/报警人称|报警人反映|经研判(?:属|为)?非警务警情|非警务警情|转(?:至)?12345(?:热线)?(?:处置|处理|办理)?/g, ['报警人', '警情', '12345']],
  [/(?:监督员|网格员|巡查员)(?:巡查|巡逻)?(?:上报|发现)[:：]?|已拍照上报|拍照上报|随手拍[:：]?/g, ['员', '拍']],
  [/^我是|[,，。!！]我是|的(?:一名)?(?:居民|业主|住户)|恳请(?:领导)?(?:关注|重视)(?:解决|处理)?/g, ['我是', '的', '恳请']],
];

/** Masked or placeholder numbers (138****5678, ***, 0000-0000000, xxx): never evidence of sameness. */
const MASKED = /[0-9a-z]*[*＊×]{2,}[0-9a-z]*|x{3,}|\b0{3,}[-0]*\b|0000[-0]+/g;
/** Every match of MASKED contains one of these. */
const MASKED_NEEDS = ['*', '＊', '×', 'xxx', '000'];

/** The masking and boilerplate patterns with the words their matches need (tests check the words). */
export function normalizationPatterns(): [RegExp, string[] | null][] {
  return [[MASKED, MASKED_NEEDS], ...BOILERPLATE];
}

/** Unicode compatibility-fold, lowercase, and keep only CJK, latin letters and digits. */
function fold(s: string): string {
  return s.normalize('NFKC').toLowerCase();
}

/**
 * Normalised text for comparison: boilerplate, greetings and masked numbers removed, then only CJK
 * ideographs, latin letters and digits kept (punctuation and whitespace dropped).
 */
export function normalizeText(raw: string): string {
  let s = fold(raw);
  if (MASKED_NEEDS.some((w) => s.includes(w))) s = s.replace(MASKED, ' ');
  for (const [re, needs] of BOILERPLATE) if (needs === null || needs.some((w) => s.includes(w))) s = s.replace(re, ' ');
  return s.replace(/[^\u4e00-\u9fff0-9a-z]+/g, '');
}

/**
 * Sorted distinct character-bigram codes of `s` (first `maxChars` characters). A bigram of two BMP
 * code units is encoded exactly as `c1 * 65536 + c2`: no hashing, no collisions.
 */
export function bigramCodes(s: string, maxChars = Number.POSITIVE_INFINITY): Uint32Array {
  const n = Math.min(s.length, maxChars);
  if (n < 2) {
    if (n === 1) return Uint32Array.of(s.charCodeAt(0));
    return new Uint32Array(0);
  }
  const codes = new Uint32Array(n - 1);
  let k = 0;
  for (let i = 0; i + 1 < n; i++) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    if (a === CUT || b === CUT) continue;
    codes[k++] = a * 65536 + b;
  }
  codes.subarray(0, k).sort();
  let w = 0;
  for (let i = 0; i < k; i++) {
    const c = codes[i] as number;
    if (w === 0 || codes[w - 1] !== c) codes[w++] = c;
  }
  return codes.slice(0, w);
}

/**
 * A place named in a report: `name` is the mention (e.g. 丽发新城小区), `core` the name without its
 * type suffix (丽发新城), `fine` false for roads, streets and towns.
 */
export interface PlaceEntity {
  name: string;
  core: string;
  fine: boolean;
  /** The words as written when they differ from `name` (聚利人普惠投资有限公司 for 聚利人普惠投资公司). */
  mention?: string;
  /** Named in the report's title: what it is about, not a place mentioned in passing. */
  inHead?: boolean;
}

/** Suffixes of specific places (an estate, a building, a school, a company…). */
const FINE_SUFFIXES = [
  '小区', '花园', '家园', '新城', '新村', '公寓', '大厦', '广场', '商城', '市场', '学校', '中学', '小学', '大学', '学院',
  '幼儿园', '医院', '有限责任公司', '股份有限公司', '有限公司', '公司', '集团', '酒店', '宾馆', '饭店', '工地', '楼盘', '菜场', '公园', '驾校', '山庄', '公馆', '国际',
  '苑', '园', '湾', '郡', '村', '厂', '府', '庭', '城',
];
/** Suffixes of coarse places (roads, streets, towns): shared by many unrelated issues. */
const COARSE_SUFFIXES = ['大道', '大街', '街道', '社区', '路', '街', '镇', '乡'];
/**
 * A suffix is no place suffix in these words: 政府, 家庭/法庭/开庭/立案庭/行政庭/执行庭/当庭, 城市/城区/城管/城乡/城镇/城中村.
 * Keyed by suffix: the characters that may not precede it, and those that may not follow it.
 */
const NOT_A_SUFFIX: Record<string, { before?: string; after?: string }> = {
  府: { before: '政' },
  庭: { before: '家法开案政行当' },
  城: { before: '县省进京长', after: '管市区乡镇中际' },
};
/** Suffixes whose names run longer (西地省聚利人普惠投资有限公司): read up to 10 characters back. */
const LONG_NAME_SUFFIXES = new Set(['有限责任公司', '股份有限公司', '有限公司', '公司', '集团']);
/**
 * Words that name no particular place or firm: a name whose core is only these (自来水公司,
 * 物业公司, 房地产开发有限公司, 人民医院) is every such firm in the city, not one place.
 */
const GENERIC_WORDS = [
  '有限责任', '股份有限', '有限', '责任', '股份', '控股', '集团', '自来水', '供水', '供电', '电力', '燃气', '热力', '物业', '管理',
  '服务', '房地产', '地产', '开发', '置业', '建设', '建筑', '建工', '投资', '科技', '实业', '发展', '商贸', '贸易', '工程', '环保',
  '保安', '保洁', '公交', '客运', '出租车', '移动', '联通', '电信', '网络', '信息', '教育', '培训', '人民', '中心', '市政',
  '国有', '民营', '私立', '公立', '附属', '该', '本', '这家', '那家', '一家', '某', '各', '我们', '你们', '他们', '附近', '周边', '这个',
  // kinds and amounts, not names (公办学校, 配套幼儿园, 高档小区, 贫困村, 全体村, 许多楼盘)
  '公办', '民办', '配套', '普惠', '普惠性', '住宅', '商品房', '高档', '大型', '小型', '老旧', '当地', '全体', '贫困', '部分', '广大',
  '农村', '新农村', '本村', '其他', '所有', '整个', '多个', '一些', '许多', '众多', '多家',
  // a verb before the suffix (进入小区, 导致小区, 未经小区, 通过学校)
  '进入', '导致', '未经', '通过',
];
const GENERIC_CORE = new RegExp('^(?:' + GENERIC_WORDS.join('|') + ')+$');

/** Characters that end a place-name prefix when reading backwards from its suffix. */
const STOP_CHARS = new Set(
  Array.from(
    '的了在是与及对向把被从于到给我你他她它们这那个有无不也都就还很将让请问要说区县市省号栋楼层单元室近旁边上里内外前后' +
      '一二三四五六七八九十第期座幢户门口处段侧附间中或并且而但因为所以如果虽然关于投诉举报反映咨询建议求助希望恳请' +
      '严重影响噪音扰民违建违规非法建设修建拆迁施工整治管理问题情况现象事件什么怎么为何何时能否是否可否该其此每各某位置' +
      // a road or town before an estate name is a separate place: 长江路金阳小区 → 金阳小区
      '路街道镇乡|',
  ),
);

/**
 * Where a firm's name stops when reading back from 公司/集团: firm names hold characters that end
 * other names (投资, 建设, 管理, 发展), so only the ends of words before a name stop it (投诉,
 * 举报, 反映, 咨询, 关于, 在, 的) and administrative markers (西地省聚利人普惠投资有限公司 → 聚利人普惠投资).
 */
const LONG_STOP_CHARS = new Set(Array.from('的了在是与及对向把被从于到给我你他她它们这那个让请问要说区县市省号栋楼层诉报映询议求|'));

/**
 * Bigram codes (as `bigramCodes` encodes them) inside the generic words and the place suffixes
 * (信息, 科技, 有限, 公司, 小区…): any firm's or estate's name has them, so another text holding
 * one does not mention that place (`placeMentionedAt`, store.ts).
 */
export const GENERIC_BIGRAMS: ReadonlySet<number> = new Set(
  [...GENERIC_WORDS, ...FINE_SUFFIXES, ...COARSE_SUFFIXES].flatMap((w) => Array.from({ length: Math.max(0, w.length - 1) }, (_, i) => w.charCodeAt(i) * 65536 + w.charCodeAt(i + 1))),
);

/**
 * Characters that, right before a place suffix, make it a reference (该公司, 此小区, 其公司), not a
 * name; 贵 only before a firm's suffix (贵公司, 贵集团: 富贵花园 is a name).
 */
const DEMONSTRATIVES = new Set(Array.from('该此这那其'));

const SUFFIX_RE = new RegExp(`(${[...FINE_SUFFIXES, ...COARSE_SUFFIXES].sort((a, b) => b.length - a.length).join('|')})`, 'g');
const COARSE = new Set(COARSE_SUFFIXES);

/**
 * Place entities (小区/花园/苑/路/街/大道/大厦/学校/公司/村/镇… names) in normalised text. The name
 * is the suffix plus up to 5 preceding characters, cut at function words and administrative
 * markers (区, 县, 市…) and at the end of the place before it, so "投诉a2区丽发新城附近" yields 丽发新城.
 */
export function extractPlaces(norm: string, max = 8): PlaceEntity[] {
  const out: PlaceEntity[] = [];
  const seen = new Set<string>();
  SUFFIX_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  // End of the last place found: a name never reaches back into it (安和公寓跳广场舞 names 安和公寓,
  // not also a place "公寓跳广场" that every 广场舞 complaint at any 公寓 would share).
  let placeEnd = 0;
  while ((m = SUFFIX_RE.exec(norm)) !== null && out.length < max) {
    const suffix = m[1] as string;
    const not = NOT_A_SUFFIX[suffix];
    if (not !== undefined) {
      const before = norm[m.index - 1] ?? '';
      const after = norm[m.index + suffix.length] ?? '';
      if ((before !== '' && not.before?.includes(before) === true) || (after !== '' && not.after?.includes(after) === true)) continue;
    }
    // 该公司, 此小区: a demonstrative refers back to a place named elsewhere (or to none);
    // what precedes it (金融办认为该公司) is no name, and the next name starts after it.
    const prev = norm[m.index - 1] ?? '';
    if (DEMONSTRATIVES.has(prev) || (prev === '贵' && LONG_NAME_SUFFIXES.has(suffix))) {
      placeEnd = m.index + suffix.length;
      continue;
    }
    const long = LONG_NAME_SUFFIXES.has(suffix);
    const reach = long ? 10 : 5;
    const stops = long ? LONG_STOP_CHARS : STOP_CHARS;
    let start = m.index;
    while (start > placeEnd && m.index - start < reach) {
      const ch = norm[start - 1] as string;
      if (stops.has(ch)) break;
      start--;
    }
    if (m.index - start < 2) continue;
    const core = norm.slice(start, m.index);
    placeEnd = m.index + suffix.length;
    // 自来水公司, 物业管理有限公司, 配套幼儿园: no particular place, but still the end of a word (the
    // next name does not reach back into it: 多家医院楚雅医院 names 楚雅医院).
    if (GENERIC_CORE.test(core)) continue;
    // 有限公司 / 股份有限公司 are one suffix: 华鑫投资有限公司 and 展星投资有限公司 share no name.
    const name = core + (long && suffix.endsWith('公司') ? '公司' : suffix);
    if (seen.has(name)) continue;
    seen.add(name);
    const written = norm.slice(start, m.index + suffix.length);
    out.push(written === name ? { name, core, fine: !COARSE.has(suffix) } : { name, core, fine: true, mention: written });
  }
  return out;
}

/**
 * Administrative regions named in normalised text: cities (`…市`) and districts or counties
 * (`…区`, `…县`), as written (`a市`, `a7县`, `j11市` in the anonymised message board; `长沙市`,
 * `岳麓区` in real traffic). A real name is 2–3 characters after the start of the text, a
 * province or city (湖南省长沙市岳麓区); words that end like a region (小区, 社区, 城区, 超市,
 * 市场) are not regions. Two reports that each name a region of one level the other does not
 * name are about different jurisdictions: a city-wide policy question of J11市 is not K市's.
 */
export function extractRegions(norm: string, max = 6): string[] {
  const out: string[] = [];
  for (const re of [CODED_REGION_RE, REAL_REGION_RE]) {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(norm)) !== null && out.length < max) {
      const stem = m[1] as string;
      if (re === REAL_REGION_RE && NOT_REGION.has(stem.slice(-1))) continue;
      const name = stem + (m[2] as string);
      if (!out.includes(name)) out.push(name);
    }
  }
  return out;
}

/** Anonymised codes: a7县, j11市, b市. */
const CODED_REGION_RE = /(?<![a-z0-9])([a-z][0-9]{0,2})([市区县])/g;
/** A real name after the start of a part, a province or a city: 湖南省长沙市岳麓区. */
const REAL_REGION_RE = /(?:^|(?<=[省市|]))([\u4e00-\u9fff]{2,3}?)([市区县])(?![场民长委政级属内外中])/g;
/** Last characters of words that end in 市/区/县 without naming a region (小区, 社区, 超市…). */
const NOT_REGION = new Set(Array.from('小社园城景片校厂营辖郊山矿灾老新商业活宅能范税军超都上门夜集股菜花楼黑早本该全我各'));

/**
 * Whether two region lists conflict, judged at the widest level both name (city, else district
 * or county): true when each names a region of that level the other does not, false when they
 * agree, null when they name no region of a common level. The string form of `regionConflictAt`
 * (store.ts), for reference and tests.
 */
export function regionConflict(a: readonly string[], b: readonly string[]): boolean | null {
  for (const city of [true, false]) {
    const la = a.filter((x) => x.endsWith('市') === city);
    const lb = b.filter((x) => x.endsWith('市') === city);
    if (la.length === 0 || lb.length === 0) continue;
    return la.some((x) => !lb.includes(x)) && lb.some((x) => !la.includes(x));
  }
  return null;
}

/** Cut mark: no bigram spans it. */
const CUT = '|'.charCodeAt(0);

/**
 * `text` with the given places' names cut out (so place names are compared by the place
 * component, not counted again as words); no bigram spans a cut.
 */
export function stripPlaces(text: string, places: readonly PlaceEntity[]): string {
  let s = text;
  const byLength = [...places].map((p) => p.mention ?? p.name).sort((a, b) => b.length - a.length);
  for (const p of byLength) s = s.split(p).join('|');
  return s;
}

/** Dice coefficient of the character bigrams of two short strings (place names): the string form of `diceCodes`, for reference and tests. */
export function diceBigrams(a: string, b: string): number {
  const codes = new Uint32Array(b.length);
  for (let i = 0; i < b.length; i++) codes[i] = b.charCodeAt(i);
  return diceCodes(a, codes, 0, b.length);
}

/**
 * `diceBigrams(a, b)` with `b` given as `len` UTF-16 code units at `codes[at..]` (how the feature
 * store keeps place names).
 */
export function diceCodes(a: string, codes: Uint32Array, at: number, len: number): number {
  if (a.length === len && equalsAt(a, 0, codes, at, len)) return 1;
  if (a.length < 2 || len < 2) return 0;
  // Names are short (≤ 8 characters): a quadratic scan with a used-mask beats building maps.
  let used = 0;
  let hit = 0;
  for (let i = 0; i + 1 < len; i++) {
    const b0 = codes[at + i] as number;
    const b1 = codes[at + i + 1] as number;
    for (let j = 0; j + 1 < a.length; j++) {
      if (j < 31 && (used & (1 << j)) !== 0) continue;
      if (a.charCodeAt(j) === b0 && a.charCodeAt(j + 1) === b1) {
        if (j < 31) used |= 1 << j;
        hit++;
        break;
      }
    }
  }
  return (2 * hit) / (a.length - 1 + (len - 1));
}

/** `x[from..from+len)` equals the code units `codes[at..at+len)`. */
export function equalsAt(x: string, from: number, codes: Uint32Array, at: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (x.charCodeAt(from + i) !== codes[at + i]) return false;
  return true;
}

/**
 * How well two place mentions match: 1 when one name contains the other (丽发新城 / 丽发新城小区,
 * or a mention with a stray prefix), else the bigram Dice of the names when ≥ 0.66 (伊景园滨河苑 /
 * 伊景园滨河院), else 0 (华云家园 / 华云苑 are two estates).
 */
export function placeMatch(a: PlaceEntity, b: PlaceEntity): number {
  const x = a.name;
  const y = b.name;
  if (x === y) return 1;
  if (x.length >= 3 && y.length >= 3 && (x.includes(y) || y.includes(x))) return 1;
  const d = diceBigrams(x, y);
  return d >= 0.66 ? d : 0;
}

/**
 * Place agreement of two reports in [0, 1], or null when either names no specific place. A shared
 * specific place (estate, building, company) scores up to 1; when no specific place matches, a
 * shared road or street scores up to 0.5, and 0 means the reports name different places.
 */
export function placeScore(a: readonly PlaceEntity[], b: readonly PlaceEntity[]): number | null {
  let fineA = false;
  let fineB = false;
  for (const x of a) fineA ||= x.fine;
  for (const y of b) fineB ||= y.fine;
  if (!fineA || !fineB) return null;
  let fine = 0;
  let coarse = 0;
  for (const x of a) {
    for (const y of b) {
      const d = placeMatch(x, y);
      if (d < 0.5) continue;
      if (x.fine && y.fine) fine = Math.max(fine, d);
      else if (!x.fine && !y.fine) coarse = Math.max(coarse, 0.5 * d);
    }
  }
  // Both name specific places and none of them match: different places, whatever road they share.
  if (fine === 0) return 0;
  return Math.max(fine, coarse);
}

/** 32-bit FNV-1a hash of a string (block keys, exact-text keys). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** 53-bit hash of a string: two FNV-1a variants combined, for exact-text identity. */
export function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * Problem concepts of municipal reports: a small hand-made lexicon of the common 12345 / city-
 * management problem types with the words residents and operators use for each (停水 / 自来水停了 /
 * 没水 are one concept). Character bigrams cannot see that 路面塌陷 and 马路上塌了一个大坑 are the
 * same problem, nor that 路灯不亮 and 井盖缺失 at one estate are two; concepts can. A text may carry
 * several concepts; the lexicon is deliberately general (not tuned on any evaluation set).
 */
const CONCEPTS: [string, RegExp][] = [
  ['light', /路灯|灯不亮|灯坏|灯.{0,3}灭|照明/],
  ['manhole', /井盖|窨井|检查井/],
  ['garbage', /垃圾|清运|保洁|环卫/],
  ['construction', /施工|工地|搅拌站|渣土/],
  ['noise', /噪音|噪声|吵|音响|喇叭|声音太?大/],
  ['sewage', /下水道|污水|化粪池|排水|管道堵|堵塞外溢|冒水|积水/],
  ['water', /停水|断水|没水|自来水|水压|供水/],
  ['power', /停电|断电|没电|供电/],
  ['parking', /停车|违停|乱停|车辆.{0,4}堵|车位/],
  ['dance', /广场舞|跳舞/],
  ['fumes', /油烟|烧烤|夜宵|餐饮|饭店|餐馆/],
  ['elevator', /电梯/],
  ['dog', /狗|犬/],
  ['tree', /树|绿化|倒伏/],
  ['heating', /供暖|暖气|取暖/],
  ['vendor', /摊贩|摆摊|占道经营|商贩|门店占用|流动摊/],
  ['fireLane', /消防通道|消防栓|楼道堆|杂物/],
  ['road', /路面|塌陷|大坑|深坑|坑洼|路.{0,2}破损|塌了/],
  ['gas', /燃气|天然气|煤气/],
  ['dust', /扬尘|粉尘|灰尘/],
  ['smell', /臭味|异味|恶臭|发臭/],
  ['illegalBuilding', /违建|违章建筑|私搭乱建|搭建/],
  // Message-board problem types (the estate's building, papers and money, schooling, policy):
  // 油烟 and 楼板开裂 at one estate are two issues.
  ['building', /开裂|裂缝|渗水|漏水|墙体|楼板|房屋质量/],
  ['deed', /房产证|不动产证|产权证|两证|办证|网签/],
  ['demolition', /拆迁|征收|征地|棚改/],
  ['wages', /工资|欠薪|薪酬|劳务费|工程款|血汗钱/],
  ['enrolment', /入学|学位|就读|上学|招生|学区/],
  ['insurance', /社保|医保|养老保险|医疗保险|参保|公积金/],
  ['fraud', /诈骗|传销|非法集资|骗取|骗局/],
  ['mahjong', /麻将/],
  ['handover', /交房|烂尾|延期交付/],
];

/**
 * Concepts that describe an effect, not a source (噪音, 扬尘, 异味): 施工噪音 and 广场舞噪音 share
 * the effect and are two problems; 搅拌站噪音 and 搅拌站扬尘 share the source and are one.
 */
const EFFECTS = ['noise', 'dust', 'smell'].reduce((m, n) => m | (1 << CONCEPTS.findIndex((c) => c[0] === n)), 0);

/**
 * Concepts of a problem at a place (路灯, 油烟, 麻将馆, 停水…), as opposed to the topics a policy
 * question or a long petition mentions in passing (社保, 工资, 入学, 房产证, 拆迁, 诈骗): away
 * from a shared place only these decide that two problems differ.
 */
export const LOCAL_CONCEPTS = CONCEPTS.reduce(
  (m, c, i) => (['deed', 'demolition', 'wages', 'enrolment', 'insurance', 'fraud'].includes(c[0]) ? m : m | (1 << i)),
  0,
);

/** Concept bits (one per lexicon entry) present in normalised text. */
export function conceptBits(norm: string): number {
  let bits = 0;
  for (let i = 0; i < CONCEPTS.length; i++) if ((CONCEPTS[i] as [string, RegExp])[1].test(norm)) bits |= 1 << i;
  return bits;
}

/** Names of the concepts in `bits` (explanations, tests). */
export function conceptNames(bits: number): string[] {
  return CONCEPTS.filter((_, i) => (bits & (1 << i)) !== 0).map((c) => c[0]);
}

/**
 * Concept agreement: null when either text has none, else the Jaccard index |a ∩ b| / |a ∪ b|
 * (施工+噪音 vs 广场舞+噪音 = 1/3: two noise problems with different sources).
 */
export function conceptScore(a: number, b: number): number | null {
  if (a === 0 || b === 0) return null;
  return popcount(a & b) / popcount(a | b);
}

/**
 * Whether two known problems differ: null when either text names none; when both name a source
 * (油烟, 搅拌站, 麻将馆…), true when they share none; when either names only effects (噪音),
 * true when the concept sets mostly differ (Jaccard < 0.5).
 */
export function conceptConflict(a: number, b: number): boolean | null {
  if (a === 0 || b === 0) return null;
  const sa = a & ~EFFECTS;
  const sb = b & ~EFFECTS;
  if (sa !== 0 && sb !== 0) return (sa & sb) === 0;
  return popcount(a & b) / popcount(a | b) < 0.5;
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
