import type { Crs } from '../../core/schema/types';
import { decodeBody, canonicalCharset } from '../../core/sdk/charset';
import type { ConnectorContext, ConnectorSpec } from '../../core/sdk/connector';
import { parseJson } from '../../core/sdk/decode';
import { POLLER_CONFIG_PROPERTIES, PullConnector, pollerOptions, pushConfigSchema, pushOptions, type ListedItem, type ListingSource, type PollerConfig, type PushConfig } from '../../core/sdk/poller';
import { formatBeijingTime, normalizeHotline, parseBeijingTime, REENCODED_HEADER } from './normalize';

export interface HotlineConfig extends PollerConfig {
  /** Base URL of the legacy hotline system; null = push only. */
  baseUrl: string | null;
  listPath: string;
  apiToken: string | null;
  charset: 'utf-8' | 'gbk' | 'gb2312' | 'gb18030' | null;
  charsetOverride: boolean;
  defaultCrs: Crs;
  categoryNames: Record<string, string>;
  push: PushConfig;
}

const MAX_ROWS = 1000;

/**
 * Splits one listing response `{ code, msg, total, rows: [record…] }` into records. The page is
 * decoded by its declared charset (or the configured one) strictly; each record becomes its own raw
 * input, re-encoded as UTF-8 JSON and marked so normalize does not apply the charset override again.
 */
export function splitHotlinePage(body: Buffer, contentType: string, config: Pick<HotlineConfig, 'charset' | 'charsetOverride'>): ListedItem[] {
  const configured = config.charset ? canonicalCharset(config.charset) : null;
  const text = decodeBody(body, contentType, config.charsetOverride ? configured : null, configured ?? 'utf-8');
  const doc = parseJson(text, 8) as { code?: unknown; msg?: unknown; rows?: unknown };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('listing is not a JSON object');
  if (doc.code !== 0) throw new Error(`listing answered code ${JSON.stringify(doc.code)}: ${String(doc.msg ?? '').slice(0, 200)}`);
  if (!Array.isArray(doc.rows) || doc.rows.length > MAX_ROWS) throw new Error('listing has no rows array (or more than 1000 rows)');
  const charsetLabel = configured ?? 'declared';
  return doc.rows.map((row: unknown) => {
    const r = (typeof row === 'object' && row !== null ? row : {}) as { GDBH?: unknown; GXSJ?: unknown };
    const id = typeof r.GDBH === 'string' && r.GDBH.length > 0 && r.GDBH.length <= 40 ? r.GDBH : null;
    const t = typeof r.GXSJ === 'string' ? parseBeijingTime(r.GXSJ) : null;
    return {
      raw: { transport: 'poller' as const, body: Buffer.from(JSON.stringify(row)), contentType: 'application/json; charset=utf-8', headers: { [REENCODED_HEADER]: charsetLabel }, sourceId: id },
      key: id !== null && t !== null ? { t, id } : null,
    };
  });
}

/**
 * 12345 government-service hotline: a poller over the legacy work-order listing
 * (`GET {baseUrl}/api/gd/list?since=&page=&size=`, pinyin-initial columns, often GBK), which also
 * accepts signed pushes of single work orders. See docs/connectors/hotline-12345.md.
 */
export const hotlineSpec: ConnectorSpec<HotlineConfig> = {
  type: 'hotline-12345',
  channel: 'hotline-12345',
  kind: 'poller',
  stability: 'beta',
  summary: '12345 hotline work orders (工单) polled from the legacy REST listing (pinyin columns, GBK) or pushed as signed JSON.',
  fixturesDir: 'connectors/hotline-12345/fixtures',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      baseUrl: {
        type: ['string', 'null'],
        pattern: '^https?://[^\\s]+$',
        maxLength: 500,
        default: null,
        description: 'Base URL of the legacy hotline system (the listing is GET {baseUrl}{listPath}); null disables polling (push only).',
        examples: ['http://12345-gd.example.gov.cn:8080'],
      },
      listPath: { type: 'string', pattern: '^/[A-Za-z0-9/_.-]*$', maxLength: 200, default: '/api/gd/list', description: 'Path of the work-order listing.' },
      apiToken: { type: ['string', 'null'], maxLength: 512, default: null, 'x-secret': true, description: 'Sent as the Authorization header of listing requests, if set (never archived).' },
      ...POLLER_CONFIG_PROPERTIES,
      charset: {
        enum: ['utf-8', 'gbk', 'gb2312', 'gb18030', null],
        default: null,
        description: 'Charset of upstream bodies that declare none. Decoding is strict: undecodable bytes are rejected (INTAKE_ERR_BAD_ENCODING).',
        examples: ['gbk'],
      },
      charsetOverride: { type: 'boolean', default: false, description: 'When true, `charset` replaces the charset the upstream declares (for a system that declares UTF-8 but sends GBK).' },
      defaultCrs: { enum: ['WGS-84', 'GCJ-02', 'BD-09', 'CGCS2000'], default: 'GCJ-02', description: 'Datum of ZBX/ZBY when a record has no ZBXT.' },
      categoryNames: {
        type: 'object',
        maxProperties: 2000,
        propertyNames: { pattern: '^[0-9]{3}$' },
        additionalProperties: { type: 'string', minLength: 1, maxLength: 128 },
        default: {},
        description: 'Optional FLDM → name table for channelCategory.name when records carry no FLMC (e.g. the city\'s 12345 subcategory list).',
        examples: [{ '001': '积水问题', '014': '工地噪音' }],
      },
      push: pushConfigSchema(false, 'single work orders (the same record shape as the listing rows)'),
    },
  },
  normalize: (raw, config) => normalizeHotline(raw, config),
  create: (config, ctx) => createHotline(config, ctx),
};

function createHotline(config: HotlineConfig, ctx: ConnectorContext): PullConnector {
  const headers: Record<string, string> = config.apiToken ? { authorization: config.apiToken } : {};
  const base = config.baseUrl?.replace(/\/+$/, '') ?? null;
  const source: ListingSource | null = base
    ? {
        listUrl: ({ since, page, size }) => {
          const q = new URLSearchParams();
          if (since !== null) q.set('since', formatBeijingTime(since));
          q.set('page', String(page));
          q.set('size', String(size));
          return `${base}${config.listPath}?${q.toString()}`;
        },
        parsePage: (body, contentType) => splitHotlinePage(body, contentType, config),
      }
    : null;
  return new PullConnector(hotlineSpec as ConnectorSpec<never>, ctx, {
    poll: source ? { source, options: pollerOptions(config, headers) } : null,
    push: pushOptions(config.push, ctx.id),
  });
}
