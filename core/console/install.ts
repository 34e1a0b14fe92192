import type { FastifyInstance } from 'fastify';
import { storeRoutes, type StoreRoutesOptions } from '../store/api';
import { installOpenApi } from '../store/openapi';
import { consoleRoutes } from './plugin';

/**
 * What the admin plane registers for operators, in this order: the OpenAPI generator (before any
 * route it should describe), the console page, the store's lookup API. `o.authorize`, `o.audit`
 * and `o.principal` are the plane's (core/admin/plane.ts); the console also calls the plane's
 * `/api/whoami`, `/api/connectors…` and `/api/deadletters…`.
 */
export async function installOperatorRoutes(app: FastifyInstance, o: StoreRoutesOptions & { version: string }): Promise<void> {
  await installOpenApi(app, { version: o.version, authorize: o.authorize('viewer') });
  await app.register(consoleRoutes);
  await app.register(storeRoutes, o);
}
