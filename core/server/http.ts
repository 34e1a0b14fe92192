import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { installRawBodyParser } from './raw-body';

/** The HTTP server: intake routes are added by webhook connectors; ops routes by `installOpsRoutes`. */
export function createServer(): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024, return503OnClosing: true, connectionTimeout: 60000, requestTimeout: 60000 });
  installRawBodyParser(app);
  app.setErrorHandler((err: Error & { statusCode?: number; httpStatus?: number; code?: string }, _req, reply) => {
    const status = err.statusCode ?? err.httpStatus ?? 500;
    void reply.code(status).send({ error: { code: err.code ?? 'INTAKE_ERR_INTERNAL', message: status >= 500 ? 'internal error' : err.message, retriable: status >= 500 } });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'INTAKE_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}`, retriable: false } });
  });
  return app;
}

export interface OpsHooks {
  live(): boolean;
  ready(): { ready: boolean; checks: Record<string, boolean> };
  registry: Registry;
}

export function installOpsRoutes(app: FastifyInstance, hooks: OpsHooks): void {
  app.get('/healthz', async (_req, reply) => reply.code(hooks.live() ? 200 : 503).send({ status: hooks.live() ? 'ok' : 'down' }));
  app.get('/readyz', async (_req, reply) => {
    const r = hooks.ready();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not-ready', checks: r.checks });
  });
  app.get('/metrics', async (_req, reply) => reply.header('content-type', hooks.registry.contentType).send(await hooks.registry.metrics()));
}
