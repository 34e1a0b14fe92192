import { PayloadError } from '../../core/errors';
import { lookup } from '../../core/sdk/tables';
import type { RawInput } from '../../core/sdk/connector';
import { compilePayloadSchema } from '../../core/sdk/decode';
import type { TicketDraft } from '../../core/sdk/draft';
import { parseXml, type XmlLimits } from '../../core/sdk/xml';
import type { Crs } from '../../core/schema/types';
import { APPEAL } from '../resident-app/normalize';
import nativeSchema from './native.schema.json';

/** The <JQXX> element after parsing (see native.schema.json and docs/connectors/police-110.md). */
export interface JqxxRecord {
  JQBH: string;
  BJSJ: string;
  BJR?: string;
  LXDH?: string;
  NMBJ?: '' | '0' | '1';
  JQLB: string;
  JQLBMC?: string;
  SQLX?: string;
  SFDZ?: string;
  XZQH?: string;
  JD?: string;
  WD?: string;
  ZBX?: '' | 'WGS84' | 'GCJ02' | 'BD09' | 'CGCS2000';
  JYQK: string;
  JJCD?: '' | '1' | '2' | '3';
  SSFJ?: string;
  JJDW?: string;
  ZJSJ?: string;
  FJLB?: '' | { FJ?: string | string[] };
}

/** What normalize needs from the connector config. */
export interface Police110NormalizeConfig {
  defaultCrs?: Crs;
}

export const MAPPING_VERSION = 'police-110/1';
export const CATEGORY_SCHEME = 'police-110';
/** Hand-overs are small; these bound the parser well below the body limit. */
export const XML_LIMITS: Partial<XmlLimits> = { maxDepth: 8, maxElements: 200, maxAttributesPerElement: 8, maxAttributes: 64 };

const validate = compilePayloadSchema<JqxxRecord>(nativeSchema as Record<string, unknown>);

const CRS: Record<string, Crs> = { WGS84: 'WGS-84', GCJ02: 'GCJ-02', BD09: 'BD-09', CGCS2000: 'CGCS2000' };
const URGENCY: Record<string, TicketDraft['urgency']> = { '1': 'normal', '2': 'urgent', '3': 'critical' };

const blank = (s: string | undefined): string | null => (s === undefined || s.trim() === '' ? null : s.trim());

/** 报警时间 → ISO 8601; the dispatch system writes Beijing time without an offset. */
export function callTime(s: string): string {
  const compact = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(s);
  const text = compact ? `${compact[1]}-${compact[2]}-${compact[3]}T${compact[4]}:${compact[5]}:${compact[6]}` : s.replace(' ', 'T');
  const withZone = /(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}+08:00`;
  const t = Date.parse(withZone);
  if (Number.isNaN(t)) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', 'BJSJ is not a valid time', { dataPath: '/BJSJ' });
  return new Date(t).toISOString();
}

/**
 * Parses a hand-over body: hardened XML (no DTDs, bounded), root <JQXX>, validated against the
 * native schema. Throws a PayloadError naming the data path (`/JQBH`).
 */
export function parseHandover(raw: RawInput): JqxxRecord {
  const doc = parseXml(raw.body, XML_LIMITS);
  const root = doc.JQXX;
  if (root === undefined) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', 'root element must be <JQXX>', { dataPath: '/' });
  if (typeof root !== 'object' || Array.isArray(root)) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', '<JQXX> must hold the report fields', { dataPath: '/' });
  return validate(root);
}

/** Pure: a 110 hand-over (XML) → ticket draft. Police-matter bounces are decided by the transport. */
export function normalizePolice110(raw: RawInput, config: Police110NormalizeConfig = {}): TicketDraft {
  const r = parseHandover(raw);
  const lon = blank(r.JD);
  const lat = blank(r.WD);
  const point = lon !== null && lat !== null ? { lon: Number(lon), lat: Number(lat), crs: r.ZBX ? (lookup(CRS, r.ZBX) ?? 'CGCS2000') : (config.defaultCrs ?? 'CGCS2000') } : null;
  if (point && (Math.abs(point.lon) > 180 || Math.abs(point.lat) > 90)) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', 'JD/WD are out of range', { dataPath: '/JD' });
  const anonymous = r.NMBJ === '1' || blank(r.BJR) === '匿名';
  const phone = blank(r.LXDH);
  const fj = typeof r.FJLB === 'object' ? r.FJLB.FJ : undefined;
  const urls = fj === undefined ? [] : Array.isArray(fj) ? fj : [fj];
  const channelFields: TicketDraft['channelFields'] = {};
  if (blank(r.SSFJ)) channelFields.ssfj = blank(r.SSFJ);
  if (blank(r.JJDW)) channelFields.jjdw = blank(r.JJDW);
  if (blank(r.ZJSJ)) channelFields.zjsj = blank(r.ZJSJ);
  return {
    sourceId: r.JQBH,
    occurredAt: callTime(r.BJSJ),
    reporter: {
      name: anonymous ? null : blank(r.BJR),
      phone: anonymous ? null : phone,
      // the dispatch system identifies callers by phone only: no phone, no contact token
      userId: null,
      anonymous,
      role: 'resident',
    },
    title: blank(r.JQLBMC),
    text: r.JYQK,
    appealType: r.SQLX ? (lookup(APPEAL, r.SQLX) ?? 'unknown') : 'unknown',
    location: { address: blank(r.SFDZ), point, district: blank(r.XZQH), street: null, community: null, grid: null },
    channelCategory: { scheme: CATEGORY_SCHEME, code: r.JQLB, name: blank(r.JQLBMC) },
    urgency: lookup(URGENCY, r.JJCD ?? '') ?? 'normal',
    attachments: urls.map((url) => ({ kind: 'photo' as const, url, mediaType: null })),
    channelFields,
    mappingVersion: MAPPING_VERSION,
  };
}

/** True when a category code is one the hub bounces back to 110 (exact or prefix match). */
export function isPoliceMatter(code: string, bounceCategories: readonly string[]): boolean {
  return bounceCategories.some((b) => code === b || code.startsWith(b));
}
