import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { packageRoot } from '../util/paths';

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** Everything from the hub itself; no inline script or style; the page cannot be framed. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

/**
 * The operators' console (core/console/assets: one HTML page, one script, one stylesheet; no
 * framework, no CDN), served on the admin listener at /console/ (and / redirects there). The page
 * itself holds no data and needs no token; every API call it makes carries the bearer token the
 * operator types into its login form, and the API checks it (docs/console.md).
 */
export const consoleRoutes: FastifyPluginAsync = async (app) => {
  const dir = join(packageRoot(), 'core', 'console', 'assets');
  const files = new Map(
    Object.entries(ASSETS).map(([name, type]) => {
      const body = readFileSync(join(dir, name));
      return [name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }];
    }),
  );
  const serve = (name: string) => async (req: { headers: Record<string, string | string[] | undefined> }, reply: import('fastify').FastifyReply) => {
    const f = files.get(name);
    if (!f) return reply.code(404).send();
    reply.headers({ ...SECURITY_HEADERS, etag: f.etag, 'content-type': f.type });
    if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
    return reply.send(f.body);
  };
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/', 301));
  app.get('/console/', { schema: { hide: true } }, serve('index.html'));
  for (const name of ['console.js', 'console.css']) app.get(`/console/${name}`, { schema: { hide: true } }, serve(name));
};
