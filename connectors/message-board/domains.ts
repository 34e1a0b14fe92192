/**
 * The board's 领域 (domains) a poster chooses, as `domainId` + `domainName`: this project's table
 * (docs/connectors/message-board.md). `aliases` are the other names boards use for the same
 * domain, so a post that carries only a name resolves too. The catalog maps every domain
 * (`core/catalog/channel-maps.ts`); most domains span several categories, and the text decides.
 */
export interface BoardDomain {
  code: string;
  name: string;
  aliases?: string[];
}

export const MESSAGE_BOARD_DOMAINS: readonly BoardDomain[] = [
  { code: '1', name: '综合', aliases: ['其他', '其它'] },
  { code: '2', name: '政务', aliases: ['党务政务', '纪检监察'] },
  { code: '3', name: '城建', aliases: ['城乡建设', '城市建设'] },
  { code: '4', name: '交通', aliases: ['交通运输'] },
  { code: '5', name: '教育', aliases: ['教育文体'] },
  { code: '6', name: '环保', aliases: ['环境保护', '生态环境'] },
  { code: '7', name: '民生', aliases: ['民生服务'] },
  { code: '8', name: '住房', aliases: ['房产', '住房保障'] },
  { code: '9', name: '医疗', aliases: ['卫生', '医疗卫生', '卫生计生'] },
  { code: '10', name: '社保', aliases: ['就业', '劳动和社会保障', '劳动保障'] },
  { code: '11', name: '商贸', aliases: ['商贸旅游', '金融', '企业', '经济'] },
  { code: '12', name: '三农', aliases: ['农业农村', '农村农业'] },
  { code: '13', name: '治安', aliases: ['政法', '公安'] },
  { code: '14', name: '文体', aliases: ['文化', '体育', '旅游', '文旅'] },
  { code: '15', name: '城管', aliases: ['城市管理'] },
  { code: '16', name: '水电气', aliases: ['水电气暖'] },
  { code: '17', name: '国土', aliases: ['国土资源', '规划'] },
  { code: '18', name: '民政', aliases: ['社会服务'] },
];
