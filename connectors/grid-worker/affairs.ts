import type { TicketDraft } from '../../core/sdk/draft';

/**
 * Grid affairs (网格事务 4类25项): the list of matters a grid worker reports, as this project
 * defines it (modelled on district lists such as Xindu's; no national code list exists). Codes are
 * a class letter and a two-digit item number. Each item carries the appeal type a report of it
 * defaults to; the terminal may override it (a worker recording a resident's complaint).
 */
export interface AffairItem {
  code: string;
  name: string;
  appealType: TicketDraft['appealType'];
}

export const AFFAIR_CLASSES: Record<string, string> = {
  A: '矛盾纠纷',
  B: '安全隐患',
  C: '民生服务',
  D: '城市管理',
};

const items: [string, string, TicketDraft['appealType']][] = [
  ['A01', '邻里纠纷', 'help'],
  ['A02', '婚姻家庭纠纷', 'help'],
  ['A03', '物业服务纠纷', 'complaint'],
  ['A04', '劳资纠纷', 'help'],
  ['A05', '土地房屋纠纷', 'help'],
  ['A06', '其他矛盾纠纷', 'help'],
  ['B01', '消防安全隐患', 'report'],
  ['B02', '燃气安全隐患', 'report'],
  ['B03', '房屋建筑安全隐患', 'report'],
  ['B04', '道路交通安全隐患', 'report'],
  ['B05', '食品药品安全隐患', 'report'],
  ['B06', '防汛及地质灾害隐患', 'report'],
  ['B07', '电动自行车违规停放充电', 'report'],
  ['C01', '特殊人群关爱', 'help'],
  ['C02', '社会救助', 'help'],
  ['C03', '就业与社会保障', 'consult'],
  ['C04', '医疗卫生服务', 'help'],
  ['C05', '教育服务', 'consult'],
  ['C06', '水电气公共服务报修', 'help'],
  ['D01', '环境卫生', 'report'],
  ['D02', '违法建设', 'report'],
  ['D03', '占道经营', 'report'],
  ['D04', '车辆乱停乱放', 'report'],
  ['D05', '市政设施损坏', 'report'],
  ['D06', '园林绿化', 'report'],
];

export const AFFAIR_ITEMS: ReadonlyMap<string, AffairItem> = new Map(items.map(([code, name, appealType]) => [code, { code, name, appealType }]));
