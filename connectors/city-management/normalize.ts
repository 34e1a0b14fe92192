import { PayloadError } from '../../core/errors';
import { lookup } from '../../core/sdk/tables';
import type { Crs } from '../../core/schema/types';
import type { RawInput } from '../../core/sdk/connector';
import { compilePayloadSchema, decodeUtf8, parseJson } from '../../core/sdk/decode';
import type { TicketDraft } from '../../core/sdk/draft';
import nativeSchema from './native.schema.json';

/** One 数字城管 case (see native.schema.json and docs/connectors/city-management.md). */
export interface CityCase {
  caseNo: string;
  reportTime: string;
  updateTime: string;
  caseClass: '部件' | '事项';
  typeCode: string;
  typeName?: string | null;
  gridCode?: string | null;
  address?: string | null;
  description: string;
  lon?: number | null;
  lat?: number | null;
  coordSys?: 'WGS84' | 'GCJ02' | 'CGCS2000' | null;
  source?: string | null;
  inspectorId?: string | null;
  inspectorName?: string | null;
  reporterPhone?: string | null;
  photos?: string[];
  status?: string | null;
  urgent?: boolean | null;
}

/**
 * What normalize reads from the connector config: the datum of coordinates without `coordSys`,
 * optional GB/T 47678.5 code names (by class) and the grid code table that names the district,
 * street and community of a 15-digit unit grid (keys: 6, 9 and 12-digit prefixes).
 */
export interface CityNormalizeConfig {
  defaultCrs?: Crs;
  codeNames?: { parts?: Record<string, string>; matters?: Record<string, string> };
  gridDivisions?: { districts?: Record<string, string>; streets?: Record<string, string>; communities?: Record<string, string> };
}

export const MAPPING_VERSION = 'city-management/1';
const parse = compilePayloadSchema<CityCase>(nativeSchema as Record<string, unknown>);
const CRS: Record<string, Crs> = { WGS84: 'WGS-84', GCJ02: 'GCJ-02', CGCS2000: 'CGCS2000' };

export interface GridParts {
  division: string;
  street: string;
  community: string;
  grid: string;
}

/** Splits a 15-digit unit-grid code: 6-digit division + 3 street + 3 community + 3 grid. */
export function splitGridCode(code: string): GridParts | null {
  if (!/^[0-9]{15}$/.test(code)) return null;
  return { division: code.slice(0, 6), street: code.slice(6, 9), community: code.slice(9, 12), grid: code.slice(12) };
}

function isoTime(s: string, path: string): string {
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) throw new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `${path} is not a valid time`, { dataPath: path });
  return new Date(ms).toISOString();
}

function blank(s: string | null | undefined): string | null {
  if (s == null) return null;
  const t = s.trim();
  return t.length === 0 ? null : t;
}

/** Pure: one 数字城管 case → ticket draft. Throws PayloadError naming the data path. */
export function normalizeCityCase(raw: RawInput, config: CityNormalizeConfig = {}): TicketDraft {
  const c = parse(parseJson(decodeUtf8(raw.body)));
  const occurredAt = isoTime(c.reportTime, '/reportTime');
  const updatedAt = isoTime(c.updateTime, '/updateTime');
  const grid = c.gridCode ? splitGridCode(c.gridCode) : null;
  const g = config.gridDivisions ?? {};
  const point = typeof c.lon === 'number' && typeof c.lat === 'number' ? { lon: c.lon, lat: c.lat, crs: c.coordSys ? (lookup(CRS, c.coordSys) ?? 'WGS-84') : (config.defaultCrs ?? 'WGS-84') } : null;
  const names = c.caseClass === '部件' ? config.codeNames?.parts : config.codeNames?.matters;
  const publicReport = c.source === '公众举报';
  const channelFields: TicketDraft['channelFields'] = { caseClass: c.caseClass, updatedAt };
  if (c.inspectorId) channelFields.inspectorId = c.inspectorId;
  if (c.status) channelFields.status = c.status;
  if (c.source) channelFields.caseSource = c.source;
  if (grid) channelFields.divisionCode = grid.division;
  return {
    sourceId: c.caseNo,
    occurredAt,
    reporter: publicReport
      ? { name: null, phone: blank(c.reporterPhone), userId: null, anonymous: blank(c.reporterPhone) === null, role: 'resident' }
      : { name: blank(c.inspectorName), phone: null, userId: blank(c.inspectorId), anonymous: false, role: 'inspector' },
    title: blank(c.typeName) ?? lookup(names, c.typeCode) ?? null,
    text: c.description,
    appealType: 'report',
    location: {
      address: blank(c.address),
      point,
      district: grid ? (lookup(g.districts, grid.division) ?? null) : null,
      street: grid ? (lookup(g.streets, grid.division + grid.street) ?? null) : null,
      community: grid ? (lookup(g.communities, grid.division + grid.street + grid.community) ?? null) : null,
      grid: c.gridCode ?? null,
    },
    channelCategory: { scheme: 'gbt47678.5', code: c.typeCode, name: blank(c.typeName) ?? lookup(names, c.typeCode) ?? null },
    urgency: c.urgent ? 'urgent' : 'normal',
    attachments: (c.photos ?? []).map((url) => ({ kind: 'photo' as const, url, mediaType: null })),
    channelFields,
    mappingVersion: MAPPING_VERSION,
    // the inspector's staff number identifies a person: published as a keyed token
    personal: { channelFields: ['inspectorId'] },
  };
}
