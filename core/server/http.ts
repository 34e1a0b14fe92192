import { readFileSync } from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ConfigError } from '../errors';
import type { HubMetrics } from '../metrics';
import { capConnections, type ConnectionCaps } from './limits';
import { installRawBodyParser } from './raw-body';

/** TLS of a listener: PEM files read once at start. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Requests per client (remote address) per window; clients in `allowList` are not limited. */
export interface RateLimitOptions {
  max: number;
  windowMs: number;
  allowList: string[];
}

export interface ServerOptions {
  /** Metric label of this listener. */
  listener: 'intake' | 'admin';
  tls?: TlsFiles | null;
  caps?: ConnectionCaps | null;
  rateLimit?: RateLimitOptions | null;
  metrics?: HubMetrics | null;
}

export type ErrorBody = { error: { code: string; message: string; retriable: boolean } };

export const errorBody = (code: string, message: string, retriable = false): ErrorBody => ({ error: { code, message, retriable } });

/** Reads a listener's TLS files; a ConfigError naming the setting when one cannot be read. */
export function readTls(tls: TlsFiles, path: string): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new ConfigError(`${path}/${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { dataPath: `${path}/${what}` });
    }
  };
  return { cert: read(tls.certFile, 'certFile'), key: read(tls.keyFile, 'keyFile') };
}

/**
 * One HTTP listener (intake or admin): raw-body parsing, the JSON error shape, optional TLS,
 * connection caps (total and per client), a per-client request rate limit (@fastify/rate-limit;
 * routes opt out with `config: { rateLimit: false }`), and request counters and latency by route
 * pattern and status. Routes are added by the caller (webhook connectors, the admin plane).
 */
export function createServer(opts: ServerOptions = { listener: 'intake' }): FastifyInstance {
  const https = opts.tls ? readTls(opts.tls, `/${opts.listener === 'intake' ? 'server' : 'admin'}/tls`) : null;
  const app = (Fastify as unknown as (o: Record<string, unknown>) => FastifyInstance)({
    logger: false,
    bodyLimit: 64 * 1024 * 1024,
    return503OnClosing: true,
    connectionTimeout: 60000,
    requestTimeout: 60000,
    ...(https ? { https } : {}),
  });
  installRawBodyParser(app);
  const metrics = opts.metrics ?? null;
  app.setErrorHandler((err: Error & { statusCode?: number; httpStatus?: number; code?: string }, _req, reply) => {
    const status = err.statusCode ?? err.httpStatus ?? 500;
    void reply.code(status).send(errorBody(err.code ?? 'INTAKE_ERR_INTERNAL', status >= 500 ? 'internal error' : err.message, status >= 500 || status === 429));
  });
  // the path is not echoed: it is the caller's input (and may carry personal data)
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody('INTAKE_ERR_NOT_FOUND', `no such route for ${req.method.slice(0, 10)}`));
  });
  if (opts.caps) capConnections(app.server, opts.caps, !!https, (cap) => metrics?.connectionsRefused.inc({ listener: opts.listener, cap }));
  if (opts.rateLimit) installRateLimit(app, opts.rateLimit, () => metrics?.rateLimited.inc({ listener: opts.listener }));
  if (metrics) {
    app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      metrics.httpRequests.inc({ listener: opts.listener, route, method: req.method, status: String(reply.statusCode) });
      metrics.httpDuration.observe({ listener: opts.listener, route, method: req.method }, reply.elapsedTime / 1000);
      done();
    });
  }
  return app;
}

/**
 * The plugin's own global mode only covers routes added after it has loaded, and connectors add
 * theirs synchronously: so one root onRequest hook calls the plugin's handler once it is ready.
 */
function installRateLimit(app: FastifyInstance, o: RateLimitOptions, onExceeded: () => void): void {
  type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  let limiter: Handler | null = null;
  void app.register(rateLimit, {
    global: false,
    max: o.max,
    timeWindow: o.windowMs,
    allowList: o.allowList,
    keyGenerator: (req) => req.ip,
    onExceeded: () => onExceeded(),
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, code: 'INTAKE_ERR_RATE_LIMITED', message: `rate limit of ${ctx.max} requests per ${Math.round(o.windowMs / 1000)} s exceeded; retry after ${ctx.after}` }),
  });
  app.after(() => {
    limiter = (app as unknown as { rateLimit: () => Handler }).rateLimit();
  });
  app.addHook('onRequest', async (req, reply) => {
    const cfg = req.routeOptions.config as { rateLimit?: boolean } | undefined;
    if (limiter && cfg?.rateLimit !== false) await limiter(req, reply);
  });
}

export interface HealthHooks {
  /** Liveness: false when the process should be restarted (event loop wedged). */
  live(): boolean;
  /** Readiness: this instance can take traffic now. */
  ready(): boolean;
}

/**
 * Unauthenticated probes. They answer from the first moment the listener is up and reveal nothing
 * beyond up/ready: no checks, versions or ids (the details are on the admin API). Never rate
 * limited.
 */
export function installHealthRoutes(app: FastifyInstance, hooks: HealthHooks): void {
  const probe = { config: { rateLimit: false } };
  app.get('/healthz', probe, async (_req, reply) => {
    const up = hooks.live();
    return reply.code(up ? 200 : 503).header('cache-control', 'no-store').send({ status: up ? 'ok' : 'down' });
  });
  app.get('/readyz', probe, async (_req, reply) => {
    const ready = hooks.ready();
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ status: ready ? 'ready' : 'not-ready' });
  });
}
