import fc from 'fast-check';
import iconv from 'iconv-lite';
import { CONNECTORS } from '../../connectors';
import { configAjv, formatAjvErrors } from '../schema/ajv';
import { assembleTicket } from '../pipeline/enrich';
import type { CanonicalTicket } from '../schema/types';
import { validateTicket } from '../schema/validators';
import type { RawInput } from '../sdk/connector';
import { escapeXml } from '../sdk/xml';

/**
 * The personal-data leak harness (issue 11): every shape of identifier, rendered as residents,
 * operators and speech recognition write it, placed in every field of every channel's native format
 * that can carry text or a source value, run through the connector's normalize and the enrich
 * stage; a sample leaks when the full identifier can be read back from any string of the ticket.
 * Used by connectors/pii-leaks.test.ts (0 leaks) and bench/pii/leaks.ts (the per-shape table in
 * docs/SECURITY.md).
 *
 * The leak check is independent of the masking engine: every string of the ticket (keys too,
 * URLs percent-decoded) is folded (NFKC, Chinese numerals to digits) and reduced to the characters
 * of the identifier's class (digits; letters and digits; CJK), and the identifier is looked for in
 * that projection, so separators, full-width forms or markup cannot hide a leak from it.
 */

export type Kind = 'mobile' | 'landline' | 'id18' | 'id15' | 'card' | 'email' | 'plate' | 'qq' | 'wechat' | 'passport' | 'name' | 'reporter-name';

export interface Identifier {
  kind: Kind;
  /** What must never be readable in a published field (digits of a phone, the whole e-mail…). */
  needle: string;
  /** The identifier's parts a renderer needs (area code and number, local part and domain…). */
  parts: Record<string, string>;
}

export interface Shape {
  /** `kind/rendering`, e.g. `mobile/one-digit-per-token`. */
  name: string;
  kind: Kind;
  /** The text carrying the identifier (a few words around it). */
  render(id: Identifier): string;
}

// ---------------------------------------------------------------------------------------------
// identifiers

const digits = (n: number): fc.Arbitrary<string> => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.join(''));
const REGIONS = ['110101', '310104', '340104', '420102', '440305', '510107', '530102', '610113', '320506', '430104'];
const AREAS = ['10', '21', '20', '27', '28', '551', '731', '571', '311', '755', '591', '871'];
const PROVINCES = Array.from('京津沪渝冀豫云辽黑湘皖鲁苏浙赣鄂桂甘晋蒙陕吉闽贵粤青川宁琼');
const PLATE_LETTERS = Array.from('ABCDEFGHJKLMNPQRSTUVWXYZ');
const SURNAMES = Array.from('王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤常温康施欧阳');
const GIVEN = Array.from('伟芳娜敏静丽强磊军洋勇艳杰娟涛超秀霞刚桂英华玉萍红梅鹏飞建国志兰凤云辉斌宇浩凯晨欣怡婷雪琳晓燕丹慧颖倩锋波鑫');

function id18Check(first17: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(first17[i]) * (w[i] as number);
  return '10X98765432'[s % 11] as string;
}

function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let n = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
  }
  return String((10 - (sum % 10)) % 10);
}

const birth = fc.record({ y: fc.integer({ min: 1940, max: 2012 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }) }).map(({ y, m, d }) => `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`);

export const IDENTIFIERS: Record<Kind, fc.Arbitrary<Identifier>> = {
  mobile: fc.tuple(fc.constantFrom('3', '5', '6', '7', '8', '9'), digits(9)).map(([b, r]) => ({ kind: 'mobile' as const, needle: `1${b}${r}`, parts: { n: `1${b}${r}` } })),
  landline: fc.tuple(fc.constantFrom(...AREAS), fc.constantFrom('2', '3', '5', '6', '8'), fc.oneof(digits(6), digits(7)), digits(4)).map(([a, f, r, ext]) => ({ kind: 'landline' as const, needle: `${f}${r}`, parts: { area: `0${a}`, n: `${f}${r}`, ext: ext.replace(/^0/, '8') } })),
  id18: fc.tuple(fc.constantFrom(...REGIONS), birth, digits(3)).map(([r, b, q]) => {
    const s = `${r}${b}${q}`;
    return { kind: 'id18' as const, needle: s + id18Check(s), parts: { n: s + id18Check(s) } };
  }),
  id15: fc.tuple(fc.constantFrom(...REGIONS), birth, digits(3)).map(([r, b, q]) => ({ kind: 'id15' as const, needle: `${r}${b.slice(2)}${q}`, parts: { n: `${r}${b.slice(2)}${q}` } })),
  card: fc.tuple(fc.constantFrom('6222', '6228', '6217', '6212', '4392', '6259'), fc.integer({ min: 16, max: 19 }), digits(15)).map(([p, len, r]) => {
    const body = (p + r).slice(0, len - 1);
    return { kind: 'card' as const, needle: body + luhnDigit(body), parts: { n: body + luhnDigit(body) } };
  }),
  email: fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{2,9}(\.[a-z0-9]{2,6})?$/), fc.constantFrom('qq.com', '163.com', 'example.cn', 'gmail.com', 'sina.com.cn', '126.com')).map(([l, d]) => ({ kind: 'email' as const, needle: `${l}@${d}`, parts: { local: l, domain: d } })),
  plate: fc.tuple(fc.constantFrom(...PROVINCES), fc.constantFrom(...PLATE_LETTERS), fc.oneof(fc.tuple(fc.constantFrom(...PLATE_LETTERS), digits(4)).map(([l, d]) => `${d.slice(0, 2)}${l}${d.slice(2)}`), digits(5), fc.tuple(fc.constantFrom('D', 'F'), digits(5)).map(([e, d]) => `${e}${d}`))).map(([p, l, r]) => ({ kind: 'plate' as const, needle: `${p}${l}${r}`, parts: { p, l, r } })),
  qq: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 4, max: 10 }), digits(10)).map(([f, len, r]) => ({ kind: 'qq' as const, needle: `${f}${r.slice(0, len)}`, parts: { n: `${f}${r.slice(0, len)}` } })),
  wechat: fc.stringMatching(/^[a-z][a-z0-9_-]{5,15}$/).filter((s) => /\d/.test(s) || s.length > 8).map((w) => ({ kind: 'wechat' as const, needle: w, parts: { n: w } })),
  passport: fc.tuple(fc.constantFrom('E', 'G', 'EA', 'EB'), digits(8)).map(([p, d]) => {
    const n = p.length === 2 ? `${p}${d.slice(0, 7)}` : `${p}${d}`;
    return { kind: 'passport' as const, needle: n, parts: { n } };
  }),
  name: fc.tuple(fc.constantFrom(...SURNAMES), fc.constantFrom(...GIVEN), fc.option(fc.constantFrom(...GIVEN), { nil: '' })).map(([s, g1, g2]) => ({ kind: 'name' as const, needle: `${s}${g1}${g2}`, parts: { n: `${s}${g1}${g2}` } })),
  'reporter-name': fc.tuple(fc.constantFrom(...SURNAMES), fc.constantFrom(...GIVEN), fc.option(fc.constantFrom(...GIVEN), { nil: '' })).map(([s, g1, g2]) => ({ kind: 'reporter-name' as const, needle: `${s}${g1}${g2}`, parts: { n: `${s}${g1}${g2}` } })),
};

// ---------------------------------------------------------------------------------------------
// renderings

const CN = '零幺二三四五六七八九';
const CN_PLAIN = '零一二三四五六七八九';
const wide = (s: string): string => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const cn = (s: string, table = CN): string => s.replace(/\d/g, (d) => table[Number(d)] as string);
const perToken = (s: string): string => s.split('').join(' ');
const group = (s: string, sizes: number[], sep: string): string => {
  const out: string[] = [];
  let at = 0;
  for (const n of sizes) {
    if (at >= s.length) break;
    out.push(s.slice(at, at + n));
    at += n;
  }
  if (at < s.length) out.push(s.slice(at));
  return out.join(sep);
};
const n = (i: Identifier): string => i.parts.n as string;

function shapes(kind: Kind, list: [string, (i: Identifier) => string][]): Shape[] {
  return list.map(([name, render]) => ({ name: `${kind}/${name}`, kind, render }));
}

export const SHAPES: Shape[] = [
  ...shapes('mobile', [
    ['plain', (i) => `手机${n(i)}`],
    ['spaces-3-4-4', (i) => `电话 ${group(n(i), [3, 4, 4], ' ')}`],
    ['hyphens', (i) => `联系电话：${group(n(i), [3, 4, 4], '-')}`],
    ['dots', (i) => `${group(n(i), [3, 4, 4], '.')}`],
    ['en-dashes', (i) => `电话${group(n(i), [3, 4, 4], '–')}`],
    ['em-dashes', (i) => `电话${group(n(i), [3, 4, 4], '—')}`],
    ['parentheses', (i) => `(${n(i).slice(0, 3)})${n(i).slice(3, 7)}-${n(i).slice(7)}`],
    ['full-width', (i) => `电话${wide(n(i))}`],
    ['full-width-grouped', (i) => wide(group(n(i), [3, 4, 4], '-'))],
    ['plus86', (i) => `+86 ${n(i)}`],
    ['plus86-grouped', (i) => `+86-${group(n(i), [3, 4, 4], '-')}`],
    ['0086', (i) => `0086${n(i)}`],
    ['86-glued', (i) => `86${n(i)}`],
    ['chinese-numerals-yao', (i) => `我的号码是${cn(n(i))}`],
    ['chinese-numerals-spaced', (i) => `号码 ${perToken(cn(n(i)))}`],
    ['chinese-numerals-yi', (i) => `电话${cn(n(i), CN_PLAIN)}`],
    ['one-digit-per-token', (i) => `号码是 ${perToken(n(i))}`],
    ['glued-letters', (i) => `tel${n(i)}abc`],
    ['glued-cjk', (i) => `打${n(i)}找我`],
  ]),
  ...shapes('landline', [
    ['area-hyphen', (i) => `座机${i.parts.area}-${n(i)}`],
    ['area-parentheses', (i) => `电话(${i.parts.area})${n(i)}`],
    ['area-full-width-parentheses', (i) => `电话（${i.parts.area}）${n(i)}`],
    ['area-glued', (i) => `${i.parts.area}${n(i)}`],
    ['area-spaces', (i) => `${i.parts.area} ${group(n(i), [4, 4], ' ')}`],
    ['area-full-width', (i) => wide(`${i.parts.area}-${n(i)}`)],
    ['area-plus86', (i) => `+86 ${(i.parts.area as string).slice(1)} ${n(i)}`],
    ['extension-hyphen', (i) => `${i.parts.area}-${n(i)}-${i.parts.ext}`],
    ['extension-zhuan', (i) => `${i.parts.area}-${n(i)}转${i.parts.ext}`],
    ['extension-ext', (i) => `(${i.parts.area})${n(i)} ext.${i.parts.ext}`],
    ['local-cue', (i) => `电话${n(i)}`],
    ['local-cue-grouped', (i) => `座机：${group(n(i), [n(i).length - 4, 4], '-')}`],
    ['local-dial', (i) => `请拨打 ${n(i)} 联系`],
    ['local-full-width', (i) => `联系电话${wide(n(i))}`],
    ['local-chinese-numerals', (i) => `电话是${cn(n(i))}`],
    ['local-one-digit-per-token', (i) => `号码 ${perToken(n(i))}`],
  ]),
  ...shapes('id18', [
    ['plain', (i) => `身份证${n(i)}`],
    ['spaces-6-8-4', (i) => group(n(i), [6, 8, 4], ' ')],
    ['spaces-6-4-4-4', (i) => `身份证号 ${group(n(i), [6, 4, 4, 4], ' ')}`],
    ['hyphens', (i) => group(n(i), [6, 8, 4], '-')],
    ['dots', (i) => group(n(i), [6, 8, 4], '.')],
    ['full-width', (i) => `身份证${wide(n(i))}`],
    ['glued-letters', (i) => `ID${n(i)}abc`],
    ['lower-case-x', (i) => `身份证号码：${n(i).toLowerCase()}`],
    ['one-digit-per-token', (i) => `身份证 ${perToken(n(i))}`],
    ['chinese-numerals', (i) => `身份证号${cn(n(i), CN_PLAIN)}`],
  ]),
  ...shapes('id15', [
    ['plain', (i) => `旧身份证${n(i)}`],
    ['spaces', (i) => group(n(i), [6, 6, 3], ' ')],
    ['full-width', (i) => wide(n(i))],
    ['glued-letters', (i) => `no${n(i)}x`],
  ]),
  ...shapes('card', [
    ['plain', (i) => `卡号${n(i)}`],
    ['spaces-4', (i) => `银行卡 ${group(n(i), [4, 4, 4, 4, 4], ' ')}`],
    ['hyphens-4', (i) => group(n(i), [4, 4, 4, 4, 4], '-')],
    ['full-width', (i) => `卡号${wide(n(i))}`],
    ['glued-cjk', (i) => `转账到${n(i)}账户`],
  ]),
  ...shapes('email', [
    ['plain', (i) => `邮箱${i.parts.local}@${i.parts.domain}`],
    ['full-width-at', (i) => `${i.parts.local}＠${i.parts.domain}`],
    ['full-width', (i) => wide(`${i.parts.local}@${i.parts.domain}`)],
    ['upper-case', (i) => `E-mail: ${`${i.parts.local}@${i.parts.domain}`.toUpperCase()}`],
  ]),
  ...shapes('plate', [
    ['plain', (i) => `车牌${i.parts.p}${i.parts.l}${i.parts.r}`],
    ['middle-dot', (i) => `${i.parts.p}${i.parts.l}·${i.parts.r}`],
    ['space', (i) => `车牌号 ${i.parts.p}${i.parts.l} ${i.parts.r}`],
    ['lower-case', (i) => `${i.parts.p}${(i.parts.l as string).toLowerCase()}${(i.parts.r as string).toLowerCase()}的车`],
    ['full-width', (i) => `${i.parts.p}${wide(`${i.parts.l}${i.parts.r}`)}`],
  ]),
  ...shapes('qq', [
    ['cue', (i) => `QQ：${n(i)}`],
    ['cue-lower', (i) => `qq号${n(i)}`],
    ['cue-koukou', (i) => `扣扣 ${n(i)}`],
    ['full-width', (i) => `ＱＱ${wide(n(i))}`],
  ]),
  ...shapes('wechat', [
    ['cue', (i) => `微信号：${n(i)}`],
    ['vx', (i) => `加我vx ${n(i)}`],
    ['english', (i) => `WeChat: ${n(i)}`],
  ]),
  ...shapes('passport', [
    ['cue', (i) => `护照号码${n(i)}`],
    ['bare', (i) => `证件${n(i)}`],
  ]),
  ...shapes('name', [
    ['wo-jiao', (i) => `我叫${n(i)}，`],
    ['lianxiren', (i) => `联系人：${n(i)} `],
    ['xingming', (i) => `姓名：${n(i)}。`],
    ['baojingren', (i) => `报警人${n(i)}称`],
    ['benren', (i) => `本人${n(i)}，`],
    ['wo-shi', (i) => `我是${n(i)}，`],
  ]),
  ...shapes('reporter-name', [
    ['recurring', (i) => `${n(i)}家门口`],
    ['recurring-spaced', (i) => `${n(i).slice(0, 1)} ${n(i).slice(1)}反映`],
  ]),
];

// ---------------------------------------------------------------------------------------------
// channels

export interface Placement {
  channel: string;
  /** Where the identifier goes, in the channel's own words (`SQNR`, `content`, `attribute[note]`). */
  field: string;
}

interface ChannelDef {
  name: string;
  type: string;
  config: Record<string, unknown>;
  /** field → max length it accepts (longer snippets skip the field) */
  fields: Record<string, number>;
  /** builds a raw report with `snippet` in `field`, and the reporter's name set to `name` when given */
  build(field: string, snippet: string, name: string | null): Buffer;
  contentType: string;
  transport: RawInput['transport'];
}

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
const url = (snippet: string, where: 'query' | 'path'): string => (where === 'query' ? `https://img.example.cn/a/1.jpg?note=${encodeURIComponent(snippet)}&size=2` : `https://img.example.cn/u/${encodeURIComponent(snippet)}/1.jpg`);

const TEXT = 'XX路口的井盖破损，';
const TEXT_FIELDS = { text: 2000, title: 300, address: 500 };

export const CHANNELS: ChannelDef[] = [
  {
    name: 'resident-app (JSON)',
    type: 'resident-app',
    config: { secrets: null },
    contentType: 'application/json',
    transport: 'webhook',
    fields: { ...TEXT_FIELDS, district: 64, street: 64, category: 64, 'photos[query]': 1500, 'photos[path]': 1500, nickname: 64 },
    build: (f, s, name) => {
      const loc: Record<string, unknown> = { lng: 117.28, lat: 31.74, coordType: 'gcj02', address: f === 'address' ? s : '包河区幸福小区', district: f === 'district' ? s : '包河区', street: f === 'street' ? s : '望湖街道' };
      return json({
        reportId: 'RA-PII-1',
        openid: 'oPiiUser01',
        nickname: name ?? (f === 'nickname' ? s : '网友'),
        category: f === 'category' ? s : '市政设施',
        title: f === 'title' ? s : '井盖破损',
        text: f === 'text' ? `${TEXT}${s}请处理` : `${TEXT}请处理${name ? `，${s}` : ''}`,
        photos: f === 'photos[query]' ? [url(s, 'query')] : f === 'photos[path]' ? [url(s, 'path')] : [],
        location: loc,
        submittedAt: '2026-11-20T08:00:00+08:00',
      });
    },
  },
  ...(['utf-8', 'gbk'] as const).map(
    (charset): ChannelDef => ({
      name: `hotline-12345 (${charset === 'gbk' ? 'GBK ' : ''}JSON)`,
      type: 'hotline-12345',
      config: { baseUrl: 'http://127.0.0.1:1' },
      contentType: `application/json; charset=${charset}`,
      transport: 'poller',
      fields: { SQNR: 2000, SQBT: 300, SQDZ: 500, XZQH: 64, JD: 64, SQ: 64, FLMC: 128, ZT: 32, LYQD: 32, 'FJ[query]': 1500, LDRXM: 64 },
      build: (f, s, name) => {
        const doc = {
          GDBH: 'GD202601050001',
          LDSJ: '2026-01-05 09:00:00',
          GXSJ: '2026-01-05 09:05:00',
          LDHM: '13800000001',
          LDRXM: name ?? (f === 'LDRXM' ? s : '张某'),
          SQBT: f === 'SQBT' ? s : '夜间施工噪音扰民',
          SQNR: f === 'SQNR' ? `市民来电反映：${s}，工地夜间施工` : `市民来电反映：工地夜间施工${name ? `，${s}` : ''}`,
          SQDZ: f === 'SQDZ' ? s : '江岸区后湖大道123号',
          SQLX: '投诉',
          XZQH: f === 'XZQH' ? s : '江岸区',
          JD: f === 'JD' ? s : '后湖街道',
          SQ: f === 'SQ' ? s : '幸福社区',
          FLDM: '045',
          FLMC: f === 'FLMC' ? s : '噪音扰民',
          ZT: f === 'ZT' ? s : '已受理',
          LYQD: f === 'LYQD' ? s : '电话',
          FJ: f === 'FJ[query]' ? [url(s, 'query')] : [],
        };
        const text = JSON.stringify(doc);
        return charset === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.from(text);
      },
    }),
  ),
  {
    name: 'police-110 (XML)',
    type: 'police-110',
    config: { secrets: null },
    contentType: 'application/xml',
    transport: 'webhook',
    fields: { JYQK: 2000, JQLBMC: 64, SFDZ: 500, XZQH: 64, SSFJ: 64, JJDW: 64, 'FJ[query]': 1500, BJR: 64 },
    build: (f, s, name) => {
      const v = (k: string, def: string): string => escapeXml(f === k ? s : def);
      const jyqk = f === 'JYQK' ? `来电称${s}家门口噪音` : `来电称楼上噪音很大${name ? `，${s}` : ''}`;
      return Buffer.from(
        `<?xml version="1.0" encoding="UTF-8"?><JQXX><JQBH>J340111202611200001</JQBH><BJSJ>2026-11-20 01:11:21</BJSJ><BJR>${escapeXml(name ?? (f === 'BJR' ? s : '张某'))}</BJR><LXDH>13800000001</LXDH><NMBJ>0</NMBJ><JQLB>1101</JQLB><JQLBMC>${v('JQLBMC', '噪音扰民')}</JQLBMC><SQLX>投诉</SQLX><SFDZ>${v('SFDZ', '包河区幸福小区3栋')}</SFDZ><XZQH>${v('XZQH', '包河区')}</XZQH><JYQK>${escapeXml(jyqk)}</JYQK><JJCD>1</JJCD><SSFJ>${v('SSFJ', '包河分局')}</SSFJ><JJDW>${v('JJDW', '指挥室')}</JJDW>${f === 'FJ[query]' ? `<FJLB><FJ>${escapeXml(url(s, 'query'))}</FJ></FJLB>` : ''}</JQXX>`,
      );
    },
  },
  {
    name: 'open311 (form)',
    type: 'open311',
    config: {},
    contentType: 'application/x-www-form-urlencoded',
    transport: 'webhook',
    fields: { description: 2000, address_string: 500, 'attribute[note]': 1000, jurisdiction_id: 128, address_id: 128, media_url: 1500, first_name: 64 },
    build: (f, s, name) => {
      const p = new URLSearchParams();
      p.set('service_code', 'C01.002');
      p.set('lat', '31.7406');
      p.set('long', '117.2845');
      p.set('address_string', f === 'address_string' ? s : '包河区幸福小区1栋');
      p.set('description', f === 'description' ? `${s}，门口井盖破损` : `门口井盖破损${name ? `，${s}` : ''}`);
      if (name) {
        p.set('last_name', name.slice(0, 1));
        p.set('first_name', name.slice(1));
      } else if (f === 'first_name') p.set('first_name', s);
      p.set('phone', '13800000001');
      if (f === 'attribute[note]') p.set('attribute[note]', s);
      if (f === 'jurisdiction_id') p.set('jurisdiction_id', s);
      if (f === 'address_id') p.set('address_id', s);
      if (f === 'media_url') p.set('media_url', url(s, 'query'));
      return Buffer.from(p.toString());
    },
  },
  {
    name: 'mapped-webhook (JSON)',
    type: 'mapped-webhook',
    config: {
      signature: { scheme: 'none' },
      categoryScheme: 'district-app',
      mapping: {
        sourceId: '/id',
        text: '/content/body',
        title: '/content/title',
        name: '/user/nick',
        phone: '/user/mobile',
        userId: '/user/uid',
        category: '/category/code',
        categoryName: '/category/name',
        address: '/geo/addr',
        district: '/geo/district',
        street: '/geo/street',
        community: '/geo/community',
        grid: '/geo/grid',
        attachments: '/content/images',
        channelFields: { clientSource: '/extra/source', note: '/extra/note' },
      },
      tables: { category: { A0101: { code: '01002', name: '污水井盖' } } },
    },
    contentType: 'application/json',
    transport: 'webhook',
    fields: { body: 2000, title: 300, addr: 500, district: 64, street: 64, community: 64, grid: 32, 'category.code': 64, 'category.name': 128, 'extra.note': 1000, 'images[query]': 1500, 'images[path]': 1500, nick: 64, id: 128 },
    build: (f, s, name) =>
      json({
        id: f === 'id' ? s : 'EBH-20261120-0001',
        content: { title: f === 'title' ? s : '井盖破损', body: f === 'body' ? `${s}，井盖破损` : `井盖破损${name ? `，${s}` : ''}`, images: f === 'images[query]' ? [url(s, 'query')] : f === 'images[path]' ? [url(s, 'path')] : [] },
        category: { code: f === 'category.code' ? s : 'A0101', name: f === 'category.name' ? s : '井盖' },
        user: { nick: name ?? (f === 'nick' ? s : '网友'), mobile: '13800000001', uid: 'u1001' },
        geo: { addr: f === 'addr' ? s : '包河区幸福路', district: f === 'district' ? s : '包河区', street: f === 'street' ? s : '望湖街道', community: f === 'community' ? s : '幸福社区', grid: f === 'grid' ? s : '340111001002003' },
        extra: { source: 'app', note: f === 'extra.note' ? s : '无' },
      }),
  },
  {
    name: 'grid-worker (NATS JSON)',
    type: 'grid-worker',
    config: { servers: ['nats://127.0.0.1:1'], stream: 'S', subjects: ['grid.>'], durable: 'd' },
    contentType: 'application/json',
    transport: 'subscription',
    fields: { text: 2000, title: 300, 'location.address': 500, gridName: 64, 'photos[query]': 1500, workerName: 32 },
    build: (f, s, name) =>
      json({
        reportId: 'GW-510114-20261120-0001',
        workerId: 'WGY-0114-001',
        workerName: name ?? (f === 'workerName' ? s : '张某'),
        workerPhone: '13800000001',
        gridCode: '510114001001003',
        gridName: f === 'gridName' ? s : '桂湖社区第3网格',
        itemCode: 'A01',
        title: f === 'title' ? s : '邻里纠纷',
        text: f === 'text' ? `住户反映${s}，需调解` : `住户争执，需调解${name ? `，${s}` : ''}`,
        reportedAt: '2026-11-20T09:07:00+08:00',
        location: { lng: 104.16, lat: 30.82, coordType: 'gcj02', address: f === 'location.address' ? s : '新都区桂湖社区5栋' },
        photos: f === 'photos[query]' ? [url(s, 'query')] : [],
      }),
  },
  {
    name: 'city-management (JSON)',
    type: 'city-management',
    config: { mode: 'pull', baseUrl: 'http://127.0.0.1:1' },
    contentType: 'application/json',
    transport: 'poller',
    fields: { description: 2000, address: 500, typeName: 128, 'photos[query]': 1500, inspectorName: 64 },
    build: (f, s, name) =>
      json({
        caseNo: 'CG2026010500001',
        reportTime: '2026-01-05T08:01:00+08:00',
        updateTime: '2026-01-05T08:01:30+08:00',
        caseClass: '部件',
        typeCode: '01002',
        typeName: f === 'typeName' ? s : '污水井盖',
        gridCode: '420102001002003',
        address: f === 'address' ? s : '江岸区大智路',
        description: f === 'description' ? `井盖缺失，${s}` : `井盖缺失${name ? `，${s}` : ''}`,
        source: '监督员上报',
        inspectorId: 'JDY-0101',
        inspectorName: name ?? (f === 'inspectorName' ? s : '张某'),
        photos: f === 'photos[query]' ? [url(s, 'query')] : [],
        status: '待立案',
      }),
  },
  {
    name: 'message-board (HTML)',
    type: 'message-board',
    config: { baseUrl: 'http://127.0.0.1:1' },
    contentType: 'application/json',
    transport: 'poller',
    fields: { content: 2000, 'content[tags-inside]': 2000, 'content[entities]': 4000, title: 300, county: 64, toLeader: 128, 'attachments[query]': 1500, nickName: 64 },
    build: (f, s, name) => {
      const html = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      let content = `<p>尊敬的市长：</p><p>工地夜间施工${name ? `，${html(s)}` : ''}</p>`;
      if (f === 'content') content = `<p>尊敬的市长：</p><p><b>${html(s)}</b>，工地夜间施工</p>`;
      // markup inside the identifier: "13<b>8123</b>45678" reads as one number once tags are dropped
      if (f === 'content[tags-inside]') content = `<p>${html(s.slice(0, Math.ceil(s.length / 2)))}<b>${html(s.slice(Math.ceil(s.length / 2)))}</b></p><p>工地夜间施工</p>`;
      // every character as a numeric character reference
      if (f === 'content[entities]') content = `<p>${Array.from(s).map((c) => `&#${c.codePointAt(0)};`).join('')}</p><p>工地夜间施工</p>`;
      return json({
        tid: '3100001',
        title: f === 'title' ? s : '工地夜间施工扰民',
        content,
        domainId: '3',
        domainName: '城建',
        typeName: '投诉',
        toLeader: f === 'toLeader' ? s : '市长',
        county: f === 'county' ? s : '江岸区',
        createdAt: 1767574860000,
        uid: 'u900001',
        nickName: name ?? (f === 'nickName' ? s : '网友某某'),
        anonymous: false,
        attachments: f === 'attachments[query]' ? [url(s, 'query')] : [],
        replyStatus: '待回复',
      });
    },
  },
];

/** The field of each channel that carries the reporter's own name (for reporter-name shapes). */
const NAME_FIELD: Record<string, string> = {
  'resident-app (JSON)': 'nickname',
  'hotline-12345 (JSON)': 'LDRXM',
  'hotline-12345 (GBK JSON)': 'LDRXM',
  'police-110 (XML)': 'BJR',
  'open311 (form)': 'first_name',
  'mapped-webhook (JSON)': 'nick',
  'grid-worker (NATS JSON)': 'workerName',
  'city-management (JSON)': 'inspectorName',
  'message-board (HTML)': 'nickName',
};

// ---------------------------------------------------------------------------------------------
// the check

const CN_FOLD: Record<string, string> = { 零: '0', 〇: '0', 一: '1', 幺: '1', 二: '2', 两: '2', 三: '3', 四: '4', 五: '5', 六: '6', 七: '7', 八: '8', 九: '9' };

function project(s: string, kind: Kind): string {
  let t = s;
  if (/%[0-9A-Fa-f]{2}/.test(t)) {
    try {
      t = decodeURIComponent(t.replace(/\+/g, ' '));
    } catch {
      /* keep as is */
    }
  }
  t = t.normalize('NFKC').replace(/[零〇一幺二两三四五六七八九]/g, (c) => CN_FOLD[c] as string);
  switch (kind) {
    case 'name':
    case 'reporter-name':
      return t.replace(/[^\u3400-\u9fff]/g, '');
    case 'email':
      return t.toLowerCase().replace(/\s/g, '');
    case 'plate':
    case 'passport':
      return t.toUpperCase().replace(/[^\u3400-\u9fffA-Z0-9]/g, '');
    case 'wechat':
      return t.toLowerCase().replace(/[^a-z0-9_-]/g, '');
    default:
      return t.replace(/[^0-9X]/gi, '');
  }
}

function needleOf(id: Identifier): string {
  if (id.kind === 'email') return id.needle.toLowerCase();
  if (id.kind === 'plate' || id.kind === 'passport') return id.needle.toUpperCase();
  return id.needle;
}

function strings(v: unknown, out: { path: string; value: string }[], path = ''): void {
  if (typeof v === 'string') out.push({ path, value: v });
  else if (Array.isArray(v)) v.forEach((x, i) => strings(x, out, `${path}/${i}`));
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.push({ path: `${path}/${k} (key)`, value: k });
      strings(x, out, `${path}/${k}`);
    }
}

// values made by the hub, not from the report: times, ULIDs, digests, keyed tokens (their digits
// could match a short needle by chance)
const MADE_BY_HUB = /^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z|[0-9A-HJKMNP-TV-Z]{26}|[0-9a-f]{64}|(?:ct1_|[a-z][a-z0-9]{1,7}-)[0-9a-f]{32}|[a-z0-9-]+:(?:[a-z][a-z0-9]{1,7}-)[0-9a-f]{32})$/;

/** The paths of `doc` where `id` can be read in full. */
export function leaksIn(doc: unknown, id: Identifier): string[] {
  const all: { path: string; value: string }[] = [];
  strings(doc, all);
  const needle = needleOf(id);
  return all.filter((s) => !MADE_BY_HUB.test(s.value) && project(s.value, id.kind).includes(needle)).map((s) => s.path);
}

export interface SampleResult {
  shape: string;
  channel: string;
  field: string;
  outcome: 'published' | 'rejected';
  leaks: string[];
  rendered: string;
}

const configs = new Map<string, unknown>();
function configOf(c: ChannelDef): unknown {
  let v = configs.get(c.name);
  if (!v) {
    const spec = CONNECTORS[c.type];
    if (!spec) throw new Error(`no connector ${c.type}`);
    v = structuredClone(c.config);
    const validate = configAjv.compile(spec.configSchema);
    if (!validate(v)) throw new Error(`${c.name}: ${formatAjvErrors(validate.errors, '', { echoNames: true })}`);
    configs.set(c.name, v);
  }
  return v;
}

export const TEST_TOKEN_SECRET = 'pii-leak-harness-secret-5f1c9e';

/** Runs one sample through the channel's normalize and the enrich stage and looks for the identifier. */
export function runSample(shape: Shape, channel: ChannelDef, field: string, id: Identifier): SampleResult {
  const rendered = shape.render(id);
  const reporter = shape.kind === 'reporter-name' ? id.needle : null;
  const body = channel.build(field, rendered, reporter);
  const raw: RawInput = { transport: channel.transport, body, contentType: channel.contentType, headers: {}, sourceId: null, receivedAt: Date.UTC(2026, 10, 20) };
  const spec = CONNECTORS[channel.type];
  if (!spec) throw new Error(`no connector ${channel.type}`);
  const base = { shape: shape.name, channel: channel.name, field, rendered };
  let ticket: CanonicalTicket;
  try {
    const draft = spec.normalize(raw, configOf(channel) as never);
    ticket = assembleTicket(draft, { channel: spec.channel, connectorId: channel.type, dedupScope: channel.type, receivedAt: raw.receivedAt ?? 0, rawTopic: 'intake.reports.v1', envelopeId: '01JDAPXXEAKHARNESS00000001', sha256: '0'.repeat(64), tokenSecret: TEST_TOKEN_SECRET });
  } catch (e) {
    // a rejection is published too: as a dead letter's message and data path, and a 4xx body
    const err = e as { message?: string; dataPath?: string | null };
    return { ...base, outcome: 'rejected', leaks: leaksIn({ message: err.message ?? String(e), dataPath: err.dataPath ?? null }, id) };
  }
  if (!validateTicket(ticket)) {
    return { ...base, outcome: 'rejected', leaks: leaksIn({ message: formatAjvErrors(validateTicket.errors, '/ticket') }, id) };
  }
  return { ...base, outcome: 'published', leaks: leaksIn(ticket, id) };
}

/** Every (shape, channel, field) the harness runs: reporter-name shapes go in text fields with the name field set. */
export function placements(shape: Shape): { channel: ChannelDef; field: string }[] {
  const out: { channel: ChannelDef; field: string }[] = [];
  for (const c of CHANNELS) {
    for (const [field, max] of Object.entries(c.fields)) {
      if (shape.kind === 'reporter-name') {
        // the name is set in the channel's name field; the text mentions it (the field is that name field)
        if (field === NAME_FIELD[c.name]) out.push({ channel: c, field });
        continue;
      }
      if (field === NAME_FIELD[c.name] && shape.kind !== 'name') continue;
      if (max > 0) out.push({ channel: c, field });
    }
  }
  return out;
}

export interface LeakReport {
  samples: number;
  published: number;
  rejected: number;
  leaked: SampleResult[];
  byShape: Map<string, { samples: number; leaked: number; rejected: number }>;
  byChannel: Map<string, { samples: number; leaked: number; rejected: number }>;
}

/** Runs `perPlacement` seeded samples of every shape in every placement. */
export function runAll(perPlacement = 2, seed = 11): LeakReport {
  const r: LeakReport = { samples: 0, published: 0, rejected: 0, leaked: [], byShape: new Map(), byChannel: new Map() };
  let k = 0;
  for (const shape of SHAPES) {
    for (const p of placements(shape)) {
      const ids = fc.sample(IDENTIFIERS[shape.kind], { seed: seed + k++, numRuns: perPlacement });
      for (const id of ids) {
        const max = p.channel.fields[p.field] ?? 0;
        if (shape.render(id).length > max) continue;
        const s = runSample(shape, p.channel, p.field, id);
        r.samples++;
        if (s.outcome === 'published') r.published++;
        else r.rejected++;
        if (s.leaks.length > 0) r.leaked.push(s);
        for (const [m, key] of [[r.byShape, shape.name], [r.byChannel, p.channel.name]] as const) {
          const e = m.get(key) ?? { samples: 0, leaked: 0, rejected: 0 };
          e.samples++;
          if (s.leaks.length > 0) e.leaked++;
          if (s.outcome === 'rejected') e.rejected++;
          m.set(key, e);
        }
      }
    }
  }
  return r;
}
