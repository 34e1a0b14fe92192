import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PayloadError } from '../../core/errors';
import type { ConnectorContext, ConnectorSpec, RawInput } from '../../core/sdk/connector';
import { PushConnector } from '../../core/sdk/push-connector';
import { registerWebhook, type WebhookResponder } from '../../core/sdk/webhook';
import { ulidTime } from '../../core/ids';
import { maskText, maskUrl, prepareIdentity } from '../../core/pii/mask';
import type { CanonicalTicket } from '../../core/schema/types';
import { packageRoot } from '../../core/util/paths';
import { normalizeOpen311, parseRequest } from './normalize';

/** One entry of GET services.json (GeoReport v2 §GET Service List). */
export interface Open311Service {
  service_code: string;
  service_name: string;
  description: string;
  metadata: boolean;
  type: 'realtime' | 'batch' | 'blackbox';
  keywords: string;
  group: string;
}

export interface Open311Config {
  basePath: string;
  apiKeys: string[] | null;
  maxBodyBytes: number;
  services: { source: 'catalog' | 'config'; catalogPath: string; list: { service_code: string; service_name: string; description?: string; group?: string; keywords?: string }[] };
  serviceNotice: string;
  statusIndexSize: number;
}

/**
 * An Open311 GeoReport v2 endpoint (JSON format) for resident apps that speak Open311:
 * - GET  {basePath}/services.json — the service list: the subcategories of the hub's category
 *   catalog (schemas/catalog/default.catalog.json) or, if it cannot be loaded or `services.source`
 *   is `config`, the configured list;
 * - POST {basePath}/requests.json — form-urlencoded or JSON; answered `[{service_request_id,
 *   service_notice, account_id}]` (the hub ticket id) only once the ticket is durable;
 * - GET  {basePath}/requests/{id}.json — status `open` for a ticket this connector made durable.
 *   Status comes from the hub, which knows "received and durable" only: there is no closed-loop
 *   feedback yet, so it is never `closed`. With a ticket store (core/store, the default with the
 *   embedded output; PostgreSQL for a fleet) the answer comes from the stored ticket, so it
 *   survives restarts and any instance answers it; `expected_datetime` is the SLA due time and
 *   `agency_responsible` the routed department. A request made durable here but not yet
 *   materialised is answered from a bounded in-memory index (`statusIndexSize`, oldest first
 *   out), which is all there is without a store (lost on restart: older ids answer 404). A store
 *   that cannot be read answers 503 with Retry-After rather than a false 404.
 * Errors use the spec's format: `[{"code": <http status>, "description": "..."}]`.
 */
export const open311Spec: ConnectorSpec<Open311Config> = {
  type: 'open311',
  channel: 'resident-app',
  kind: 'webhook',
  stability: 'experimental',
  summary: 'Open311 GeoReport v2 endpoint (services, POST request, request status) for resident apps.',
  fixturesDir: 'connectors/open311/fixtures',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      basePath: { type: 'string', pattern: '^/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$', maxLength: 200, default: '/open311/v2', description: 'Where the GeoReport v2 endpoint lives; one per connector instance.', examples: ['/open311/v2'] },
      apiKeys: {
        description: 'Accepted api_key values for POST requests (GeoReport v2: "Requires API Key: Yes"), sent as a form field, a JSON key or in the query string (?api_key=, as the open311 1.1 client does); compared in constant time; a missing or unknown key is a 403. null accepts requests without a key (testing only: `intake-hub start` refuses it outside the demo).',
        anyOf: [{ type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', minLength: 8, maxLength: 256 } }, { type: 'null' }],
        default: null,
        'x-secret': true,
      },
      maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 1048576, default: 65536, description: 'Largest accepted POST body.' },
      services: {
        description: 'Where the service list comes from: the category catalog (each subcategory is a service, grouped by category) or the configured list. With source=catalog, the configured list is the fallback when the catalog cannot be loaded.',
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          source: { enum: ['catalog', 'config'], default: 'catalog', description: 'catalog or config.' },
          catalogPath: { type: 'string', maxLength: 500, default: 'schemas/catalog/default.catalog.json', description: 'Catalog file, relative to the package root.' },
          list: {
            type: 'array',
            maxItems: 2000,
            default: [],
            description: 'Configured services.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['service_code', 'service_name'],
              properties: {
                service_code: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' },
                service_name: { type: 'string', minLength: 1, maxLength: 128 },
                description: { type: 'string', maxLength: 500 },
                group: { type: 'string', maxLength: 128 },
                keywords: { type: 'string', maxLength: 500 },
              },
            },
          },
        },
      },
      serviceNotice: { type: 'string', maxLength: 500, default: '您的诉求已受理，请凭 service_request_id 查询办理进度。', description: 'service_notice returned with each created request.' },
      statusIndexSize: { type: 'integer', minimum: 100, maximum: 1000000, default: 100000, description: 'How many created requests GET requests/{id}.json remembers (in memory).' },
    },
  },
  normalize: (raw) => normalizeOpen311(raw),
  create: (config, ctx) => new Open311Connector(config, ctx),
};

interface CatalogShape {
  categories?: { name?: unknown; subcategories?: { code?: unknown; name?: unknown; keywords?: unknown }[] }[];
}

/** Services from a category catalog file: one per subcategory, grouped by category. */
export function servicesFromCatalog(file: string): Open311Service[] {
  const doc = JSON.parse(readFileSync(isAbsolute(file) ? file : join(packageRoot(), file), 'utf8')) as CatalogShape;
  if (!Array.isArray(doc.categories)) throw new Error(`${file} has no categories`);
  const out: Open311Service[] = [];
  for (const c of doc.categories) {
    for (const s of c.subcategories ?? []) {
      if (typeof s.code !== 'string' || typeof s.name !== 'string') continue;
      out.push({
        service_code: s.code,
        service_name: s.name,
        description: `${String(c.name)} / ${s.name}`,
        metadata: false,
        type: 'realtime',
        keywords: Array.isArray(s.keywords) ? s.keywords.filter((k) => typeof k === 'string').join(',') : '',
        group: String(c.name),
      });
    }
  }
  if (out.length === 0) throw new Error(`${file} has no subcategories`);
  return out;
}

interface IndexedRequest {
  service_request_id: string;
  status: 'open';
  status_notes: string | null;
  service_name: string | null;
  service_code: string;
  description: string | null;
  agency_responsible: string | null;
  service_notice: string;
  requested_datetime: string;
  updated_datetime: string;
  expected_datetime: string | null;
  address: string | null;
  address_id: string | null;
  zipcode: null;
  lat: number | null;
  long: number | null;
  media_url: string | null;
}

/** A ticket id (ULID, Crockford base32). */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

const errors = (reply: FastifyReply, status: number, description: string): FastifyReply => reply.code(status).send([{ code: status, description: description.slice(0, 500) }]);

class Open311Connector extends PushConnector {
  readonly services: Open311Service[];
  readonly servicesSource: 'catalog' | 'config';
  private readonly codes: Map<string, Open311Service>;
  private readonly index = new Map<string, IndexedRequest>();
  private readonly keyDigests: Buffer[];

  constructor(
    private readonly config: Open311Config,
    ctx: ConnectorContext,
  ) {
    super(open311Spec as ConnectorSpec<never>, ctx);
    this.keyDigests = (config.apiKeys ?? []).map(digest);
    const configured: Open311Service[] = config.services.list.map((s) => ({ service_code: s.service_code, service_name: s.service_name, description: s.description ?? s.service_name, metadata: false, type: 'realtime', keywords: s.keywords ?? '', group: s.group ?? '' }));
    let services = configured;
    let source: 'catalog' | 'config' = 'config';
    if (config.services.source === 'catalog') {
      try {
        services = servicesFromCatalog(config.services.catalogPath);
        source = 'catalog';
      } catch (e) {
        ctx.logger.warn('open311: catalog not loadable, serving the configured service list', { err: e });
      }
    }
    this.services = services;
    this.servicesSource = source;
    this.codes = new Map(services.map((s) => [s.service_code, s]));
    const base = config.basePath;
    const running = this.accepting;

    ctx.http.get(`${base}/services.json`, async (_req, reply) => (running() ? reply.send(this.services) : errors(reply.header('retry-after', '5'), 503, 'service temporarily unavailable')));

    ctx.http.get<{ Params: { file: string } }>(`${base}/requests/:file`, async (req: FastifyRequest<{ Params: { file: string } }>, reply) => {
      const m = /^([0-9A-Za-z_-]{1,80})\.json$/.exec(req.params.file);
      if (!m) return errors(reply, 404, 'no such request (only the .json format is served)');
      const id = m[1] as string;
      const local = this.index.get(id);
      const store = this.ctx.ticketStore;
      if (!store) return local ? reply.send([local]) : errors(reply, 404, 'service_request_id not found');
      let stored: CanonicalTicket | null;
      try {
        // the service_request_id is the ticket's published source id; a ticket id (ULID) is
        // accepted too
        stored = ULID.test(id) ? await store.ticket(id) : await store.bySource(this.ctx.id, id);
      } catch {
        if (local) return reply.send([local]);
        return errors(reply.header('retry-after', '5'), 503, 'status temporarily unavailable, retry later');
      }
      // Only this connector's requests: another channel's ticket id is not an Open311 request here.
      if (stored && stored.source.connectorId === this.ctx.id) return reply.send([this.statusOf(stored, id)]);
      // Made durable here but not materialised yet (the store follows the processor within moments).
      if (local) return reply.send([local]);
      return errors(reply, 404, 'service_request_id not found');
    });

    const respond: WebhookResponder = {
      durable: (reply, r, raw) => {
        // The id the client keeps is the report's published source id (a keyed token of the
        // request), not the ticket id: a retried POST, to any instance, gets the same id back, and
        // any instance finds the ticket by it in the store. (Open311 requests carry no report
        // time, so the ticket id's time part is the first delivery's receipt time, which a retry
        // cannot know.)
        this.remember(r.sourceId, r.ticketId, raw);
        return reply.code(200).send([{ service_request_id: r.sourceId, service_notice: config.serviceNotice, account_id: null }]);
      },
      refused: (reply, e, deadLetterId) => {
        const status = e.httpStatus >= 400 ? e.httpStatus : 500;
        return errors(reply, status, `${e.dataPath ? `${e.dataPath.replace(/^\//, '')}: ` : ''}${status >= 500 ? 'internal error' : e.message}${deadLetterId ? ` (ref ${deadLetterId})` : ''}`);
      },
      unavailable: (reply, e) => errors(reply, 503, `temporarily unavailable, retry later (${e.code})`),
    };
    registerWebhook(
      ctx,
      {
        path: `${base}/requests.json`,
        maxBodyBytes: config.maxBodyBytes,
        contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
        secrets: null,
        toleranceSeconds: 300,
        keepHeaders: ['content-type', 'user-agent', 'x-request-id'],
        ...(config.apiKeys ? { authenticate: (_req: FastifyRequest, body: Buffer) => this.checkApiKey(body, _req) } : {}),
        intercept: (raw, reply) => this.checkServiceCode(raw, reply),
        respond,
      },
      this.tracker,
      running,
    );
  }

  /**
   * GeoReport v2: api_key is a request argument: a form field or JSON key of the body or, as the
   * open311 1.1 client sends it, a query-string argument (the body's wins when both are given).
   * Compared in constant time against every configured key; 403 when missing or wrong.
   */
  private checkApiKey(body: Buffer, req: FastifyRequest): void {
    let key = apiKeyOfBody(body, String(req.headers['content-type'] ?? ''));
    if (key === undefined) {
      const q = (req.query ?? {}) as Record<string, unknown>;
      const v = Object.prototype.hasOwnProperty.call(q, 'api_key') ? q.api_key : undefined;
      if (Array.isArray(v)) throw new PayloadError('INTAKE_ERR_SIGNATURE', 'api_key is given twice', { httpStatus: 403, dataPath: '/api_key' });
      key = typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined;
    }
    if (!key) throw new PayloadError('INTAKE_ERR_SIGNATURE', 'api_key is required', { httpStatus: 403, dataPath: '/api_key' });
    if (!keyMatches(key, this.keyDigests)) throw new PayloadError('INTAKE_ERR_SIGNATURE', 'api_key is not valid', { httpStatus: 403, dataPath: '/api_key' });
  }

  /** GeoReport v2: an unknown service_code is a 404 (dead-lettered like any refusal). */
  private async checkServiceCode(raw: RawInput, reply: FastifyReply): Promise<boolean> {
    if (this.codes.size === 0) return false;
    let code: string;
    try {
      code = parseRequest(raw).service_code;
    } catch {
      return false; // submit dead-letters it with the precise reason
    }
    if (this.codes.has(code)) return false;
    const e = new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', 'service_code was not found (see services.json)', { httpStatus: 404, dataPath: '/service_code' });
    const id = await this.ctx.reject(raw, e, 'transport');
    this.tracker.outcome({ outcome: 'rejected', error: e, deadLetterId: id });
    errors(reply, 404, `service_code was not found (see services.json; ref ${id})`);
    return true;
  }

  /** A GeoReport v2 service request built from the stored (masked, classified, routed) ticket. */
  private statusOf(t: CanonicalTicket, requestId: string): IndexedRequest {
    const code = t.channelCategory?.scheme === 'open311' ? t.channelCategory.code : '';
    const second = (iso: string | null): string | null => (iso ? new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z') : null);
    const received = second(t.source.receivedAt) as string;
    return {
      service_request_id: requestId,
      status: 'open',
      status_notes: null,
      service_name: this.codes.get(code)?.service_name ?? null,
      service_code: code,
      description: t.text,
      agency_responsible: t.routing.department,
      service_notice: this.config.serviceNotice,
      requested_datetime: received,
      updated_datetime: second(t.trace.processedAt) ?? received,
      expected_datetime: second(t.routing.dueAt),
      address: t.location.address,
      address_id: typeof t.channelFields.addressId === 'string' ? t.channelFields.addressId : null,
      zipcode: null,
      lat: t.location.point?.lat ?? null,
      long: t.location.point?.lon ?? null,
      media_url: t.attachments[0]?.url ?? null,
    };
  }

  private remember(requestId: string, ticketId: string, raw: RawInput): void {
    if (this.index.has(requestId)) return;
    let r;
    try {
      r = parseRequest(raw);
    } catch {
      return;
    }
    const at = new Date(ulidTime(ticketId)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    // served to anyone holding the id: every free-text field masked like the ticket's, with the
    // reporter's own name, phone and ids masked wherever they recur
    const id = prepareIdentity({ names: [`${r.last_name ?? ''}${r.first_name ?? ''}`, `${r.first_name ?? ''} ${r.last_name ?? ''}`], phones: [r.phone], ids: [r.email, r.account_id, r.device_id] });
    this.index.set(requestId, {
      service_request_id: requestId,
      status: 'open',
      status_notes: null,
      service_name: this.codes.get(r.service_code)?.service_name ?? null,
      service_code: r.service_code,
      description: r.description ? maskText(r.description, id) : null,
      agency_responsible: null,
      service_notice: this.config.serviceNotice,
      requested_datetime: at,
      updated_datetime: at,
      expected_datetime: null,
      address: r.address_string ? maskText(r.address_string, id) : null,
      address_id: r.address_id ? maskText(r.address_id, id) : null,
      zipcode: null,
      lat: r.lat !== undefined ? Number(r.lat) : null,
      long: r.long !== undefined ? Number(r.long) : null,
      media_url: r.media_url ? maskUrl(r.media_url, id) : null,
    });
    while (this.index.size > this.config.statusIndexSize) {
      const oldest = this.index.keys().next().value;
      if (oldest === undefined) break;
      this.index.delete(oldest);
    }
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant time in the key's content: every configured key is compared, digests of equal length. */
function keyMatches(key: string, digests: Buffer[]): boolean {
  const d = digest(key);
  let ok = false;
  for (const k of digests) ok = timingSafeEqual(d, k) || ok;
  return ok;
}

/** The api_key of a body (form field or JSON key), or undefined when there is none or it does not parse. */
function apiKeyOfBody(body: Buffer, contentType: string): string | undefined {
  try {
    return parseRequest({ transport: 'webhook', body, contentType, headers: {} }).api_key;
  } catch {
    // unparseable: normalisation rejects it with its own reason once the key is checked
    const head = body.subarray(0, 8192).toString('latin1');
    const m = /(?:^|&)api_key=([^&]{1,256})/.exec(head);
    if (m?.[1]) {
      try {
        return decodeURIComponent(m[1].replace(/\+/g, ' '));
      } catch {
        return undefined;
      }
    }
    return /"api_key"\s*:\s*"([^"\\]{1,256})"/.exec(body.subarray(0, 8192).toString('utf8'))?.[1];
  }
}
