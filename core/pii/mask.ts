import { createHmac } from 'node:crypto';

/**
 * Personal data masking: the engine every published field goes through (core/pipeline/enrich.ts,
 * Open311 status answers, error messages). Contract:
 *
 * - **What is found**, in any field, after normalisation (full-width digits, letters and symbols
 *   folded to ASCII; digits may be separated by spaces, dots, hyphens, en/em dashes or parentheses,
 *   one digit per token as speech recognition writes them, or written as Chinese numerals
 *   零〇一二三四五六七八九幺两; `+86` / `0086` / `86` prefixes): mainland mobiles; landlines with
 *   and without an area code (an extension is left, the number is masked); 18- and 15-digit
 *   resident ID numbers (any grouping, glued to letters, trailing X); bank cards and other 16–19
 *   digit account numbers; e-mail addresses (also with `＠`); licence plates (also new-energy, with
 *   `·`); QQ numbers and WeChat ids after their cue words; passport and travel-permit numbers; names
 *   after cue words (我叫, 我是, 本人, 联系人, 姓名, 报警人…); and the values of an {@link Identity}
 *   (the reporter's own name, phone and user id) wherever they recur.
 * - **What is kept**: mobiles their first 3 and last 4 digits (`138****5678`), landlines the area
 *   code and last 2 digits, ID numbers the 6-digit region, cards the last 4 digits, e-mails the
 *   domain, plates the province, letter and last character, names their first character. No kept
 *   part is enough to recover the identifier.
 * - **What is left alone** (over-masking is measured on real messages, docs/SECURITY.md): service
 *   numbers (12345, 110, 400/800 lines), years, dates, times, amounts and quantities (a number
 *   followed by 元, 米, 号, 栋, 室…), house numbers, codes shorter than 7 digits, GB/T numbers.
 *
 * The functions are pure and linear in the input; a text without digits, `@`, Latin letters or
 * cue words costs one scan.
 */

// ---------------------------------------------------------------------------------------------
// Normalisation: one code unit in, one code unit out, so offsets in the folded text are offsets in
// the original.

const CN_DIGITS: Record<string, string> = { 零: '0', 〇: '0', 一: '1', 幺: '1', 二: '2', 两: '2', 三: '3', 四: '4', 五: '5', 六: '6', 七: '7', 八: '8', 九: '9' };

const FOLD_RE = /[\uff01-\uff5e\u3000零〇一幺二两三四五六七八九]/g;
const fold1 = (c: string): string => {
  const code = c.charCodeAt(0);
  if (code >= 0xff01 && code <= 0xff5e) return String.fromCharCode(code - 0xfee0);
  if (code === 0x3000) return ' ';
  return CN_DIGITS[c] ?? c;
};

/** Folds full-width ASCII to ASCII and Chinese numerals to digits; same length as the input. */
export function foldText(s: string): string {
  return s.replace(FOLD_RE, fold1);
}

// ---------------------------------------------------------------------------------------------
// Fields

export function maskName(name: string | null | undefined): string | null {
  if (name == null) return null;
  const chars = Array.from(name.trim());
  if (chars.length === 0) return null;
  if (chars.length === 1) return '*';
  return (chars[0] ?? '') + '*'.repeat(Math.min(chars.length - 1, 8));
}

/** The digits of a phone number, without `+86`/`0086` and separators (full-width and 幺 folded). */
export function normalizePhone(phone: string): string {
  let d = foldText(phone).replace(/[\s\-–—.()（）]/g, '');
  if (d.startsWith('+86')) d = d.slice(3);
  else if (d.startsWith('0086')) d = d.slice(4);
  else if (/^86(1[3-9]\d{9})$/.test(d)) d = d.slice(2);
  return d;
}

export function maskPhone(phone: string | null | undefined): string | null {
  if (phone == null) return null;
  const d = normalizePhone(phone).replace(/\D/g, '');
  if (d.length === 0) return phone.trim().length === 0 ? null : '*';
  if (/^1[3-9]\d{9}$/.test(d)) return `${d.slice(0, 3)}****${d.slice(7)}`;
  if (d.length <= 4) return '*'.repeat(d.length);
  // landlines and anything else: keep the last 2 digits only (area code + number would identify)
  return '*'.repeat(Math.min(d.length - 2, 16)) + d.slice(-2);
}

// ---------------------------------------------------------------------------------------------
// The reporter's own identifiers, masked wherever they recur in the ticket.

/** Values known to identify this ticket's reporter (from the channel's structured fields). */
export interface Identity {
  names: RegExp[];
  digits: string[];
  ids: string[];
}

const CJK_NAME = /^[\u3400-\u9fff·•]{2,8}$/;

/**
 * Prepares the reporter's name(s), phone(s) and user id(s) for {@link maskText}: names are found
 * with or without separators between their characters, phones by their digits in any rendering,
 * ids verbatim. Values too short to be distinctive (names under 2 characters, phones under 5
 * digits, ids under 6 characters) are skipped.
 */
export function prepareIdentity(v: { names?: (string | null | undefined)[]; phones?: (string | null | undefined)[]; ids?: (string | null | undefined)[] }): Identity {
  const names: RegExp[] = [];
  for (const raw of v.names ?? []) {
    const n = raw?.trim();
    if (!n) continue;
    if (CJK_NAME.test(n)) {
      const chars = Array.from(n.replace(/[·•]/g, ''));
      if (chars.length >= 2) names.push(new RegExp(chars.map(escapeRe).join('[\\s\\u3000·•・.]{0,2}'), 'g'));
    } else {
      const words = n.split(/[\s,]+/).filter((w) => w.length >= 2);
      if (words.length > 0 && n.length >= 3) names.push(new RegExp(`(?<![A-Za-z])${words.map(escapeRe).join('[\\s,.]{1,3}')}(?![A-Za-z])`, 'gi'));
      // a surname or given name alone is not an identifier; the full name is
    }
  }
  const digits: string[] = [];
  for (const p of v.phones ?? []) {
    if (!p) continue;
    const d = normalizePhone(p).replace(/\D/g, '');
    if (d.length >= 5) digits.push(d);
  }
  const ids: string[] = [];
  for (const id of v.ids ?? []) {
    const t = id?.trim();
    if (t && t.length >= 6) {
      ids.push(t);
      const d = /^\+?\d[\d\s-]{4,}$/.test(t) ? normalizePhone(t).replace(/\D/g, '') : '';
      if (d.length >= 5) digits.push(d);
    }
  }
  return { names, digits, ids };
}

export const NO_IDENTITY: Identity = { names: [], digits: [], ids: [] };

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// Detection

export type IdentifierKind = 'mobile' | 'landline' | 'id18' | 'id15' | 'card' | 'email' | 'plate' | 'qq' | 'wechat' | 'passport' | 'name' | 'known';

/** One identifier found in a text: [start, end) in UTF-16 code units, and its masked form. */
export interface Finding {
  kind: IdentifierKind;
  start: number;
  end: number;
  masked: string;
}

const SEP = new Set([' ', '-', '.', '–', '—', '(', ')', '（', '）', '\u00a0', '\t']);
// a number followed by one of these is a quantity, an amount, a house or floor number, a date part
const UNIT = new Set(Array.from('元角分万亿千百十米平方吨度个件次人户名号栋幢楼层室套间年月日天时点分秒岁斤两公里克升台辆座条张份家所组期届批项页%‰㎡元块毛镑'));
const BEFORE_AMOUNT = new Set(Array.from('¥￥$第约共计合达超近逾余'));
const PHONE_CUE = /(?:电话|手机|座机|号码|联系方式|致电|拨打|来电|热线|固话|tel|Tel|TEL|phone|Phone)[号码是为:：\s]{0,4}$/;
const QQ_CUE = /(?:QQ|qq|Qq|qQ|扣扣|企鹅号|Q号)[号码:\s是为]{0,4}$/;
const WECHAT_CUE = /(?:微信|威信|薇信|维信|[vV]信|wechat|WeChat|weixin|Weixin|wx|WX|vx|VX|Vx)[号码id ID:\s是为]{0,5}$/;
const GRID_CUE = /(?:网格|单元网格|网格码|网格编码|grid)[^0-9]{0,4}$/;

function luhn(d: string): boolean {
  let sum = 0;
  let alt = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let n = d.charCodeAt(i) - 48;
    if (alt) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
    alt = !alt;
  }
  return sum % 10 === 0;
}

function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

function isId18(d: string): boolean {
  if (!/^[1-9]\d{16}[\dX]$/.test(d)) return false;
  const y = Number(d.slice(6, 10));
  return y >= 1880 && y <= 2099 && validDate(y, Number(d.slice(10, 12)), Number(d.slice(12, 14)));
}

function isId15(d: string): boolean {
  return /^[1-9]\d{14}$/.test(d) && validDate(0, Number(d.slice(8, 10)), Number(d.slice(10, 12)));
}

function looksLikeDate8(d: string): boolean {
  const y = Number(d.slice(0, 4));
  return y >= 1900 && y <= 2099 && validDate(y, Number(d.slice(4, 6)), Number(d.slice(6, 8)));
}

interface Run {
  digits: string;
  /** original index of each digit of `digits` */
  pos: number[];
  /** offsets into `digits` where each group starts, plus digits.length */
  groups: number[];
  /** a trailing X/x after the last digit of the group (ID numbers) */
  x: boolean[];
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Classifies digits d (a run of groups i..j) as an identifier; returns its masked form or null.
 * `single` is true when the candidate is one group (no separators inside).
 */
function classify(d: string, ctx: { groupsShape: number[]; seps: string; before: string; after: string; decimalAfter: boolean; gluedLetter: boolean; xAfter: boolean; plus: boolean; phone: boolean; qq: boolean; wechat: boolean; grid: boolean }): [IdentifierKind, string] | null {
  const n = d.length;
  // "18112525462.26": a number with decimals is an amount, whatever its digits
  if (ctx.decimalAfter) return null;
  if (ctx.xAfter && n === 17 && isId18(d + 'X')) return ['id18', `${d.slice(0, 6)}${'*'.repeat(12)}`];
  if (n === 18 && isId18(d)) return ['id18', `${d.slice(0, 6)}${'*'.repeat(12)}`];
  let m = d;
  if (n === 13 && d.startsWith('86')) m = d.slice(2);
  else if (n === 15 && d.startsWith('0086')) m = d.slice(4);
  if (m.length === 11 && m.charCodeAt(0) === 49 && m.charCodeAt(1) >= 51) return ['mobile', `${m.slice(0, 3)}****${m.slice(7)}`];
  if (n === 15 && !ctx.grid && isId15(d)) return ['id15', `${d.slice(0, 6)}${'*'.repeat(9)}`];
  // bank cards (Luhn) and other long account numbers written as one number
  if (n >= 16 && n <= 19 && (ctx.groupsShape.length === 1 || (luhn(d) && cardShape(ctx.groupsShape, ctx.seps)))) return ['card', `${'*'.repeat(n - 4)}${d.slice(-4)}`];
  if (ctx.qq && n >= 5 && n <= 12) return ['qq', '*'.repeat(n)];
  if (ctx.wechat && n >= 5 && n <= 12) return ['wechat', '*'.repeat(n)];
  // landline with an area code: 0 + 2 digits (010, 02x) or 3 digits, then 7–8 digits from 2–9
  const ll = n >= 10 && n <= 12 && d.charCodeAt(0) === 48 ? (d.charCodeAt(1) === 49 || d.charCodeAt(1) === 50 ? 3 : 4) : 0;
  if (ll && d.charCodeAt(1) !== 48 && n - ll >= 7 && n - ll <= 8 && d.charCodeAt(ll) >= 50) {
    const area = d.slice(0, ll);
    const num = d.slice(ll);
    return ['landline', `${area}-${'*'.repeat(num.length - 2)}${num.slice(-2)}`];
  }
  // "+86 551 6234 5678", "0086-10-8765 4321": the area code loses its 0 after the country code
  if ((ctx.plus || d.startsWith('0086')) && n >= 11 && n <= 15) {
    const rest = d.startsWith('0086') ? d.slice(4) : d.startsWith('86') ? d.slice(2) : '';
    if (rest && rest.charCodeAt(0) !== 48) {
      const c = classify(`0${rest}`, { ...ctx, plus: false });
      if (c && c[0] === 'landline') return c;
    }
  }
  // landline without an area code: 7–8 digits from 2–9, written as one number, as 3/4 + 4 or one
  // digit per token; not an amount, a quantity, a date or part of a code
  if ((n === 7 || n === 8) && d.charCodeAt(0) >= 50) {
    const shape = ctx.groupsShape;
    const phoneShape = shape.length === 1 || (shape.length === 2 && shape[1] === 4 && (shape[0] === 3 || shape[0] === 4)) || shape.every((g) => g === 1);
    // after 电话/座机/拨打…, a number of this length is a phone whatever follows or however grouped
    if (ctx.phone) return ['landline', `${'*'.repeat(n - 2)}${d.slice(-2)}`];
    if (!phoneShape || ctx.gluedLetter) return null;
    // "2017-2018", "(2016-2020)", "2014-0036": a range of years, a number of a year
    if (shape.length === 2 && shape[0] === 4 && /^(19[5-9]|20[0-4])\d/.test(d)) return null;
    if (UNIT.has(ctx.after) || BEFORE_AMOUNT.has(ctx.before) || ctx.after === '.') return null;
    if (n === 8 && looksLikeDate8(d)) return null;
    return ['landline', `${'*'.repeat(n - 2)}${d.slice(-2)}`];
  }
  return null;
}

/** Card numbers are written as one number, in groups of 4 (the last 1–4), or one digit per token; never with dots. */
function cardShape(shape: number[], seps: string): boolean {
  if (seps.includes('.')) return false;
  if (shape.every((g) => g === 1)) return true;
  return shape.every((g, i) => g === 4 || (i === shape.length - 1 && g <= 4)) || (shape.length === 2 && shape[0] === 6);
}

function digitRuns(f: string): Run[] {
  const runs: Run[] = [];
  const n = f.length;
  let i = 0;
  while (i < n) {
    if (!isDigit(f.charCodeAt(i))) {
      i++;
      continue;
    }
    const run: Run = { digits: '', pos: [], groups: [], x: [] };
    for (;;) {
      run.groups.push(run.digits.length);
      const from = i;
      while (i < n && isDigit(f.charCodeAt(i))) run.pos.push(i++);
      run.digits += f.slice(from, i);
      run.x.push(i < n && (f[i] === 'X' || f[i] === 'x') && !(i + 1 < n && isAsciiLetter(f.charCodeAt(i + 1))));
      // up to 3 separator characters, then a digit, continue the run
      let j = i;
      while (j < n && j - i < 3 && SEP.has(f[j] as string)) j++;
      // a decimal point is not a separator: "3.5", "2345678.90元" (but "138.1234.5678" is a phone)
      const decimal = j === i + 1 && f[i] === '.' && isDecimalTail(f, j);
      if (j > i && j < n && isDigit(f.charCodeAt(j)) && !decimal) {
        i = j;
        continue;
      }
      break;
    }
    run.groups.push(run.digits.length);
    runs.push(run);
  }
  return runs;
}

/** True when the digits at j are 1–2 decimals: not followed by a separator and more digits. */
function isDecimalTail(f: string, j: number): boolean {
  let k = j;
  while (k < f.length && isDigit(f.charCodeAt(k))) k++;
  if (k === j || k - j > 2) return false;
  let q = k;
  while (q < f.length && q - k < 3 && SEP.has(f[q] as string)) q++;
  return !(q > k && isDigit(f.charCodeAt(q)));
}

function findInRuns(f: string, id: Identity, out: Finding[]): void {
  for (const run of digitRuns(f)) {
    const g = run.groups;
    const k = g.length - 1; // number of groups
    if (run.digits.length < 5) continue;
    const runStart = run.pos[0] as number;
    // 400/800 service lines are companies' public numbers — but not after a QQ or WeChat cue, where
    // the same ten digits are a person's account
    if (run.digits.length === 10 && /^[48]00/.test(run.digits)) {
      const cue = f.slice(Math.max(0, runStart - 12), runStart);
      if (!QQ_CUE.test(cue) && !WECHAT_CUE.test(cue)) continue;
    }
    const runEnd = (run.pos[run.pos.length - 1] as number) + 1;
    if (id.digits.length > 0 && id.digits.some((p) => run.digits.includes(p))) {
      out.push({ kind: 'known', start: runStart, end: runEnd + (run.x[k - 1] ? 1 : 0), masked: maskPhone(run.digits) ?? '*' });
      continue;
    }
    let i = 0;
    while (i < k) {
      const start = run.pos[g[i] as number] as number;
      const before = f.slice(Math.max(0, start - 12), start);
      const ctx = { groupsShape: [] as number[], seps: '', before: before.slice(-1), after: '', decimalAfter: false, gluedLetter: false, xAfter: false, plus: f[start - 1] === '+' || (f[start - 1] === ' ' && f[start - 2] === '+'), phone: PHONE_CUE.test(before), qq: QQ_CUE.test(before), wechat: WECHAT_CUE.test(before), grid: GRID_CUE.test(before) };
      let found = false;
      for (let j = k - 1; j >= i; j--) {
        const len = (g[j + 1] as number) - (g[i] as number);
        if (len > 19 || len < 5) continue;
        const end = (run.pos[(g[j + 1] as number) - 1] as number) + 1;
        ctx.groupsShape = [];
        for (let q = i; q <= j; q++) ctx.groupsShape.push((g[q + 1] as number) - (g[q] as number));
        let a = end;
        while (a < f.length && a - end < 3 && (f[a] === ')' || f[a] === '）' || f[a] === ' ')) a++;
        ctx.after = f[a] ?? '';
        ctx.decimalAfter = f[end] === '.' && isDigit(f.charCodeAt(end + 1));
        ctx.seps = f.slice(start, end).replace(/[0-9]/g, '');
        ctx.xAfter = run.x[j] === true;
        // model and part numbers: "cxw-200-8103", "ABC2345678"
        ctx.gluedLetter = isAsciiLetter(f.charCodeAt(start - 1)) || ((f[start - 1] === '-' || f[start - 1] === '_') && isAsciiLetter(f.charCodeAt(start - 2))) || isAsciiLetter(f.charCodeAt(end));
        const c = classify(run.digits.slice(g[i], g[j + 1]), ctx);
        if (c) {
          const xEnd = c[0] === 'id18' && ctx.xAfter && len === 17 ? end + 1 : end;
          // "+86 138…": the plus sign goes with the number
          const plus = (c[0] === 'mobile' || c[0] === 'landline') && f[start - 1] === '+' ? 1 : 0;
          // "(0551)6234…": the opening parenthesis goes with the area code it encloses
          const paren = plus === 0 && (f[start - 1] === '(' || f[start - 1] === '（') && i < j && (f[(run.pos[(g[i + 1] as number) - 1] as number) + 1] === ')' || f[(run.pos[(g[i + 1] as number) - 1] as number) + 1] === '）') ? 1 : 0;
          out.push({ kind: c[0], start: start - plus - paren, end: xEnd, masked: c[1] });
          i = j + 1;
          found = true;
          break;
        }
      }
      if (!found) i++;
    }
  }
}

const EMAIL_RE = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}/g;
const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领';
const PLATE_RE = new RegExp(`[${PROVINCES}][\\s·•・.-]{0,2}[A-Za-z][\\s·•・.-]{0,2}(?:[A-Za-z0-9][\\s]?){4,5}[A-Za-z0-9挂学警港澳](?![A-Za-z0-9])`, 'g');
const PASSPORT_RE = /(?<![A-Za-z0-9])(?:[CDEGHKMPST][A-Z]?\d{7,8}|(?:护照|通行证|passport|Passport)[号码:\s是为]{0,4}[A-Z]{1,2}\d{6,9})(?![A-Za-z0-9])/g;
const WECHAT_RE = /(?:微信|威信|薇信|维信|[vV]信|wechat|WeChat|weixin|Weixin|wx|WX|vx|VX|Vx)[号码id ID:\s是为]{0,5}([A-Za-z][A-Za-z0-9_-]{5,19})(?![A-Za-z0-9_-])/g;
// cheap pre-checks: the cue regexes try an alternation at every position
const WECHAT_HINT = /信|wechat|weixin|wx|vx/i;
const QQ_HINT = /qq|扣扣/i;
const QQ_ALNUM_RE = /(?:QQ|qq|扣扣)[号码:\s是为]{0,4}([A-Za-z][A-Za-z0-9_]{4,19})(?![A-Za-z0-9_])/g;

function findRegex(f: string, out: Finding[]): void {
  if (f.includes('@')) for (const m of f.matchAll(EMAIL_RE)) {
    const at = m[0].indexOf('@');
    out.push({ kind: 'email', start: m.index, end: m.index + m[0].length, masked: `***${m[0].slice(at)}` });
  }
  for (const m of f.matchAll(PLATE_RE)) {
    const tail = m[0].replace(/[\s·•・.-]/g, '');
    if (!/\d/.test(tail.slice(2))) continue;
    out.push({ kind: 'plate', start: m.index, end: m.index + m[0].length, masked: `${tail.slice(0, 2).toUpperCase()}${'*'.repeat(tail.length - 3)}${tail.slice(-1).toUpperCase()}` });
  }
  if (!/[A-Za-z]/.test(f)) return;
  for (const m of f.matchAll(PASSPORT_RE)) {
    const code = /[A-Z]{1,2}\d{6,9}$/.exec(m[0])?.[0] ?? m[0];
    const start = m.index + m[0].length - code.length;
    out.push({ kind: 'passport', start, end: m.index + m[0].length, masked: `${code.charAt(0)}${'*'.repeat(code.length - 1)}` });
  }
  for (const re of [WECHAT_RE, QQ_ALNUM_RE]) {
    if (re === WECHAT_RE ? !WECHAT_HINT.test(f) : !QQ_HINT.test(f)) continue;
    for (const m of f.matchAll(re)) {
      const v = m[1] as string;
      const start = m.index + m[0].length - v.length;
      out.push({ kind: re === WECHAT_RE ? 'wechat' : 'qq', start, end: start + v.length, masked: '*'.repeat(Math.min(v.length, 8)) });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Names after cue words

// the ~300 most frequent family names (single and compound); a name is a family name + 1–2 characters
const COMPOUND = ['欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '令狐', '慕容', '司徒', '司空', '夏侯', '宇文', '长孙', '轩辕', '端木', '独孤', '南宫', '西门', '百里', '呼延', '万俟', '澹台', '申屠', '钟离', '闻人', '赫连'];
const SURNAMES = new Set(
  Array.from(
    '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥宦幸雍衡谌寿钮蓟鄢利尧韶',
  ),
);
const CUE_RE = /(?:我叫|我是|本人|联系人|姓名|报警人|报案人|来电人|来访人|反映人|投诉人|举报人|求助人|申请人|户主|当事人|受害人|名叫|叫做|署名|签名|我的名字是|我的名字叫|我名叫|市民|业主)[:：\s]{0,2}(?:是|为|叫)?/g;
// cues also used before ordinary words ("业主利益", "本人曾多次"): the name must end at punctuation
const WEAK_CUES = new Set(['我是', '本人', '市民', '业主', '受害人', '当事人', '签名']);
// family names that are also common words or particles (曾经, 向您, 和朋友, 安全, 管理…)
const AMBIGUOUS = new Set(Array.from('曾向和于安管陆利任方费查关解房许蒙单包车成常明文高路'));
const NOT_A_NAME = /^(?:陈述|陈列|安全|安装|安静|安排|安置|管理|房屋|房子|许可|许多|利益|利用|费用|关注|关于|查证|查询|查看|解释|解决|陆续|任何|方面|方便|方式|方案|蒙受|曾经|高度|高层|高速|高新|高中|黄金|金额|金融|周边|周末|周围|司法|司机|常年|常住|程序|成立|成本|江边|路边|路面|石头|林地|万元|钱款|于是|向来|和睦|严重|严格|孔洞|时间|时候|华府|毛坯|龙头|白天|平时|全部|全体)/;
const STRICT_AFTER = new Set(Array.from('住反投举电家手联今现等同男女系称说'));
// characters a given name does not contain (they start a place, an organisation, a role, a verb)
const NOT_IN_NAME = new Set(Array.from('人区县市镇村乡路街道省校院司厂店楼苑园号栋室的了在住和与及是也都就还要想对从向把被给让请业主户民员工生师长家里边面方部局委会站所队等们这那个位名号反投举电手联今现我您你他她它多次过打何述受屋益去买续'));
// characters that may follow a name directly (besides punctuation, digits, Latin, the end)
const AFTER_NAME = new Set(Array.from('住在家电手联今现反投举的是想要请从于和与身男女先同已因向对称说'));

function isCjk(c: number): boolean {
  return c >= 0x3400 && c <= 0x9fff;
}

function findNames(s: string, out: Finding[]): void {
  for (const m of s.matchAll(CUE_RE)) {
    const at = m.index + m[0].length;
    const fam = COMPOUND.includes(s.slice(at, at + 2)) ? 2 : SURNAMES.has(s[at] ?? '') ? 1 : 0;
    if (fam === 0 || NOT_A_NAME.test(s.slice(at, at + 3))) continue;
    const cue = m[0].replace(/[:：\s是为叫]+$/, '');
    const strict = WEAK_CUES.has(cue) || (fam === 1 && AMBIGUOUS.has(s[at] as string));
    for (let given = 2; given >= 1; given--) {
      const end = at + fam + given;
      if (end > s.length) continue;
      let ok = true;
      for (let q = at + fam; q < end; q++) if (!isCjk(s.charCodeAt(q)) || NOT_IN_NAME.has(s[q] as string)) ok = false;
      if (!ok) continue;
      const next = s.charCodeAt(end);
      if (end < s.length && isCjk(next) && !(strict ? STRICT_AFTER : AFTER_NAME).has(s[end] as string)) continue;
      out.push({ kind: 'name', start: at, end, masked: maskName(s.slice(at, end)) ?? '*' });
      break;
    }
  }
  // "My name is Jane Doe", "Name: Jane Doe"
  if (/[A-Za-z]/.test(s)) for (const m of s.matchAll(/(?:my name is|name is|Name:|name:|I am|I'm)\s+([A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})/g)) {
    const v = m[1] as string;
    const start = m.index + m[0].length - v.length;
    out.push({ kind: 'name', start, end: start + v.length, masked: maskName(v) ?? '*' });
  }
}

function findKnown(s: string, id: Identity, out: Finding[]): void {
  for (const re of id.names) {
    re.lastIndex = 0;
    for (const m of s.matchAll(re)) out.push({ kind: 'known', start: m.index, end: m.index + m[0].length, masked: maskName(m[0].replace(/[\s\u3000·•・.,]/g, '')) ?? '*' });
  }
  for (const v of id.ids) {
    for (let k = s.indexOf(v); k !== -1; k = s.indexOf(v, k + v.length)) out.push({ kind: 'known', start: k, end: k + v.length, masked: '*'.repeat(Math.min(v.length, 8)) });
  }
}

// quick reject: a text needs one of these to hold anything the detectors find
const MAYBE = /[0-9０-９零〇一幺二两三四五六七八九@＠A-Za-zＡ-Ｚａ-ｚ]|叫|是|本人|联系|姓名|人|户主|市民|业主|署名|签名/;

/** Every identifier found in `text`, left to right, overlaps resolved (the earliest, then longest, wins). */
export function findIdentifiers(text: string, identity: Identity = NO_IDENTITY): Finding[] {
  const known = identity.names.length + identity.ids.length + identity.digits.length > 0;
  if (!known && !MAYBE.test(text)) return [];
  const f = foldText(text);
  const all: Finding[] = [];
  findRegex(f, all);
  findInRuns(f, identity, all);
  findNames(text, all);
  if (known) findKnown(text, identity, all);
  if (all.length <= 1) return all;
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Finding[] = [];
  for (const x of all) {
    const last = out[out.length - 1];
    if (last && x.start < last.end) {
      // overlapping findings: one masked span covering both, with nothing of either kept
      if (x.end > last.end) {
        last.masked = '*'.repeat(Math.min(x.end - last.start, 24));
        last.end = x.end;
      }
      continue;
    }
    out.push({ ...x });
  }
  return out;
}

/** Masks every identifier in free text (see the contract at the top of this file). */
export function maskText(text: string, identity: Identity = NO_IDENTITY): string {
  const found = findIdentifiers(text, identity);
  if (found.length === 0) return text;
  let out = '';
  let at = 0;
  for (const x of found) {
    out += text.slice(at, x.start) + x.masked;
    at = x.end;
  }
  return out + text.slice(at);
}

// query parameters whose value is personal whatever it looks like
const PERSONAL_PARAM = /^(?:phone|mobile|tel|telephone|name|username|user|uid|userid|user_id|openid|open_id|unionid|idcard|id_card|idno|sfz|email|mail|contact|qq|wechat|wx|realname|real_name|cardno|card_no|plate)$/i;

/**
 * An attachment URL with its personal parts removed: no user info, no fragment; path segments and
 * query values masked like text, and values of personal parameters (`phone=`, `openid=`, `name=`…)
 * replaced. Returns null for a URL that does not parse (the caller drops it).
 */
export function maskUrl(url: string, identity: Identity = NO_IDENTITY): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  u.username = '';
  u.password = '';
  u.hash = '';
  u.hostname = maskText(u.hostname, identity).replace(/\*/g, 'x');
  const segs = u.pathname.split('/').map((seg) => {
    let dec: string;
    try {
      dec = decodeURIComponent(seg);
    } catch {
      return seg.replace(/%[0-9A-Fa-f]{2}/g, '').replace(/%/g, '');
    }
    const m = maskText(dec, identity);
    return m === dec ? seg : encodeURIComponent(m);
  });
  u.pathname = segs.join('/');
  if (u.search) {
    const q = new URLSearchParams();
    for (const [k, v] of u.searchParams) q.append(maskText(k, identity), PERSONAL_PARAM.test(k) && v !== '' ? '***' : maskText(v, identity));
    u.search = q.toString();
  }
  return u.toString();
}

// ---------------------------------------------------------------------------------------------
// Tokens

/**
 * A keyed, non-reversible token for linking reports of the same reporter (一人多诉). The value is
 * normalised (phone numbers without +86 and separators) and scoped by kind, so a phone number and
 * an app openid never collide.
 */
export function contactToken(secret: string, kind: 'phone' | 'user', value: string | null | undefined): string | null {
  if (value == null) return null;
  const v = kind === 'phone' ? normalizePhone(value) : value.trim();
  if (v.length === 0) return null;
  const h = createHmac('sha256', secret).update(`${kind}:${v}`).digest('hex');
  return `ct1_${h.slice(0, 32)}`;
}

/**
 * A keyed token in place of a source value that identifies a person (a phone used as report id, an
 * openid, an id derived from the request content): `<prefix>-<32 hex of HMAC-SHA256>`. The prefix
 * is the value's own short lower-case prefix when it has one (`o311-…` stays `o311-…`), else
 * `tk1`. Deterministic for one secret, so deduplication still works; not reversible without it.
 */
export function tokenizeValue(secret: string, scope: string, value: string): string {
  const prefix = /^([a-z][a-z0-9]{1,7})-/.exec(value)?.[1] ?? 'tk1';
  const h = createHmac('sha256', secret).update(`${scope}:${value}`).digest('hex');
  return `${prefix}-${h.slice(0, 32)}`;
}
