/**
 * 110 警情类别 (JQLB) as the dispatch system sends them: this project's table (no national list of
 * non-police categories is published; docs/connectors/police-110.md). Two-digit families, four-digit
 * items. Families 01–05 are police matters (bounced by default, `bounceCategories`); 11–19 are handed
 * over to 12345. The catalog maps every code (`core/catalog/channel-maps.ts`); an unknown item
 * resolves as its family (1109 → 11).
 */
export interface PoliceCode {
  code: string;
  name: string;
  /** A police matter (刑事, 治安, 交通事故, 火警, 群体性事件). */
  police?: boolean;
}

export const POLICE_110_CODES: readonly PoliceCode[] = [
  { code: '01', name: '刑事案件', police: true },
  { code: '02', name: '治安案件', police: true },
  { code: '03', name: '交通事故', police: true },
  { code: '04', name: '火警', police: true },
  { code: '05', name: '群体性事件', police: true },
  { code: '11', name: '噪音扰民' },
  { code: '1101', name: '噪音扰民' },
  { code: '1102', name: '施工噪音扰民' },
  { code: '1103', name: '社会生活噪音' },
  { code: '1104', name: '商业经营噪音' },
  { code: '1105', name: '工业噪音' },
  { code: '12', name: '市政设施' },
  { code: '1201', name: '井盖/路灯' },
  { code: '1202', name: '道路破损' },
  { code: '1203', name: '道路积水及下水道堵塞' },
  { code: '1204', name: '树木倒伏' },
  { code: '1205', name: '交通信号设施损坏' },
  { code: '13', name: '水电气暖' },
  { code: '1301', name: '停水停电' },
  { code: '1302', name: '燃气泄漏' },
  { code: '1303', name: '供暖故障' },
  { code: '1304', name: '停电及电力故障' },
  { code: '1305', name: '停水及漏水' },
  { code: '14', name: '环境卫生' },
  { code: '1401', name: '环境卫生' },
  { code: '1402', name: '占道经营及流动摊贩' },
  { code: '1403', name: '油烟扰民' },
  { code: '1404', name: '环境污染' },
  { code: '15', name: '动物管理' },
  { code: '1501', name: '动物管理' },
  { code: '1502', name: '动物伤人' },
  { code: '1503', name: '流浪动物' },
  { code: '1504', name: '违规养犬' },
  { code: '16', name: '劳资纠纷' },
  { code: '1601', name: '劳资纠纷' },
  { code: '17', name: '民间纠纷' },
  { code: '1701', name: '邻里纠纷' },
  { code: '1702', name: '家庭纠纷' },
  { code: '1703', name: '物业纠纷' },
  { code: '1704', name: '房屋租赁纠纷' },
  { code: '1705', name: '消费纠纷' },
  { code: '1706', name: '医疗纠纷' },
  { code: '18', name: '咨询求助' },
  { code: '1801', name: '咨询求助' },
  { code: '1802', name: '开锁求助' },
  { code: '1803', name: '车辆堵门挪车' },
  { code: '1804', name: '生活无着人员求助' },
  { code: '1805', name: '走失人员协查' },
  { code: '19', name: '其他非警务' },
  { code: '1901', name: '其他非警务' },
  { code: '1902', name: '电梯困人' },
  { code: '1903', name: '高空抛物' },
];

/** The police-matter families bounced by default. */
export const POLICE_MATTER_CODES: readonly string[] = POLICE_110_CODES.filter((c) => c.police).map((c) => c.code);
