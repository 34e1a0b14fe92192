import { readJsonl } from '../cluster/tipdm';
import { ConfigError } from '../errors';
import type { Catalog } from './catalog';
import type { TeacherDocument } from './category-model';

/**
 * Weak category labels from government replies (`../shared/data/tipdm2020c/messages_with_replies.jsonl`:
 * a message-board message and the answer of the unit that handled it). The reply names its unit
 * ("A市民政局", "县纪委", "区交警大队"…), and the unit is a routing signal: a message answered by the
 * civil-affairs bureau is a 民政与社会服务 (C18) matter. The label is weak (a unit also answers things
 * outside its category, replies name several units), so such documents train the category teacher
 * at a lower weight (`--weak-weight`), and only when one category's units dominate the reply.
 *
 * The table is written for the default catalog's categories (C01…C20); a catalog without these codes
 * gets no weak labels (`replyWeakDocuments` refuses). Units that handle several categories (城管 /
 * 行政执法: C01, C03, C05; 住建局: C06 and C08; 街道 and 镇政府: anything) label nothing.
 */
export const REPLY_UNIT_CATEGORIES: ReadonlyArray<{ category: string; unit: RegExp }> = [
  // unit names, not topics: 民政 alone would match 市民政务, 文化 any cultural topic
  { category: 'C20', unit: /纪委|监委|纪检|监察委|组织部|宣传部|统战部|网信办/g },
  { category: 'C12', unit: /公安(?:局|分局|厅)|派出所|交警|交通警察|消防(?:大队|支队|救援)|人民法院|中级法院|检察院|司法局|刑侦|治安大队|出入境/g },
  { category: 'C09', unit: /国土(?:资源)?(?:局|分局|所)|自然资源(?:和规划)?局|规划(?:局|分局|建设局)|规建局|地质/g },
  { category: 'C19', unit: /农业(?:农村)?局|农委|畜牧|水产局|农机(?:局|站)|扶贫办|动物卫生|动物防疫|农经/g },
  { category: 'C18', unit: /民政(?:局|厅|部门|所|办)|残联|老龄办|退役军人|慈善总会|殡葬/g },
  { category: 'C13', unit: /教育(?:体育)?局|教体局|教育厅/g },
  { category: 'C15', unit: /人社(?:局|厅)|人力资源和社会保障|社保(?:局|中心)|社会保险|劳动监察|劳动保障|医保局|医疗保障局/g },
  { category: 'C16', unit: /卫计(?:局|委)|卫健(?:局|委)|卫生健康|卫生和计划生育|疾控|食药|食品药品/g },
  { category: 'C17', unit: /工商(?:局|分局|所)|市场监督|市场监管|质监|质量技术监督|市场和质量监督|物价局|发改(?:委|局)|发展和改革|税务|商务局|金融办|通信管理|烟草/g },
  { category: 'C11', unit: /交通运输局|交通局|运管|公交(?:集团|公司)|地铁(?:集团|公司)|轨道(?:交通)?集团|邮政管理/g },
  { category: 'C10', unit: /水务局|水利局|供水(?:公司|集团)|自来水公司|燃气(?:公司|集团)|供电(?:公司|局)|电力公司|热力公司|排水(?:公司|管理)/g },
  { category: 'C07', unit: /环保局|环境保护局|生态环境(?:局|厅|分局)/g },
  { category: 'C08', unit: /房产局|住房保障|房管局|公积金|不动产登记|房屋征收/g },
  { category: 'C06', unit: /安监|安全生产监督|应急管理局/g },
  { category: 'C14', unit: /文化(?:和旅游|广电|旅游)?局|文广|文旅|旅游局|体育局|文物局|文体局/g },
  { category: 'C04', unit: /园林|林业局|绿化(?:办|处|局)/g },
  { category: 'C02', unit: /公路(?:局|管理)|路政/g },
];

/**
 * The category of the unit that answered, or null: the units named in the reply's last 80
 * characters (its signature, "…特此回复。A市民政局 2019年5月10日") when they are of one category;
 * otherwise the category named most often in the whole reply, if it is named at least twice and at
 * least twice as often as any other.
 */
export function replyCategory(reply: string): string | null {
  const count = (text: string): Map<string, number> => {
    const m = new Map<string, number>();
    for (const { category, unit } of REPLY_UNIT_CATEGORIES) {
      const n = text.match(unit)?.length ?? 0;
      if (n) m.set(category, (m.get(category) ?? 0) + n);
    }
    return m;
  };
  const tail = count(reply.slice(-80));
  if (tail.size === 1) return [...tail.keys()][0] as string;
  if (tail.size > 1) return null;
  const all = [...count(reply)].sort((a, b) => b[1] - a[1]);
  const [first, second] = all;
  if (!first || first[1] < 2) return null;
  if (second && first[1] < 2 * second[1]) return null;
  return first[0];
}

/** A text's comparison key for overlap checks (whitespace out). */
const key = (s: string): string => s.replace(/\s+/g, '');
/** Window length of the overlap check: a shared 16-character run is the same message. */
const WINDOW = 16;

/**
 * A test for "this text starts with a 16-character run of one of `exclude`" (whitespace ignored):
 * the overlap check that keeps annotated (evaluated) texts out of extra training documents.
 * Pass a text, the first or the last 16 characters of a text.
 */
export function overlapCheck(exclude: readonly string[]): (s: string) => boolean {
  const windows = new Set<string>();
  for (const t of exclude.map(key)) for (let i = 0; i + WINDOW <= t.length; i++) windows.add(t.slice(i, i + WINDOW));
  return (s: string): boolean => s.length >= WINDOW && windows.has(s.slice(0, WINDOW));
}

/** Does `text` overlap one of the texts of `inExcluded` (`overlapCheck`): its start or its end? */
export function overlaps(inExcluded: (s: string) => boolean, text: string): boolean {
  const t = key(text);
  return inExcluded(t) || inExcluded(t.slice(-WINDOW));
}

/**
 * Teacher documents from a replies file: title + detail (as the message-board texts are laid out),
 * labelled with `replyCategory`, at `weight`. Messages whose title or detail also occurs in one of
 * `exclude` (the annotated training texts: CV would otherwise see an evaluated message's text with
 * a label) are left out: a title, or the first or last 16 characters of the detail, found in one.
 * Returns the documents and how many rows were read.
 */
export function replyWeakDocuments(file: string, catalog: Catalog, weight: number, exclude: readonly string[]): { docs: TeacherDocument[]; rows: number; excluded: number } {
  for (const { category } of REPLY_UNIT_CATEGORIES) if (!catalog.category(category)) throw new ConfigError(`weak labels from replies are written for the default catalog; category ${category} is not in this catalog`);
  if (!(weight > 0 && weight <= 1)) throw new ConfigError('weak-label weight must be in (0, 1]');
  const inExcluded = overlapCheck(exclude);
  const docs: TeacherDocument[] = [];
  let rows = 0;
  let excluded = 0;
  for (const r of readJsonl<Record<string, unknown>>(file)) {
    rows++;
    const title = typeof r.title === 'string' ? r.title.trim() : '';
    const detail = typeof r.detail === 'string' ? r.detail.trim() : '';
    const reply = typeof r.reply === 'string' ? r.reply : '';
    if (!detail || !reply) continue;
    const category = replyCategory(reply);
    if (!category) continue;
    const d = key(detail);
    if (inExcluded(key(title)) || inExcluded(d) || inExcluded(d.slice(-WINDOW))) {
      excluded++;
      continue;
    }
    docs.push({ text: `${title}${detail}`, label: category, weight });
  }
  return { docs, rows, excluded };
}
