import type { ConnectorContext, ConnectorSpec } from '../../core/sdk/connector';
import { decodeBody } from '../../core/sdk/charset';
import { parseJson } from '../../core/sdk/decode';
import { POLLER_CONFIG_PROPERTIES, PullConnector, pollerOptions, pushConfigSchema, pushOptions, type ListedItem, type PollerConfig, type PushConfig } from '../../core/sdk/poller';
import { normalizeBoardPost } from './normalize';

export interface BoardConfig extends PollerConfig {
  baseUrl: string;
  listPath: string;
  apiToken: string | null;
  push: PushConfig;
}

const MAX_ROWS = 1000;

/** Splits `{ status: 'success', data: { total, list: [post…] } }` into one raw input per post. */
export function splitBoardPage(body: Buffer, contentType: string): ListedItem[] {
  const doc = parseJson(decodeBody(body, contentType), 8) as { status?: unknown; message?: unknown; data?: { list?: unknown } };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('listing is not a JSON object');
  if (doc.status !== 'success') throw new Error(`listing answered status ${JSON.stringify(doc.status)}: ${String(doc.message ?? '').slice(0, 200)}`);
  const list = doc.data?.list;
  if (!Array.isArray(list) || list.length > MAX_ROWS) throw new Error('listing has no data.list array (or more than 1000)');
  return list.map((p: unknown) => {
    const r = (typeof p === 'object' && p !== null ? p : {}) as { tid?: unknown; createdAt?: unknown };
    const id = typeof r.tid === 'string' && /^[0-9]{1,20}$/.test(r.tid) ? r.tid : null;
    const t = typeof r.createdAt === 'number' && Number.isSafeInteger(r.createdAt) ? r.createdAt : null;
    return {
      raw: { transport: 'poller' as const, body: Buffer.from(JSON.stringify(p)), contentType: 'application/json; charset=utf-8', headers: {}, sourceId: id },
      key: id !== null && t !== null ? { t, id } : null,
    };
  });
}

/**
 * Leadership message board (领导留言板): a poller over the board's paged listing of posts (HTML
 * content, 领域 domains, 投诉/求助/咨询/建言), incremental by (post time, message id); signed pushes
 * are accepted when enabled. See docs/connectors/message-board.md.
 */
export const boardSpec: ConnectorSpec<BoardConfig> = {
  type: 'message-board',
  channel: 'message-board',
  kind: 'poller',
  stability: 'beta',
  summary: 'Leadership message board (领导留言板) posts polled from the paged listing; HTML content converted to text safely.',
  fixturesDir: 'connectors/message-board/fixtures',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['baseUrl'],
    properties: {
      baseUrl: { type: 'string', pattern: '^https?://[^\\s]+$', maxLength: 500, description: 'Base URL of the message-board listing service.', examples: ['http://liuyan.example.cn'] },
      listPath: { type: 'string', pattern: '^/[A-Za-z0-9/_.-]*$', maxLength: 200, default: '/api/messages', description: 'Path of the post listing.' },
      apiToken: { type: ['string', 'null'], maxLength: 512, default: null, 'x-secret': true, description: 'Sent as the Authorization header of listing requests, if set (never archived).' },
      ...POLLER_CONFIG_PROPERTIES,
      push: pushConfigSchema(false, 'single posts'),
    },
  },
  normalize: (raw) => normalizeBoardPost(raw),
  create: (config, ctx) => createBoard(config, ctx),
};

function createBoard(config: BoardConfig, ctx: ConnectorContext): PullConnector {
  const base = config.baseUrl.replace(/\/+$/, '');
  return new PullConnector(boardSpec as ConnectorSpec<never>, ctx, {
    poll: {
      source: {
        listUrl: ({ since, page, size }) => `${base}${config.listPath}?${since === null ? '' : `since=${since}&`}page=${page}&size=${size}`,
        parsePage: splitBoardPage,
      },
      options: pollerOptions(config, config.apiToken ? { authorization: config.apiToken } : {}),
    },
    push: pushOptions(config.push, ctx.id),
  });
}
