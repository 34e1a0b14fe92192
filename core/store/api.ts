import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { CatalogDoc } from '../catalog/types';
import type { Clock } from '../clock';
import { maskText } from '../pii/mask';
import type { Channel } from '../schema/types';
import type { StoreService } from './service';
import { CursorError } from './sql';
import { CHANNELS } from './types';

export type AdminRole = 'viewer' | 'operator' | 'admin';


/** What the admin plane records for an action (the plane adds who, when and from where). */
export interface AdminAuditEntry {
  action: 'triage.assign';
  target: string | null;
  outcome: 'ok' | 'refused' | 'not-found' | 'failed';
  status: number;
  reason?: string | null;
  detail?: Record<string, string | number | boolean | null> | null;
}

/**
 * How admin routes plug into the admin plane (core/admin/plane.ts): the plane authenticates and
 * authorises, and keeps the audit trail; these routes only say which role they need and what they
 * did.
 */
export interface AdminPluginOptions {
  /**
   * A hook that answers 401 without a valid bearer token and 403 below `role`. It runs as the
   * route's onRequest hook: before the body of an unauthenticated request is read or validated.
   */
  authorize(role: AdminRole): onRequestAsyncHookHandler;
  /** Writes the audit record of an action before its answer is sent. */
  audit(req: FastifyRequest, entry: AdminAuditEntry): Promise<void>;
  /** The authenticated caller (after `authorize`): recorded as the actor of a triage assignment. */
  principal(req: FastifyRequest): { tokenId: string; role: AdminRole } | null;
}

export interface StoreRoutesOptions extends AdminPluginOptions {
  store: StoreService;
  /** The current category catalog (reloadable), for triage assignments. */
  catalog: () => CatalogDoc | null;
  clock: Clock;
}

/**
 * Request validation of these routes: bodies strictly (no coercion, no defaults, an unknown field
 * is a 400, not silently dropped), query strings and params with the coercion a URL needs
 * (`limit=20` → 20) and defaults.
 */
const bodyAjv = new Ajv2020({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: false });
const queryAjv = new Ajv2020({ allErrors: false, coerceTypes: true, useDefaults: true, removeAdditional: false, strict: false });
addFormats(bodyAjv);
addFormats(queryAjv);

const error = (code: string, message: string) => ({ error: { code, message, retriable: false } });
const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, retriable: { type: 'boolean' } }, required: ['code', 'message', 'retriable'] } },
  required: ['error'],
} as const;
const nullable = (s: Record<string, unknown>) => ({ anyOf: [s, { type: 'null' }] });
const codeName = { type: 'object', properties: { code: { type: 'string' }, name: { type: 'string' } }, required: ['code', 'name'] } as const;
const hubId = { type: 'string', pattern: '^[0-9A-HJKMNP-TV-Z]{26}$', maxLength: 26 } as const;
const clusterIdParam = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z_-]+$' } as const;
const score = nullable({ type: 'object', additionalProperties: { type: 'number' } });

const ticketSummary = {
  $id: 'TicketSummary',
  type: 'object',
  properties: {
    id: { type: 'string' },
    channel: { type: 'string', enum: CHANNELS },
    connectorId: { type: 'string' },
    sourceId: { type: 'string' },
    receivedAt: { type: 'string', format: 'date-time' },
    title: nullable({ type: 'string' }),
    excerpt: { type: 'string', description: 'The first 140 characters of the masked text.' },
    status: { type: 'string', enum: ['unrouted', 'routed', 'triage'] },
    department: nullable({ type: 'string' }),
    subcategory: nullable(codeName),
    dueAt: nullable({ type: 'string', format: 'date-time' }),
    clusterId: nullable({ type: 'string' }),
    triaged: { type: 'boolean', description: 'An operator assigned a category in the triage queue.' },
  },
  required: ['id', 'channel', 'connectorId', 'sourceId', 'receivedAt', 'title', 'excerpt', 'status', 'department', 'subcategory', 'dueAt', 'clusterId', 'triaged'],
} as const;

const triageAssignment = {
  $id: 'TriageAssignment',
  type: 'object',
  properties: {
    ticketId: { type: 'string' },
    category: codeName,
    subcategory: codeName,
    department: nullable({ type: 'string' }),
    actor: { type: 'string', description: 'Admin token id of the operator.' },
    at: { type: 'string', format: 'date-time' },
    note: nullable({ type: 'string' }),
  },
  required: ['ticketId', 'category', 'subcategory', 'department', 'actor', 'at', 'note'],
} as const;

const clusterSummary = {
  $id: 'ClusterSummary',
  type: 'object',
  properties: {
    id: { type: 'string' },
    primaryTicketId: { type: 'string' },
    size: { type: 'integer' },
    reporterCount: { type: 'integer', description: 'Distinct reporters (contact tokens; anonymous reports count once each).' },
    block: nullable({ type: 'string' }),
    hot: { type: 'boolean' },
    hotReporters: nullable({ type: 'integer' }),
    hotAt: nullable({ type: 'string', format: 'date-time' }),
    firstAt: { type: 'string', format: 'date-time' },
    lastAt: { type: 'string', format: 'date-time' },
    mergedInto: nullable({ type: 'string' }),
  },
  required: ['id', 'primaryTicketId', 'size', 'reporterCount', 'block', 'hot', 'hotReporters', 'hotAt', 'firstAt', 'lastAt', 'mergedInto'],
} as const;

const clusterDetail = {
  type: 'object',
  properties: {
    ...clusterSummary.properties,
    members: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          ticketId: { type: 'string' },
          channel: { type: 'string' },
          receivedAt: { type: 'string', format: 'date-time' },
          role: { type: 'string', enum: ['none', 'primary', 'member'] },
          title: nullable({ type: 'string' }),
          excerpt: { type: 'string' },
          reporter: {
            type: 'object',
            description: 'Masked as published; the contact token is never served.',
            properties: { nameMasked: nullable({ type: 'string' }), phoneMasked: nullable({ type: 'string' }), anonymous: { type: 'boolean' }, role: { type: 'string' } },
            required: ['nameMasked', 'phoneMasked', 'anonymous', 'role'],
          },
          score: { ...score, description: 'Score components of the link that put the ticket in the cluster (text, place, distance, time, total).' },
        },
        required: ['ticketId', 'channel', 'receivedAt', 'role', 'title', 'excerpt', 'reporter', 'score'],
      },
    },
    events: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, type: { type: 'string', enum: ['created', 'grew', 'merged', 'hot'] }, at: { type: 'string', format: 'date-time' }, ticketId: nullable({ type: 'string' }), size: { type: 'integer' }, reporterCount: { type: 'integer' }, score },
        required: ['id', 'type', 'at', 'ticketId', 'size', 'reporterCount', 'score'],
      },
    },
  },
  required: [...clusterSummary.required, 'members', 'events'],
} as const;

const page = (item: string) => ({ type: 'object', properties: { items: { type: 'array', items: { $ref: `${item}#` } }, next: nullable({ type: 'string', description: 'Cursor of the next page (pass as `cursor`); null on the last page.' }) }, required: ['items', 'next'] });
const limit = (max: number, def: number) => ({ type: 'integer', minimum: 1, maximum: max, default: def });
const cursor = { type: 'string', maxLength: 200, description: 'The `next` value of the previous page.' } as const;

/**
 * The lookup API of the ticket store, on the admin listener (docs/store.md):
 *
 * | route | role |
 * |---|---|
 * | GET /api/tickets/:id, GET /api/tickets?channel=&connectorId=&sourceId=&status=&since=&cursor=&limit= | viewer |
 * | GET /api/clusters/:id, GET /api/clusters?hot=&sort=&sinceHours=&limit= | viewer |
 * | GET /api/triage, GET /api/triage/categories | viewer |
 * | POST /api/triage/:id (audited: triage.assign) | operator |
 * | GET /api/stats/intake?hours=&bucketMinutes=&by=, GET /api/store | viewer |
 *
 * Every answer is built from the published (masked) tickets; reporters appear only masked; the
 * route schemas are the OpenAPI document (core/store/openapi.ts).
 */
export const storeRoutes: FastifyPluginAsync<StoreRoutesOptions> = async (app: FastifyInstance, o: StoreRoutesOptions) => {
  const { store } = o.store;
  for (const s of [ticketSummary, triageAssignment, clusterSummary]) app.addSchema(s);
  // The admin listener keeps raw bodies (core/server/raw-body.ts); these routes take small JSON
  // bodies, parsed by fastify's prototype-poisoning-safe parser.
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema));
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 4096 }, app.getDefaultJsonParser('error', 'error'));
  const route = (role: AdminRole, action?: AdminAuditEntry['action']) => ({ onRequest: o.authorize(role), config: { role, ...(action ? { action } : {}) } });
  const badCursor = (reply: FastifyReply) => reply.code(400).send(error('INTAKE_ERR_BAD_REQUEST', new CursorError().message));
  const tags = (t: string) => ({ tags: [t], security: [{ bearer: [] }] });

  app.get<{ Params: { id: string } }>(
    '/api/tickets/:id',
    {
      ...route('viewer'),
      schema: {
        ...tags('tickets'),
        summary: 'One ticket as published (masked), its current cluster and any triage assignment',
        params: { type: 'object', properties: { id: hubId }, required: ['id'] },
        response: {
          200: {
            type: 'object',
            properties: {
              ticket: { type: 'object', additionalProperties: true, description: 'CanonicalTicket v1 (schemas/ticket.v1.schema.json), as published: personal data masked.' },
              clusterId: nullable({ type: 'string' }),
              triage: nullable({ $ref: 'TriageAssignment#' }),
            },
            required: ['ticket', 'clusterId', 'triage'],
          },
          404: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const t = await store.ticket(req.params.id);
      if (!t) return reply.code(404).send(error('INTAKE_ERR_NOT_FOUND', `no ticket ${req.params.id}`));
      return t;
    },
  );

  app.get<{ Querystring: { channel?: Channel; connectorId?: string; sourceId?: string; status?: 'unrouted' | 'routed' | 'triage'; since?: string; cursor?: string; limit: number } }>(
    '/api/tickets',
    {
      ...route('viewer'),
      schema: {
        ...tags('tickets'),
        summary: 'Tickets, newest first, filtered; paged with a keyset cursor',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            channel: { type: 'string', enum: CHANNELS },
            connectorId: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
            sourceId: { type: 'string', minLength: 1, maxLength: 128 },
            status: { type: 'string', enum: ['unrouted', 'routed', 'triage'] },
            since: { type: 'string', format: 'date-time', description: 'Only tickets received at or after this time.' },
            cursor,
            limit: limit(200, 50),
          },
        },
        response: { 200: page('TicketSummary'), 400: errorSchema },
      },
    },
    async (req, reply) => {
      const q = req.query;
      try {
        return await store.tickets(
          { ...(q.channel ? { channel: q.channel } : {}), ...(q.connectorId ? { connectorId: q.connectorId } : {}), ...(q.sourceId ? { sourceId: q.sourceId } : {}), ...(q.status ? { status: q.status } : {}), ...(q.since ? { sinceMs: Date.parse(q.since) } : {}) },
          { limit: q.limit, cursor: q.cursor ?? null },
        );
      } catch (e) {
        if (e instanceof CursorError) return badCursor(reply);
        throw e;
      }
    },
  );

  app.get<{ Params: { id: string }; Querystring: { members: number } }>(
    '/api/clusters/:id',
    {
      ...route('viewer'),
      schema: {
        ...tags('clusters'),
        summary: 'A 多人一诉 cluster: summary, members (reporters masked) with score components, recent events',
        params: { type: 'object', properties: { id: clusterIdParam }, required: ['id'] },
        querystring: { type: 'object', additionalProperties: false, properties: { members: limit(1000, 200) } },
        response: { 200: clusterDetail, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const c = await store.cluster(req.params.id, req.query.members);
      if (!c) return reply.code(404).send(error('INTAKE_ERR_NOT_FOUND', `no cluster ${req.params.id}`));
      return c;
    },
  );

  app.get<{ Querystring: { hot?: boolean; sort: 'size' | 'recent'; sinceHours?: number; limit: number } }>(
    '/api/clusters',
    {
      ...route('viewer'),
      schema: {
        ...tags('clusters'),
        summary: 'Hot issues (hot=true, most recent first) or the biggest / most recent clusters',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { hot: { type: 'boolean' }, sort: { type: 'string', enum: ['size', 'recent'], default: 'size' }, sinceHours: { type: 'number', minimum: 1, maximum: 8760, description: 'Only clusters active (hot: turned hot) in the last hours.' }, limit: limit(200, 20) },
        },
        response: { 200: { type: 'object', properties: { clusters: { type: 'array', items: { $ref: 'ClusterSummary#' } } }, required: ['clusters'] } },
      },
    },
    async (req) => {
      const q = req.query;
      return { clusters: await store.clusters({ ...(q.hot ? { hot: true } : {}), sort: q.sort, limit: q.limit, ...(q.sinceHours ? { sinceMs: o.clock.now() - q.sinceHours * 3600_000 } : {}) }) };
    },
  );

  app.get<{ Querystring: { cursor?: string; limit: number } }>(
    '/api/triage',
    {
      ...route('viewer'),
      schema: {
        ...tags('triage'),
        summary: 'The manual-triage queue: tickets the cascade could not classify confidently, oldest first',
        querystring: { type: 'object', additionalProperties: false, properties: { cursor, limit: limit(200, 50) } },
        response: { 200: page('TicketSummary'), 400: errorSchema },
      },
    },
    async (req, reply) => {
      try {
        return await store.triage({ limit: req.query.limit, cursor: req.query.cursor ?? null });
      } catch (e) {
        if (e instanceof CursorError) return badCursor(reply);
        throw e;
      }
    },
  );

  app.get(
    '/api/triage/categories',
    {
      ...route('viewer'),
      schema: {
        ...tags('triage'),
        summary: 'The catalog categories and subcategories a triage assignment can name',
        response: {
          200: {
            type: 'object',
            properties: {
              catalogVersion: nullable({ type: 'string' }),
              categories: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, name: { type: 'string' }, subcategories: { type: 'array', items: codeName } }, required: ['code', 'name', 'subcategories'] } },
            },
            required: ['catalogVersion', 'categories'],
          },
        },
      },
    },
    async () => {
      const doc = o.catalog();
      return { catalogVersion: doc?.catalogVersion ?? null, categories: (doc?.categories ?? []).map((c) => ({ code: c.code, name: c.name, subcategories: c.subcategories.map((s) => ({ code: s.code, name: s.name })) })) };
    },
  );

  app.post<{ Params: { id: string }; Body: { subcategory: string; note?: string | null } }>(
    '/api/triage/:id',
    {
      ...route('operator', 'triage.assign'),
      schema: {
        ...tags('triage'),
        summary: 'Assign a catalog subcategory to a ticket in triage (recorded in the store and the audit trail)',
        params: { type: 'object', properties: { id: hubId }, required: ['id'] },
        body: { type: 'object', additionalProperties: false, properties: { subcategory: { type: 'string', pattern: '^C[0-9]{2}\\.[0-9]{3}$', maxLength: 8 }, note: nullable({ type: 'string', maxLength: 500 }) }, required: ['subcategory'] },
        response: { 200: { $ref: 'TriageAssignment#' }, 404: errorSchema, 409: errorSchema, 422: errorSchema },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      const code = req.body.subcategory;
      const doc = o.catalog();
      const category = doc?.categories.find((c) => c.subcategories.some((s) => s.code === code));
      const sub = category?.subcategories.find((s) => s.code === code);
      const who = o.principal(req);
      const send = async (status: number, body: unknown, outcome: AdminAuditEntry['outcome'], reason: string | null, detail: AdminAuditEntry['detail'] = null) => {
        await o.audit(req, { action: 'triage.assign', target: id, outcome, status, reason, detail });
        return reply.code(status).send(body);
      };
      if (!category || !sub) return send(422, error('INTAKE_ERR_PAYLOAD_INVALID', `subcategory ${code} is not in catalog ${doc?.catalogVersion ?? '(none)'}`), 'refused', 'INTAKE_ERR_PAYLOAD_INVALID', { subcategory: code });
      const a = {
        ticketId: id,
        category: { code: category.code, name: category.name },
        subcategory: { code: sub.code, name: sub.name },
        department: sub.territorial ? null : sub.department,
        actor: who?.tokenId ?? 'unknown',
        at: new Date(o.clock.now()).toISOString(),
        // operators type free text: it is masked like any other text before it is stored
        note: req.body.note ? maskText(req.body.note) : null,
      };
      const r = await store.assign(a);
      if (r === 'not-found') return send(404, error('INTAKE_ERR_NOT_FOUND', `no ticket ${id}`), 'not-found', 'INTAKE_ERR_NOT_FOUND');
      if (r === 'not-in-triage') return send(409, error('INTAKE_ERR_CONFLICT', `ticket ${id} is not in the triage queue`), 'refused', 'INTAKE_ERR_CONFLICT');
      return send(200, a, 'ok', null, { subcategory: sub.code, catalogVersion: doc?.catalogVersion ?? null });
    },
  );

  app.get<{ Querystring: { hours: number; bucketMinutes: number; by: 'channel' | 'connector' } }>(
    '/api/stats/intake',
    {
      ...route('viewer'),
      schema: {
        ...tags('stats'),
        summary: 'Tickets received per channel or connector in time buckets (the console charts)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { hours: { type: 'integer', minimum: 1, maximum: 720, default: 24 }, bucketMinutes: { type: 'integer', minimum: 1, maximum: 1440, default: 60 }, by: { type: 'string', enum: ['channel', 'connector'], default: 'channel' } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              since: { type: 'string', format: 'date-time' },
              bucketMinutes: { type: 'integer' },
              series: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, bucket: { type: 'string', format: 'date-time' }, count: { type: 'integer' } }, required: ['key', 'bucket', 'count'] } },
            },
            required: ['since', 'bucketMinutes', 'series'],
          },
        },
      },
    },
    async (req) => {
      const bucketMs = req.query.bucketMinutes * 60_000;
      const since = Math.floor((o.clock.now() - req.query.hours * 3600_000) / bucketMs) * bucketMs;
      const rows = await store.intake(since, bucketMs, req.query.by);
      return { since: new Date(since).toISOString(), bucketMinutes: req.query.bucketMinutes, series: rows.map((r) => ({ key: r.key, bucket: new Date(r.bucket).toISOString(), count: r.count })) };
    },
  );

  app.get(
    '/api/store',
    {
      ...route('viewer'),
      schema: {
        ...tags('store'),
        summary: 'The ticket store: database kind, schema version, materialiser lease and lag',
        response: {
          200: {
            type: 'object',
            properties: {
              kind: { type: 'string', enum: ['sqlite', 'postgres'] },
              schemaVersion: { type: 'integer' },
              up: { type: 'boolean' },
              tickets: { type: 'integer' },
              materializer: {
                type: 'object',
                properties: {
                  enabled: { type: 'boolean' },
                  leader: { type: 'boolean' },
                  consumer: { type: 'string' },
                  lag: nullable({ type: 'object', additionalProperties: { type: 'integer' } }),
                  applied: { type: 'object', additionalProperties: { type: 'integer' } },
                  skipped: { type: 'integer' },
                },
                required: ['enabled', 'leader', 'consumer', 'lag', 'applied', 'skipped'],
              },
            },
            required: ['kind', 'schemaVersion', 'up', 'tickets', 'materializer'],
          },
        },
      },
    },
    async () => ({ ...(await o.store.status()), tickets: await store.count() }),
  );
};
