import iconv from 'iconv-lite';
import type { Identifier, Kind } from './pii-leaks';

/**
 * Scans anything the hub wrote or served — topic records, log lines, files, HTTP answers — for a
 * set of known identifiers (issue 11: "a test that reads every byte the hub wrote and served").
 *
 * The per-ticket check of the harness (`leaksIn` in core/testing/pii-leaks.ts) projects a whole
 * string onto the identifier's characters (every digit of a field, joined), which is right for one
 * short field and one identifier, but over megabytes of records, logs and metrics with a thousand
 * identifiers it would find every short number somewhere by chance. This scanner folds the same way
 * (NFKC, Chinese numerals, percent-escapes and `+` of form encoding, character references, markup
 * tags dropped) and then joins characters only across what people and speech recognition put inside
 * an identifier: up to four spaces, dots, hyphens, dashes, parentheses, slashes, underscores,
 * asterisks, plus signs or middle dots between digits; up to two between the characters of a name,
 * plate or passport number. Every rendering of the
 * harness is found (core/testing/leak-scan.test.ts), also inside base64 (decoded, UTF-8 and GBK).
 *
 * Values the hub makes itself are blanked before matching, so that their digits cannot meet an
 * identifier by chance: ISO times, ULIDs, lower-case hex of 32+ characters (digests, keyed
 * tokens), epoch seconds and milliseconds of 2020–2029 (10 or 13 digits, which no identifier
 * shape has). None of them can hold an identifier of the harness' shapes.
 */
export interface LeakHit {
  /** Which output: `topic intake.dlq.v1 partition 0 offset 3`, `stderr line 12`, `GET /api/tickets`. */
  where: string;
  /** JSON path inside it (`/raw/headers/x-note`), `(key)` for an object key, empty for plain text. */
  path: string;
  kind: Kind;
  needle: string;
  /** The folded text around the hit. */
  excerpt: string;
}

type Class = 'digits' | 'email' | 'alnum' | 'wechat' | 'cjk';

const CLASS_OF: Record<Kind, Class> = {
  mobile: 'digits',
  landline: 'digits',
  id18: 'digits',
  id15: 'digits',
  card: 'digits',
  qq: 'digits',
  email: 'email',
  plate: 'alnum',
  passport: 'alnum',
  wechat: 'wechat',
  name: 'cjk',
  'reporter-name': 'cjk',
};

const CN_FOLD: Record<string, string> = { 零: '0', 〇: '0', 一: '1', 幺: '1', 二: '2', 两: '2', 三: '3', 四: '4', 五: '5', 六: '6', 七: '7', 八: '8', 九: '9' };
const NAMED_REFS: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The characters a person may put inside a number (after NFKC: full-width forms are ASCII). */
const DIGIT_SEP = /[\s.\-‐‑‒–—―−()[\]*/_·•+]/;
/** Between the characters of a name, a plate or a passport number. */
const TEXT_SEP = /[\s.\-·•*+]/;
const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

const HUB_MADE: RegExp[] = [
  /\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:?\d\d)?/g,
  /(?<![0-9A-Za-z])[0-9A-HJKMNP-TV-Z]{26}(?![0-9A-Za-z])/g,
  /(?<![0-9A-Za-z])[0-9a-f]{32,}(?![0-9A-Za-z])/g,
  /(?<![0-9])1[6-8]\d{8}(?:\d{3})?(?![0-9])/g,
];
const ULID_LETTERS = /[A-Z].*[A-Z].*[A-Z]/;
const BASE64 = /(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{20,}={0,2}(?![A-Za-z0-9+/=])/g;

/** NFKC, Chinese numerals to digits, percent-escapes and character references decoded. */
export function foldForScan(s: string): string {
  let t = s;
  if (t.includes('&')) {
    t = t.replace(/&#(?:x([0-9a-f]{1,6})|(\d{1,7}));/gi, (m, hex: string | undefined, dec: string | undefined) => {
      const cp = hex !== undefined ? parseInt(hex, 16) : Number(dec);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    });
    t = t.replace(/&([a-z]{2,5});/g, (m, name: string) => NAMED_REFS[name] ?? m);
  }
  // percent-escapes, also of a URL inside a form or query value (escaped twice or three times)
  for (let round = 0; round < 3 && /%[0-9A-Fa-f]{2}/.test(t); round++) {
    t = t.replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
  // markup inside an identifier ("138<b>1234</b>5678") does not split it
  if (t.includes('<')) t = t.replace(/<\/?[A-Za-z][^<>]{0,60}>/g, '');
  return t.normalize('NFKC').replace(/[零〇一幺二两三四五六七八九]/g, (c) => CN_FOLD[c] as string);
}

function blankHubMade(s: string): string {
  let t = s;
  for (const re of HUB_MADE) {
    t = t.replace(re, (m) => (re === HUB_MADE[1] && !ULID_LETTERS.test(m) ? m : '|'.repeat(m.length)));
  }
  return t;
}

function needleOf(id: Identifier): string {
  switch (CLASS_OF[id.kind]) {
    case 'digits':
    case 'alnum':
      return id.needle.toUpperCase();
    case 'email':
    case 'wechat':
      return id.needle.toLowerCase();
    default:
      return id.needle;
  }
}

/** Runs of `isChar` characters, joined across at most `maxGap` characters matching `sep`; each with the offset of its first character. */
function runs(s: string, isChar: (c: string) => boolean, sep: RegExp, maxGap: number): { text: string; at: number }[] {
  const out: { text: string; at: number }[] = [];
  let cur = '';
  let at = 0;
  let gap = 0;
  const chars = Array.from(s);
  let offset = 0;
  for (const c of chars) {
    if (isChar(c)) {
      if (cur === '') at = offset;
      cur += c;
      gap = 0;
    } else if (cur !== '' && gap < maxGap && sep.test(c)) {
      gap++;
    } else if (cur !== '') {
      out.push({ text: cur, at });
      cur = '';
      gap = 0;
    }
    offset += c.length;
  }
  if (cur !== '') out.push({ text: cur, at });
  return out;
}

interface NeedleSet {
  byValue: Map<string, Identifier>;
  lengths: number[];
}

export class LeakScanner {
  private readonly sets = new Map<Class, NeedleSet>();
  private readonly emails: { needle: string; id: Identifier }[] = [];
  readonly ids: Identifier[];

  constructor(ids: Iterable<Identifier>) {
    this.ids = [...ids];
    for (const id of this.ids) {
      const cls = CLASS_OF[id.kind];
      const needle = needleOf(id);
      if (cls === 'email') {
        this.emails.push({ needle, id });
        continue;
      }
      const set: NeedleSet = this.sets.get(cls) ?? { byValue: new Map(), lengths: [] };
      set.byValue.set(needle, id);
      const len = Array.from(needle).length;
      if (!set.lengths.includes(len)) set.lengths.push(len);
      this.sets.set(cls, set);
    }
  }

  /** Hits in one text. `decoded` marks text that came out of a base64 blob (not decoded again). */
  scanText(where: string, text: string, path = '', decoded = false): LeakHit[] {
    if (text.length === 0) return [];
    const hits: LeakHit[] = [];
    const t = blankHubMade(foldForScan(text));
    // base64 blobs are read decoded too; their surface is searched for every class but WeChat ids
    // (a random 6-letter id turns up in megabytes of base64 by chance)
    let noBlobs = t;
    if (!decoded && /[A-Za-z0-9+/]{20}/.test(t)) {
      noBlobs = t.replace(BASE64, (m) => {
        if (!/[A-Z]/.test(m) || !/[a-z]/.test(m) || !/[0-9]/.test(m)) return m;
        const bytes = Buffer.from(m, 'base64');
        const utf8 = bytes.toString('utf8');
        hits.push(...this.scanText(where, utf8, `${path} (base64)`, true));
        if (utf8.includes('\ufffd')) hits.push(...this.scanText(where, iconv.decode(bytes, 'gbk'), `${path} (base64, GBK)`, true));
        return '|'.repeat(m.length);
      });
    }
    const found = (cls: Class, run: { text: string; at: number }): void => {
      const set = this.sets.get(cls);
      if (!set) return;
      const chars = Array.from(run.text);
      for (const len of set.lengths) {
        for (let i = 0; i + len <= chars.length; i++) {
          const w = chars.slice(i, i + len).join('');
          const id = set.byValue.get(w);
          if (id) hits.push({ where, path, kind: id.kind, needle: id.needle, excerpt: t.slice(Math.max(0, run.at - 20), run.at + run.text.length + 20) });
        }
      }
    };
    if (this.sets.has('digits')) for (const r of runs(t.toUpperCase(), (c) => (c >= '0' && c <= '9') || c === 'X', DIGIT_SEP, 4)) found('digits', r);
    if (this.sets.has('alnum')) for (const r of runs(t.toUpperCase(), (c) => (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || CJK.test(c), TEXT_SEP, 2)) found('alnum', r);
    if (this.sets.has('wechat')) for (const r of runs(noBlobs.toLowerCase(), (c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c === '_' || c === '-', /$^/, 0)) found('wechat', r);
    if (this.sets.has('cjk')) for (const r of runs(t, (c) => CJK.test(c), TEXT_SEP, 2)) found('cjk', r);
    if (this.emails.length > 0 && t.includes('@')) {
      const flat = t.toLowerCase().replace(/\s+/g, '');
      for (const e of this.emails) {
        const i = flat.indexOf(e.needle);
        if (i >= 0) hits.push({ where, path, kind: e.id.kind, needle: e.id.needle, excerpt: flat.slice(Math.max(0, i - 20), i + e.needle.length + 20) });
      }
    }
    return hits;
  }

  /**
   * Hits in a JSON value: every object key, string and number. `exempt(path)` skips a subtree (a
   * field that is allowed to hold identifiers, such as a raw body on a hub-internal topic).
   */
  scanJson(where: string, value: unknown, exempt: (path: string) => boolean = () => false, path = ''): LeakHit[] {
    if (exempt(path)) return [];
    if (typeof value === 'string') return this.scanText(where, value, path);
    if (typeof value === 'number' || typeof value === 'bigint') return this.scanText(where, String(value), path);
    if (Array.isArray(value)) return value.flatMap((v, i) => this.scanJson(where, v, exempt, `${path}/${i}`));
    if (value !== null && typeof value === 'object') {
      const out: LeakHit[] = [];
      for (const [k, v] of Object.entries(value)) {
        const p = `${path}/${k}`;
        out.push(...this.scanText(where, k, `${p} (key)`));
        out.push(...this.scanJson(where, v, exempt, p));
      }
      return out;
    }
    return [];
  }

  /**
   * Hits in bytes: the whole buffer as JSON when it parses, else line by line (a line that parses
   * as JSON is walked as JSON, any other as text); bytes that are not UTF-8 are read as GBK too.
   */
  scanBytes(where: string, bytes: Buffer, exempt?: (path: string) => boolean): LeakHit[] {
    const text = bytes.toString('utf8');
    const whole = tryJson(text);
    if (whole !== undefined) return this.scanJson(where, whole, exempt);
    const out: LeakHit[] = [];
    text.split('\n').forEach((line, i) => {
      const j = tryJson(line);
      out.push(...(j !== undefined ? this.scanJson(`${where} line ${i + 1}`, j, exempt) : this.scanText(`${where} line ${i + 1}`, line)));
    });
    if (text.includes('\ufffd')) out.push(...this.scanText(`${where} (GBK)`, iconv.decode(bytes, 'gbk')));
    return out;
  }
}

function tryJson(s: string): unknown {
  const t = s.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}
