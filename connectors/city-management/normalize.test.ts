import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../core/config/config';
import { PayloadError } from '../../core/errors';
import type { RawInput } from '../../core/sdk/connector';
import { testContext } from '../../core/testing/context';
import { signedHeaders, TEST_SECRET } from '../../core/testing/signed';
import { sharedDataFile } from '../../core/util/shared-data';
import { normalizeCityCase, splitGridCode, type CityCase, type CityNormalizeConfig } from './normalize';
import { citySpec, formatSince, splitCityPage, type CityConfig } from './spec';

const dir = join(__dirname, 'fixtures');
const raw = (name: string): RawInput => ({ transport: 'replay', body: readFileSync(join(dir, name)), contentType: 'application/json', headers: {} });
const grid: CityNormalizeConfig['gridDivisions'] = { districts: { '420102': '江岸区', '420106': '武昌区' }, streets: { '420102001': '大智街道' }, communities: { '420102001002': '大智社区' } };

describe('city-management normalize', () => {
  it('maps a case: GB/T 47678.5 code, 15-digit grid via the code table, inspector, photos', () => {
    const d = normalizeCityCase(raw('01-manhole-cover-missing.json'), { gridDivisions: grid });
    expect(d).toMatchObject({
      sourceId: 'CG2026010500001',
      occurredAt: '2026-01-05T00:01:00.000Z',
      reporter: { name: '张某', phone: null, userId: 'JDY-0101', anonymous: false, role: 'inspector' },
      appealType: 'report',
      urgency: 'urgent',
      location: { address: '江岸区大智路与中山大道交汇处', point: { lon: 114.2981, lat: 30.5912, crs: 'CGCS2000' }, district: '江岸区', street: '大智街道', community: '大智社区', grid: '420102001002003' },
      channelCategory: { scheme: 'gbt47678.5', code: '01002', name: null },
      attachments: [{ kind: 'photo', url: 'https://img.example.cn/szcg/CG2026010500001/1.jpg', mediaType: null }],
      channelFields: { caseClass: '部件', inspectorId: 'JDY-0101', status: '待立案', caseSource: '监督员上报', divisionCode: '420102' },
    });
  });

  it('grid parts without a table entry stay null; no grid → null', () => {
    expect(splitGridCode('420102001002003')).toEqual({ division: '420102', street: '001', community: '002', grid: '003' });
    expect(splitGridCode('42010200100200')).toBeNull();
    expect(normalizeCityCase(raw('22-other-district-grid.json'), { gridDivisions: grid }).location).toMatchObject({ district: '武昌区', street: null, community: null, grid: '420106003001002' });
    expect(normalizeCityCase(raw('08-no-grid.json'), { gridDivisions: grid }).location).toMatchObject({ district: null, grid: null });
  });

  it('coordinates: per record, per config, absent', () => {
    expect(normalizeCityCase(raw('03-illegal-parking-fire-lane.json')).location.point?.crs).toBe('GCJ-02');
    expect(normalizeCityCase(raw('04-street-lamp.json')).location.point?.crs).toBe('WGS-84');
    expect(normalizeCityCase(raw('07-default-crs.json'), { defaultCrs: 'GCJ-02' }).location.point?.crs).toBe('GCJ-02');
    expect(normalizeCityCase(raw('06-no-coordinates.json')).location.point).toBeNull();
  });

  it('public reports: resident role, phone or anonymous', () => {
    expect(normalizeCityCase(raw('09-public-report-phone.json')).reporter).toMatchObject({ role: 'resident', phone: '13800000109', anonymous: false });
    expect(normalizeCityCase(raw('10-public-report-anonymous.json')).reporter).toMatchObject({ role: 'resident', phone: null, anonymous: true });
  });

  it('the duplicated delivery keeps its source id', () => {
    expect(normalizeCityCase(raw('14-duplicate-a.json')).sourceId).toBe(normalizeCityCase(raw('15-duplicate-b-same-caseno.json')).sourceId);
  });

  it('rejects bad cases with a data path', () => {
    const expected: Record<string, string> = { '90-bad-code.invalid.json': '/typeCode', '91-bad-grid.invalid.json': '/gridCode', '92-missing-description.invalid.json': '/description', '93-bad-class.invalid.json': '/caseClass' };
    for (const [f, path] of Object.entries(expected)) {
      let err: unknown;
      try {
        normalizeCityCase(raw(f));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PayloadError);
      expect({ f, path: (err as PayloadError).dataPath }).toEqual({ f, path });
    }
  });

  // The standard directory is read at test time from the shared data folder, never committed:
  // without it the test fails (sharedDataFile names what is missing), it is never skipped.
  it('every fixture code is in the GB/T 47678.5 directory, and a table built from it names the category', () => {
    const lines = readFileSync(sharedDataFile('gbt47678-5', 'directory.csv'), 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).slice(1).filter(Boolean);
    const parts: Record<string, string> = {};
    const matters: Record<string, string> = {};
    for (const l of lines) {
      const [kind, code, , , name] = l.split(',');
      if (!code || !name) continue;
      if (kind === '管理部件') parts[code] = name;
      else if (kind === '管理事项') matters[code] = name;
    }
    expect(Object.keys(parts).length).toBeGreaterThan(100);
    const config = { codeNames: { parts, matters } };
    for (const f of readdirSync(dir).filter((x) => !x.includes('.invalid.'))) {
      const c = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CityCase;
      const table = c.caseClass === '部件' ? parts : matters;
      expect({ f, known: c.typeCode in table }).toEqual({ f, known: true });
      const d = normalizeCityCase(raw(f), config);
      expect(d.channelCategory?.name).toBe(c.typeName ?? table[c.typeCode]);
    }
    expect(normalizeCityCase(raw('02-garbage-overflow.json'), config).channelCategory).toEqual({ scheme: 'gbt47678.5', code: '06042', name: '垃圾站（箱）满溢' });
    expect(normalizeCityCase(raw('01-manhole-cover-missing.json'), config).channelCategory?.name).toBe('污水井盖');
  });
});

describe('city-management transport', () => {
  it('splits a listing page; refuses an error result', () => {
    const c = JSON.parse(readFileSync(join(dir, '02-garbage-overflow.json'), 'utf8')) as CityCase;
    const items = splitCityPage(Buffer.from(JSON.stringify({ result: 0, message: 'ok', data: { total: 1, cases: [c] } })), 'application/json');
    expect(items[0]?.key).toEqual({ t: Date.parse(c.updateTime), id: c.caseNo });
    expect(() => splitCityPage(Buffer.from('{"result":1,"message":"维护中"}'), 'application/json')).toThrow(/维护中/);
    expect(formatSince(Date.UTC(2026, 0, 5, 0, 0, 0))).toBe('2026-01-05T08:00:00+08:00');
  });

  it('mode pull needs a baseUrl (config error names the path)', () => {
    expect(() => validateConfig({ connectors: [{ id: 'cm', type: 'city-management', config: { mode: 'pull' } }] })).toThrow(/\/connectors\/0\/config\/baseUrl/);
  });

  it('mode push: signed cases on /intake/<id>; bad ones get 400 and are dead-lettered', async () => {
    const cfg = validateConfig({ connectors: [{ id: 'cm-push', type: 'city-management', config: { mode: 'push', push: { secrets: [TEST_SECRET] } } }] }).connectors[0]?.config as unknown as CityConfig;
    const ctx = testContext(citySpec as never, cfg, 'cm-push');
    const c = citySpec.create(cfg, ctx);
    await c.start();
    expect(c.health().breaker).toBeNull();
    const body = readFileSync(join(dir, '05-outdoor-bbq.json'));
    const ok = await ctx.http.inject({ method: 'POST', url: '/intake/cm-push', payload: body, headers: signedHeaders(body) });
    expect(ok.statusCode).toBe(202);
    const bad = readFileSync(join(dir, '90-bad-code.invalid.json'));
    const r400 = await ctx.http.inject({ method: 'POST', url: '/intake/cm-push', payload: bad, headers: signedHeaders(bad) });
    expect(r400.statusCode).toBe(400);
    expect(ctx.tickets).toHaveLength(1);
    expect(ctx.tickets[0]?.reporter.role).toBe('inspector');
    await c.stop();
    await ctx.http.close();
  });
});
