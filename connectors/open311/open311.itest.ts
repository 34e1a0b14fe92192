import { runTag } from '../../core/testing/run-tag';
import { restartOnFatal } from '../../core/testing/fatal';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import type { CanonicalTicket, DeadLetter } from '../../core/schema/types';
import { validateDeadLetter, validateTicket } from '../../core/schema/validators';
import { dropNamespace, kafkaOutput, readTopic, testConnection, testNamespace } from '../../core/testing/kafka';
import { until } from '../../core/testing/wait';
import { packageRoot } from '../../core/util/paths';
import { sharedDataDir } from '../../core/util/shared-data';

/**
 * An Open311 client against the hub (`--role all`) on the real broker, with the REAL 2012
 * Bloomington and 2014 Chicago samples from ../shared/data/open311 (read at run time, never copied
 * into the repo). A request is answered once its report is durable on intake.reports.v1; the
 * processor writes the tickets asynchronously and drops redeliveries.
 */
const DATA = process.env.OPEN311_DATA ?? join(sharedDataDir(), 'open311');
const run = runTag();
const ns = testNamespace('o311');
const conn = testConnection(ns);
const catalogId = `o311c-${run}`;
const realId = `o311r-${run}`;
const KEY = 'itest-api-key-0001';

type Json = Record<string, unknown>;
const real = (f: string): Json[] => JSON.parse(readFileSync(join(DATA, f), 'utf8')) as Json[];
const bloomingtonServices = real('real_2012_bloomington_services.json');
const bloomingtonRequests = real('real_2012_bloomington_requests.json');
const chicagoRequests = real('chicago_2014_sample_requests.json');

let hub: Hub;
let base: string;

function form(o: Record<string, unknown>): string {
  return Object.entries(o)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
}

async function call(method: 'GET' | 'POST', path: string, body?: string, contentType = 'application/x-www-form-urlencoded'): Promise<{ status: number; json: unknown }> {
  const res = await request(`${base}${path}`, { method, ...(body !== undefined ? { body, headers: { 'content-type': contentType } } : {}) });
  return { status: res.statusCode, json: await res.body.json() };
}

beforeAll(async () => {
  const services = [...bloomingtonServices, ...chicagoRequests].map((s) => ({ service_code: String(s.service_code), service_name: String(s.service_name), ...(s.group ? { group: String(s.group) } : {}) }));
  const unique = [...new Map(services.map((s) => [s.service_code, s])).values()];
  hub = new Hub(
    validateConfig({
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      output: kafkaOutput(ns, { writeTimeoutMs: 5000, connectionTimeoutMs: 1000 }),
      connectors: [
        { id: catalogId, type: 'open311', config: { basePath: `/open311/${catalogId}/v2`, apiKeys: [KEY, 'demo-api-key-0001'] } },
        { id: realId, type: 'open311', config: { basePath: `/open311/${realId}/v2`, apiKeys: [KEY], services: { source: 'config', list: unique } } },
      ],
    }),
    { logger: silentLogger, registry: new Registry(), instanceId: `o311-${run}`, onFatal: restartOnFatal },
  );
  await hub.start();
  base = await hub.listen();
});

afterAll(async () => {
  await hub.stop();
  await dropNamespace(ns, conn);
});

const ticketsOf = (connectorId: string): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(hub.topics.tickets, (t) => t.source.connectorId === connectorId, conn);
const duplicatesOf = async (connectorId: string): Promise<number> => ((await hub.metrics.registry.getSingleMetric('intake_duplicates_total')?.get())?.values ?? []).filter((v) => v.labels.connector === connectorId).reduce((n, v) => n + v.value, 0);

describe('Open311 GeoReport v2 on the real Kafka broker', () => {
  it('services.json has the shape of the real Bloomington service list (GeoReport v2 §GET Service List)', async () => {
    const realKeys = Object.keys(bloomingtonServices[0] as Json).sort();
    for (const id of [catalogId, realId]) {
      const r = await call('GET', `/open311/${id}/v2/services.json`);
      expect(r.status).toBe(200);
      const list = r.json as Json[];
      expect(list.length).toBeGreaterThan(0);
      for (const s of list) {
        expect(Object.keys(s).sort()).toEqual(realKeys);
        expect(typeof s.service_code).toBe('string');
        expect(typeof s.metadata).toBe('boolean');
        expect(['realtime', 'batch', 'blackbox']).toContain(s.type);
      }
    }
    // served from the category catalog: one service per subcategory
    const fromCatalog = (await call('GET', `/open311/${catalogId}/v2/services.json`)).json as Json[];
    expect(fromCatalog.length).toBe(828);
  });

  it('a client flow: list services → post a request → get its status (open once durable)', async () => {
    const services = (await call('GET', `/open311/${catalogId}/v2/services.json`)).json as Json[];
    const manhole = services.find((s) => String(s.service_name).includes('井盖')) as Json;
    const posted = await call('POST', `/open311/${catalogId}/v2/requests.json`, form({ service_code: manhole.service_code, lat: 31.7406, long: 117.2845, address_string: '包河区幸福小区3栋', description: '井盖破损，电话13800000000', first_name: '三', last_name: '张', phone: '13800000000', device_id: run, api_key: KEY }));
    expect(posted.status).toBe(200);
    const [created] = posted.json as Json[];
    expect(created).toMatchObject({ service_notice: expect.any(String) });
    const id = String(created?.service_request_id);
    // the request's published source id: a keyed token of the request, the same on a retry
    expect(id).toMatch(/^o311-[0-9A-Za-z_-]+$/);

    const got = await call('GET', `/open311/${catalogId}/v2/requests/${id}.json`);
    expect(got.status).toBe(200);
    const [req] = got.json as Json[];
    expect(req).toMatchObject({ service_request_id: id, status: 'open', service_code: manhole.service_code, service_name: manhole.service_name, lat: 31.7406, long: 117.2845, address: '包河区幸福小区3栋' });
    expect(String(req?.description)).not.toContain('13800000000');
    expect(String(req?.requested_datetime)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    await until('the ticket of the request', async () => (await ticketsOf(catalogId)).length >= 1, 60000, 250);
    const tickets = await ticketsOf(catalogId);
    expect(tickets.map((t) => t.source.sourceId)).toEqual([id]);
    expect(validateTicket(tickets[0])).toBe(true);
    expect(tickets[0]).toMatchObject({ source: { channel: 'resident-app' }, channelCategory: { scheme: 'open311', code: manhole.service_code } });

    // errors in the spec's format
    const missing = await call('GET', `/open311/${catalogId}/v2/requests/01JC0000000000000000000000.json`);
    expect(missing).toEqual({ status: 404, json: [{ code: 404, description: expect.stringContaining('not found') }] });
    const noKey = await call('POST', `/open311/${catalogId}/v2/requests.json`, form({ service_code: manhole.service_code, lat: 31.7, long: 117.2 }));
    expect(noKey.status).toBe(403);
    expect(noKey.json).toEqual([{ code: 403, description: expect.stringContaining('api_key') }]);
    const unknown = await call('POST', `/open311/${catalogId}/v2/requests.json`, form({ service_code: 'NOPE', lat: 31.7, long: 117.2, api_key: KEY }));
    expect(unknown.status).toBe(404);
  });

  it('the real Bloomington and Chicago requests, re-posted: located ones become tickets, unlocated ones get the spec 400', async () => {
    const samples = [...bloomingtonRequests, ...chicagoRequests];
    const results: { located: boolean; status: number; json: unknown }[] = [];
    for (const s of samples) {
      const located = (s.lat !== null && s.long !== null && s.lat !== undefined) || !!s.address;
      const media = typeof s.media_url === 'string' && /^https?:\/\//.test(s.media_url) ? s.media_url : null;
      const r = await call('POST', `/open311/${realId}/v2/requests.json`, form({ service_code: s.service_code, description: s.description, lat: s.lat, long: s.long, address_string: s.address, media_url: media, device_id: `${run}-${String(s.service_request_id)}`, api_key: KEY }));
      results.push({ located, ...r });
    }
    for (const r of results) {
      if (r.located) expect(r.status).toBe(200);
      else expect(r).toMatchObject({ status: 400, json: [{ code: 400, description: expect.stringContaining('location') }] });
    }
    const ok = results.filter((r) => r.status === 200).map((r) => String((r.json as Json[])[0]?.service_request_id));
    expect(ok.length).toBeGreaterThanOrEqual(10);
    await until('a ticket for every created request', async () => new Set((await ticketsOf(realId)).map((t) => t.source.sourceId)).size >= new Set(ok).size, 60000, 250);
    const tickets = await ticketsOf(realId);
    expect(new Set(tickets.map((t) => t.source.sourceId))).toEqual(new Set(ok));
    for (const t of tickets) expect(validateTicket(t)).toBe(true);
    // each one can be looked up
    for (const id of ok.slice(0, 5)) expect((await call('GET', `/open311/${realId}/v2/requests/${id}.json`)).status).toBe(200);
  });

  it('every fixture (form and JSON) posted → a schema-valid ticket, invalid ones → 4xx + dead letter', async () => {
    const dir = join(packageRoot(), 'connectors/open311/fixtures');
    const files = readdirSync(dir).sort();
    const outcomes = new Map<string, { status: number; json: unknown }>();
    for (const f of files) {
      // fixtures are fixed; the request key is a hash of the request: a per-run device_id keeps runs apart
      let body = readFileSync(join(dir, f), 'utf8');
      const json = f.endsWith('.json');
      if (json && body.startsWith('{')) body = JSON.stringify({ ...(JSON.parse(body) as Json), device_id: `run-${run}` });
      else if (!json) body = body.replace(/(^|&)device_id=[^&]*/g, '') + `&device_id=run-${run}`;
      outcomes.set(f, await call('POST', `/open311/${catalogId}/v2/requests.json`, body, json ? 'application/json' : 'application/x-www-form-urlencoded'));
    }
    for (const [f, r] of outcomes) {
      if (f.includes('.invalid.')) expect({ f, client: r.status >= 400 && r.status < 500 }).toEqual({ f, client: true });
      else expect({ f, status: r.status }).toEqual({ f, status: 200 });
    }
    const idOf = (f: string) => String(((outcomes.get(f)?.json as Json[])[0] as Json).service_request_id);
    // 21-duplicate-delivery-b repeats -a: the same service_request_id (the request's published source
    // id, not a receipt-time ticket id) and no second ticket: the processor drops it (counted).
    expect(idOf('21-duplicate-delivery-b.form')).toBe(idOf('21-duplicate-delivery-a.form'));
    const valid = files.filter((x) => !x.includes('.invalid.'));
    const kept = valid.filter((f) => f !== '21-duplicate-delivery-b.form');
    const fixtureTickets = async (): Promise<CanonicalTicket[]> => {
      const ids = new Set(kept.map(idOf));
      return (await ticketsOf(catalogId)).filter((t) => ids.has(t.source.sourceId));
    };
    await until('a ticket for every fixture and the redelivery dropped', async () => (await duplicatesOf(catalogId)) >= 1 && (await fixtureTickets()).length >= kept.length, 60000, 250);
    expect(await duplicatesOf(catalogId)).toBe(1);
    const tickets = await fixtureTickets();
    expect(new Set(tickets.map((t) => t.source.sourceId))).toEqual(new Set(kept.map(idOf)));
    expect(tickets).toHaveLength(kept.length);
    for (const t of tickets) expect(validateTicket(t)).toBe(true);
    const dls = await readTopic<DeadLetter>(hub.topics.dlq, (_d, key) => key === catalogId, conn);
    for (const d of dls) expect(validateDeadLetter(d)).toBe(true);
    expect(dls.length).toBeGreaterThanOrEqual(files.filter((x) => x.includes('.invalid.')).length);
  });
});
