import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { MemoryAuditSink } from '../admin/audit';
import { CatalogStore } from '../catalog/catalog';
import { testTicket } from '../catalog/testing';
import { FakeClock } from '../clock';
import { validateConfig } from '../config/config';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import type { CanonicalTicket } from '../schema/types';
import { bearer, TEST_TOKEN_ENTRIES } from '../testing/admin';
import { clusterEvent, T0, ticketAt } from '../testing/store-contract';

/**
 * The lookup API as the hub serves it: on the real admin plane (its bearer tokens, roles and
 * audit), installed by `Hub.installOperatorRoutes` as `Hub.listen` does, over the hub's own
 * SQLite store.
 */
const V = bearer('viewer');
const OP = bearer('operator');

let dir: string;
let hub: Hub;
let app: FastifyInstance;
const audit = new MemoryAuditSink();
const clock = new FakeClock(T0 + 30 * 3600_000);
const catalog = new CatalogStore();

const reporter = { nameMasked: '张*', phoneMasked: '139****5678', contactToken: `ct1_${'a'.repeat(32)}`, anonymous: false, role: 'resident' as const };
const triage = (n: number): CanonicalTicket => ticketAt(n, { routing: { ...testTicket().routing, status: 'triage', reason: 'low confidence' } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'api-'));
  const config = validateConfig({ server: { port: 0 }, admin: { port: 0, tokens: TEST_TOKEN_ENTRIES }, output: { type: 'embedded', embedded: { dir } }, connectors: [] });
  hub = new Hub(config, { logger: silentLogger, registry: new Registry(), clock, catalog, audit });
  await hub.installOperatorRoutes();
  await hub.start();
  app = hub.admin.app;
  const store = hub.store?.store;
  if (!store) throw new Error('the embedded hub has no store');
  const tickets = Array.from({ length: 30 }, (_, n) => ticketAt(n, { reporter, cluster: { id: n < 3 ? 'A' : `solo${n}`, role: n === 0 ? 'primary' : n < 3 ? 'member' : 'primary', score: n > 0 && n < 3 ? { text: 0.8, place: 1, total: 0.87 } : null } }));
  await store.apply({
    consumer: 'c',
    tickets: [...tickets, triage(40), triage(41)],
    events: [clusterEvent('created', 'A', tickets[1]?.id ?? '', T0 + 60_000, 2, { primaryTicketId: tickets[0]?.id ?? '' }), clusterEvent('grew', 'A', tickets[2]?.id ?? '', T0 + 120_000, 3), clusterEvent('hot', 'A', tickets[2]?.id ?? '', T0 + 120_000, 3, { hot: { reporters: 3, windowHours: 24, threshold: 3 } })],
    positions: [],
  });
});

afterAll(async () => {
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = V) => app.inject({ method: 'GET', url, headers });

test('every lookup route needs a token (401); assigning needs an operator (403 for a viewer)', async () => {
  // on the plane, only the probes and the console's static page are open
  expect(hub.admin.routes.filter((r) => r.role === null).map((r) => r.url).sort()).toEqual(['/', '/console', '/console/', '/console/console.css', '/console/console.js', '/healthz', '/readyz']);
  for (const url of ['/api/tickets', `/api/tickets/${ticketAt(1).id}`, '/api/clusters?hot=true', '/api/clusters/A', '/api/triage', '/api/triage/categories', '/api/stats/intake', '/api/store', '/api/openapi.json']) {
    expect([url, (await get(url, {})).statusCode]).toEqual([url, 401]);
    expect([url, (await get(url, { authorization: 'Bearer nope' })).statusCode]).toEqual([url, 401]);
    expect([url, (await get(url)).statusCode]).toEqual([url, 200]);
  }
  const r = await app.inject({ method: 'POST', url: `/api/triage/${triage(40).id}`, headers: V, payload: { subcategory: 'C01.001' } });
  expect(r.statusCode).toBe(403);
});

test('GET /api/tickets/:id: the ticket as published, its current cluster; 404 for an unknown id, 400 for a malformed one', async () => {
  const t = ticketAt(2);
  const r = await get(`/api/tickets/${t.id}`);
  expect(r.statusCode).toBe(200);
  const body = r.json() as { ticket: CanonicalTicket; clusterId: string; triage: null };
  expect(body.ticket.id).toBe(t.id);
  expect(body.ticket.reporter.phoneMasked).toBe('139****5678');
  expect(body.clusterId).toBe('A');
  expect((await get('/api/tickets/01JH0000000000000000000099')).statusCode).toBe(404);
  expect((await get('/api/tickets/not-an-id')).statusCode).toBe(400);
});

test('GET /api/tickets pages newest first with a keyset cursor and filters; a forged cursor is a 400', async () => {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10; i++) {
    const r = await get(`/api/tickets?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
    const page = r.json() as { items: { id: string; receivedAt: string }[]; next: string | null };
    ids.push(...page.items.map((x) => x.id));
    cursor = page.next;
    if (!cursor) break;
  }
  expect(ids).toHaveLength(32);
  expect(new Set(ids).size).toBe(32);
  const filtered = (await get(`/api/tickets?channel=resident-app&since=${new Date(T0 + 10 * 60_000).toISOString()}`)).json() as { items: { channel: string }[] };
  expect(filtered.items.length).toBe(11);
  expect(filtered.items.every((x) => x.channel === 'resident-app')).toBe(true);
  expect(((await get('/api/tickets?sourceId=S5')).json() as { items: { sourceId: string }[] }).items.map((x) => x.sourceId)).toEqual(['S5']);
  expect((await get('/api/tickets?cursor=eyJ4IjoxfQ')).statusCode).toBe(400);
  expect((await get('/api/tickets?channel=fax')).statusCode).toBe(400);
  expect((await get('/api/tickets?limit=100000')).statusCode).toBe(400);
});

test('GET /api/clusters/:id: members with masked reporters and score components, never the contact token; hot and biggest lists', async () => {
  const r = await get('/api/clusters/A');
  expect(r.statusCode).toBe(200);
  const c = r.json() as { size: number; hot: boolean; members: { ticketId: string; reporter: Record<string, unknown>; score: Record<string, number> | null }[]; events: { type: string }[] };
  expect(c.size).toBe(3);
  expect(c.hot).toBe(true);
  expect(c.members).toHaveLength(3);
  expect(c.members.every((m) => m.reporter.phoneMasked === '139****5678' && !('contactToken' in m.reporter))).toBe(true);
  expect(c.members.find((m) => m.ticketId === ticketAt(1).id)?.score).toEqual({ text: 0.8, place: 1, total: 0.87 });
  expect(r.body).not.toContain('ct1_');
  expect(c.events.map((e) => e.type).sort()).toEqual(['created', 'grew', 'hot']);
  const hot = (await get('/api/clusters?hot=true')).json() as { clusters: { id: string }[] };
  expect(hot.clusters.map((x) => x.id)).toEqual(['A']);
  expect(((await get('/api/clusters?sort=size&limit=5')).json() as { clusters: { id: string }[] }).clusters[0]?.id).toBe('A');
  expect((await get('/api/clusters/NOPE')).statusCode).toBe(404);
});

test('triage: the queue, an operator assignment from the catalog recorded in the store and the audit trail; bad codes refused and audited', async () => {
  const q = (await get('/api/triage')).json() as { items: { id: string }[] };
  expect(q.items.map((i) => i.id)).toEqual([triage(40).id, triage(41).id]);
  const sub = catalog.current().doc.categories[2]?.subcategories[1];
  const post = (id: string, payload: unknown) => app.inject({ method: 'POST', url: `/api/triage/${id}`, headers: OP, payload: payload as Record<string, unknown> });
  const ok = await post(triage(40).id, { subcategory: sub?.code, note: '已电话核实，联系人13912345678' });
  expect(ok.statusCode).toBe(200);
  expect(ok.json()).toMatchObject({ ticketId: triage(40).id, subcategory: { code: sub?.code, name: sub?.name }, actor: 'test-operator' });
  expect(ok.body).not.toContain('13912345678');
  expect(((await get('/api/triage')).json() as { items: { id: string }[] }).items.map((i) => i.id)).toEqual([triage(41).id]);
  expect(((await get(`/api/tickets/${triage(40).id}`)).json() as { triage: { subcategory: { code: string } } }).triage.subcategory.code).toBe(sub?.code);
  expect((await post(triage(41).id, { subcategory: 'C99.999' })).statusCode).toBe(422);
  expect((await post(ticketAt(3).id, { subcategory: sub?.code })).statusCode).toBe(409);
  expect((await post('01JH0000000000000000000099', { subcategory: sub?.code })).statusCode).toBe(404);
  expect((await post(triage(41).id, { subcategory: sub?.code, extra: 1 })).statusCode).toBe(400);
  // the viewer's attempt in the first test was refused by the plane and recorded too
  expect(audit.records.map((r) => [r.action, r.outcome, r.status, r.actor.tokenId])).toEqual([
    ['triage.assign', 'denied', 403, 'test-viewer'],
    ['triage.assign', 'ok', 200, 'test-operator'],
    ['triage.assign', 'refused', 422, 'test-operator'],
    ['triage.assign', 'refused', 409, 'test-operator'],
    ['triage.assign', 'not-found', 404, 'test-operator'],
  ]);
  const cats = (await get('/api/triage/categories')).json() as { categories: { subcategories: unknown[] }[] };
  expect(cats.categories).toHaveLength(20);
  expect(cats.categories.reduce((n, c) => n + c.subcategories.length, 0)).toBe(828);
});

test('GET /api/stats/intake: tickets per channel and per connector in buckets', async () => {
  const r = (await get('/api/stats/intake?hours=48&bucketMinutes=60')).json() as { series: { key: string; bucket: string; count: number }[] };
  const total = r.series.reduce((n, x) => n + x.count, 0);
  expect(total).toBe(32);
  expect(new Set(r.series.map((x) => x.key))).toEqual(new Set(['hotline-12345', 'resident-app']));
  const byConnector = (await get('/api/stats/intake?hours=48&bucketMinutes=60&by=connector')).json() as { series: { key: string }[] };
  expect(new Set(byConnector.series.map((x) => x.key))).toEqual(new Set(['hotline', 'app']));
});

test('the OpenAPI document generated from the route schemas is valid OpenAPI 3.1 and lists every lookup route', async () => {
  const doc = (await get('/api/openapi.json')).json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
  expect(doc.openapi).toBe('3.1.0');
  await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  // the validator does reject a broken document (a dangling $ref)
  const broken = structuredClone(doc) as { paths: Record<string, { get?: { responses: Record<string, unknown> } }> };
  (broken.paths['/api/tickets']?.get as { responses: Record<string, unknown> }).responses['200'] = { description: 'x', content: { 'application/json': { schema: { $ref: '#/components/schemas/Nope' } } } };
  await expect(SwaggerParser.validate(broken as never)).rejects.toThrow();
  expect(Object.keys(doc.paths).sort()).toEqual(['/api/clusters', '/api/clusters/{id}', '/api/stats/intake', '/api/store', '/api/tickets', '/api/tickets/{id}', '/api/triage', '/api/triage/categories', '/api/triage/{id}']);
  expect(Object.keys(doc.paths['/api/triage/{id}'] ?? {})).toEqual(['post']);
});
