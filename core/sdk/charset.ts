import iconv from 'iconv-lite';
import { PayloadError } from '../errors';
import { decodeUtf8 } from './decode';

/**
 * Charset-aware body decoding for channels whose legacy systems still send GBK / GB18030.
 *
 * Decoding is strict for every charset: a byte sequence that is not valid in the declared charset is
 * a `PayloadError` (INTAKE_ERR_BAD_ENCODING, HTTP 400, dead-lettered with the raw bytes), never a
 * silent U+FFFD. GB2312 and CP936 are decoded as GBK (a superset); GB18030 is a superset of GBK.
 */
export type SupportedCharset = 'utf-8' | 'gbk' | 'gb18030';

const ALIASES: Record<string, SupportedCharset> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  gbk: 'gbk',
  gb2312: 'gbk',
  cp936: 'gbk',
  'x-gbk': 'gbk',
  'windows-936': 'gbk',
  gb18030: 'gb18030',
};

/** The canonical name of a charset label (case-insensitive), or null when it is not supported. */
export function canonicalCharset(label: string): SupportedCharset | null {
  return ALIASES[label.trim().toLowerCase().replace(/^"|"$/g, '')] ?? null;
}

/** The `charset` parameter of a Content-Type header, lower-cased, or null. */
export function charsetParam(contentType: string): string | null {
  // Parameters are short; the header is bounded by the HTTP server, and the split is linear.
  for (const part of contentType.slice(0, 1024).split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim().toLowerCase() === 'charset') {
      const v = part.slice(eq + 1).trim().replace(/^"|"$/g, '').toLowerCase();
      return v.length > 0 ? v : null;
    }
  }
  return null;
}

/**
 * Picks the charset of a body: an explicit override (connector config) wins, then the Content-Type
 * charset parameter, then `fallback` (UTF-8 unless the channel says otherwise). An unsupported label
 * is a PayloadError, so a misdeclared body is rejected rather than decoded as garbage.
 */
export function resolveCharset(contentType: string, override: string | null = null, fallback: SupportedCharset = 'utf-8'): SupportedCharset {
  const label = override ?? charsetParam(contentType);
  if (label === null) return fallback;
  const cs = canonicalCharset(label);
  if (!cs) throw new PayloadError('INTAKE_ERR_BAD_ENCODING', 'unsupported charset (supported: utf-8, gbk, gb2312, gb18030)');
  return cs;
}

/** Decodes `buf` in `charset`, strictly. */
export function decodeStrict(buf: Buffer, charset: SupportedCharset): string {
  if (charset === 'utf-8') return decodeUtf8(buf);
  const text = iconv.decode(buf, charset, { stripBOM: true });
  // iconv-lite replaces invalid sequences with U+FFFD. GBK cannot encode U+FFFD at all and GB18030
  // encodes it as 84 31 A4 37, so a replacement character is only legitimate if re-encoding the text
  // gives back the original bytes.
  if (text.includes('\uFFFD') && !iconv.encode(text, charset).equals(buf)) {
    throw new PayloadError('INTAKE_ERR_BAD_ENCODING', `body is not valid ${charset.toUpperCase()}`);
  }
  return text;
}

/** Decodes a body by its declared charset (override → Content-Type → fallback). */
export function decodeBody(buf: Buffer, contentType: string, override: string | null = null, fallback: SupportedCharset = 'utf-8'): string {
  return decodeStrict(buf, resolveCharset(contentType, override, fallback));
}

/** Encodes text in a supported charset (used by simulated upstreams and tests). */
export function encodeText(text: string, charset: SupportedCharset): Buffer {
  return charset === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, charset);
}
