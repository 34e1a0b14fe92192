import { compilePayloadSchema, decodeUtf8, parseJson } from '../../core/sdk/decode';
import { lookup } from '../../core/sdk/tables';
import type { RawInput } from '../../core/sdk/connector';
import type { TicketDraft } from '../../core/sdk/draft';
import type { Crs } from '../../core/schema/types';
import nativeSchema from './native.schema.json';

export interface ResidentAppReport {
  reportId: string;
  openid: string;
  phone?: string | null;
  nickname?: string | null;
  anonymous?: boolean;
  category?: string | null;
  appealType?: '咨询' | '求助' | '投诉' | '举报' | '建议' | '表扬' | null;
  title?: string | null;
  text: string;
  photos?: string[];
  location?: { lng?: number; lat?: number; coordType?: 'gcj02' | 'wgs84' | 'bd09'; address?: string | null; district?: string | null; street?: string | null } | null;
  urgent?: boolean;
  submittedAt: string;
}

export const MAPPING_VERSION = 'resident-app/1';

const parse = compilePayloadSchema<ResidentAppReport>(nativeSchema as Record<string, unknown>);

const CRS: Record<string, Crs> = { gcj02: 'GCJ-02', wgs84: 'WGS-84', bd09: 'BD-09' };
export const APPEAL: Record<string, TicketDraft['appealType']> = {
  咨询: 'consult',
  求助: 'help',
  投诉: 'complaint',
  举报: 'report',
  建议: 'suggestion',
  建言: 'suggestion',
  表扬: 'praise',
};

/** Pure: a resident-app JSON report → ticket draft. Throws PayloadError naming the data path. */
export function normalizeResidentApp(raw: RawInput): TicketDraft {
  const r = parse(parseJson(decodeUtf8(raw.body)));
  const loc = r.location ?? null;
  const point = loc && typeof loc.lng === 'number' && typeof loc.lat === 'number' ? { lon: loc.lng, lat: loc.lat, crs: lookup(CRS, loc.coordType ?? 'gcj02') ?? 'GCJ-02' } : null;
  const anonymous = r.anonymous === true;
  return {
    sourceId: r.reportId,
    occurredAt: new Date(r.submittedAt).toISOString(),
    reporter: { name: anonymous ? null : (r.nickname ?? null), phone: anonymous ? null : (r.phone || null), userId: r.openid, anonymous, role: 'resident' },
    title: r.title ?? null,
    text: r.text,
    appealType: r.appealType ? (lookup(APPEAL, r.appealType) ?? 'unknown') : 'unknown',
    location: {
      address: loc?.address ?? null,
      point,
      district: loc?.district ?? null,
      street: loc?.street ?? null,
      community: null,
      grid: null,
    },
    channelCategory: r.category ? { scheme: 'resident-app', code: r.category, name: r.category } : null,
    urgency: r.urgent ? 'urgent' : 'normal',
    attachments: (r.photos ?? []).map((url) => ({ kind: 'photo' as const, url, mediaType: null })),
    channelFields: {},
    mappingVersion: MAPPING_VERSION,
  };
}
