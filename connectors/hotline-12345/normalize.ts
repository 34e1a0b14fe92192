import { PayloadError } from '../../core/errors';
import { lookup } from '../../core/sdk/tables';
import type { Crs } from '../../core/schema/types';
import { canonicalCharset, decodeBody, type SupportedCharset } from '../../core/sdk/charset';
import type { RawInput } from '../../core/sdk/connector';
import { compilePayloadSchema, parseJson } from '../../core/sdk/decode';
import type { TicketDraft } from '../../core/sdk/draft';
import nativeSchema from './native.schema.json';

/** One 12345 work order in the legacy column names (see native.schema.json and docs/connectors/hotline-12345.md). */
export interface HotlineRecord {
  GDBH: string;
  LDSJ: string;
  GXSJ: string;
  LDHM?: string | null;
  LDRXM?: string | null;
  NMBZ?: '0' | '1' | null;
  SQBT?: string | null;
  SQNR: string;
  SQDZ?: string | null;
  SQLX?: '咨询' | '求助' | '投诉' | '举报' | '建议' | '表扬' | null;
  JJCD?: '一般' | '紧急' | '特急' | null;
  XZQH?: string | null;
  JD?: string | null;
  SQ?: string | null;
  FLDM?: string | null;
  FLMC?: string | null;
  ZT?: string | null;
  LYQD?: string | null;
  ZBX?: number | null;
  ZBY?: number | null;
  ZBXT?: 'WGS84' | 'GCJ02' | 'BD09' | 'CGCS2000' | null;
  FJ?: string[];
}

/** What normalize needs from the connector config. */
export interface HotlineNormalizeConfig {
  /** Charset of bodies that declare none (legacy systems often send GBK without saying so). */
  charset?: string | null;
  /** When true, `charset` replaces a declared charset on upstream bodies (a system that lies about it). */
  charsetOverride?: boolean;
  defaultCrs?: Crs;
  /** Optional FLDM → name table, used when a record has no FLMC. */
  categoryNames?: Record<string, string>;
}

export const MAPPING_VERSION = 'hotline-12345/1';
/** Header the poller sets on records it split out of a listing page and re-encoded as UTF-8. */
export const REENCODED_HEADER = 'x-intake-reencoded';

const parse = compilePayloadSchema<HotlineRecord>(nativeSchema as Record<string, unknown>);

const CRS: Record<string, Crs> = { WGS84: 'WGS-84', GCJ02: 'GCJ-02', BD09: 'BD-09', CGCS2000: 'CGCS2000' };
const APPEAL: Record<string, TicketDraft['appealType']> = { 咨询: 'consult', 求助: 'help', 投诉: 'complaint', 举报: 'report', 建议: 'suggestion', 表扬: 'praise' };
const URGENCY: Record<string, TicketDraft['urgency']> = { 一般: 'normal', 紧急: 'urgent', 特急: 'critical' };
const LOCAL_TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})$/;

/** 'YYYY-MM-DD HH:mm:ss' in Beijing time (UTC+8, no DST) → epoch ms; null when malformed or impossible. */
export function parseBeijingTime(s: string): number | null {
  const m = LOCAL_TIME.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h - 8, mi, se);
  const back = new Date(ms + 8 * 3600 * 1000);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return null;
  return ms;
}

/** Epoch ms → 'YYYY-MM-DD HH:mm:ss' Beijing time (the listing API's `since`). */
export function formatBeijingTime(ms: number): string {
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** Decodes a hotline body: declared charset, else the configured one, else UTF-8; strict. */
export function decodeHotlineBody(raw: RawInput, config: HotlineNormalizeConfig): string {
  const reencoded = raw.headers[REENCODED_HEADER] !== undefined;
  const configured = config.charset ? canonicalCharset(config.charset) : null;
  const override = !reencoded && config.charsetOverride && configured ? configured : null;
  const fallback: SupportedCharset = reencoded ? 'utf-8' : (configured ?? 'utf-8');
  return decodeBody(raw.body, raw.contentType, override, fallback);
}

function time(s: string, path: string): string {
  const ms = parseBeijingTime(s);
  if (ms === null) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `${path} is not a valid Beijing time (YYYY-MM-DD HH:mm:ss)`, { dataPath: path });
  return new Date(ms).toISOString();
}

function blank(s: string | null | undefined): string | null {
  if (s == null) return null;
  const t = s.trim();
  return t.length === 0 ? null : t;
}

/** Validates an already-parsed record (used by normalize and by the listing page splitter). */
export const parseHotlineRecord = parse;

/** Pure: one hotline work order → ticket draft. Throws PayloadError naming the data path. */
export function normalizeHotline(raw: RawInput, config: HotlineNormalizeConfig = {}): TicketDraft {
  const r = parse(parseJson(decodeHotlineBody(raw, config)));
  const occurredAt = time(r.LDSJ, '/LDSJ');
  time(r.GXSJ, '/GXSJ');
  const name = blank(r.LDRXM);
  const phone = blank(r.LDHM);
  const anonymous = r.NMBZ === '1' || name === '匿名' || (name === null && phone === null);
  const point = typeof r.ZBX === 'number' && typeof r.ZBY === 'number' ? { lon: r.ZBX, lat: r.ZBY, crs: r.ZBXT ? (lookup(CRS, r.ZBXT) ?? 'GCJ-02') : (config.defaultCrs ?? 'GCJ-02') } : null;
  const code = blank(r.FLDM);
  const channelFields: TicketDraft['channelFields'] = { updatedAt: time(r.GXSJ, '/GXSJ') };
  if (blank(r.ZT)) channelFields.status = blank(r.ZT);
  if (blank(r.LYQD)) channelFields.intakeChannel = blank(r.LYQD);
  return {
    sourceId: r.GDBH,
    occurredAt,
    reporter: { name: anonymous ? null : name, phone: anonymous ? null : phone, userId: null, anonymous, role: 'resident' },
    title: blank(r.SQBT),
    text: r.SQNR,
    appealType: r.SQLX ? (lookup(APPEAL, r.SQLX) ?? 'unknown') : 'unknown',
    location: { address: blank(r.SQDZ), point, district: blank(r.XZQH), street: blank(r.JD), community: blank(r.SQ), grid: null },
    channelCategory: code ? { scheme: 'hotline-12345', code, name: blank(r.FLMC) ?? lookup(config.categoryNames, code) ?? null } : null,
    urgency: r.JJCD ? (lookup(URGENCY, r.JJCD) ?? 'normal') : 'normal',
    attachments: (r.FJ ?? []).map((url) => ({ kind: /\.(mp3|wav|amr|m4a)(\?|$)/i.test(url) ? ('audio' as const) : /\.(jpe?g|png|gif|webp)(\?|$)/i.test(url) ? ('photo' as const) : ('file' as const), url, mediaType: null })),
    channelFields,
    mappingVersion: MAPPING_VERSION,
  };
}
