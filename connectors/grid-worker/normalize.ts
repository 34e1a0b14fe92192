import { PayloadError } from '../../core/errors';
import { lookup } from '../../core/sdk/tables';
import type { RawInput } from '../../core/sdk/connector';
import { compilePayloadSchema, decodeUtf8, parseJson } from '../../core/sdk/decode';
import type { TicketDraft } from '../../core/sdk/draft';
import type { Crs } from '../../core/schema/types';
import { AFFAIR_CLASSES, AFFAIR_ITEMS } from './affairs';
import { jurisdictionOf } from './grid-code';
import nativeSchema from './native.schema.json';

/** The grid-worker terminal report (our definition: docs/connectors/grid-worker.md). */
export interface GridWorkerReport {
  reportId: string;
  workerId: string;
  workerName?: string | null;
  workerPhone?: string | null;
  anonymous?: boolean;
  gridCode: string;
  gridName?: string | null;
  itemCode: string;
  appealType?: '咨询' | '求助' | '投诉' | '举报' | '建议' | '表扬' | null;
  title?: string | null;
  text: string;
  photos?: string[];
  location?: { lng?: number; lat?: number; coordType?: 'gcj02' | 'wgs84'; address?: string | null } | null;
  urgency?: '一般' | '紧急' | '特急';
  handledOnSite?: boolean;
  deviceId?: string | null;
  reportedAt: string;
}

/** What normalize needs from the connector config. */
export interface GridWorkerNormalizeConfig {
  /** Prefix → name: 6 digits district, 9 street, 12 community. */
  codeTable?: Record<string, string>;
}

export const MAPPING_VERSION = 'grid-worker/1';
export const CATEGORY_SCHEME = 'grid-affairs';

const parse = compilePayloadSchema<GridWorkerReport>(nativeSchema as Record<string, unknown>);

const CRS: Record<string, Crs> = { gcj02: 'GCJ-02', wgs84: 'WGS-84' };
const APPEAL: Record<string, TicketDraft['appealType']> = { 咨询: 'consult', 求助: 'help', 投诉: 'complaint', 举报: 'report', 建议: 'suggestion', 表扬: 'praise' };
const URGENCY: Record<string, TicketDraft['urgency']> = { 一般: 'normal', 紧急: 'urgent', 特急: 'critical' };

/** Pure: a grid-worker JSON report → ticket draft. Throws PayloadError naming the data path. */
export function normalizeGridWorker(raw: RawInput, config: GridWorkerNormalizeConfig = {}): TicketDraft {
  const r = parse(parseJson(decodeUtf8(raw.body)));
  const reportedAt = Date.parse(r.reportedAt);
  if (!Number.isFinite(reportedAt)) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', '/reportedAt is not a valid date-time', { dataPath: '/reportedAt' });
  if (r.text.trim().length === 0) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', '/text is blank', { dataPath: '/text' });
  const item = AFFAIR_ITEMS.get(r.itemCode);
  const loc = r.location ?? null;
  const point = loc && typeof loc.lng === 'number' && typeof loc.lat === 'number' ? { lon: loc.lng, lat: loc.lat, crs: lookup(CRS, loc.coordType ?? 'gcj02') ?? 'GCJ-02' } : null;
  const j = jurisdictionOf(r.gridCode, config.codeTable ?? {});
  const anonymous = r.anonymous === true;
  const affairClass = r.itemCode.charAt(0);
  return {
    sourceId: r.reportId,
    occurredAt: new Date(reportedAt).toISOString(),
    reporter: {
      name: anonymous ? null : (r.workerName ?? null),
      phone: anonymous ? null : r.workerPhone || null,
      // the worker id links a worker's reports (contact token) even without a phone
      userId: anonymous ? null : r.workerId,
      anonymous,
      role: 'grid-worker',
    },
    title: r.title ?? null,
    text: r.text,
    appealType: r.appealType ? (lookup(APPEAL, r.appealType) ?? 'unknown') : (item?.appealType ?? 'unknown'),
    location: {
      address: loc?.address ?? null,
      point,
      district: j.district,
      street: j.street,
      community: j.community,
      grid: r.gridCode,
    },
    channelCategory: { scheme: CATEGORY_SCHEME, code: r.itemCode, name: item?.name ?? null },
    urgency: lookup(URGENCY, r.urgency ?? '一般') ?? 'normal',
    attachments: (r.photos ?? []).map((url) => ({ kind: 'photo' as const, url, mediaType: null })),
    channelFields: {
      workerId: anonymous ? null : r.workerId,
      affairClass: lookup(AFFAIR_CLASSES, affairClass) ? `${affairClass} ${lookup(AFFAIR_CLASSES, affairClass)}` : affairClass,
      gridName: r.gridName ?? null,
      handledOnSite: r.handledOnSite === true,
      deviceId: r.deviceId ?? null,
    },
    mappingVersion: MAPPING_VERSION,
    // a worker's staff number and terminal id identify a person: published as keyed tokens
    personal: { channelFields: ['workerId', 'deviceId'] },
  };
}
