import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { PayloadError } from '../errors';
import { canonicalCharset, decodeStrict } from './charset';

/**
 * Hardened XML for untrusted bodies (the 110 hand-over, legacy pollers).
 *
 * Guarantees, in the order they are checked (all failures are `PayloadError`s, HTTP 4xx):
 * 1. size: the body is at most `maxBytes` (413 beyond it);
 * 2. charset: the XML declaration's `encoding` picks the decoder — UTF-8 (default, strict: invalid
 *    sequences are rejected, never replaced) or GBK / GB2312 / GB18030 via iconv-lite (undecodable
 *    bytes are rejected too); anything else, and UTF-16, is refused;
 * 3. structure, scanned on the text BEFORE any parser sees it: no DOCTYPE, ENTITY, ELEMENT, ATTLIST
 *    or NOTATION declaration at all (so no entity expansion: billion laughs and XXE cannot start),
 *    no processing instruction other than the leading XML declaration, no named entity other than
 *    the five predefined ones, numeric character references only to legal XML characters, nesting
 *    depth ≤ `maxDepth`, element count ≤ `maxElements`, attributes ≤ `maxAttributesPerElement` per
 *    element and `maxAttributes` in total, no element or attribute named like an Object prototype
 *    member (`__proto__`, `constructor`, `prototype`);
 * 4. well-formedness (fast-xml-parser's validator), then parsing into plain objects: every text and
 *    attribute value stays a string (no number coercion), attributes are prefixed with `@_`,
 *    repeated elements become arrays, empty elements become "".
 */
export interface XmlLimits {
  maxBytes: number;
  maxDepth: number;
  maxElements: number;
  maxAttributesPerElement: number;
  maxAttributes: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxElements: 10000,
  maxAttributesPerElement: 32,
  maxAttributes: 10000,
};

/** A parsed XML document: element name → string | element | array of either. */
export type XmlNode = string | XmlElement | XmlNode[];
export interface XmlElement {
  [name: string]: XmlNode;
}

const PREDEFINED_ENTITIES = new Set(['lt', 'gt', 'amp', 'apos', 'quot']);
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

const bad = (message: string): PayloadError => new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', message);

/** The `encoding` of the XML declaration, lower-cased, or null when there is none. */
export function declaredEncoding(buf: Buffer): string | null {
  // The declaration is ASCII in every charset we accept; 200 bytes is plenty for it.
  let head = buf.subarray(0, 200).toString('latin1');
  if (head.startsWith('\u00ef\u00bb\u00bf')) head = head.slice(3);
  if (!head.startsWith('<?xml')) return null;
  const end = head.indexOf('?>');
  const decl = end === -1 ? head : head.slice(0, end);
  const m = /\sencoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']/.exec(decl);
  return m?.[1] ? m[1].toLowerCase() : null;
}

/**
 * Decodes an XML body to text by its declared charset (`fallbackCharset`, e.g. from the
 * Content-Type, applies only when the document declares none). Strict: undecodable bytes are a 400.
 */
export function decodeXml(buf: Buffer, fallbackCharset: string | null = null): string {
  if (buf.length >= 2 && ((buf[0] === 0xfe && buf[1] === 0xff) || (buf[0] === 0xff && buf[1] === 0xfe))) {
    throw new PayloadError('INTAKE_ERR_BAD_ENCODING', 'UTF-16 XML is not accepted (use UTF-8 or GBK)');
  }
  const label = declaredEncoding(buf) ?? (fallbackCharset ? fallbackCharset.toLowerCase() : 'utf-8');
  const charset = canonicalCharset(label);
  if (!charset) throw new PayloadError('INTAKE_ERR_BAD_ENCODING', 'the declared XML encoding is not accepted (UTF-8, GBK, GB2312 or GB18030)');
  const text = decodeStrict(buf, charset);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x9 || c === 0xa || c === 0xd;
}

/** Checks a reference starting at `&` (index i); returns the index of its `;`. */
function checkReference(text: string, i: number): number {
  const semi = text.indexOf(';', i);
  if (semi === -1 || semi - i > 12) throw bad(`malformed character reference at offset ${i}`);
  const ref = text.slice(i + 1, semi);
  if (ref.startsWith('#')) {
    const cp = /^#x[0-9a-fA-F]{1,6}$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]{1,7}$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
    if (!Number.isFinite(cp) || !isXmlChar(cp)) throw bad(`a character reference at offset ${i} is not a legal XML character`);
  } else if (!PREDEFINED_ENTITIES.has(ref)) {
    throw bad(`an entity reference at offset ${i} is not allowed (only &lt; &gt; &amp; &apos; &quot; and numeric references)`);
  }
  return semi;
}

/**
 * The structural pre-scan (step 3 above), linear in the text, run before any parser. Throws a
 * `PayloadError` naming what was refused.
 */
export function scanXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): void {
  let depth = 0;
  let elements = 0;
  let attributes = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x26 /* & */) {
      i = checkReference(text, i) + 1;
      continue;
    }
    if (c !== 0x3c /* < */) {
      i++;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    if (next === 0x3f /* ? */) {
      const end = text.indexOf('?>', i + 2);
      if (end === -1) throw bad('unterminated processing instruction');
      const target = /^<\?([^\s?]*)/.exec(text.slice(i, Math.min(end, i + 64)))?.[1] ?? '';
      const onlyWhitespaceBefore = text.slice(0, i).trim() === '';
      if (target !== 'xml' || !onlyWhitespaceBefore) {
        throw bad(target.toLowerCase() === 'xml' ? 'the XML declaration must come first' : `a processing instruction at offset ${i} is not allowed`);
      }
      i = end + 2;
      continue;
    }
    if (next === 0x21 /* ! */) {
      if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i + 4);
        if (end === -1) throw bad('unterminated comment');
        i = end + 3;
        continue;
      }
      if (text.startsWith('<![CDATA[', i)) {
        if (depth === 0) throw bad('CDATA outside the root element');
        const end = text.indexOf(']]>', i + 9);
        if (end === -1) throw bad('unterminated CDATA section');
        i = end + 3;
        continue;
      }
      const decl = /^<!([A-Za-z]*)/.exec(text.slice(i, i + 20))?.[1] ?? '';
      throw bad(`markup declarations (<!${/^(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)$/i.test(decl) ? decl.toUpperCase() : '…'}>) are not allowed (no DTDs, no entities)`);
    }
    if (next === 0x2f /* / */) {
      depth--;
      const end = text.indexOf('>', i);
      if (end === -1) throw bad('unterminated end tag');
      i = end + 1;
      continue;
    }
    // a start tag: name, attributes (quoted values may hold '>' and '/'), then '>' or '/>'
    let j = i + 1;
    while (j < n && !isSpace(text.charCodeAt(j)) && text[j] !== '>' && text[j] !== '/') j++;
    const name = text.slice(i + 1, j);
    if (FORBIDDEN_NAMES.has(name.toLowerCase())) throw bad(`element name "${name}" is not allowed`);
    elements++;
    if (elements > limits.maxElements) throw bad(`more than ${limits.maxElements} elements`);
    let attrs = 0;
    let selfClosing = false;
    for (;;) {
      if (j >= n) throw bad(`unterminated start tag at offset ${i}`);
      const ch = text[j];
      if (ch === '"' || ch === "'") {
        const end = text.indexOf(ch, j + 1);
        if (end === -1) throw bad(`unterminated attribute value at offset ${j}`);
        const value = text.slice(j + 1, end);
        if (value.includes('<')) throw bad(`'<' in an attribute value at offset ${j}`);
        for (let k = value.indexOf('&'); k !== -1; k = value.indexOf('&', k + 1)) k = checkReference(value, k);
        j = end + 1;
        continue;
      }
      if (ch === '=') {
        attrs++;
        const attrName = /([^\s=]+)\s*$/.exec(text.slice(Math.max(i, j - 64), j))?.[1] ?? '';
        if (FORBIDDEN_NAMES.has(attrName.toLowerCase().replace(/^.*:/, ''))) throw bad(`attribute name "${attrName}" is not allowed`);
      } else if (ch === '>') {
        selfClosing = text[j - 1] === '/';
        break;
      }
      j++;
    }
    attributes += attrs;
    if (attrs > limits.maxAttributesPerElement) throw bad(`an element at offset ${i} has more than ${limits.maxAttributesPerElement} attributes`);
    if (attributes > limits.maxAttributes) throw bad(`more than ${limits.maxAttributes} attributes in the document`);
    if (!selfClosing) {
      depth++;
      if (depth > limits.maxDepth) throw bad(`XML nesting depth exceeds the limit of ${limits.maxDepth}`);
    }
    i = j + 1;
  }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  // decodes numeric references; named ones other than the predefined five never pass scanXml
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
});

/**
 * Decodes, scans, validates and parses an untrusted XML body (see the guarantees above). Returns
 * the document: `{ <root name>: <root element> }`.
 */
export function parseXml(buf: Buffer, limits: Partial<XmlLimits> = {}, fallbackCharset: string | null = null): XmlElement {
  const l: XmlLimits = { ...DEFAULT_XML_LIMITS, ...limits };
  if (buf.length > l.maxBytes) throw new PayloadError('INTAKE_ERR_PAYLOAD_TOO_LARGE', `XML body of ${buf.length} bytes exceeds the limit of ${l.maxBytes} bytes`);
  const text = decodeXml(buf, fallbackCharset);
  scanXml(text, l);
  const v = XMLValidator.validate(text);
  // the validator's message quotes tag and attribute names: keep its code and position only
  if (v !== true) throw bad(`body is not well-formed XML (${v.err.code}, line ${v.err.line}, column ${v.err.col})`);
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch {
    throw bad('body is not acceptable XML');
  }
  if (typeof doc !== 'object' || doc === null || Object.keys(doc).length !== 1) throw bad('XML must have exactly one root element');
  return doc as XmlElement;
}

/** Escapes text for an XML element or attribute value (our receipts). */
export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/**
 * Writes a flat XML document `<root><k>v</k>…</root>` (UTF-8 declaration), skipping null values.
 * Only for the hub's own small answers: element names come from code, values are escaped.
 */
export function flatXml(root: string, fields: Record<string, string | number | null | undefined>): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?><${root}>`;
  for (const [k, v] of Object.entries(fields)) if (v !== null && v !== undefined) out += `<${k}>${escapeXml(String(v))}</${k}>`;
  return `${out}</${root}>`;
}
