import { createHash } from 'node:crypto';
import { PayloadError } from '../../core/errors';
import type { RawInput } from '../../core/sdk/connector';
import { compilePayloadSchema, decodeUtf8, parseJson } from '../../core/sdk/decode';
import type { TicketDraft } from '../../core/sdk/draft';
import nativeSchema from './native.schema.json';

/**
 * An Open311 GeoReport v2 "POST Service Request" (GeoReport v2 §POST Service Request), as sent
 * form-urlencoded (the spec's format) or as a JSON object with the same field names. Numbers may
 * arrive as strings (forms) or numbers (JSON); attributes as `attribute[code]=value`,
 * `attribute[code][]=v1&attribute[code][]=v2` or a JSON object `attribute: {code: value | [values]}`.
 */
export interface Open311Request {
  jurisdiction_id?: string;
  service_code: string;
  lat?: string;
  long?: string;
  address_string?: string;
  address_id?: string;
  email?: string;
  device_id?: string;
  account_id?: string;
  first_name?: string;
  last_name?: string;
  phone?: string;
  description?: string;
  media_url?: string;
  api_key?: string;
  attribute?: Record<string, string | string[]>;
}

export const MAPPING_VERSION = 'open311/georeport-v2/1';
const FIELDS = ['jurisdiction_id', 'service_code', 'lat', 'long', 'address_string', 'address_id', 'email', 'device_id', 'account_id', 'first_name', 'last_name', 'phone', 'description', 'media_url', 'api_key'];
const MAX_FIELDS = 200;

const validate = compilePayloadSchema<Open311Request>(nativeSchema as Record<string, unknown>);
const bad = (message: string, dataPath: string): PayloadError => new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', message, { dataPath });
// names that would reach an object's prototype if used as keys
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A field name for messages and data paths: the spec's names only, never what a client invented. */
const fieldPath = (k: string): string => (FIELDS.includes(k) ? `/${k}` : '/');

/**
 * Decodes one application/x-www-form-urlencoded component: `+` is a space, `%XX` a byte, and the
 * bytes must be UTF-8 ("UTF-8 is required everywhere", GeoReport v2). A malformed escape or an
 * invalid byte sequence is a 400, never a silent U+FFFD.
 */
function decodeComponent(s: string, path: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  const t = s.replace(/\+/g, ' ');
  if (!t.includes('%')) return t;
  if (/%(?![0-9A-Fa-f]{2})/.test(t)) throw new PayloadError('INTAKE_ERR_BAD_ENCODING', 'a form value has a malformed percent escape', { dataPath: path });
  return t.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return utf8.decode(Buffer.from(run.replace(/%/g, ''), 'hex'));
    } catch {
      throw new PayloadError('INTAKE_ERR_BAD_ENCODING', 'a percent-decoded form value is not valid UTF-8', { dataPath: path });
    }
  });
}

function fromForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const attribute: Record<string, string | string[]> = {};
  let n = 0;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    if (++n > MAX_FIELDS) throw bad(`more than ${MAX_FIELDS} form fields`, '/');
    const eq = pair.indexOf('=');
    const k = decodeComponent(eq === -1 ? pair : pair.slice(0, eq), '/');
    const v = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1), fieldPath(k));
    const attr = /^attribute\[([^\]]{1,64})\](\[\])?$/.exec(k);
    if (attr) {
      const code = attr[1] as string;
      if (FORBIDDEN.has(code)) throw bad('an attribute code is not allowed (reserved name)', '/attribute');
      if (attr[2]) {
        const cur = Object.prototype.hasOwnProperty.call(attribute, code) ? attribute[code] : undefined;
        attribute[code] = Array.isArray(cur) ? [...cur, v] : cur === undefined ? [v] : [cur, v];
      } else attribute[code] = v;
      continue;
    }
    if (FORBIDDEN.has(k)) throw bad('a field name is not allowed (reserved name)', '/');
    if (Object.prototype.hasOwnProperty.call(out, k)) throw bad(FIELDS.includes(k) ? `field ${k} is given twice` : 'a field is given twice', fieldPath(k));
    out[k] = v;
  }
  if (Object.keys(attribute).length > 0) out.attribute = attribute;
  return out;
}

function fromJson(text: string): Record<string, unknown> {
  const doc = parseJson(text, 4);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('body must be a JSON object', '/');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (FORBIDDEN.has(k)) throw bad('a field name is not allowed (reserved name)', '/');
    if (k === 'attribute' && v !== null && typeof v === 'object' && Object.keys(v).some((c) => FORBIDDEN.has(c))) throw bad('an attribute code is not allowed (reserved name)', '/attribute');
    out[k] = typeof v === 'number' ? String(v) : v;
  }
  return out;
}

/** Parses and validates a POSTed request body (form or JSON by Content-Type). */
export function parseRequest(raw: RawInput): Open311Request {
  const media = raw.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const text = decodeUtf8(raw.body); // "UTF-8 is required everywhere" (GeoReport v2)
  const obj = media === 'application/json' ? fromJson(text) : fromForm(text);
  for (const [k, v] of Object.entries(obj)) if (v === '' && FIELDS.includes(k)) delete obj[k];
  const r = validate(obj);
  const hasPoint = r.lat !== undefined && r.long !== undefined;
  if ((r.lat === undefined) !== (r.long === undefined)) throw bad('lat and long must both be sent', r.lat === undefined ? '/lat' : '/long');
  if (!hasPoint && !r.address_string && !r.address_id) throw bad('a location is required: lat & long, address_string or address_id', '/lat');
  if (hasPoint && (Math.abs(Number(r.lat)) > 90 || Math.abs(Number(r.long)) > 180)) throw bad('lat/long are out of range', '/lat');
  return r;
}

/**
 * The source id of a request: Open311 clients send none, so it is a hash of what was reported
 * (everything but api_key). A client retrying the same POST gets the same ticket back. The hash
 * covers the reporter's phone and name, so it is never published as is: the draft marks it
 * personal and the enrich stage publishes a keyed HMAC (`o311-…` under `pii.tokenSecret`).
 */
export function requestKey(r: Open311Request): string {
  const { api_key: _key, ...rest } = r;
  const canon = JSON.stringify(Object.keys(rest).sort().map((k) => [k, rest[k as keyof typeof rest]]));
  return `o311-${createHash('sha256').update(canon).digest('hex').slice(0, 32)}`;
}

const CJK = /^[\u3400-\u9fff\u00b7]+$/;

function fullName(first: string | undefined, last: string | undefined): string | null {
  const f = first?.trim() ?? '';
  const l = last?.trim() ?? '';
  if (!f && !l) return null;
  // 张 + 三 → 张三 (family name first, no space); Jane + Doe → "Jane Doe"
  return CJK.test(f + l) ? `${l}${f}` : `${f} ${l}`.trim();
}

/** Pure: an Open311 POST Service Request → ticket draft. */
export function normalizeOpen311(raw: RawInput): TicketDraft {
  const r = parseRequest(raw);
  const name = fullName(r.first_name, r.last_name);
  const userId = r.account_id ?? r.email ?? r.device_id ?? null;
  const anonymous = !name && !r.phone && !userId;
  const address = r.address_string ?? null;
  const channelFields: TicketDraft['channelFields'] = {};
  if (r.jurisdiction_id) channelFields.jurisdictionId = r.jurisdiction_id;
  if (r.address_id) channelFields.addressId = r.address_id;
  let nAttr = 0;
  for (const [code, v] of Object.entries(r.attribute ?? {})) {
    if (++nAttr > 30) break;
    channelFields[`attr.${code}`] = (Array.isArray(v) ? v.join(',') : v).slice(0, 1024);
  }
  return {
    sourceId: requestKey(r),
    occurredAt: null,
    reporter: { name, phone: r.phone ?? null, userId, anonymous, role: 'resident' },
    title: null,
    text: r.description?.trim() || `Open311 service request ${r.service_code}${address ? ` at ${address}` : ''}`,
    appealType: 'unknown',
    location: {
      address,
      point: r.lat !== undefined && r.long !== undefined ? { lon: Number(r.long), lat: Number(r.lat), crs: 'WGS-84' } : null,
      district: null,
      street: null,
      community: null,
      grid: null,
    },
    channelCategory: { scheme: 'open311', code: r.service_code, name: null },
    urgency: 'normal',
    attachments: r.media_url ? [{ kind: 'photo', url: r.media_url, mediaType: null }] : [],
    channelFields,
    mappingVersion: MAPPING_VERSION,
    personal: { sourceId: true },
  };
}
