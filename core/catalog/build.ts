import { readFileSync, writeFileSync } from 'node:fs';
import { sharedDataFile } from '../util/shared-data';
import { CHANNEL_MAPS, PROJECT_SUBCATEGORIES } from './channel-maps';
import type { Category, CatalogDoc, ChannelCode, ChannelScheme, EmittedCodeTable, Provenance, Sla, Subcategory, Urgency } from './types';
import { serializeCatalog } from './serialize';

/**
 * Builds the default catalog (20 categories / 828 subcategories) from the source material in
 * `../shared/data` — GB/T 47678.5 parts and matters, the TipDM 2020 3-level taxonomy, the Wuhan 12345
 * subcategory list — plus hand-written 110 non-police call categories, grid affairs and message-board
 * domains. Deterministic: the same sources always give the same file. Only category names, standard
 * codes and our own assignments go into the output; no message text is read.
 */

export const DEFAULT_CATALOG_VERSION = 'default-2026.12.1';
export const EXPECTED = { categories: 20, subcategories: 828 } as const;

const L1 = {
  build: '城乡建设',
  env: '环境保护',
  transport: '交通运输',
  edu: '教育文体',
  labour: '劳动和社会保障',
  trade: '商贸旅游',
  health: '卫生计生',
} as const;

// ---------------------------------------------------------------------------------------------
// The 20 categories (our own cut, in the spirit of Baohe's 20/828 catalog)

interface CategoryDef {
  code: string;
  name: string;
  l1: string;
  department: string;
  territorial: boolean;
  sla: SlaProfile;
  general: string;
}

const CATEGORIES: CategoryDef[] = [
  { code: 'C01', name: '市政公用设施', l1: L1.build, department: '市城市管理局', territorial: false, sla: 'utility', general: '其他市政公用设施问题' },
  { code: 'C02', name: '道路与交通设施', l1: L1.transport, department: '市交通运输局', territorial: false, sla: 'utility', general: '其他道路与交通设施问题' },
  { code: 'C03', name: '市容环卫', l1: L1.build, department: '市城市管理局', territorial: true, sla: 'general', general: '其他市容环境卫生问题' },
  { code: 'C04', name: '园林绿化', l1: L1.build, department: '市林业和园林局', territorial: false, sla: 'general', general: '其他园林绿化问题' },
  { code: 'C05', name: '街面秩序与城管执法', l1: L1.build, department: '市城市管理局', territorial: true, sla: 'general', general: '其他城管执法问题' },
  { code: 'C06', name: '建设工程与安全生产', l1: L1.build, department: '市住房和城乡建设局', territorial: false, sla: 'general', general: '其他建设管理问题' },
  { code: 'C07', name: '生态环境', l1: L1.env, department: '市生态环境局', territorial: false, sla: 'general', general: '其他生态环境问题' },
  { code: 'C08', name: '住房保障与房地产', l1: L1.build, department: '市住房和城乡建设局', territorial: false, sla: 'complex', general: '其他房屋管理问题' },
  { code: 'C09', name: '规划与自然资源', l1: L1.build, department: '市自然资源和规划局', territorial: false, sla: 'complex', general: '其他规划与自然资源问题' },
  { code: 'C10', name: '水电气暖与水务', l1: L1.build, department: '市水务局', territorial: false, sla: 'utility', general: '其他水电气暖问题' },
  { code: 'C11', name: '交通运输', l1: L1.transport, department: '市交通运输局', territorial: false, sla: 'general', general: '其他交通运输问题' },
  { code: 'C12', name: '政法与社会治安', l1: L1.build, department: '市公安局', territorial: false, sla: 'general', general: '其他社会治安问题' },
  { code: 'C13', name: '教育', l1: L1.edu, department: '市教育局', territorial: false, sla: 'general', general: '其他教育管理问题' },
  { code: 'C14', name: '文化旅游体育', l1: L1.edu, department: '市文化广电旅游局', territorial: false, sla: 'general', general: '其他文化旅游体育问题' },
  { code: 'C15', name: '劳动就业与社会保障', l1: L1.labour, department: '市人力资源和社会保障局', territorial: false, sla: 'general', general: '其他劳动和社会保障问题' },
  { code: 'C16', name: '卫生健康', l1: L1.health, department: '市卫生健康委员会', territorial: false, sla: 'general', general: '其他卫生健康问题' },
  { code: 'C17', name: '市场监管与经济', l1: L1.trade, department: '市市场监督管理局', territorial: false, sla: 'general', general: '其他市场管理问题' },
  { code: 'C18', name: '民政与社会服务', l1: L1.labour, department: '市民政局', territorial: false, sla: 'general', general: '其他社会服务问题' },
  { code: 'C19', name: '农业农村', l1: L1.build, department: '市农业农村局', territorial: false, sla: 'complex', general: '其他农村管理问题' },
  { code: 'C20', name: '党务政务与纪检监察', l1: L1.build, department: '市政务服务和数据管理局', territorial: false, sla: 'complex', general: '其他政务问题' },
];

/** The subcategory the model's label falls back to when no keyword narrows it. */
const L1_DEFAULTS: Record<string, string> = {
  [L1.build]: 'C08.000',
  [L1.env]: 'C07.000',
  [L1.transport]: 'C11.000',
  [L1.edu]: 'C13.000',
  [L1.labour]: 'C15.000',
  [L1.trade]: 'C17.000',
  [L1.health]: 'C16.000',
};

// ---------------------------------------------------------------------------------------------
// SLA profiles (办理时限). The design brief's examples: urgent 2 h, utilities 24 h, general 7 days,
// complex 15 days.

type SlaProfile = 'safety' | 'utility' | 'general' | 'complex';
const SLA: Record<SlaProfile, Sla> = {
  safety: { critical: { hours: 2 }, urgent: { hours: 12 }, normal: { hours: 24 } },
  utility: { critical: { hours: 2 }, urgent: { hours: 24 }, normal: { workingDays: 3 } },
  general: { critical: { hours: 2 }, urgent: { hours: 24 }, normal: { workingDays: 7 } },
  complex: { critical: { hours: 24 }, urgent: { workingDays: 5 }, normal: { workingDays: 15 } },
};
const SAFETY_WORDS = /井盖|燃气|天然气|漏气|塌陷|危树|倒树|消防|电梯|危房|房屋安全|易燃易爆|危爆|危险化学品|事故|抢修|高空|积水|结冰|积雪|脱落|防汛|突发|群发|家庭暴力|走失|动物伤人|疫情|确诊|急救|隔离|核酸/;
/** Matters that are emergencies whatever the channel says (the router uses the higher urgency). */
const MIN_URGENCY: Record<string, Urgency> = { 'wuhan:228': 'critical' };
const COMPLEX_WORDS = /征收|拆迁|规划|土地|诉讼|复议|仲裁|纪|贪污|滥用职权|失职|产权|招投标|资质|体制|改革|立法|政策/;

function slaFor(cat: CategoryDef, name: string): Sla {
  if (SAFETY_WORDS.test(name)) return SLA.safety;
  if (COMPLEX_WORDS.test(name)) return SLA.complex;
  return SLA[cat.sla];
}

// ---------------------------------------------------------------------------------------------
// Departments (local defaults, overridable by a city's own catalog or routing config)

function gbtDepartment(code: string, name: string, localDefault: string): string {
  if (localDefault === '市政公用部门') {
    if (/消防/.test(name)) return '市消防救援支队';
    if (/供水|水井|水塔|水鹤|中水/.test(name)) return '市水务集团';
    if (/污水|雨水|化粪池|排水|防汛|跨河管道|水域/.test(name)) return '市水务局';
    if (/燃气|输油/.test(name)) return '市燃气集团';
    if (/热力|供热/.test(name)) return '市热力公司';
    if (/路灯|地灯|景观灯|综合杆/.test(name)) return '市城市管理局';
    if (/电力|变压器|高压线|充电桩|电缆/.test(name)) return '国网市供电公司';
    if (/通信|电视|网络|电话亭|信息亭/.test(name)) return '市通信管理办公室';
    if (/公安|治安|监控/.test(name)) return '市公安局';
    if (/公交/.test(name)) return '市交通运输局';
    if (/邮筒|快递/.test(name)) return '市邮政管理局';
    if (/电梯/.test(name)) return '市市场监督管理局';
    if (/健身/.test(name)) return '市体育局';
    return '市城市管理局';
  }
  if (localDefault === '交通管理部门') {
    if (/信号|标志牌及标线|护栏|防撞桶|安全岛|限高|交通岗亭|反视镜|减速带|人行横道桩|隔离|便道桩/.test(name)) return '市公安局交通管理局';
    if (/路名牌|地名牌|门（楼号）牌/.test(name)) return '市民政局';
    if (/桥|通道|隧道|无障碍/.test(name) && !/铁路/.test(name)) return '市城市管理局';
    if (/文物/.test(name)) return '市文物局';
    if (/景区/.test(name)) return '市文化广电旅游局';
    if (/公安|救助站|应急避难/.test(name)) return /公安/.test(name) ? '市公安局' : '市应急管理局';
    if (/铁道|铁路/.test(name)) return '铁路运输管理单位';
    return '市交通运输局';
  }
  if (localDefault === '环卫部门') {
    if (/气象/.test(name)) return '市气象局';
    if (/环保|污水口|污水监测|噪声显示/.test(name)) return '市生态环境局';
    return '市城市管理局';
  }
  if (localDefault === '园林绿化部门') return '市林业和园林局';
  if (localDefault === '城市管理部门') return code.startsWith('08') ? '市住房和城乡建设局' : '市城市管理局';
  // 待配置责任主体: the standard leaves it to the city.
  const own: Record<string, string> = { '05002': '市住房和城乡建设局', '05003': '市商务局', '05009': '市文物局', '10001': '市城市管理局', '10002': '市通信管理办公室' };
  return own[code] ?? '市城市管理局';
}

/** Department overrides by tipdm second-level group (key `L1/L2`) where it differs from the category's. */
const TIPDM_GROUP_DEPT: Record<string, string> = {
  '城乡建设/安全生产': '市应急管理局',
  '经济管理/安全生产': '市应急管理局',
  '城乡建设/国有土地上房屋征收与补偿': '市房屋征收管理办公室',
  '城乡建设/集体土地上房屋拆迁与补偿': '市房屋征收管理办公室',
  '城乡建设/村镇建设': '市住房和城乡建设局',
  '国土资源/海洋气象地震': '市气象局',
  '党务政务/党的建设': '市委组织部',
  '党务政务/宣传舆论': '市委宣传部',
  '党务政务/群众团体': '市总工会',
  '党务政务/民族宗教': '市民族宗教事务局',
  '党务政务/港澳台侨': '市委统战部',
  '党务政务/国防外交': '市外事办公室',
  '党务政务/政治体制': '市委办公室',
  '纪检监察/党政处分': '市纪委监委',
  '纪检监察/干部作风': '市纪委监委',
  '纪检监察/滥用职权': '市纪委监委',
  '纪检监察/失职渎职': '市纪委监委',
  '纪检监察/贪污贿赂': '市纪委监委',
  '纪检监察/其他': '市纪委监委',
  '交通运输/邮政管理': '市邮政管理局',
  '经济管理/保险证券期货': '市地方金融监督管理局',
  '经济管理/国资监管': '市国有资产监督管理委员会',
  '经济管理/宏观调控': '市发展和改革委员会',
  '经济管理/金融财税': '市财政局',
  '经济管理/能源管理': '市发展和改革委员会',
  '经济管理/企业破产': '市中级人民法院',
  '科技与信息产业/电信': '市通信管理办公室',
  '科技与信息产业/科学技术': '市科学技术局',
  '科技与信息产业/信息化建设': '市工业和信息化局',
  '科技与信息产业/知识产权': '市市场监督管理局',
  '民政/复退安置': '市退役军人事务局',
  '民政/优抚': '市退役军人事务局',
  '农村农业/林业管理': '市林业和园林局',
  '农村农业/水利水电': '市水务局',
  '农村农业/水库移民': '市水务局',
  '农村农业/野生资源管理': '市林业和园林局',
  '农村农业/扶贫开发': '市乡村振兴局',
  '商贸旅游/商业贸易': '市商务局',
  '商贸旅游/旅游管理': '市文化广电旅游局',
  '政法/法律服务': '市司法局',
  '政法/法制建设': '市司法局',
  '政法/行政复议': '市司法局',
  '政法/诉讼': '市中级人民法院',
  '政法/刑罚执行': '市司法局',
  '政法/仲裁与调解': '市司法局',
  '政法/交通管理': '市公安局交通管理局',
  '教育文体/体育': '市体育局',
  '教育文体/文物管理': '市文物局',
  '劳动和社会保障/城镇居民社会保险': '市医疗保障局',
  '卫生计生/食品药品监管': '市市场监督管理局',
};

/** Department overrides by tipdm path (`L1/L2/L3`). */
const TIPDM_ITEM_DEPT: Record<string, string> = {
  '城乡建设/城市建设和市政管理/燃气供应': '市燃气集团',
  '城乡建设/城市建设和市政管理/电力供应': '国网市供电公司',
  '城乡建设/城市建设和市政管理/自来水供应': '市水务集团',
  '城乡建设/城市建设和市政管理/冬季采暖': '市热力公司',
  '城乡建设/城市建设和市政管理/公共汽车': '市公交集团',
  '城乡建设/城市建设和市政管理/地铁城铁': '市轨道交通集团',
  '城乡建设/城市建设和市政管理/城管执法': '市城市管理局',
  '城乡建设/城市建设和市政管理/环境卫生': '市城市管理局',
  '城乡建设/城市建设和市政管理/小区管理': '市住房和城乡建设局',
  '城乡建设/住房保障与房地产/住房公积金': '市住房公积金管理中心',
  '城乡建设/住房保障与房地产/房产证登记、办理': '市不动产登记中心',
  '劳动和社会保障/城镇职工社会保险/职工医疗保险': '市医疗保障局',
  '劳动和社会保障/城镇职工社会保险/职工生育保险': '市医疗保障局',
  '经济管理/金融财税/税收征管': '市税务局',
  '经济管理/金融财税/金融管理': '市地方金融监督管理局',
  '经济管理/金融财税/集资融资': '市地方金融监督管理局',
  '经济管理/金融财税/非法经济活动': '市公安局',
  '政法/社会治安/消防安全': '市消防救援支队',
  '民政/区划地名/地名管理': '市民政局',
};

/** tipdm groups handled by the territory (属地). */
const TIPDM_TERRITORIAL = new Set([
  '城乡建设/城市建设和市政管理/城管执法',
  '城乡建设/城市建设和市政管理/环境卫生',
  '城乡建设/城市建设和市政管理/小区管理',
  '城乡建设/城市建设和市政管理/居民服务设施',
  '民政/基层选举和社区建设',
  '农村农业/村务管理',
  '农村农业/土地承包经营',
  '城乡建设/村镇建设',
  '政法/仲裁与调解/司法调解',
  '政法/社会治安',
]);

// ---------------------------------------------------------------------------------------------
// Category assignment

/** GB/T 47678.5 codes → category, by 大类 with per-code exceptions. */
function gbtCategory(code: string): string {
  const own: Record<string, string> = {
    '05002': 'C08', '05003': 'C17', '05009': 'C14', '10001': 'C03', '10002': 'C01',
    '06001': 'C05', '06002': 'C05', '06008': 'C05', '06013': 'C02', '06016': 'C02', '06017': 'C04', '06018': 'C04',
    '06021': 'C04', '06022': 'C04', '06023': 'C10', '06024': 'C10', '06025': 'C10', '06026': 'C07', '06029': 'C05',
    '06033': 'C07', '06038': 'C05', '06039': 'C05', '06040': 'C05', '06045': 'C04', '06046': 'C10', '06047': 'C04',
    '06048': 'C02', '06049': 'C02', '06050': 'C02', '06051': 'C02', '06052': 'C02',
  };
  if (own[code]) return own[code];
  const major: Record<string, string> = { '01': 'C01', '02': 'C02', '03': 'C03', '04': 'C04', '06': 'C03', '07': 'C03', '08': 'C06', '09': 'C05' };
  const c = major[code.slice(0, 2)];
  if (!c) throw new Error(`gbt47678-5 code ${code}: no category assignment`);
  return c;
}

const TIPDM_L1_CATEGORY: Record<string, string> = {
  城乡建设: 'C08', 党务政务: 'C20', 国土资源: 'C09', 环境保护: 'C07', 纪检监察: 'C20', 交通运输: 'C11', 经济管理: 'C17',
  科技与信息产业: 'C17', 民政: 'C18', 农村农业: 'C19', 商贸旅游: 'C17', 卫生计生: 'C16', 政法: 'C12', 教育文体: 'C13', 劳动和社会保障: 'C15',
};
const TIPDM_GROUP_CATEGORY: Record<string, string> = {
  '城乡建设/安全生产': 'C06', '城乡建设/城市建设和市政管理': 'C01', '城乡建设/城乡规划': 'C09', '城乡建设/村镇建设': 'C09',
  '城乡建设/工程质量': 'C06', '城乡建设/建筑市场': 'C06', '经济管理/安全生产': 'C06', '商贸旅游/旅游管理': 'C14',
  '教育文体/体育': 'C14', '教育文体/文化': 'C14', '教育文体/文物管理': 'C14',
};
const TIPDM_ITEM_CATEGORY: Record<string, string> = {
  '城乡建设/城市建设和市政管理/园林绿化环卫': 'C04', '城乡建设/城市建设和市政管理/城管执法': 'C05',
  '城乡建设/城市建设和市政管理/公共汽车': 'C11', '城乡建设/城市建设和市政管理/公园管理': 'C04',
  '城乡建设/城市建设和市政管理/冬季采暖': 'C10', '城乡建设/城市建设和市政管理/园林绿化': 'C04',
  '城乡建设/城市建设和市政管理/地铁城铁': 'C11', '城乡建设/城市建设和市政管理/小区管理': 'C08',
  '城乡建设/城市建设和市政管理/燃气供应': 'C10', '城乡建设/城市建设和市政管理/环境卫生': 'C03',
  '城乡建设/城市建设和市政管理/电力供应': 'C10', '城乡建设/城市建设和市政管理/自来水供应': 'C10',
  '农村农业/水利水电/防汛抗旱': 'C10', '农村农业/水利水电/江河湖治理': 'C10',
};
/** tipdm items whose label projection differs from their category's. */
const TIPDM_GROUP_L1: Record<string, string> = {
  '政法/交通管理': L1.transport, '商贸旅游/旅游管理': L1.trade, '民政/社会救助': L1.labour,
};

/** tipdm rows that repeat another row: merged into it. */
const TIPDM_MERGE: Record<string, string> = {
  '交通运输/交通运输/出租车管理': 'tipdm:交通运输/出租车管理/行业监管',
  '劳动和社会保障/工资福利/住房公积金': 'tipdm:城乡建设/住房保障与房地产/住房公积金',
  '教育文体/考试招生/异地升学': 'tipdm:教育文体/教育体制/异地升学',
  '经济管理/安全生产/安全生产管理': 'tipdm:城乡建设/安全生产/安全生产管理',
  '经济管理/安全生产/事故处理': 'tipdm:城乡建设/安全生产/事故处理',
  '经济管理/安全生产/安全隐患': 'tipdm:城乡建设/安全生产/安全隐患',
};

// ---------------------------------------------------------------------------------------------
// Wuhan 12345 subcategories: `Cnn` = a subcategory of its own in that category (optionally renamed),
// `=key` = the same matter as an existing subcategory.

const WUHAN: Record<string, string> = {
  '001': 'C10', '002': '=tipdm:环境保护/环境污染/水污染', '003': 'C07', '004': 'C07', '005': '=tipdm:环境保护/环境污染/电磁污染',
  '007': 'C07', '008': 'C12', '009': '=gbt:06028', '010': '=tipdm:环境保护/环境污染/生态破坏', '011': '=gbt:06001',
  '012': '=gbt:09006', '013': '=gbt:06027', '014': '=gbt:08001', '015': '=gbt:06011', '016': '=gbt:06013', '017': '=gbt:06012',
  '018': '=gbt:06010', '019': '=gbt:03001', '020': 'C03', '021': '=gbt:08003', '022': '=gbt:06020', '023': '=gbt:06038',
  '026': 'C10', '027': 'C10', '028': '=cat:C03', '029': '=gbt:07002', '031': '=gbt:07003', '032': 'C16',
  '033': '=tipdm:卫生计生/食品药品监管/保健品化妆品管理', '037': '=tipdm:卫生计生/医政监管/医疗机构管理',
  '038': '=tipdm:卫生计生/医政监管/医疗收费', '039': '=tipdm:卫生计生/食品药品监管/食品安全', '040': 'C17',
  '046': '=tipdm:卫生计生/食品药品监管/药品和医疗器械管理', '047': '=tipdm:卫生计生/医患纠纷/医疗事故争议', '048': '=cat:C16',
  '050': 'C16', '051': 'C16', '052': '=cat:C05', '053': '=cat:C20', '069': 'C06', '072': '=tipdm:商贸旅游/质监检验检疫/特种设备管理',
  '074': '=tipdm:经济管理/安全生产/其他', '084': '=tipdm:环境保护/环境污染/大气污染', '088': '=wuhan:183', '091': 'C15', '092': 'C15',
  '093': '=tipdm:劳动和社会保障/城镇职工社会保险/职工工伤保险', '095': '=tipdm:劳动和社会保障/工资福利/工资发放',
  '096': '=tipdm:劳动和社会保障/城镇职工社会保险/职工医疗保险', '097': '=tipdm:民政/社会救助/城镇低保',
  '098': '=tipdm:劳动和社会保障/劳动关系/劳动合同纠纷', '099': '=tipdm:劳动和社会保障/退休政策及待遇/退休金发放',
  '100': '=tipdm:劳动和社会保障/城镇职工社会保险/职工失业保险', '102': '=tipdm:劳动和社会保障/就业培训/就业和再就业',
  '104': '=tipdm:民政/救灾募捐/救灾管理', '105': '=tipdm:民政/优抚/其他', '106': '=tipdm:民政/复退安置/转业退伍安置',
  '107': '=cat:C15', '109': 'C08', '110': 'C08', '111': 'C09', '112': 'C08', '113': '=tipdm:城乡建设/住房保障与房地产/物业服务',
  '114': 'C08', '115': '=tipdm:城乡建设/住房保障与房地产/公房', '116': '=tipdm:城乡建设/住房保障与房地产/房产证登记、办理',
  '118': '=tipdm:城乡建设/城乡规划/规划方案', '119': 'C08', '120': '=wuhan:109', '121': '=cat:C08',
  '122': '=tipdm:城乡建设/国有土地上房屋征收与补偿/房屋拆迁', '128': '=gbt:05003', '132': 'C17',
  '133': '=tipdm:商贸旅游/旅游管理/旅游市场管理', '134': 'C17', '135': '=gbt:09001', '136': 'C14',
  '137': '=tipdm:经济管理/金融财税/税收征管', '139': '=tipdm:商贸旅游/市场监管/其他', '140': '=tipdm:商贸旅游/市场监管/商品质量', '142': '=tipdm:商贸旅游/市场监管/其他',
  '143': '=tipdm:经济管理/金融财税/税收征管', '145': '=tipdm:商贸旅游/市场监管/物价监督', '148': '=tipdm:教育文体/文化/文化市场与文化执法', '149': '=tipdm:教育文体/文化/文化市场与文化执法',
  '157': 'C11', '158': 'C17', '159': '=tipdm:商贸旅游/市场监管/传销', '160': '=tipdm:商贸旅游/市场监管/广告监管', '162': 'C17',
  '163': '=tipdm:商贸旅游/市场监管/其他', '164': 'C13', '165': '=tipdm:教育文体/教育行政管理/校外机构管理', '166': 'C13',
  '169': '=tipdm:教育文体/教育收费/乱收费', '170': 'C13', '171': '=tipdm:教育文体/教育行政管理/民办学校',
  '175': '=tipdm:劳动和社会保障/就业培训/职业培训', '176': '=cat:C13', '178': 'C13', '179': '=cat:C12',
  '180': '=tipdm:政法/社会治安/治安案件', '181': 'C12', '183': 'C12', '186': '=tipdm:政法/户籍证件/流动人口管理',
  '187': '=tipdm:政法/户籍证件/户籍管理', '188': '=tipdm:政法/社会治安/消防安全', '189': '=tipdm:政法/社会治安/其他',
  '190': '=tipdm:政法/刑案侦破/案件侦破', '191': 'C12', '196': '=tipdm:民政/基层选举和社区建设/社区建设',
  '197': '=tipdm:民政/社会服务/殡葬管理', '198': 'C18', '201': 'C12', '202': '=tipdm:城乡建设/城市建设和市政管理/自来水供应',
  '203': '=tipdm:城乡建设/城市建设和市政管理/电力供应', '204': '=tipdm:城乡建设/城市建设和市政管理/燃气供应', '208': 'C18',
  '209': '=tipdm:卫生计生/人口计生/计划生育服务管理', '210': 'C12', '211': '=tipdm:政法/法律服务/法律援助',
  '216': '=tipdm:民政/社会服务/其他', '217': '=tipdm:城乡建设/住房保障与房地产/保障性住房', '218': 'C18', '219': 'C20',
  '220': 'C10', '221': 'C10', '223': 'C10', '227': 'C10', '228': 'C10', '229': 'C10', '231': 'C10', '233': '=wuhan:231', '238': '=tipdm:商贸旅游/市场监管/物价监督',
  '240': '=tipdm:政法/诉讼/民事诉讼', '257': '=tipdm:交通运输/邮政管理/邮政市场监管', '259': 'C20',
  '264': '=tipdm:政法/刑罚执行/社区矫正', '265': 'C19', '267': 'C12', '269': '=tipdm:农村农业/野生资源管理/野生动植物保护',
  '270': '=tipdm:农村农业/村务管理/村务公开', '275': '=tipdm:农村农业/土地承包经营/土地承包', '277': '=cat:C19', '284': 'C19',
  '291': '=gbt:01002', '292': '=gbt:01003', '295': '=gbt:01006', '301': '=gbt:01023', '303': '=gbt:01013', '305': '=gbt:01037',
  '306': '=gbt:02015', '316': 'C10', '317': '=cat:C01', '318': '=gbt:02010', '321': '=gbt:02017', '322': 'C10', '330': 'C02',
  '333': 'C12', '339': '=tipdm:城乡建设/安全生产/事故处理', '340': '=tipdm:城乡建设/工程质量/其他', '341': '=gbt:08001', '342': '=gbt:08004', '343': '=gbt:08005',
  '344': '=tipdm:城乡建设/建筑市场/拖欠工程款', '345': '=tipdm:城乡建设/建筑市场/勘察设计和施工监管', '346': '=cat:C06', '347': 'C10', '350': 'C04', '351': 'C04',
  '353': '=gbt:04002', '358': 'C04', '360': '=gbt:06022', '361': '=tipdm:城乡建设/城市建设和市政管理/公园管理',
  '362': '=gbt:06045', '363': '=cat:C04', '365': '=tipdm:城乡建设/城市建设和市政管理/地铁城铁', '369': 'C11',
  '370': '=tipdm:政法/交通管理/交通事故', '371': 'C12', '372': '=tipdm:交通运输/出租车管理/行业监管',
  '373': '=tipdm:城乡建设/城市建设和市政管理/公共汽车', '374': '=tipdm:政法/交通管理/交通安全管理',
  '375': '=tipdm:交通运输/客货运输/旅客运输', '378': '=cat:C11', '379': '=gbt:09009',
  '380': '=tipdm:政法/交通管理/机动车和驾驶员管理', '382': '=tipdm:交通运输/客货运输/货物运输', '384': '=tipdm:政法/交通管理/机动车和驾驶员管理', '386': 'C12',
  '389': '=tipdm:交通运输/出租车管理/网约车问题', '390': '=gbt:09011', '391': '=tipdm:纪检监察/贪污贿赂/其他',
  '392': '=tipdm:纪检监察/滥用职权/其他', '393': '=tipdm:纪检监察/失职渎职/其他', '394': '=tipdm:纪检监察/干部作风/其他',
  '396': '=cat:C12', '400': '=cat:C20', '401': '=tipdm:经济管理/金融财税/金融管理',
  '402': 'C16|新冠肺炎确诊收治', '403': '=wuhan:402', '404': 'C16|疫情期间社区诊疗', '405': 'C16|社区疫情防控', '406': 'C16|隔离管理问题',
  '407': 'C16|疫情期间出行', '408': '=wuhan:407', '409': '=wuhan:407', '410': '=wuhan:405', '411': 'C17|应急物资供应',
  '412': 'C16|疫情期间非新冠患者就医', '413': '=wuhan:412', '414': 'C16|疫情期间人员返离求助', '415': '=wuhan:414',
  '416': '=wuhan:198', '417': '=wuhan:414', '418': '=wuhan:412', '419': '=tipdm:劳动和社会保障/就业培训/就业和再就业',
  '420': '=wuhan:414', '421': 'C17|企业复工复产', '422': '=wuhan:421', '423': '=wuhan:421', '424': 'C16|健康码管理',
  '425': '=wuhan:424', '426': '=tipdm:城乡建设/建筑市场/拖欠工程款', '427': '=tipdm:卫生计生/医患纠纷/医护人员权益',
  '428': '=wuhan:198', '429': '=tipdm:经济管理/金融财税/金融管理', '430': '=wuhan:411', '431': '=cat:C20', '433': 'C18|志愿服务',
  '434': '=tipdm:民政/社会服务/殡葬管理', '435': 'C16|其他疫情防控问题', '436': '=wuhan:414', '437': '=wuhan:406',
  '438': '=wuhan:435', '439': 'C16|核酸检测',
};
const WUHAN_DEPT: Record<string, string> = {
  '001': '市水务局', '008': '市公安局', '020': '市城市管理局', '026': '市水务局', '027': '市水务局', '040': '市市场监督管理局',
  '069': '市应急管理局', '088': '市应急管理局', '091': '市人力资源和社会保障局', '109': '市住房和城乡建设局', '111': '市自然资源和规划局',
  '132': '市市场监督管理局', '136': '市文化广电旅游局', '157': '市城市管理局', '179': '市公安局', '181': '市公安局', '183': '市公安局',
  '191': '市公安局', '198': '市民政局', '201': '市妇女联合会', '208': '市残疾人联合会', '210': '市司法局', '219': '市政务服务和数据管理局',
  '220': '市水务集团', '221': '市水务集团', '223': '市水务集团', '227': '市燃气集团', '228': '市燃气集团', '229': '市燃气集团',
  '231': '市燃气集团', '233': '市燃气集团', '238': '市发展和改革委员会', '259': '市政务服务和数据管理局', '265': '市农业农村局',
  '267': '市公安局', '316': '市水务局', '322': '市水务集团', '330': '市城市管理局', '333': '市公安局', '339': '市应急管理局',
  '347': '市水务集团', '369': '市公安局交通管理局', '371': '市公安局交通管理局', '384': '市公安局交通管理局', '386': '市公安局交通管理局',
  '411': '市商务局', '421': '市工业和信息化局', '433': '市民政局',
};
const WUHAN_TERRITORIAL = new Set(['020', '008', '210', '267', '405', '406', '198', '001', '027', '316']);
const WUHAN_L1: Record<string, string> = { '371': L1.transport, '386': L1.transport, '157': L1.transport, '198': L1.labour };

const MESSAGE_BOARD_TYPES: Array<[string, string]> = [['T1', '投诉'], ['T2', '求助'], ['T3', '咨询'], ['T4', '建言'], ['T5', '感谢']];

// ---------------------------------------------------------------------------------------------
// Keywords

const STOP_KEYWORDS = new Set(['其他', '其它', '管理', '问题', '服务', '事项', '异常', '设施', '纠纷', '政策', '监管']);
/** Hand-written synonyms keyed by subcategory name. */
const SYNONYMS: Record<string, string[]> = {
  噪声扰民: ['噪音扰民', '噪声', '商铺噪音', '广场舞'],
  生活噪声问题: ['楼上噪音', '邻居噪音', '装修噪音', '夜间噪音'],
  施工扰民: ['施工噪音', '夜间施工', '工地噪音'],
  机动车乱停放: ['乱停车', '违章停车', '违停', '乱停乱放'],
  非机动车乱停放: ['电动车乱停', '自行车乱停'],
  占道经营: ['摆摊', '流动摊贩', '小摊贩'],
  暴露垃圾: ['垃圾成堆', '垃圾堆积', '生活垃圾'],
  '垃圾站（箱）满溢': ['垃圾桶满', '垃圾满溢'],
  油烟污染: ['油烟', '餐饮油烟'],
  私搭乱建: ['违章搭建', '违建', '乱搭乱建'],
  违章建筑: ['违章建筑', '违法建筑'],
  路灯: ['路灯不亮', '路灯坏'],
  // a manhole cover of unknown kind: the generic word (the specific ones, 污水井盖…, are longer and win)
  不明井盖: ['井盖', '窨井盖'],
  道路破损: ['路面坑洼', '坑洼', '路面破损'],
  物业服务: ['物业公司', '物业费', '物业管理'],
  拖欠工程款: ['工程款'],
  工资发放: ['拖欠工资', '欠薪', '讨薪', '工资拖欠'],
  住房公积金: ['公积金'],
  房屋租赁: ['租房', '房东', '租金'],
  网约车问题: ['网约车', '滴滴'],
  医疗事故争议: ['医疗事故', '医疗纠纷'],
  食品安全: ['食品安全', '过期食品', '变质'],
  商品质量: ['质量问题', '假冒伪劣'],
  物价监督: ['乱涨价', '价格欺诈', '物价'],
  传销: ['传销'],
  噪音污染: ['噪音污染'],
  大气污染: ['废气', '空气污染', '雾霾'],
  水污染: ['污水直排', '水体污染'],
  乱收费: ['乱收费', '违规收费'],
  校外机构管理: ['培训机构', '补习班'],
  招生录取: ['招生', '录取'],
  职工养老保险: ['养老保险'],
  职工医疗保险: ['医保'],
  城镇低保: ['低保'],
  公共汽车: ['公交车', '公交线路', '公交站'],
  地铁城铁: ['地铁', '轨道交通'],
  燃气供应: ['燃气', '天然气'],
  电力供应: ['停电', '供电'],
  自来水供应: ['自来水', '停水'],
  冬季采暖: ['暖气', '供暖'],
  房屋拆迁: ['拆迁'],
  安置补偿: ['安置房', '补偿款'],
  棚户区和城中村改造: ['棚改', '城中村'],
  保障性住房: ['公租房', '廉租房', '经适房'],
  '房产证登记、办理': ['房产证', '不动产证'],
  动物伤人: ['被狗咬', '狗咬人'],
  流浪动物: ['流浪狗', '流浪猫'],
  开锁求助: ['开锁', '钥匙锁'],
  挪车求助: ['挪车', '堵门'],
  高空抛物: ['高空抛物', '高空坠物'],
  电梯困人: ['电梯困人', '困在电梯'],
  走失人员协助查找: ['走失', '老人走丢'],
  家庭暴力: ['家暴'],
  违反犬类管理: ['遛狗不拴绳', '烈性犬'],
  核酸检测: ['核酸'],
  健康码管理: ['健康码'],
  '死、斜、危、倒树问题': ['倒树', '危树', '树木倒伏'],
  路面塌陷: ['塌陷', '地陷'],
  下水道堵塞或破损: ['下水道堵', '下水道'],
  积水问题: ['道路积水', '积水'],
  停水或水压低问题: ['水压低', '停水'],
  天然气抢修类问题: ['燃气泄漏', '漏气'],
};

function parenVariants(name: string): string[] {
  const m = /^(.*)（([^）]+)）(.*)$/.exec(name);
  if (!m) return [name];
  const [, a = '', inner = '', b = ''] = m;
  const out = [a + b];
  for (const alt of inner.split(/[、，,]/)) if (alt) out.push(alt.length >= 2 ? alt + b : a.slice(0, Math.max(0, a.length - alt.length)) + alt + b);
  return out;
}

function keywordsFor(name: string, extra: string[] = []): string[] {
  const out = new Set<string>();
  const add = (k: string): void => {
    const t = k.trim();
    if (t.length >= 2 && !STOP_KEYWORDS.has(t)) out.add(t);
  };
  for (const v of parenVariants(name)) {
    add(v);
    const stripped = v.replace(/(问题|异常|管理|方面的问题|类问题)$/u, '');
    add(stripped);
    if (/[、和及]/.test(stripped) && stripped.length > 5) for (const part of stripped.split(/[、和及]/)) add(part);
  }
  for (const s of SYNONYMS[name] ?? []) add(s);
  for (const s of extra) add(s);
  return [...out];
}

// ---------------------------------------------------------------------------------------------
// Assembly

interface Draft {
  key: string;
  category: string;
  name: string;
  /** The name before collision qualifying: keywords come from it. */
  baseName: string;
  /** A group's "其他" catch-all: reachable by channel code, not by keywords. */
  noKeywords?: boolean;
  department: string;
  territorial: boolean;
  l1?: string;
  general: boolean;
  channelCodes: Map<string, string[]>;
  provenance: Provenance[];
}

function readCsv(path: string): string[][] {
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(','));
}

export interface BuildSources {
  gbtDirectory: string;
  tipdmTaxonomy: string;
  wuhanSubcategories: string;
}

export function defaultSources(): BuildSources {
  return {
    gbtDirectory: sharedDataFile('gbt47678-5', 'directory.csv'),
    tipdmTaxonomy: sharedDataFile('tipdm2020c', 'label_taxonomy.csv'),
    wuhanSubcategories: sharedDataFile('wuhan12345', 'subcategories.csv'),
  };
}

/**
 * Builds the default catalog document from the source files and the code tables the connectors
 * emit (`emitted`: connectors/code-tables.ts, handed in by the CLI, the composition root). Throws
 * when a count is off or an emitted code has no mapping.
 */
export function buildDefaultCatalog(emitted: readonly EmittedCodeTable[], src: BuildSources = defaultSources()): CatalogDoc {
  const cats = new Map(CATEGORIES.map((c) => [c.code, c]));
  const drafts: Draft[] = [];
  const byKey = new Map<string, Draft>();
  const catDef = (code: string): CategoryDef => {
    const c = cats.get(code);
    if (!c) throw new Error(`unknown category ${code}`);
    return c;
  };
  const create = (key: string, category: string, name: string, fields: Partial<Draft>, prov: Provenance): Draft => {
    const c = catDef(category);
    const d: Draft = {
      key,
      category,
      name,
      baseName: name,
      noKeywords: fields.noKeywords,
      department: fields.department ?? c.department,
      territorial: fields.territorial ?? c.territorial,
      l1: fields.l1,
      general: fields.general ?? false,
      channelCodes: new Map(),
      provenance: [prov],
    };
    drafts.push(d);
    byKey.set(key, d);
    return d;
  };
  const target = (ref: string): Draft => {
    const d = byKey.get(ref);
    if (!d) throw new Error(`catalog build: merge target ${ref} does not exist`);
    return d;
  };
  const addCode = (d: Draft, scheme: string, code: string): void => {
    const list = d.channelCodes.get(scheme) ?? [];
    if (!list.includes(code)) list.push(code);
    d.channelCodes.set(scheme, list);
  };

  // 1. General subcategories Cnn.000.
  for (const c of CATEGORIES) create(`cat:${c.code}`, c.code, c.general, { general: true }, { source: 'project', note: 'general subcategory of the category' });

  // 2. GB/T 47678.5: one subcategory per 5-digit code (a 部件 and its "<部件>异常" 事项 share a code).
  const gbtRows = readCsv(src.gbtDirectory);
  const gbtHeader = gbtRows.shift()?.join(',');
  if (gbtHeader !== 'kind,code,major,category,name,local_default_department') throw new Error(`unexpected header in ${src.gbtDirectory}: ${gbtHeader}`);
  const gbtCodes: ChannelCode[] = [];
  for (const [kind = '', code = '', , , name = '', dept = ''] of gbtRows) {
    gbtCodes.push({ code, name, kind });
    const key = `gbt:${code}`;
    let d = byKey.get(key);
    if (!d) {
      const base = kind === '管理事项' && code < '06000' ? name.replace(/异常/, '') : name;
      const category = gbtCategory(code);
      const department = gbtDepartment(code, base, dept);
      const territorial = department === '市城市管理局' && (category === 'C03' || category === 'C05');
      d = create(key, category, base, { department, territorial }, { source: 'gbt47678-5', code });
    }
    if (kind === '管理事项' && code < '06000') d.provenance.push({ source: 'gbt47678-5', code, note: `管理事项 ${name}` });
    addCode(d, 'gbt47678.5', code);
  }

  // 3. TipDM 3-level taxonomy.
  const tipRows = readCsv(src.tipdmTaxonomy);
  tipRows.shift();
  const tipMerges: Array<[string, Provenance]> = [];
  // A group's "其他" row becomes the category's general subcategory when the group names at most two
  // matters of its own and no channel code list points at it (a 3-item group needs no catch-all).
  const groupSize = new Map<string, number>();
  for (const [l1 = '', l2 = '', l3 = ''] of tipRows) if (l3 !== '其他' && l3 !== l2) groupSize.set(`${l1}/${l2}`, (groupSize.get(`${l1}/${l2}`) ?? 0) + 1);
  const referenced = new Set(
    [...Object.values(WUHAN), ...Object.values(CHANNEL_MAPS).flatMap((m) => Object.values(m)), ...Object.values(TIPDM_MERGE).map((k) => '=' + k)]
      .filter((r) => r.startsWith('=tipdm:'))
      .map((r) => r.slice(1)),
  );
  for (const [l1 = '', l2 = '', l3 = ''] of tipRows) {
    const path = `${l1}/${l2}/${l3}`;
    const prov: Provenance = { source: 'tipdm2020c-taxonomy', path };
    if (l2 === '其他' && l3 === '其他') {
      target(`cat:${TIPDM_L1_CATEGORY[l1] ?? 'C20'}`).provenance.push(prov);
      continue;
    }
    const merge = TIPDM_MERGE[path];
    if (merge) {
      tipMerges.push([merge, prov]);
      continue;
    }
    const group = `${l1}/${l2}`;
    const category = TIPDM_ITEM_CATEGORY[path] ?? TIPDM_GROUP_CATEGORY[group] ?? TIPDM_L1_CATEGORY[l1];
    if (!category) throw new Error(`tipdm ${path}: no category`);
    if (l3 === l2) {
      // e.g. 社保基金管理/社保基金管理: the group's own name is its general item
      tipMerges.push([`tipdm:${group}/其他`, prov]);
      continue;
    }
    if (l3 === '其他' && (groupSize.get(group) ?? 0) <= 2 && !referenced.has(`tipdm:${path}`)) {
      const general = target(`cat:${category}`);
      general.provenance.push(prov);
      byKey.set(`tipdm:${path}`, general);
      continue;
    }
    const name = l3 === '其他' ? `${l2}其他` : l3;
    create(`tipdm:${path}`, category, name, {
      department: TIPDM_ITEM_DEPT[path] ?? TIPDM_GROUP_DEPT[group],
      territorial: TIPDM_TERRITORIAL.has(path) || TIPDM_TERRITORIAL.has(group) ? true : undefined,
      l1: TIPDM_GROUP_L1[group],
      noKeywords: l3 === '其他',
    }, prov);
  }

  for (const [ref, prov] of tipMerges) target(ref).provenance.push(prov);

  // 4. Wuhan 12345 (two passes: own subcategories first, then merges that may point at them).
  const whRows = readCsv(src.wuhanSubcategories);
  whRows.shift();
  const whCodes: ChannelCode[] = [];
  const whMerges: Array<[string, string, string]> = [];
  for (const [code = '', name = ''] of whRows) {
    if (!code) continue; // '合并小类别' (the source's merged rare-class bucket) has no code
    whCodes.push({ code, name });
    const rule = WUHAN[code];
    if (!rule) throw new Error(`wuhan12345 code ${code} (${name}) has no assignment`);
    if (rule.startsWith('=')) {
      whMerges.push([code, name, rule.slice(1)]);
      continue;
    }
    const [category = '', rename] = rule.split('|');
    const d = create(`wuhan:${code}`, category, rename ?? name, {
      department: WUHAN_DEPT[code],
      territorial: WUHAN_TERRITORIAL.has(code) ? true : undefined,
      l1: WUHAN_L1[code],
    }, { source: 'wuhan12345', code, ...(rename ? { note: `renamed from ${name}` } : {}) });
    addCode(d, 'hotline-12345', code);
  }
  for (const [code, name, ref] of whMerges) {
    const d = target(ref);
    d.provenance.push({ source: 'wuhan12345', code, note: name });
    addCode(d, 'hotline-12345', code);
  }

  // 5. Our own subcategories, then the codes the connectors emit, through the catalog's maps.
  for (const p of PROJECT_SUBCATEGORIES) {
    create(`project:${p.name}`, p.category, p.name, { department: p.department, territorial: p.territorial }, { source: p.source, note: 'project subcategory' });
  }
  const emittedSchemes: Record<string, ChannelScheme> = {};
  for (const table of emitted) {
    const map = CHANNEL_MAPS[table.scheme];
    if (!map) throw new Error(`catalog build: no channel map for scheme ${table.scheme} (emitted by ${table.connector})`);
    const codes: ChannelCode[] = [];
    for (const { code, name, aliases } of table.codes) {
      const rule = map[code];
      if (rule === undefined) throw new Error(`catalog build: ${table.scheme} code ${code} (${name}, emitted by ${table.connector}) has no mapping in core/catalog/channel-maps.ts`);
      const entry: ChannelCode = { code, name, ...(aliases?.length ? { aliases: [...aliases] } : {}) };
      if (rule.startsWith('=')) addCode(target(rule.slice(1)), table.scheme, code);
      else if (rule === 'open') entry.categories = [];
      else if (rule.startsWith('cat:') || rule.startsWith('cats:')) {
        const list = rule.slice(rule.indexOf(':') + 1).split(',');
        for (const c of list) catDef(c);
        entry.categories = list;
      } else throw new Error(`catalog build: bad channel map entry ${table.scheme}/${code}: ${rule}`);
      codes.push(entry);
    }
    const extra = Object.keys(map).filter((c) => !table.codes.some((x) => x.code === c));
    if (extra.length) throw new Error(`catalog build: channel map ${table.scheme} names codes its connector does not emit: ${extra.join(', ')}`);
    emittedSchemes[table.scheme] = {
      name: table.name,
      ...(table.description ? { description: table.description } : {}),
      connector: table.connector,
      requireAllMapped: true,
      ...(table.fallbackPrefixLengths ? { fallbackPrefixLengths: [...table.fallbackPrefixLengths] } : {}),
      codes,
    };
  }

  // 6. Names unique within a category: qualify collisions with their source group.
  const seen = new Map<string, Draft>();
  for (const d of drafts) {
    const k = `${d.category}/${d.name}`;
    const prev = seen.get(k);
    if (prev) {
      const group = d.provenance[0]?.path?.split('/')[1];
      d.name = group ? `${d.name}（${group}）` : `${d.name}（${d.provenance[0]?.source}）`;
    }
    seen.set(`${d.category}/${d.name}`, d);
  }

  // 7. Emit, numbering each category's subcategories in source order.
  const categories: Category[] = CATEGORIES.map((c) => {
    const own = drafts.filter((d) => d.category === c.code);
    let n = 0;
    const subcategories: Subcategory[] = own.map((d) => {
      const code = d.general ? `${c.code}.000` : `${c.code}.${String(++n).padStart(3, '0')}`;
      const channelCodes: Record<string, string[]> = {};
      for (const scheme of [...d.channelCodes.keys()].sort()) channelCodes[scheme] = (d.channelCodes.get(scheme) ?? []).slice().sort();
      const s: Subcategory = {
        code,
        name: d.name,
        keywords: d.general || d.noKeywords ? [] : keywordsFor(d.baseName),
        department: d.department,
        territorial: d.territorial,
        sla: slaFor(c, d.name),
        channelCodes,
        provenance: d.provenance,
      };
      if (d.l1 && d.l1 !== c.l1) s.l1 = d.l1;
      const mu = MIN_URGENCY[d.key];
      if (mu) s.minUrgency = mu;
      return s;
    });
    return { code: c.code, name: c.name, l1: c.l1, department: c.department, subcategories };
  });

  const total = categories.reduce((a, c) => a + c.subcategories.length, 0);
  if (categories.length !== EXPECTED.categories || total !== EXPECTED.subcategories) {
    throw new Error(`catalog build: ${categories.length} categories / ${total} subcategories, expected ${EXPECTED.categories} / ${EXPECTED.subcategories}`);
  }

  const schemes: Record<string, ChannelScheme> = {
    'gbt47678.5': {
      name: 'GB/T 47678.5-2026 管理部件与管理事项 (city-management part/matter codes)',
      description: '5-digit codes (大类 2 + 小类 3). A 管理部件 and its "<部件>异常" 管理事项 share a code and map to one subcategory.',
      requireAllMapped: true,
      codes: gbtCodes,
    },
    'hotline-12345': { name: '12345 hotline subcategory codes (Wuhan 市长专线 list)', requireAllMapped: true, codes: whCodes },
    ...emittedSchemes,
    open311: {
      name: 'Open311 service_code: the catalog\'s own subcategory codes (services.json is built from the catalog)',
      connector: 'open311',
      subcategoryCodes: true,
      codes: [],
    },
    'message-board-type': {
      name: '领导留言板 留言类型 (message types): an appeal type, not a category',
      notCategorical: true,
      codes: MESSAGE_BOARD_TYPES.map(([code, name]) => ({ code, name })),
    },
  };

  return {
    $schema: '../catalog.schema.json',
    catalogVersion: DEFAULT_CATALOG_VERSION,
    title: 'intake-hub default matter catalog (20 categories / 828 subcategories)',
    description: 'Built by `intake-hub catalog build` from GB/T 47678.5-2026, the TipDM 2020 taxonomy, the Wuhan 12345 subcategory list and project lists. See docs/catalog.md.',
    expectedCounts: { ...EXPECTED },
    l1Labels: Object.values(L1),
    l1Defaults: L1_DEFAULTS,
    channelSchemes: schemes,
    categories,
  };
}

/** Builds and writes the default catalog; returns the counts. */
export function writeDefaultCatalog(out: string, emitted: readonly EmittedCodeTable[], src?: BuildSources): { categories: number; subcategories: number } {
  const doc = buildDefaultCatalog(emitted, src);
  writeFileSync(out, serializeCatalog(doc));
  return { categories: doc.categories.length, subcategories: doc.categories.reduce((a, c) => a + c.subcategories.length, 0) };
}
