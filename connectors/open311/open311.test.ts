import type { ConnectorSpec, RawInput } from '../../core/sdk/connector';
import { SinkError } from '../../core/errors';
import { FakeClock, testContext } from '../../core/testing/context';
import type { TicketLookup } from '../../core/sdk/connector';
import { assembleTicket } from '../../core/pipeline/enrich';
import { normalizeOpen311, requestKey, parseRequest } from './normalize';
import { open311Spec, type Open311Config } from './spec';

const cfg = (o: Partial<Open311Config> = {}): Open311Config => ({
  basePath: '/open311/v2',
  apiKeys: null,
  maxBodyBytes: 65536,
  services: { source: 'catalog', catalogPath: 'does/not/exist.json', list: [{ service_code: 'LAMP', service_name: '路灯', group: '市政' }] },
  serviceNotice: 'ok',
  statusIndexSize: 100,
  ...o,
});
const form = (s: string): RawInput => ({ transport: 'webhook', body: Buffer.from(s), contentType: 'application/x-www-form-urlencoded', headers: {} });

describe('open311', () => {
  it('falls back to the configured services when the catalog cannot be loaded', async () => {
    const ctx = testContext(open311Spec as ConnectorSpec<never>, cfg());
    const c = open311Spec.create(cfg(), ctx);
    await c.start();
    const r = await ctx.http.inject({ method: 'GET', url: '/open311/v2/services.json' });
    expect(r.json()).toEqual([{ service_code: 'LAMP', service_name: '路灯', description: '路灯', metadata: false, type: 'realtime', keywords: '', group: '市政' }]);
    await ctx.http.close();
  });

  it('form and JSON bodies give the same request; a retried POST keeps its source id, api_key aside', () => {
    const a = parseRequest(form('service_code=LAMP&lat=31.7&long=117.2&description=%E8%B7%AF%E7%81%AF&api_key=k1'));
    const b = parseRequest({ ...form(''), body: Buffer.from(JSON.stringify({ service_code: 'LAMP', lat: 31.7, long: 117.2, description: '路灯', api_key: 'k2' })), contentType: 'application/json' });
    expect(requestKey(a)).toBe(requestKey(b));
    expect(normalizeOpen311(form('service_code=LAMP&address_string=x&first_name=%E4%B8%89&last_name=%E5%BC%A0')).reporter.name).toBe('张三');
    expect(normalizeOpen311(form('service_code=LAMP&address_string=x')).reporter.anonymous).toBe(true);
  });

  it('answers in the GeoReport v2 error format; 503 when the output is down; nothing stored until durable', async () => {
    const ctx = testContext(open311Spec as ConnectorSpec<never>, cfg());
    const c = open311Spec.create(cfg(), ctx);
    await c.start();
    const post = (payload: string) => ctx.http.inject({ method: 'POST', url: '/open311/v2/requests.json', payload, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const bad = await post('service_code=LAMP');
    expect([bad.statusCode, bad.json()]).toEqual([400, [{ code: 400, description: expect.stringContaining('location is required') }]]);
    expect((await post('service_code=NOPE&lat=1&long=2')).statusCode).toBe(404);
    ctx.failWith = new SinkError('down');
    const down = await post('service_code=LAMP&lat=1&long=2');
    expect([down.statusCode, down.headers['retry-after']]).toEqual([503, '5']);
    ctx.failWith = null;
    const ok = await post('service_code=LAMP&lat=1&long=2');
    const id = (ok.json() as { service_request_id: string }[])[0]?.service_request_id;
    const got = await ctx.http.inject({ method: 'GET', url: `/open311/v2/requests/${id}.json` });
    expect((got.json() as { status: string }[])[0]?.status).toBe('open');
    expect((await ctx.http.inject({ method: 'GET', url: `/open311/v2/requests/${id}.xml` })).statusCode).toBe(404);
    await ctx.http.close();
  });

  describe('hostile input', () => {
    const post = async (ctx: ReturnType<typeof testContext>, payload: string, url = '/open311/v2/requests.json') => ctx.http.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const start = async (o: Partial<Open311Config> = {}) => {
      const ctx = testContext(open311Spec as ConnectorSpec<never>, cfg(o));
      await open311Spec.create(cfg(o), ctx).start();
      return ctx;
    };

    it.each(['__proto__', 'constructor', 'prototype', 'attribute[__proto__]', 'attribute[constructor][]'])('rejects the reserved field name %s with a 400 and a dead letter', async (name) => {
      const ctx = await start();
      const r = await post(ctx, `service_code=LAMP&lat=1&long=2&${encodeURIComponent(name).replace(/%5B/g, '[').replace(/%5D/g, ']')}=x`);
      expect(r.statusCode).toBe(400);
      expect(ctx.tickets).toHaveLength(0);
      expect(ctx.rejected).toHaveLength(1);
      expect(JSON.stringify(r.json())).not.toMatch(/__proto__|constructor|prototype/);
      await ctx.http.close();
    });

    it('rejects __proto__ in a JSON body too', () => {
      const raw = { ...form(''), contentType: 'application/json', body: Buffer.from('{"service_code":"LAMP","lat":"1","long":"2","__proto__":{"x":1}}') };
      expect(() => parseRequest(raw)).toThrow(/reserved name/);
    });

    it('percent-decoded values must be UTF-8 and escapes well formed (no silent U+FFFD)', () => {
      expect(() => parseRequest(form('service_code=LAMP&lat=1&long=2&description=%FF%FE'))).toThrow(expect.objectContaining({ code: 'INTAKE_ERR_BAD_ENCODING', dataPath: '/description' }));
      expect(() => parseRequest(form('service_code=LAMP&lat=1&long=2&description=50%'))).toThrow(expect.objectContaining({ code: 'INTAKE_ERR_BAD_ENCODING' }));
      expect(() => parseRequest(form('service_code=LAMP&lat=1&long=2&description=%E8%B7'))).toThrow(expect.objectContaining({ code: 'INTAKE_ERR_BAD_ENCODING' }));
      expect(parseRequest(form('service_code=LAMP&lat=1&long=2&description=%E8%B7%AF+%F0%9F%98%80😀')).description).toBe('路 😀😀');
    });

    it('api_key: from the body or the query string (open311 1.1 client), compared against every key', async () => {
      const ctx = await start({ apiKeys: ['first-key-123', 'second-key-456'] });
      expect((await post(ctx, 'service_code=LAMP&lat=1&long=2&api_key=second-key-456')).statusCode).toBe(200);
      expect((await post(ctx, 'service_code=LAMP&lat=1&long=3', '/open311/v2/requests.json?api_key=first-key-123')).statusCode).toBe(200);
      expect((await post(ctx, 'service_code=LAMP&lat=1&long=4', '/open311/v2/requests.json?api_key=wrong-key-000')).statusCode).toBe(403);
      expect((await post(ctx, 'service_code=LAMP&lat=1&long=5', '/open311/v2/requests.json?api_key=a&api_key=b')).statusCode).toBe(403);
      expect((await post(ctx, 'service_code=LAMP&lat=1&long=6')).statusCode).toBe(403);
      // the body's key wins over the query's
      expect((await post(ctx, 'service_code=LAMP&lat=1&long=7&api_key=wrong-key-000', '/open311/v2/requests.json?api_key=first-key-123')).statusCode).toBe(403);
      await ctx.http.close();
    });

    it('an unknown service_code is a 404 that does not echo the code', async () => {
      const ctx = await start();
      const r = await post(ctx, 'service_code=13812345678&lat=1&long=2');
      expect(r.statusCode).toBe(404);
      expect(r.body).not.toContain('13812345678');
      expect(ctx.rejected[0]?.error.message).not.toContain('13812345678');
      await ctx.http.close();
    });
  });

  it('the o311 source id is a keyed HMAC: not the unkeyed request hash, different under another secret', () => {
    const raw = form('service_code=LAMP&address_string=x&phone=13812345678&first_name=%E4%B8%89&last_name=%E5%BC%A0');
    const d = normalizeOpen311(raw);
    const a = { channel: 'resident-app' as const, connectorId: 'o', dedupScope: 'o', receivedAt: 0, rawTopic: 't', envelopeId: '01JC0000000000000000000002', sha256: '0'.repeat(64) };
    const t1 = assembleTicket(d, { ...a, tokenSecret: 'secret-one-0123456789' });
    const t2 = assembleTicket(d, { ...a, tokenSecret: 'secret-two-0123456789' });
    expect(t1.source.sourceId).toMatch(/^o311-[0-9a-f]{32}$/);
    expect(t1.source.sourceId).not.toBe(requestKey(parseRequest(raw)));
    expect(t1.source.sourceId).not.toBe(t2.source.sourceId);
    expect(t1.dedup.key).toBe(`o:${t1.source.sourceId}`);
    expect(assembleTicket(normalizeOpen311(raw), { ...a, tokenSecret: 'secret-one-0123456789' }).source.sourceId).toBe(t1.source.sourceId);
  });

  it('a retried POST gets the same service_request_id (no report time in Open311), and another instance answers it from the store', async () => {
    const clock = new FakeClock(Date.parse('2026-12-01T08:00:00Z'));
    const a = testContext(open311Spec as ConnectorSpec<never>, cfg(), 'o311', clock);
    await open311Spec.create(cfg(), a).start();
    const body = 'service_code=LAMP&lat=31.8&long=117.2&description=%E8%B7%AF%E7%81%AF%E5%9D%8F%E4%BA%86&device_id=d1';
    const post = async () => {
      const r = await a.http.inject({ method: 'POST', url: '/open311/v2/requests.json', payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(r.statusCode).toBe(200);
      return (r.json() as { service_request_id: string }[])[0]?.service_request_id as string;
    };
    const first = await post();
    clock.advance(90_000); // the retry is received later: its ticket id would differ, its request id does not
    const retry = await post();
    expect(retry).toBe(first);
    expect(first).toMatch(/^o311-[0-9a-f]{32}$/);
    expect(a.tickets).toHaveLength(1);
    expect(a.duplicates).toBe(1);
    expect(a.tickets[0]?.source.sourceId).toBe(first);
    await a.http.close();

    // instance B never saw the POST: it finds the ticket by the published source id in the store
    const published = a.tickets[0] as (typeof a.tickets)[number];
    const lookup: TicketLookup = {
      ticket: async (id) => (id === published.id ? published : null),
      bySource: async (connectorId, sourceId) => (connectorId === published.source.connectorId && sourceId === published.source.sourceId ? published : null),
    };
    const b = Object.assign(testContext(open311Spec as ConnectorSpec<never>, cfg(), 'o311', clock), { ticketStore: lookup });
    await open311Spec.create(cfg(), b).start();
    const got = await b.http.inject({ method: 'GET', url: `/open311/v2/requests/${first}.json` });
    expect(got.statusCode).toBe(200);
    expect((got.json() as { service_request_id: string; status: string; service_code: string }[])[0]).toMatchObject({ service_request_id: first, status: 'open', service_code: 'LAMP' });
    // the ticket id is accepted too; an unknown id is a 404
    expect((await b.http.inject({ method: 'GET', url: `/open311/v2/requests/${published.id}.json` })).statusCode).toBe(200);
    expect((await b.http.inject({ method: 'GET', url: `/open311/v2/requests/o311-${'0'.repeat(32)}.json` })).statusCode).toBe(404);
    await b.http.close();
  });

  it('status answers are masked like the ticket: description, address, media URL, the reporter\'s own name', async () => {
    const ctx = testContext(open311Spec as ConnectorSpec<never>, cfg());
    await open311Spec.create(cfg(), ctx).start();
    const body = new URLSearchParams({ service_code: 'LAMP', address_string: '幸福小区 电话13912345678', description: '张三家门口路灯坏了，联系13812345678', media_url: 'https://img.example.cn/a.jpg?phone=13700000000', first_name: '三', last_name: '张', phone: '13812345678' }).toString();
    const ok = await ctx.http.inject({ method: 'POST', url: '/open311/v2/requests.json', payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const id = (ok.json() as { service_request_id: string }[])[0]?.service_request_id;
    const got = (await ctx.http.inject({ method: 'GET', url: `/open311/v2/requests/${id}.json` })).body;
    for (const secret of ['13912345678', '13812345678', '13700000000', '张三']) expect(got).not.toContain(secret);
    expect(got).toContain('张*家门口');
    await ctx.http.close();
  });
});

