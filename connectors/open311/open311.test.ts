import type { ConnectorSpec, RawInput } from '../../core/sdk/connector';
import { SinkError } from '../../core/errors';
import { testContext } from '../../core/testing/context';
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
});
