import type { Crs } from '../../core/schema/types';
import type { ConnectorContext, ConnectorSpec } from '../../core/sdk/connector';
import { decodeBody } from '../../core/sdk/charset';
import { parseJson } from '../../core/sdk/decode';
import { POLLER_CONFIG_PROPERTIES, PullConnector, pollerOptions, pushConfigSchema, pushOptions, type ListedItem, type PollerConfig, type PushConfig } from '../../core/sdk/poller';
import { normalizeCityCase, type CityNormalizeConfig } from './normalize';

export interface CityConfig extends PollerConfig, CityNormalizeConfig {
  mode: 'pull' | 'push';
  baseUrl: string | null;
  listPath: string;
  apiToken: string | null;
  defaultCrs: Crs;
  push: PushConfig;
}

const MAX_ROWS = 1000;

/** Beijing-time ISO 8601 for the listing's `since` (the platform's own convention). */
export function formatSince(ms: number): string {
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 19) + '+08:00';
}

/** Splits `{ result: 0, message, data: { total, cases: [case…] } }` into one raw input per case. */
export function splitCityPage(body: Buffer, contentType: string): ListedItem[] {
  const doc = parseJson(decodeBody(body, contentType), 8) as { result?: unknown; message?: unknown; data?: { cases?: unknown } };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('listing is not a JSON object');
  if (doc.result !== 0) throw new Error(`listing answered result ${JSON.stringify(doc.result)}: ${String(doc.message ?? '').slice(0, 200)}`);
  const cases = doc.data?.cases;
  if (!Array.isArray(cases) || cases.length > MAX_ROWS) throw new Error('listing has no data.cases array (or more than 1000)');
  return cases.map((c: unknown) => {
    const r = (typeof c === 'object' && c !== null ? c : {}) as { caseNo?: unknown; updateTime?: unknown };
    const id = typeof r.caseNo === 'string' && r.caseNo.length > 0 && r.caseNo.length <= 40 ? r.caseNo : null;
    const t = typeof r.updateTime === 'string' && r.updateTime.length <= 40 ? Date.parse(r.updateTime) : NaN;
    return {
      raw: { transport: 'poller' as const, body: Buffer.from(JSON.stringify(c)), contentType: 'application/json; charset=utf-8', headers: {}, sourceId: id },
      key: id !== null && Number.isFinite(t) ? { t, id } : null,
    };
  });
}

const table = (what: string, keyPattern: string, example: Record<string, string>): Record<string, unknown> => ({
  type: 'object',
  maxProperties: 20000,
  propertyNames: { pattern: keyPattern },
  additionalProperties: { type: 'string', minLength: 1, maxLength: 128 },
  default: {},
  description: what,
  examples: [example],
});

/**
 * Digital city management (数字城管) cases: GB/T 47678.5 part/matter codes, 15-digit unit grids,
 * inspector reports with photos. Pulled from the platform's case listing (`mode: pull`) or pushed
 * as signed JSON (`mode: push`). See docs/connectors/city-management.md.
 */
export const citySpec: ConnectorSpec<CityConfig> = {
  type: 'city-management',
  channel: 'city-management',
  kind: 'poller',
  stability: 'beta',
  summary: '数字城管 cases (GB/T 47678.5 codes, 15-digit unit grids, inspector photos), polled from the case listing or pushed as signed JSON.',
  fixturesDir: 'connectors/city-management/fixtures',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: { enum: ['pull', 'push'], default: 'pull', description: 'pull: poll the case listing at baseUrl; push: accept signed JSON cases on /intake/<connector id> only.' },
      baseUrl: { type: ['string', 'null'], pattern: '^https?://[^\\s]+$', maxLength: 500, default: null, description: 'Base URL of the city-management platform (required for mode pull).', examples: ['http://szcg.example.gov.cn'] },
      listPath: { type: 'string', pattern: '^/[A-Za-z0-9/_.-]*$', maxLength: 200, default: '/api/cases', description: 'Path of the case listing.' },
      apiToken: { type: ['string', 'null'], maxLength: 512, default: null, 'x-secret': true, description: 'Sent as the Authorization header of listing requests, if set (never archived).' },
      ...POLLER_CONFIG_PROPERTIES,
      defaultCrs: { enum: ['WGS-84', 'GCJ-02', 'CGCS2000'], default: 'CGCS2000', description: 'Datum of lon/lat when a case has no coordSys (city-management GIS usually works in CGCS2000).' },
      codeNames: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'Optional GB/T 47678.5 code → name tables (部件 and 事项 share codes, so one table per class); used when a case has no typeName. Load them from the city\'s copy of the standard directory.',
        properties: {
          parts: table('管理部件 codes (表A.1) → names.', '^[0-9]{5}$', { '01001': '供水井盖' }),
          matters: table('管理事项 codes (表C.1) → names.', '^[0-9]{5}$', { '06042': '垃圾站（箱）满溢' }),
        },
      },
      gridDivisions: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'Names for the parts of a 15-digit unit-grid code: location.district from the 6-digit division, street from the 9-digit prefix, community from the 12-digit prefix.',
        properties: {
          districts: table('6-digit division code → district name.', '^[0-9]{6}$', { '420102': '江岸区' }),
          streets: table('9-digit prefix (division + street) → street name.', '^[0-9]{9}$', { '420102001': '大智街道' }),
          communities: table('12-digit prefix (division + street + community) → community name.', '^[0-9]{12}$', { '420102001002': '大智社区' }),
        },
      },
      push: pushConfigSchema(false, 'single cases (mode push turns this on)'),
    },
    allOf: [
      { if: { properties: { mode: { const: 'pull' } } }, then: { required: ['baseUrl'], properties: { baseUrl: { type: 'string' } } } },
      // mode push opens the push route: it must say how it is authenticated (secrets, or an explicit null)
      { if: { properties: { mode: { const: 'push' } }, required: ['mode'] }, then: { required: ['push'], properties: { push: { type: 'object', required: ['secrets'], properties: { secrets: true } } } } },
    ],
  },
  normalize: (raw, config) => normalizeCityCase(raw, config),
  create: (config, ctx) => createCity(config, ctx),
};

function createCity(config: CityConfig, ctx: ConnectorContext): PullConnector {
  const base = config.mode === 'pull' && config.baseUrl ? config.baseUrl.replace(/\/+$/, '') : null;
  const push = config.mode === 'push' ? pushOptions({ ...config.push, enabled: true }, ctx.id) : pushOptions(config.push, ctx.id);
  return new PullConnector(citySpec as ConnectorSpec<never>, ctx, {
    poll: base
      ? {
          source: {
            listUrl: ({ since, page, size }) => {
              const q = new URLSearchParams();
              if (since !== null) q.set('since', formatSince(since));
              q.set('page', String(page));
              q.set('size', String(size));
              return `${base}${config.listPath}?${q.toString()}`;
            },
            parsePage: splitCityPage,
          },
          options: pollerOptions(config, config.apiToken ? { authorization: config.apiToken } : {}),
        }
      : null,
    push,
  });
}
