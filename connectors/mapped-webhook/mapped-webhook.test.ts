import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { parse } from 'yaml';
import { loadConfigFile, validateConfig } from '../../core/config/config';
import { ConfigError, PayloadError } from '../../core/errors';
import { validateTicket } from '../../core/schema/validators';
import type { ConnectorSpec, RawInput } from '../../core/sdk/connector';
import { testContext } from '../../core/testing/context';
import { signedHeaders } from '../../core/testing/signed';
import { packageRoot } from '../../core/util/paths';
import { mappingVersionOf, normalizeMapped, resolvePointer } from './mapping';
import { mappedWebhookSpec, type MappedWebhookConfig } from './spec';

const yamlFile = join(packageRoot(), 'examples/mapped-webhook.yaml');
const dir = join(packageRoot(), 'connectors/mapped-webhook/fixtures');
const hub = loadConfigFile(yamlFile, {});
const cfg = (id: string): MappedWebhookConfig => hub.connectors.find((c) => c.id === id)?.config as unknown as MappedWebhookConfig;
const raw = (body: Buffer): RawInput => ({ transport: 'webhook', body, contentType: 'application/json', headers: {} });
const hexSig = (body: Buffer) => ({ 'content-type': 'application/json', 'x-ebh-signature': 'sha256=' + createHmac('sha256', 'district-app-demo-secret-0123456789').update(body).digest('hex') });

function connector(id: string) {
  const ctx = testContext(mappedWebhookSpec as ConnectorSpec<never>, cfg(id), id);
  const c = mappedWebhookSpec.create(cfg(id), ctx);
  return { ctx, c };
}

describe('examples/mapped-webhook.yaml', () => {
  it('loads through validateConfig with defaults applied', () => {
    expect(hub.connectors.map((c) => c.type)).toEqual(['resident-app', 'mapped-webhook', 'mapped-webhook']);
    expect(cfg('district-app')).toMatchObject({ maxBodyBytes: 262144, maxDepth: 16, signature: { scheme: 'hmac-sha256-hex', toleranceSeconds: 300 } });
    expect(cfg('street-h5')).toMatchObject({ charset: 'gbk', tables: {}, categoryScheme: 'street-h5' });
  });

  it('a broken mapping fails at config time naming the data path', () => {
    const doc = parse(readFileSync(yamlFile, 'utf8')) as { connectors: { config: { mapping: Record<string, unknown>; tables?: Record<string, unknown>; signature: Record<string, unknown> } }[] };
    const broken = (f: (d: typeof doc) => void): string => {
      const d = structuredClone(doc);
      f(d);
      try {
        validateConfig(d);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(broken((d) => void ((d.connectors[2] as (typeof d.connectors)[0]).config.mapping.text = 'content.body'))).toContain('/connectors/2/config/mapping/text must be a JSON Pointer');
    expect(broken((d) => void ((d.connectors[1] as (typeof d.connectors)[0]).config.mapping.point = { lon: '/geo/x', lat: 'geo/y' }))).toContain('/connectors/1/config/mapping/point/lat must be a JSON Pointer');
    expect(broken((d) => void delete (d.connectors[1] as (typeof d.connectors)[0]).config.mapping.sourceId)).toContain('/connectors/1/config/mapping/sourceId is required');
    expect(broken((d) => void (((d.connectors[1] as (typeof d.connectors)[0]).config.tables as Record<string, Record<string, string>>).appealType = { '1': '咨询' }))).toContain('/connectors/1/config/tables/appealType/1 must be equal to one of the allowed values');
    expect(broken((d) => void delete (d.connectors[1] as (typeof d.connectors)[0]).config.signature.secrets)).toContain('/connectors/1/config/signature/secrets is required');
  });
});

describe('mapped-webhook normalize', () => {
  const c = cfg('district-app');

  it('maps every field by pointer, with code tables and defaults', () => {
    const d = normalizeMapped(raw(readFileSync(join(dir, '01-manhole.json'))), c);
    expect(d).toMatchObject({
      sourceId: 'EBH-20261120-0001',
      occurredAt: '2026-11-19T17:11:00.000Z',
      reporter: { name: '张某', phone: '13800000001', userId: 'u1001', anonymous: false },
      title: '井盖破损',
      appealType: 'complaint',
      location: { address: '包河区幸福路与望湖路交口', point: { lon: 117.2911, lat: 31.8612, crs: 'GCJ-02' }, district: '包河区', street: '望湖街道' },
      channelCategory: { scheme: 'gbt47678.5', code: '01002', name: '污水井盖' },
      urgency: 'normal',
      attachments: [{ kind: 'photo', url: 'https://img.example.cn/ebh/1.jpg', mediaType: null }],
      channelFields: { clientSource: 'app', appVersion: '3.2.1' },
      mappingVersion: 'district-app/1',
    });
    const f = (n: string) => normalizeMapped(raw(readFileSync(join(dir, n))), c);
    expect(f('04-anonymous.json').reporter).toMatchObject({ anonymous: true, name: null, phone: null, userId: null });
    expect(f('06-no-geo-at-all.json').location).toMatchObject({ point: null, district: '包河区' });
    expect(f('09-bd09.json').location.point?.crs).toBe('BD-09');
    expect(f('14-critical.json').urgency).toBe('critical');
    expect(f('15-unknown-appeal-type.json').appealType).toBe('unknown');
    expect(f('16-unmapped-category.json').channelCategory).toEqual({ scheme: 'gbt47678.5', code: 'Z9999', name: '其他' });
    expect(f('22-numeric-id.json').sourceId).toBe('20261120022');
  });

  it('names the pointer of a bad field', () => {
    const fail = (n: string): PayloadError => {
      try {
        normalizeMapped(raw(readFileSync(join(dir, n))), c);
      } catch (e) {
        return e as PayloadError;
      }
      throw new Error('expected failure');
    };
    expect(fail('x01-missing-id.invalid.json').dataPath).toBe('/id');
    expect(fail('x05-unknown-crs.invalid.json').dataPath).toBe('/geo/type');
    expect(fail('x06-bad-photo-url.invalid.json').dataPath).toBe('/content/images/0');
  });

  it('without a configured version, the mapping version is a stable hash of the mapping', () => {
    const { mappingVersion: _drop, ...rest } = c;
    const v = mappingVersionOf({ ...rest });
    expect(v).toMatch(/^mapped\/[0-9a-f]{16}$/);
    expect(mappingVersionOf(structuredClone(rest))).toBe(v);
    expect(mappingVersionOf({ ...rest, mapping: { ...rest.mapping, title: '/content/body' } })).not.toBe(v);
  });

  it('JSON Pointer escapes and no prototype walking', () => {
    expect(resolvePointer({ 'a/b': { '~c': 1 } }, '/a~1b/~0c')).toBe(1);
    expect(resolvePointer({ a: [5, 6] }, '/a/1')).toBe(6);
    expect(resolvePointer({}, '/constructor/name')).toBeUndefined();
    expect(resolvePointer({}, '/__proto__')).toBeUndefined();
  });
});

describe('mapped-webhook transport', () => {
  it('district-app: every fixture posted with the hex HMAC signature → a schema-valid ticket or a 400', async () => {
    const { ctx, c } = connector('district-app');
    await c.start();
    for (const f of readdirSync(dir).sort()) {
      const body = readFileSync(join(dir, f));
      const res = await ctx.http.inject({ method: 'POST', url: '/intake/district-app', payload: body, headers: hexSig(body) });
      if (f.includes('.invalid.')) expect({ f, status: res.statusCode }).toEqual({ f, status: 400 });
      else expect({ f, status: res.statusCode }).toEqual({ f, status: 202 });
    }
    expect(ctx.tickets.length).toBeGreaterThanOrEqual(20);
    for (const t of ctx.tickets) expect(validateTicket(t) ? null : { id: (t as { source: { sourceId: string } }).source.sourceId, errors: validateTicket.errors }).toBeNull();
    const bad = Buffer.from('{"id":"x","content":{"body":"y"}}');
    const unsigned = await ctx.http.inject({ method: 'POST', url: '/intake/district-app', payload: bad, headers: { 'content-type': 'application/json', 'x-ebh-signature': 'sha256=' + '0'.repeat(64) } });
    expect(unsigned.statusCode).toBe(401);
    await ctx.http.close();
  });

  it('street-h5: a GBK body signed with Standard Webhooks', async () => {
    const { ctx, c } = connector('street-h5');
    await c.start();
    const body = iconv.encode(JSON.stringify({ lsh: 'H5-0001', nr: '楼道灯坏了，老人夜里上下楼不方便。', xm: '李某', lxdh: '13800000002', dz: '望湖街道某小区5栋', tjsj: '2026-11-20 09:00:00' }), 'gbk');
    const secret = (cfg('street-h5').signature.secrets ?? [])[0] as string;
    const res = await ctx.http.inject({ method: 'POST', url: '/intake/street-h5', payload: body, headers: signedHeaders(body, { secret }) });
    expect(res.statusCode).toBe(202);
    expect(ctx.tickets[0]).toMatchObject({ text: '楼道灯坏了，老人夜里上下楼不方便。', appealType: 'help', location: { street: '望湖街道' }, reporter: { nameMasked: '李*' } });
    expect(ctx.tickets[0]?.trace.mappingVersion).toMatch(/^mapped\//);
    await ctx.http.close();
  });
});

describe('hostile values in code tables (regression: constructor/__proto__/toString crashed with a 500 and no dead letter)', () => {
  const c = cfg('district-app');
  const base = JSON.parse(readFileSync(join(dir, '01-manhole.json'), 'utf8')) as Record<string, unknown>;

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('%s as category, appeal type, urgency and datum reads own table entries only', (k) => {
    const doc = { ...base, type: k, level: k, category: { code: k, name: null }, geo: { ...(base.geo as object), type: 'gcj02' } };
    const d = normalizeMapped(raw(Buffer.from(JSON.stringify(doc))), c);
    expect(d.appealType).toBe('unknown');
    expect(d.urgency).toBe('normal');
    expect(d.channelCategory).toEqual({ scheme: c.categoryScheme, code: k, name: null });
    expect(() => normalizeMapped(raw(Buffer.from(JSON.stringify({ ...base, geo: { ...(base.geo as object), type: k } }))), c)).toThrow(PayloadError);
  });

  it('through the webhook: a 4xx (or a ticket) and a dead letter, never a 500', async () => {
    const { ctx, c: conn } = connector('district-app');
    await conn.start();
    for (const k of ['constructor', '__proto__', 'toString']) {
      const body = Buffer.from(JSON.stringify({ ...base, id: `H-${k}`, type: k, level: k, category: { code: k }, geo: { ...(base.geo as object), type: k } }));
      const r = await ctx.http.inject({ method: 'POST', url: '/intake/district-app', payload: body, headers: hexSig(body) });
      expect(r.statusCode).toBe(400);
      expect(r.body).not.toContain(k);
    }
    expect(ctx.rejected).toHaveLength(3);
    await ctx.http.close();
  });
});

