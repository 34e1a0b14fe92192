/**
 * Safe HTML → plain text for channels whose content is HTML (message boards, web forms).
 *
 * A single left-to-right scan with `indexOf` look-ahead: no regular expression runs over the input,
 * so there is no catastrophic backtracking, and the work is linear in the (bounded) input length.
 * Tags are dropped (block tags become line breaks, inline formatting such as `<b>` or `<span>`
 * nothing, any other tag a space), `<script>`, `<style>`, `<template>`, `<noscript>` and `<textarea>` are dropped
 * with their content, comments, CDATA, doctypes and processing instructions are dropped, entities
 * (named, decimal, hex) are decoded exactly once, and whitespace is collapsed (one space inside a
 * line, one newline between blocks). The output is text, never markup: nothing here is meant to be
 * rendered as HTML again.
 */
export interface HtmlToTextOptions {
  /** Input longer than this is cut before parsing (bounds the work). Default 200,000 characters. */
  maxInputChars?: number;
  /** Output longer than this is cut. Default 20,000 characters (the ticket text limit). */
  maxOutputChars?: number;
}

const DROP_WITH_CONTENT = new Set(['script', 'style', 'template', 'noscript', 'textarea', 'iframe', 'object', 'svg', 'math', 'head', 'title']);
const BLOCK = new Set([
  'br', 'p', 'div', 'li', 'ul', 'ol', 'tr', 'td', 'th', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'section', 'article', 'header', 'footer',
  'blockquote', 'pre', 'hr', 'dd', 'dt', 'dl', 'address', 'figure', 'figcaption', 'form', 'fieldset', 'main', 'nav', 'aside', 'tbody', 'thead',
]);

// formatting inside a run of text: renders as nothing, so "138<b>1234</b>5678" reads as one number
const INLINE = new Set(['b', 'i', 'u', 's', 'em', 'strong', 'span', 'font', 'a', 'small', 'big', 'sub', 'sup', 'mark', 'abbr', 'code', 'ins', 'del', 'label', 'q', 'cite', 'tt', 'kbd', 'var', 'bdi', 'bdo', 'wbr']);

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ensp: ' ', emsp: ' ', thinsp: ' ', ldquo: '“', rdquo: '”', lsquo: '‘',
  rsquo: '’', mdash: '—', ndash: '–', hellip: '…', middot: '·', bull: '•', times: '×', divide: '÷', yen: '¥', copy: '©', reg: '®',
  trade: '™', deg: '°', plusmn: '±', laquo: '«', raquo: '»', sect: '§', para: '¶', cent: '¢', pound: '£', euro: '€', le: '≤', ge: '≥',
  ne: '≠', larr: '←', rarr: '→', uarr: '↑', darr: '↓', permil: '‰', prime: '′', zwj: '', zwnj: '', shy: '',
};

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Reads a tag name starting at `i` (after `<` or `</`); lower-cased, at most 32 characters. */
function tagName(s: string, i: number): string {
  let j = i;
  while (j < s.length && j - i < 32) {
    const c = s.charCodeAt(j);
    if (isAsciiLetter(c) || (c >= 48 && c <= 57) || c === 45) j++;
    else break;
  }
  return s.slice(i, j).toLowerCase();
}

/** End of a tag starting at `<` (index of `>`), skipping quoted attribute values; -1 if unclosed. */
function tagEnd(s: string, i: number): number {
  let quote = 0;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 62) return j;
  }
  return -1;
}

/** Decodes one entity at `s[i] === '&'`: [text, next index], or null if it is not an entity. */
function entity(s: string, i: number): [string, number] | null {
  const semi = s.indexOf(';', i + 1);
  if (semi < 0 || semi - i > 33) return null;
  const body = s.slice(i + 1, semi);
  if (body.startsWith('#')) {
    const hex = body[1] === 'x' || body[1] === 'X';
    const digits = body.slice(hex ? 2 : 1);
    if (digits.length === 0 || digits.length > 8 || !(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) return null;
    const cp = parseInt(digits, hex ? 16 : 10);
    const ok = cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) && cp !== 0xfffe && cp !== 0xffff;
    return [ok ? String.fromCodePoint(cp) : '\uFFFD', semi + 1];
  }
  const named = NAMED[body] ?? NAMED[body.toLowerCase()];
  return named === undefined ? null : [named, semi + 1];
}

/** Converts untrusted HTML to collapsed plain text. */
export function htmlToText(html: string, opts: HtmlToTextOptions = {}): string {
  const maxIn = opts.maxInputChars ?? 200_000;
  const maxOut = opts.maxOutputChars ?? 20_000;
  const s = html.length > maxIn ? html.slice(0, maxIn) : html;
  const lower = s.toLowerCase();
  const out: string[] = [];
  let outLen = 0;
  const emit = (t: string): void => {
    out.push(t);
    outLen += t.length;
  };
  let i = 0;
  while (i < s.length && outLen < maxOut * 2 + 16) {
    const c = s.charCodeAt(i);
    if (c === 60 /* < */) {
      const n = s.charCodeAt(i + 1);
      if (s.startsWith('<!--', i)) {
        const e = s.indexOf('-->', i + 4);
        i = e < 0 ? s.length : e + 3;
        continue;
      }
      if (n === 33 /* ! */ || n === 63 /* ? */) {
        if (lower.startsWith('<![cdata[', i)) {
          const e = s.indexOf(']]>', i + 9);
          i = e < 0 ? s.length : e + 3;
          continue;
        }
        const e = s.indexOf('>', i + 2);
        i = e < 0 ? s.length : e + 1;
        continue;
      }
      const closing = n === 47; /* / */
      const nameAt = closing ? i + 2 : i + 1;
      if (!isAsciiLetter(s.charCodeAt(nameAt))) {
        emit('<'); // "温度<5度", "a < b": not a tag
        i++;
        continue;
      }
      const name = tagName(s, nameAt);
      const end = tagEnd(s, i);
      if (end < 0) break; // an unclosed tag swallows the rest, as browsers do
      if (BLOCK.has(name)) emit('\n');
      else if (!INLINE.has(name)) emit(' ');
      i = end + 1;
      if (!closing && DROP_WITH_CONTENT.has(name) && s.charCodeAt(end - 1) !== 47) {
        const close = lower.indexOf(`</${name}`, i);
        if (close < 0) break;
        const e = tagEnd(s, close);
        i = e < 0 ? s.length : e + 1;
      }
      continue;
    }
    if (c === 38 /* & */) {
      const ent = entity(s, i);
      if (ent) {
        emit(ent[0]);
        i = ent[1];
        continue;
      }
    }
    // copy a run of plain text up to the next markup character
    let j = i + 1;
    while (j < s.length) {
      const d = s.charCodeAt(j);
      if (d === 60 || d === 38) break;
      j++;
    }
    emit(s.slice(i, j));
    i = j;
  }
  return collapse(out.join(''), maxOut);
}

function isSpace(c: number): boolean {
  // ASCII whitespace, NBSP, ideographic space, other Unicode spaces and zero-width characters
  return c === 32 || c === 9 || c === 12 || c === 11 || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200b) || c === 0x202f || c === 0x205f || c === 0xfeff;
}

/** Collapses spaces inside lines and blank lines between them, trims, and bounds the length. */
export function collapse(text: string, maxOut = 20_000): string {
  const lines: string[] = [];
  let line = '';
  let pendingSpace = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      if (line.length > 0) lines.push(line);
      line = '';
      pendingSpace = false;
    } else if (isSpace(c)) {
      pendingSpace = line.length > 0;
    } else if (c < 32 || c === 127) {
      // other control characters are dropped
    } else {
      if (pendingSpace) line += ' ';
      pendingSpace = false;
      line += text[i];
    }
    if (line.length > maxOut) break;
  }
  if (line.length > 0) lines.push(line);
  const joined = lines.join('\n');
  if (joined.length <= maxOut) return joined;
  // do not cut a surrogate pair in half
  let cut = maxOut;
  const last = joined.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return joined.slice(0, cut);
}
