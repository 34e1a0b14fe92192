import { createHash } from 'node:crypto';
import { lookup } from '../../core/sdk/tables';
import { PayloadError } from '../../core/errors';
import { decodeStrict, type SupportedCharset } from '../../core/sdk/charset';
import type { RawInput } from '../../core/sdk/connector';
import { parseJson } from '../../core/sdk/decode';
import type { TicketDraft } from '../../core/sdk/draft';
import type { Crs } from '../../core/schema/types';

/** A JSON Pointer (RFC 6901) into the channel's payload, e.g. `/content/body`. */
export type Pointer = string;
type AppealType = TicketDraft['appealType'];
type Urgency = TicketDraft['urgency'];

/**
 * The declarative mapping of one JSON channel onto the ticket draft. Every field is a JSON Pointer
 * into the payload; only `sourceId` and `text` are required. A pointer that finds nothing (absent,
 * null or "") falls back to `defaults`. Validated at config time (see spec.ts).
 */
export interface FieldMapping {
  sourceId: Pointer;
  text: Pointer;
  title?: Pointer;
  occurredAt?: Pointer;
  name?: Pointer;
  phone?: Pointer;
  userId?: Pointer;
  anonymous?: Pointer;
  appealType?: Pointer;
  category?: Pointer;
  categoryName?: Pointer;
  urgency?: Pointer;
  address?: Pointer;
  district?: Pointer;
  street?: Pointer;
  community?: Pointer;
  grid?: Pointer;
  point?: { lon: Pointer; lat: Pointer; crs?: Crs; crsFrom?: Pointer };
  attachments?: Pointer;
  channelFields?: Record<string, Pointer>;
}

export interface MappingTables {
  /** Native value → canonical appeal type (咨询 → consult…). Unmapped values give `unknown`. */
  appealType?: Record<string, AppealType>;
  /** Native category code → the code and name written on the ticket. Unmapped codes pass through. */
  category?: Record<string, { code: string; name?: string | null }>;
  /** Native urgency value → canonical urgency. Unmapped values give `normal`. */
  urgency?: Record<string, Urgency>;
  /** Native value of `point.crsFrom` → datum. */
  crs?: Record<string, Crs>;
  /** Values of `anonymous` that mean "anonymous" (besides the JSON `true`). */
  anonymousValues?: string[];
}

export interface MappingDefaults {
  appealType?: AppealType;
  urgency?: Urgency;
  crs?: Crs;
  district?: string;
  street?: string;
  category?: string;
  /** Time zone offset for occurredAt values written without one ("2026-11-20 08:00:00"). */
  utcOffset?: string;
}

export interface MappedConfigCore {
  charset: SupportedCharset;
  /** Code scheme written on `channelCategory.scheme`. */
  categoryScheme: string;
  mapping: FieldMapping;
  tables: MappingTables;
  defaults: MappingDefaults;
  /** Configured mapping version; when absent, a hash of mapping + tables + defaults. */
  mappingVersion?: string;
  maxDepth: number;
  /** Source values that identify a person, published as keyed tokens (see TicketDraft.personal). */
  personal?: { sourceId?: boolean; channelFields?: string[] };
}

const POINTER = /^(\/([^~]|~[01])*)+$/;

export function isJsonPointer(s: string): boolean {
  return POINTER.test(s);
}

/** Resolves a JSON Pointer over own properties only (no prototype walking). */
export function resolvePointer(doc: unknown, pointer: Pointer): unknown {
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d{0,5})$/.test(key)) return undefined;
      cur = cur[Number(key)];
    } else if (cur !== null && typeof cur === 'object') {
      if (!Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
      cur = (cur as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return cur;
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The mapping version stamped on tickets: the configured one, or `mapped/<hash of the mapping>`. */
const versions = new WeakMap<MappedConfigCore, string>();

export function mappingVersionOf(c: MappedConfigCore): string {
  if (c.mappingVersion) return c.mappingVersion;
  const cached = versions.get(c);
  if (cached) return cached;
  const h = createHash('sha256')
    .update(stableStringify({ charset: c.charset, categoryScheme: c.categoryScheme, mapping: c.mapping, tables: c.tables, defaults: c.defaults }))
    .digest('hex');
  const v = `mapped/${h.slice(0, 16)}`;
  versions.set(c, v);
  return v;
}

const bad = (message: string, dataPath: string): PayloadError => new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', message, { dataPath });

/** A scalar at `pointer` as a trimmed string, or null when absent/null/empty. Objects are refused. */
function str(doc: unknown, pointer: Pointer | undefined, max: number): string | null {
  if (!pointer) return null;
  const v = resolvePointer(doc, pointer);
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') throw bad(`${pointer} must be a string or number`, pointer);
  const s = String(v).trim();
  if (s.length === 0) return null;
  if (s.length > max) throw bad(`${pointer} is longer than ${max} characters`, pointer);
  return s;
}

function num(doc: unknown, pointer: Pointer, min: number, max: number): number | null {
  const v = resolvePointer(doc, pointer);
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,3}(\.\d{1,15})?$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) throw bad(`${pointer} must be a number between ${min} and ${max}`, pointer);
  return n;
}

/** ISO 8601, "YYYY-MM-DD HH:mm:ss" (with the default offset), or epoch seconds / milliseconds. */
function time(doc: unknown, pointer: Pointer | undefined, offset: string): string | null {
  if (!pointer) return null;
  const v = resolvePointer(doc, pointer);
  if (v === undefined || v === null || v === '') return null;
  let t = NaN;
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) t = v < 1e11 ? v * 1000 : v;
  else if (typeof v === 'string' && v.length <= 40 && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v.trim())) {
    const s = v.trim().replace(' ', 'T');
    t = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(s) ? s : s + offset);
  }
  if (Number.isNaN(t)) throw bad(`${pointer} is not a date-time (ISO 8601, "YYYY-MM-DD HH:mm:ss" or epoch)`, pointer);
  return new Date(t).toISOString();
}

/** Pure: a JSON payload of a declaratively mapped channel → ticket draft. */
export function normalizeMapped(raw: RawInput, c: MappedConfigCore): TicketDraft {
  const doc = parseJson(decodeStrict(raw.body, c.charset), c.maxDepth);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('payload must be a JSON object', '/');
  const m = c.mapping;
  const t = c.tables;
  const d = c.defaults;

  const sourceId = str(doc, m.sourceId, 128);
  if (!sourceId) throw bad(`${m.sourceId} (sourceId) is required`, m.sourceId);
  const text = str(doc, m.text, 20000);
  if (!text) throw bad(`${m.text} (text) is required`, m.text);

  const anonRaw = m.anonymous ? resolvePointer(doc, m.anonymous) : undefined;
  const anonymous = anonRaw === true || (typeof anonRaw === 'string' && (t.anonymousValues ?? []).includes(anonRaw.trim())) || (typeof anonRaw === 'number' && (t.anonymousValues ?? []).includes(String(anonRaw)));

  const appealRaw = str(doc, m.appealType, 64);
  const urgencyRaw = str(doc, m.urgency, 64);
  const catRaw = str(doc, m.category, 64) ?? d.category ?? null;
  const mappedCat = lookup(t.category, catRaw);
  const catName = str(doc, m.categoryName, 128);

  let point: TicketDraft['location']['point'] = null;
  if (m.point) {
    const lon = num(doc, m.point.lon, -180, 180);
    const lat = num(doc, m.point.lat, -90, 90);
    if ((lon === null) !== (lat === null)) throw bad(`${m.point.lon} and ${m.point.lat} must both be present or both absent`, lon === null ? m.point.lon : m.point.lat);
    if (lon !== null && lat !== null) {
      const crsRaw = m.point.crsFrom ? str(doc, m.point.crsFrom, 32) : null;
      const crs = lookup(t.crs, crsRaw) ?? m.point.crs ?? d.crs ?? 'WGS-84';
      if (crsRaw !== null && !lookup(t.crs, crsRaw)) throw bad(`${m.point.crsFrom} is not a datum in tables.crs`, m.point.crsFrom ?? '/');
      point = { lon, lat, crs };
    }
  }

  const attachments: TicketDraft['attachments'] = [];
  if (m.attachments) {
    const v = resolvePointer(doc, m.attachments);
    const list = v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? v : [v];
    if (list.length > 20) throw bad(`${m.attachments} has more than 20 items`, m.attachments);
    list.forEach((u, i) => {
      if (typeof u !== 'string' || u.length > 2048 || !/^https?:\/\//.test(u)) throw bad(`${m.attachments}/${i} must be an http(s) URL`, `${m.attachments}/${i}`);
      attachments.push({ kind: 'photo', url: u, mediaType: null });
    });
  }

  const channelFields: TicketDraft['channelFields'] = {};
  for (const [k, p] of Object.entries(m.channelFields ?? {})) {
    const v = resolvePointer(doc, p);
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object') throw bad(`${p} (channelFields.${k}) must be a scalar`, p);
    channelFields[k] = typeof v === 'string' ? v.slice(0, 1024) : (v as number | boolean | null);
  }

  return {
    sourceId,
    occurredAt: time(doc, m.occurredAt, d.utcOffset ?? '+08:00'),
    reporter: {
      name: anonymous ? null : str(doc, m.name, 64),
      phone: anonymous ? null : str(doc, m.phone, 32),
      userId: anonymous ? null : str(doc, m.userId, 128),
      anonymous,
      role: 'resident',
    },
    title: str(doc, m.title, 300),
    text,
    appealType: appealRaw !== null ? (lookup(t.appealType, appealRaw) ?? 'unknown') : (d.appealType ?? 'unknown'),
    location: {
      address: str(doc, m.address, 500),
      point,
      district: str(doc, m.district, 64) ?? d.district ?? null,
      street: str(doc, m.street, 64) ?? d.street ?? null,
      community: str(doc, m.community, 64),
      grid: str(doc, m.grid, 32),
    },
    channelCategory: catRaw === null ? null : { scheme: c.categoryScheme, code: mappedCat?.code ?? catRaw, name: mappedCat?.name ?? catName ?? null },
    urgency: urgencyRaw !== null ? (lookup(t.urgency, urgencyRaw) ?? 'normal') : (d.urgency ?? 'normal'),
    attachments,
    channelFields,
    mappingVersion: mappingVersionOf(c),
    ...(c.personal ? { personal: { sourceId: c.personal.sourceId === true, channelFields: c.personal.channelFields ?? [] } } : {}),
  };
}
