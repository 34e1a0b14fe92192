import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import { dropNamespace, kafkaOutput, testConnection, testNamespace } from '../../core/testing/kafka';
import { freshDatabase } from '../../core/testing/postgres';
import { until } from '../../core/testing/wait';

/**
 * Open311 GET requests/{id}.json is answered from the ticket store: after a restart of the hub
 * that took the request (SQLite next to the embedded log), and by another instance sharing the
 * store (PostgreSQL, Kafka output) — where the in-memory index alone answered 404.
 */
type Status = { service_request_id: string; status: string; service_code: string; description: string; lat: number; long: number; address: string | null };

const connectors = [
  { id: 'o311', type: 'open311', config: { services: { source: 'config', list: [{ service_code: 'LAMP', service_name: '路灯' }] } } },
  { id: 'other', type: 'resident-app', config: { secrets: null } },
];
const run = Date.now().toString(36);
const body = (n: number) => `device_id=${run}&service_code=LAMP&lat=31.82&long=117.22&address_string=%E5%BE%BD%E5%B7%9E%E5%A4%A7%E9%81%93${n}&description=${encodeURIComponent(`路灯不亮，第${n}盏，联系电话13912345678`)}`;

/** Instances on one Kafka need their own instance ids (transactional ids derive from them). */
function hub(output: Record<string, unknown>, store: Record<string, unknown>, instanceId = 'o311-a'): Hub {
  return new Hub(validateConfig({ server: { host: '127.0.0.1', port: 0 }, admin: { port: 0 }, output, store, connectors }), { logger: silentLogger, registry: new Registry(), instanceId });
}

async function post(h: Hub, n: number): Promise<string> {
  const r = await h.app.inject({ method: 'POST', url: '/open311/v2/requests.json', payload: body(n), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(r.statusCode).toBe(200);
  return (r.json() as { service_request_id: string }[])[0]?.service_request_id as string;
}

async function status(h: Hub, id: string): Promise<{ code: number; body: Status | null }> {
  const r = await h.app.inject({ method: 'GET', url: `/open311/v2/requests/${id}.json` });
  return { code: r.statusCode, body: r.statusCode === 200 ? ((r.json() as Status[])[0] ?? null) : null };
}

async function stored(h: Hub, id: string): Promise<void> {
  await until(`ticket ${id} in the store`, async () => (await h.store?.lookup.bySource('o311', id)) != null, 60_000, 50);
}

const dirs: string[] = [];
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  for (const d of drops) await d();
});

test('embedded + SQLite: the status survives a restart of the hub (the memory index is gone)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'o311-'));
  dirs.push(dir);
  const output = { type: 'embedded', embedded: { dir } };
  const a = hub(output, {});
  await a.start();
  const id = await post(a, 1);
  const before = await status(a, id);
  expect(before.code).toBe(200);
  await stored(a, id);
  await a.stop();

  const b = hub(output, {});
  await b.start();
  const after = await status(b, id);
  expect(after.code).toBe(200);
  expect(after.body).toMatchObject({ service_request_id: id, status: 'open', service_code: 'LAMP', lat: 31.82, long: 117.22 });
  // the description is the masked ticket text: the phone number never comes back
  expect(after.body?.description).toContain('路灯不亮');
  expect(after.body?.description).not.toContain('13912345678');
  expect((await status(b, '01JH0000000000000000000000')).code).toBe(404);
  await b.stop();
});

test('Kafka + PostgreSQL: another instance answers; a restarted one too; other connectors’ tickets are not Open311 requests', async () => {
  const db = await freshDatabase('o311');
  drops.push(db.drop);
  const ns = testNamespace('o311');
  drops.push(() => dropNamespace(ns, testConnection(ns)));
  const output = kafkaOutput(ns, { writeTimeoutMs: 5000, connectionTimeoutMs: 2000 });
  const store = { type: 'postgres', postgres: { url: db.url, poolSize: 3 } };
  const a = hub(output, store, 'o311-a');
  const b = hub(output, store, 'o311-b');
  await a.start();
  await b.start();
  const ids = [await post(a, 2), await post(a, 3)];
  for (const id of ids) {
    await until(`instance b to answer ${id}`, async () => (await status(b, id)).code === 200, 60_000, 100);
    expect((await status(b, id)).body).toMatchObject({ service_request_id: id, status: 'open' });
  }
  // exactly one of the two instances materialises (the lease), the other stands by
  expect([a.store?.materializer?.leader, b.store?.materializer?.leader].filter(Boolean)).toHaveLength(1);
  await a.stop();
  const c = hub(output, store, 'o311-c');
  await c.start();
  for (const id of ids) expect((await status(c, id)).code).toBe(200);

  // a resident-app ticket in the same store is not served on the Open311 endpoint
  const r = await c.submitAs('other', { transport: 'webhook', body: Buffer.from(JSON.stringify({ reportId: `RA-o311-${run}`, openid: 'o1', text: '井盖破损', submittedAt: '2026-11-20T08:00:00+08:00' })), contentType: 'application/json', headers: {} });
  expect(r.outcome).toBe('accepted');
  const otherId = r.outcome === 'accepted' ? r.ticketId : '';
  await until('the resident-app ticket in the store', async () => (await c.store?.store.ticket(otherId)) != null, 60_000, 100);
  expect((await status(c, otherId)).code).toBe(404);
  if (r.outcome === 'accepted') expect((await status(c, r.sourceId)).code).toBe(404);
  await b.stop();
  await c.stop();
});
