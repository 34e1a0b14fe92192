import swagger from '@fastify/swagger';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';

/**
 * Registers @fastify/swagger on the admin listener so the OpenAPI 3.1 document is generated from
 * the route schemas (the store's lookup API and any other route with a schema). Must run before the
 * routes are registered. Served at GET /api/openapi.json behind `authorize` and, on the admin plane
 * (whose own hook checks the role a route declares), `config.role` viewer.
 */
export async function installOpenApi(app: FastifyInstance, o: { version: string; authorize: onRequestAsyncHookHandler }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'intake-hub admin API', version: o.version, description: 'Admin listener of intake-hub: lookup of tickets, clusters and the triage queue (docs/store.md), connectors and dead letters (docs/SECURITY.md for roles). Every answer is masked.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An admin token (viewer, operator or admin).' } } },
      security: [{ bearer: [] }],
    },
    hideUntagged: false,
  });
  // the hub hands in a no-op `authorize` and relies on the plane reading `config.role`
  app.get('/api/openapi.json', { onRequest: o.authorize, config: { role: 'viewer' }, schema: { hide: true } }, async () => app.swagger());
}
