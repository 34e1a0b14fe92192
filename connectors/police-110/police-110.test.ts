import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { PayloadError, SinkError } from '../../core/errors';
import type { ConnectorSpec, RawInput } from '../../core/sdk/connector';
import { parseXml } from '../../core/sdk/xml';
import { signedHeaders, TEST_SECRET } from '../../core/testing/signed';
import { testContext } from '../../core/testing/context';
import { packageRoot } from '../../core/util/paths';
import { callTime, isPoliceMatter, normalizePolice110 } from './normalize';
import { police110Spec, type Police110Config } from './spec';

const dir = join(packageRoot(), 'connectors/police-110/fixtures');
const fixture = (f: string): Buffer => readFileSync(join(dir, f));
const raw = (body: Buffer): RawInput => ({ transport: 'webhook', body, contentType: 'application/xml', headers: {} });

const config: Police110Config = {
  secrets: [TEST_SECRET],
  toleranceSeconds: 300,
  maxBodyBytes: 65536,
  bounceCategories: ['01', '02', '03', '04', '05'],
  bounceReason: '属于警务事项，退回110',
  defaultCrs: 'CGCS2000',
};

function setup() {
  const ctx = testContext(police110Spec as ConnectorSpec<never>, config, 'p110');
  const c = police110Spec.create(config, ctx);
  return { ctx, c };
}

async function post(ctx: ReturnType<typeof setup>['ctx'], body: Buffer, headers: Record<string, string> = signedHeaders(body, { contentType: 'application/xml' })) {
  const res = await ctx.http.inject({ method: 'POST', url: '/intake/p110', payload: body, headers });
  const receipt = res.body ? (parseXml(Buffer.from(res.body)).QSHZ as Record<string, string>) : {};
  return { status: res.statusCode, receipt, headers: res.headers };
}

describe('police-110 normalize', () => {
  it('maps the hand-over onto the draft', () => {
    const d = normalizePolice110(raw(fixture('01-noise.xml')));
    expect(d).toMatchObject({
      sourceId: 'J340111202611200001',
      occurredAt: '2026-11-19T17:11:21.000Z',
      reporter: { name: '张某', phone: '13800000001', anonymous: false, role: 'resident' },
      title: '噪音扰民',
      appealType: 'complaint',
      location: { address: '合肥市包河区望湖街道幸福小区3栋', point: { lon: 117.2845, lat: 31.7406, crs: 'CGCS2000' }, district: '包河区' },
      channelCategory: { scheme: 'police-110', code: '1101', name: '噪音扰民' },
      urgency: 'normal',
      channelFields: { ssfj: '包河分局', jjdw: '包河分局指挥室' },
    });
  });

  it('anonymous callers keep no name or phone; missing coordinates give no point; GBK decodes', () => {
    expect(normalizePolice110(raw(fixture('04-anonymous.xml'))).reporter).toEqual({ name: null, phone: null, userId: null, anonymous: true, role: 'resident' });
    expect(normalizePolice110(raw(fixture('05-anonymous-flag-with-phone.xml'))).reporter.phone).toBeNull();
    expect(normalizePolice110(raw(fixture('06-no-coordinates.xml'))).location.point).toBeNull();
    expect(normalizePolice110(raw(fixture('25-gbk-encoded.xml'))).text).toContain('地下车库积水');
    expect(normalizePolice110(raw(fixture('11-bd09.xml'))).location.point?.crs).toBe('BD-09');
    expect(normalizePolice110(raw(fixture('15-critical.xml'))).urgency).toBe('critical');
    expect(normalizePolice110(raw(fixture('16-attachments.xml'))).attachments).toHaveLength(2);
    expect(normalizePolice110(raw(fixture('20-cdata-and-entities.xml'))).text).toContain('"A&B <超市>"');
  });

  it('reads the three time formats as Beijing time unless an offset is given', () => {
    expect(callTime('2026-11-20 08:00:00')).toBe('2026-11-20T00:00:00.000Z');
    expect(callTime('20261120080000')).toBe('2026-11-20T00:00:00.000Z');
    expect(callTime('2026-11-20T08:00:00Z')).toBe('2026-11-20T08:00:00.000Z');
  });

  it('bounce categories match exactly or by prefix', () => {
    expect(isPoliceMatter('0201', ['02'])).toBe(true);
    expect(isPoliceMatter('02', ['02'])).toBe(true);
    expect(isPoliceMatter('1201', ['02'])).toBe(false);
  });

  it('names the data path of bad fields', () => {
    try {
      normalizePolice110(raw(fixture('x01-missing-jqbh.invalid.xml')));
      throw new Error('expected failure');
    } catch (e) {
      expect((e as PayloadError).dataPath).toBe('/JQBH');
    }
  });

  it('property: arbitrary field values never raise anything but a PayloadError', () => {
    const field = fc.constantFrom('JQBH', 'BJSJ', 'BJR', 'LXDH', 'JQLB', 'JD', 'WD', 'ZBX', 'JYQK', 'JJCD', 'NMBJ', 'FJLB');
    fc.assert(
      fc.property(fc.dictionary(field, fc.string({ maxLength: 30 }), { maxKeys: 12 }), (rec) => {
        const body = `<JQXX>${Object.entries(rec)
          .map(([k, v]) => `<${k}>${v.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</${k}>`)
          .join('')}</JQXX>`;
        try {
          normalizePolice110(raw(Buffer.from(body)));
          return true;
        } catch (e) {
          return e instanceof PayloadError;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('police-110 transport and receipts', () => {
  it('签收: 200 + <JG>QS</JG> with the ticket id once durable; a redelivery gets the same id', async () => {
    const { ctx, c } = setup();
    await c.start();
    const body = fixture('21-duplicate-delivery-a.xml');
    const a = await post(ctx, body);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toMatch(/^application\/xml/);
    expect(a.receipt).toMatchObject({ JQBH: 'J340111202611200021', JG: 'QS' });
    expect(a.receipt.CF).toBeUndefined();
    expect(a.receipt.GDBH).toMatch(/^[0-9A-Z]{26}$/);
    const b = await post(ctx, fixture('21-duplicate-delivery-b.xml'));
    expect(b.receipt).toMatchObject({ JG: 'QS', GDBH: a.receipt.GDBH });
    expect(ctx.tickets).toHaveLength(1);
    expect(c.health().counters).toMatchObject({ received: 2, accepted: 2 });
    expect(ctx.duplicates).toBe(1);
    await ctx.http.close();
  });

  it('退回: a police matter gets <JG>TH</JG>, no ticket, and a durable INTAKE_ERR_BOUNCED record', async () => {
    const { ctx, c } = setup();
    await c.start();
    const r = await post(ctx, fixture('22-police-matter.bounce.xml'));
    expect(r.status).toBe(200);
    expect(r.receipt).toMatchObject({ JQBH: 'J340111202611200022', JG: 'TH', THYY: '属于警务事项，退回110' });
    expect(r.receipt.JLBH).toBeDefined();
    expect(ctx.tickets).toHaveLength(0);
    expect(ctx.rejected).toHaveLength(1);
    expect(ctx.rejected[0]).toMatchObject({ stage: 'transport', error: { code: 'INTAKE_ERR_BOUNCED', httpStatus: 200 } });
    expect(ctx.rejected[0]?.raw.sourceId).toBe('J340111202611200022');
    await ctx.http.close();
  });

  it('accepts text/xml and GBK bodies', async () => {
    const { ctx, c } = setup();
    await c.start();
    const body = fixture('25-gbk-encoded.xml');
    const r = await post(ctx, body, signedHeaders(body, { contentType: 'text/xml; charset=GBK' }));
    expect(r.receipt.JG).toBe('QS');
    await ctx.http.close();
  });

  it.each([
    ['x03-xxe.invalid.xml', 400, 'INTAKE_ERR_PAYLOAD_INVALID', /DOCTYPE/],
    ['x04-billion-laughs.invalid.xml', 400, 'INTAKE_ERR_PAYLOAD_INVALID', /DOCTYPE/],
    ['x06-not-well-formed.invalid.xml', 400, 'INTAKE_ERR_PAYLOAD_INVALID', /well-formed/],
    ['x11-invalid-utf8.invalid.xml', 400, 'INTAKE_ERR_BAD_ENCODING', /UTF-8/],
    ['x01-missing-jqbh.invalid.xml', 400, 'INTAKE_ERR_PAYLOAD_INVALID', /JQBH/],
  ])('错误: %s → %d XML error receipt, dead-lettered', async (f, status, code, msg) => {
    const { ctx, c } = setup();
    await c.start();
    const r = await post(ctx, fixture(f));
    expect(r.status).toBe(status);
    expect(r.receipt).toMatchObject({ JG: 'CW', CWDM: code });
    expect(r.receipt.CWXX).toMatch(msg);
    expect(r.receipt.JLBH).toBeDefined();
    expect(ctx.rejected).toHaveLength(1);
    await ctx.http.close();
  });

  it('oversized, unsigned and wrongly typed bodies get 413 / 401 / 415 XML receipts', async () => {
    const { ctx, c } = setup();
    await c.start();
    const big = Buffer.from(`<JQXX><JYQK>${'长'.repeat(30000)}</JYQK></JQXX>`);
    expect((await post(ctx, big)).receipt.CWDM).toBe('INTAKE_ERR_PAYLOAD_TOO_LARGE');
    const body = fixture('01-noise.xml');
    const unsigned = await post(ctx, body, { 'content-type': 'application/xml' });
    expect([unsigned.status, unsigned.receipt.CWDM]).toEqual([401, 'INTAKE_ERR_SIGNATURE']);
    const json = await post(ctx, body, signedHeaders(body, { contentType: 'application/json' }));
    expect([json.status, json.receipt.CWDM]).toEqual([415, 'INTAKE_ERR_UNSUPPORTED_MEDIA_TYPE']);
    expect(ctx.rejected.map((r) => r.stage)).toEqual(['transport', 'auth', 'transport']);
    await ctx.http.close();
  });

  it('output down → 503 + Retry-After with an error receipt, never 签收; paused → 503', async () => {
    const { ctx, c } = setup();
    await c.start();
    ctx.failWith = new SinkError('kafka down');
    const r = await post(ctx, fixture('02-water-outage.xml'));
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.receipt).toMatchObject({ JG: 'CW', CWDM: 'INTAKE_ERR_SINK_UNAVAILABLE' });
    ctx.failWith = null;
    await c.pause();
    const p = await post(ctx, fixture('02-water-outage.xml'));
    expect([p.status, p.receipt.JG]).toEqual([503, 'CW']);
    await c.resume();
    expect((await post(ctx, fixture('02-water-outage.xml'))).receipt.JG).toBe('QS');
    await ctx.http.close();
  });
});
