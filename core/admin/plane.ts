import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CatalogStore } from '../catalog/catalog';
import type { Clock } from '../clock';
import { isIntakeError } from '../errors';
import { ulid } from '../ids';
import type { Logger } from '../logger';
import type { HubMetrics } from '../metrics';
import type { DeadLetter } from '../schema/types';
import type { Connector, SubmitResult } from '../sdk/connector';
import { createServer, errorBody, installHealthRoutes, type RateLimitOptions, type TlsFiles } from '../server/http';
import type { ConnectionCaps } from '../server/limits';
import type { AuditAction, AuditOutcome, AuditRecord, AuditSink } from './audit';
import { roleAllows, type AdminRole, type Principal, type TokenStore } from './auth';
import type { DeadLetterIndex } from './deadletters';

/** The admin listener: its own address, optional TLS, caps and rate limit. */
export interface AdminListenerOptions {
  host: string;
  port: number;
  tls: TlsFiles | null;
  caps: ConnectionCaps;
  rateLimit: RateLimitOptions;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

/**
 * Everything the admin plane reads or acts on, handed in by the hub (no import of the hub): the
 * plane owns routes, authentication, roles and audit, the hub owns the state.
 */
export interface AdminPlaneDeps {
  listener: AdminListenerOptions;
  tokens: TokenStore;
  audit: AuditSink;
  metrics: HubMetrics;
  logger: Logger;
  clock: Clock;
  /** Named in audit records (start --instance-id). */
  instanceId?: string | null;
  live(): boolean;
  readiness(): Readiness;
  connectors(): Connector[];
  connector(id: string): Connector | undefined;
  catalog: CatalogStore | null;
  deadLetters: DeadLetterIndex;
  /** Submits a dead letter's raw bytes through its connector's pipeline again (no transport checks). */
  replay(dl: DeadLetter): Promise<SubmitResult>;
}

export interface AdminRoute {
  method: string;
  url: string;
  role: AdminRole | null;
  action: AuditAction | null;
}

export interface AdminPlane {
  readonly app: FastifyInstance;
  /** Every route of the plane with the role it needs (null: unauthenticated probe). */
  readonly routes: readonly AdminRoute[];
  /** Listens on admin.host:admin.port; resolves to the address. */
  listen(): Promise<string>;
  /** Writes the audit record of an action done by a route added to `app` (before its answer). */
  audit(req: FastifyRequest, entry: { action: AuditAction; target: string | null; outcome: AuditRecord['outcome']; status: number; reason?: string | null; detail?: Record<string, string | number | boolean | null> | null }): Promise<void>;
  /** The authenticated caller of a request on a route with a role (null before authentication). */
  principal(req: FastifyRequest): Principal | null;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Admin plane: lowest role allowed; absent: unauthenticated route (probes). */
    role?: AdminRole;
    /** Admin plane: the audited action (mutations and reads of dead letters). */
    action?: AuditAction;
  }
}

type RouteAuth = Pick<FastifyContextConfig, 'role' | 'action' | 'maxBodyBytes'>;

interface Result {
  status: number;
  body: unknown;
  outcome: AuditOutcome;
  reason?: string | null;
  detail?: Record<string, string | number | boolean | null> | null;
}

const DLQ_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const MAX_LIST = 500;

/**
 * The admin plane: admin API, `/metrics` and the probes on their own listener (default
 * 127.0.0.1:8081), apart from intake.
 *
 * Contract: every route but `/healthz` and `/readyz` needs `Authorization: Bearer <token>`; no
 * valid token → 401 (with `WWW-Authenticate`), a role below the route's → 403. Mutations, reads
 * of dead letters and refused attempts at either write an audit record (who, what, when, target,
 * result) before the answer is sent. Routes and roles:
 *
 * | route | role | audited action |
 * |---|---|---|
 * | GET /metrics, /api/whoami, /api/readiness, /api/connectors[/:id], /api/catalog | viewer | |
 * | GET /api/deadletters, /api/deadletters/:id | viewer | deadletter.list, deadletter.read |
 * | POST /api/connectors/:id/pause, resume, restart | operator | connector.* |
 * | POST /api/deadletters/:id/replay | operator | deadletter.replay |
 * | POST /api/catalog/reload | admin | catalog.reload |
 */
export function createAdminPlane(d: AdminPlaneDeps): AdminPlane {
  const app = createServer({ listener: 'admin', tls: d.listener.tls, caps: d.listener.caps, rateLimit: d.listener.rateLimit, metrics: d.metrics });
  const principals = new WeakMap<FastifyRequest, Principal>();
  const routes: AdminRoute[] = [];
  app.addHook('onRoute', (r) => {
    const cfg = r.config as RouteAuth | undefined;
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url, role: cfg?.role ?? null, action: cfg?.action ?? null });
  });

  const audit = async (req: FastifyRequest, action: AuditAction, target: string | null, r: Result, who: Principal | null): Promise<void> => {
    d.metrics.adminActions.inc({ action, outcome: r.outcome });
    const record: AuditRecord = {
      schemaVersion: 'audit/v1',
      id: ulid(d.clock.now()),
      at: new Date(d.clock.now()).toISOString(),
      instanceId: d.instanceId ?? null,
      actor: { tokenId: who?.tokenId ?? null, role: who?.role ?? null },
      client: req.ip.slice(0, 64),
      action,
      target: target?.slice(0, 128) ?? null,
      outcome: r.outcome,
      status: r.status,
      reason: r.reason ?? null,
      detail: r.detail ?? null,
    };
    try {
      await d.audit.write(record);
    } catch (e) {
      d.metrics.auditWriteFailures.inc();
      d.logger.error('audit record not written', { action, outcome: r.outcome, err: e });
    }
  };

  const targetOf = (req: FastifyRequest): string | null => (req.params as { id?: string } | undefined)?.id ?? null;

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const cfg = req.routeOptions.config as RouteAuth | undefined;
    if (!cfg?.role) return;
    const who = d.tokens.authenticate(req.headers.authorization);
    const deny = async (status: 401 | 403, r: Omit<Result, 'status' | 'outcome'>): Promise<FastifyReply> => {
      d.metrics.authFailures.inc({ listener: 'admin' });
      if (cfg.action) await audit(req, cfg.action, targetOf(req), { ...r, status, outcome: 'denied' }, who);
      if (status === 401) reply.header('www-authenticate', 'Bearer realm="intake-hub admin"');
      return reply.code(status).send(r.body);
    };
    if (!who) return deny(401, { body: errorBody('INTAKE_ERR_UNAUTHORIZED', 'a valid bearer token is required'), reason: 'INTAKE_ERR_UNAUTHORIZED' });
    if (!roleAllows(who.role, cfg.role)) return deny(403, { body: errorBody('INTAKE_ERR_FORBIDDEN', `role ${who.role} may not do this (needs ${cfg.role})`), reason: 'INTAKE_ERR_FORBIDDEN' });
    principals.set(req, who);
  });

  /** Runs an audited action: the record is written before the answer. */
  const act = (action: AuditAction, run: (req: FastifyRequest) => Promise<Result>) => async (req: FastifyRequest, reply: FastifyReply) => {
    let r: Result;
    try {
      r = await run(req);
    } catch (e) {
      const status = isIntakeError(e) && e.httpStatus < 500 ? e.httpStatus : isIntakeError(e) && e.retriable ? 503 : 500;
      const code = isIntakeError(e) ? e.code : 'INTAKE_ERR_INTERNAL';
      if (status >= 500) d.logger.error('admin action failed', { action, err: e });
      r = { status, body: errorBody(code, status >= 500 && !(isIntakeError(e) && e.retriable) ? 'internal error' : (e as Error).message, status >= 500), outcome: 'failed', reason: code };
    }
    await audit(req, action, targetOf(req), r, principals.get(req) ?? null);
    return reply.code(r.status).send(r.body);
  };

  const route = (role: AdminRole, action?: AuditAction): { config: RouteAuth } => ({ config: { role, ...(action ? { action } : {}), maxBodyBytes: 4096 } });
  const notFound = (message: string): Result => ({ status: 404, body: errorBody('INTAKE_ERR_NOT_FOUND', message), outcome: 'not-found', reason: 'INTAKE_ERR_NOT_FOUND' });

  installHealthRoutes(app, { live: d.live, ready: () => d.readiness().ready });

  app.get('/metrics', route('viewer'), async (_req, reply) => reply.header('content-type', d.metrics.registry.contentType).send(await d.metrics.registry.metrics()));
  app.get('/api/whoami', route('viewer'), async (req) => principals.get(req));
  app.get('/api/readiness', route('viewer'), async () => d.readiness());

  app.get('/api/connectors', route('viewer'), async () => ({ connectors: d.connectors().map((c) => c.health()) }));
  app.get<{ Params: { id: string } }>('/api/connectors/:id', route('viewer'), async (req, reply) => {
    const c = d.connector(req.params.id);
    if (!c) return reply.code(404).send(errorBody('INTAKE_ERR_NOT_FOUND', `no connector ${req.params.id.slice(0, 64)}`));
    return c.health();
  });
  const lifecycle = (action: 'pause' | 'resume' | 'restart'): void => {
    app.post(
      `/api/connectors/:id/${action}`,
      route('operator', `connector.${action}`),
      act(`connector.${action}`, async (req) => {
        const id = (req.params as { id: string }).id;
        const c = d.connector(id);
        if (!c) return notFound(`no connector ${id.slice(0, 64)}`);
        if (action === 'pause') await c.pause();
        else if (action === 'resume') await c.resume();
        else {
          await c.stop();
          await c.start();
        }
        const h = c.health();
        return { status: 200, body: h, outcome: 'ok', detail: { state: h.state } };
      }),
    );
  };
  lifecycle('pause');
  lifecycle('resume');
  lifecycle('restart');

  app.get(
    '/api/deadletters',
    route('viewer', 'deadletter.list'),
    act('deadletter.list', async (req) => {
      const q = req.query as { connector?: string; limit?: string; sinceHours?: string; before?: string };
      const limit = Math.min(Math.max(Number(q.limit ?? 50) || 50, 1), MAX_LIST);
      const sinceHours = Math.min(Math.max(Number(q.sinceHours ?? 168) || 168, 1), 24 * 365);
      const before = typeof q.before === 'string' && DLQ_ID.test(q.before) ? q.before : undefined;
      const connector = typeof q.connector === 'string' ? q.connector.slice(0, 64) : undefined;
      const items = d.deadLetters.list({ ...(connector !== undefined ? { connector } : {}), ...(before ? { before } : {}), limit, sinceMs: d.clock.now() - sinceHours * 3600_000 });
      const next = items.length === limit ? (items[items.length - 1]?.id ?? null) : null;
      return { status: 200, body: { deadLetters: items, next }, outcome: 'ok', detail: { count: items.length, ...(connector !== undefined ? { connector } : {}) } };
    }),
  );
  app.get(
    '/api/deadletters/:id',
    route('viewer', 'deadletter.read'),
    act('deadletter.read', async (req) => {
      const id = (req.params as { id: string }).id;
      const s = DLQ_ID.test(id) ? d.deadLetters.summary(id) : null;
      return s ? { status: 200, body: s, outcome: 'ok' } : notFound(`no dead letter ${id.slice(0, 26)}`);
    }),
  );
  app.post(
    '/api/deadletters/:id/replay',
    route('operator', 'deadletter.replay'),
    act('deadletter.replay', async (req) => {
      const id = (req.params as { id: string }).id;
      const s = DLQ_ID.test(id) ? d.deadLetters.summary(id) : null;
      if (!s) return notFound(`no dead letter ${id.slice(0, 26)}`);
      if (!s.replayable) {
        const message = `dead letter ${s.id} was refused at stage ${s.stage} (${s.error.code}): only reports that passed the transport and authentication checks can be replayed`;
        return { status: 409, body: errorBody('INTAKE_ERR_NOT_REPLAYABLE', message), outcome: 'refused', reason: 'INTAKE_ERR_NOT_REPLAYABLE', detail: { stage: s.stage } };
      }
      const dl = await d.deadLetters.fetch(s.id);
      if (!dl) return notFound(`dead letter ${s.id} is no longer on the dead-letter topic`);
      const r = await d.replay(dl);
      if (r.outcome === 'rejected') return { status: 422, body: { outcome: 'rejected', error: r.error.toJSON(), deadLetterId: r.deadLetterId }, outcome: 'ok', detail: { result: 'rejected', deadLetterId: r.deadLetterId } };
      return { status: 200, body: { outcome: r.outcome, ticketId: r.ticketId }, outcome: 'ok', detail: { result: r.outcome, ticketId: r.ticketId } };
    }),
  );

  app.get('/api/catalog', route('viewer'), async (_req, reply) => {
    if (!d.catalog) return reply.code(404).send(errorBody('INTAKE_ERR_NOT_FOUND', 'no catalog configured'));
    const c = d.catalog.current();
    return { version: c.version, categories: c.doc.categories.length, subcategories: c.doc.categories.reduce((n, k) => n + k.subcategories.length, 0) };
  });
  app.post(
    '/api/catalog/reload',
    route('admin', 'catalog.reload'),
    act('catalog.reload', async () => {
      if (!d.catalog) return notFound('no catalog configured');
      try {
        const c = d.catalog.reload();
        return { status: 200, body: { version: c.version }, outcome: 'ok', detail: { version: c.version } };
      } catch (e) {
        return { status: 400, body: errorBody('INTAKE_ERR_CONFIG', (e as Error).message), outcome: 'failed', reason: 'INTAKE_ERR_CONFIG' };
      }
    }),
  );

  return {
    app,
    routes,
    listen: () => app.listen({ host: d.listener.host, port: d.listener.port }),
    close: () => app.close(),
    audit: (req, e) => audit(req, e.action, e.target, { status: e.status, body: null, outcome: e.outcome, reason: e.reason ?? null, detail: e.detail ?? null }, principals.get(req) ?? null),
    principal: (req) => principals.get(req) ?? null,
  };
}
