/**
 * The categories a resident picks in the app (`category`, free text ≤ 64 on the wire): this
 * project's picker list (docs/connectors/resident-app.md). The code is the name itself. The catalog
 * maps each (`core/catalog/channel-maps.ts`); a string outside the list resolves to nothing and the
 * text decides.
 */
export const RESIDENT_APP_CATEGORIES: ReadonlyArray<{ code: string; name: string; aliases?: string[] }> = [
  { code: '市政设施', name: '市政设施', aliases: ['公共设施'] },
  { code: '道路交通', name: '道路交通', aliases: ['交通出行'] },
  { code: '市容环境', name: '市容环境', aliases: ['环境卫生', '市容环卫'] },
  { code: '噪音扰民', name: '噪音扰民', aliases: ['噪声扰民'] },
  { code: '违法建设', name: '违法建设', aliases: ['违章建筑', '私搭乱建'] },
  { code: '占道经营', name: '占道经营' },
  { code: '乱停乱放', name: '乱停乱放', aliases: ['违规停车'] },
  { code: '园林绿化', name: '园林绿化' },
  { code: '环境污染', name: '环境污染' },
  { code: '水电气暖', name: '水电气暖' },
  { code: '物业小区', name: '物业小区', aliases: ['物业管理'] },
  { code: '社会保障', name: '社会保障', aliases: ['社保'] },
  { code: '医疗卫生', name: '医疗卫生' },
  { code: '教育', name: '教育' },
  { code: '治安', name: '治安', aliases: ['社会治安'] },
  { code: '消费维权', name: '消费维权' },
  { code: '其他', name: '其他' },
];
