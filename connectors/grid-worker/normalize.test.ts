import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { PayloadError } from '../../core/errors';
import type { RawInput } from '../../core/sdk/connector';
import { AFFAIR_CLASSES, AFFAIR_ITEMS } from './affairs';
import { jurisdictionOf, parseGridCode } from './grid-code';
import { normalizeGridWorker } from './normalize';
import { DEMO_CODE_TABLE } from './sim';

const dir = join(__dirname, 'fixtures');
const raw = (file: string): RawInput => ({ transport: 'replay', body: readFileSync(join(dir, file)), contentType: 'application/json', headers: {} });
const cfg = { codeTable: DEMO_CODE_TABLE };
const json = (o: unknown): RawInput => ({ transport: 'replay', body: Buffer.from(JSON.stringify(o)), contentType: 'application/json', headers: {} });
const base = { reportId: 'GW-T-1', workerId: 'WGY-T-1', gridCode: '510114001001003', itemCode: 'B02', text: '燃气味', reportedAt: '2026-11-20T08:00:00+08:00' };

describe('grid affairs (4类25项)', () => {
  it('has exactly 4 classes and 25 items, each under a known class', () => {
    expect(Object.keys(AFFAIR_CLASSES)).toEqual(['A', 'B', 'C', 'D']);
    expect(AFFAIR_ITEMS.size).toBe(25);
    for (const code of AFFAIR_ITEMS.keys()) expect(AFFAIR_CLASSES[code.charAt(0)]).toBeDefined();
  });
});

describe('grid code → jurisdiction', () => {
  it('splits the 15 digits into division, street, community and grid', () => {
    expect(parseGridCode('510114001002003')).toEqual({ code: '510114001002003', division: '510114', street: '510114001', community: '510114001002', grid: '510114001002003' });
    expect(parseGridCode('51011400100200')).toBeNull();
    expect(parseGridCode('010114001002003')).toBeNull();
  });

  it('names each level from the code table; unknown levels stay null', () => {
    expect(jurisdictionOf('510114001001003', DEMO_CODE_TABLE)).toEqual({ district: '新都区', street: '新都街道', community: '桂湖社区' });
    expect(jurisdictionOf('510114001099003', DEMO_CODE_TABLE)).toEqual({ district: '新都区', street: '新都街道', community: null });
    expect(jurisdictionOf('510199009009009', DEMO_CODE_TABLE)).toEqual({ district: null, street: null, community: null });
    expect(jurisdictionOf('510114001001003', {})).toEqual({ district: null, street: null, community: null });
  });
});

describe('normalizeGridWorker', () => {
  it('maps a full report onto the draft', () => {
    const d = normalizeGridWorker(raw('01-neighbour-dispute.json'), cfg);
    expect(d.sourceId).toBe('GW-510114-20261120-0001');
    expect(d.occurredAt).toBe('2026-11-20T01:07:00.000Z');
    expect(d.reporter).toEqual({ name: '张某', phone: '13800000001', userId: 'WGY-0114-001', anonymous: false, role: 'grid-worker' });
    expect(d.location).toEqual({ address: '新都区桂湖社区5栋2单元', point: { lon: 104.1612, lat: 30.8237, crs: 'GCJ-02' }, district: '新都区', street: '新都街道', community: '桂湖社区', grid: '510114001001003' });
    expect(d.channelCategory).toEqual({ scheme: 'grid-affairs', code: 'A01', name: '邻里纠纷' });
    expect(d.appealType).toBe('help');
    expect(d.urgency).toBe('normal');
    expect(d.attachments).toEqual([{ kind: 'photo', url: 'https://img.example.cn/gw/0001-1.jpg', mediaType: null }]);
    expect(d.channelFields).toEqual({ workerId: 'WGY-0114-001', affairClass: 'A 矛盾纠纷', gridName: '桂湖社区第3网格', handledOnSite: false, deviceId: null });
  });

  it('keeps WGS-84 points in their datum (enrich converts)', () => {
    expect(normalizeGridWorker(raw('02-property-dispute-wgs84.json'), cfg).location.point).toEqual({ lon: 104.1555, lat: 30.8301, crs: 'WGS-84' });
  });

  it('maps urgency 紧急/特急 and the appeal type override', () => {
    expect(normalizeGridWorker(raw('03-fire-exit-blocked-urgent.json'), cfg).urgency).toBe('urgent');
    expect(normalizeGridWorker(raw('04-gas-leak-critical.json'), cfg).urgency).toBe('critical');
    expect(normalizeGridWorker(raw('19-appeal-override-complaint.json'), cfg).appealType).toBe('complaint');
    expect(normalizeGridWorker(raw('04-gas-leak-critical.json'), cfg).appealType).toBe('report');
  });

  it('missing phone: the worker id still links reports (userId)', () => {
    const d = normalizeGridWorker(raw('10-no-phone.json'), cfg);
    expect(d.reporter.phone).toBeNull();
    expect(d.reporter.userId).toBe('WGY-0114-001');
  });

  it('anonymous: no name, phone, user id or worker id', () => {
    const d = normalizeGridWorker(raw('11-anonymous.json'), cfg);
    expect(d.reporter).toEqual({ name: null, phone: null, userId: null, anonymous: true, role: 'grid-worker' });
    expect(d.channelFields.workerId).toBeNull();
  });

  it('address without coordinates, and no location at all', () => {
    const a = normalizeGridWorker(raw('12-address-without-coordinates.json'), cfg);
    expect(a.location.point).toBeNull();
    expect(a.location.address).toBe('新都区新都大道辅道公交站旁');
    const b = normalizeGridWorker(raw('13-no-location.json'), cfg);
    expect(b.location).toMatchObject({ address: null, point: null, grid: '510114001001003', district: '新都区' });
  });

  it('unknown grid codes keep the code only; unlisted item codes keep the code with no name', () => {
    const a = normalizeGridWorker(raw('17-unknown-grid-code.json'), cfg);
    expect(a.location).toMatchObject({ grid: '510199009009009', district: null, street: null, community: null });
    const b = normalizeGridWorker(raw('18-unlisted-item-code.json'), cfg);
    expect(b.channelCategory).toEqual({ scheme: 'grid-affairs', code: 'A09', name: null });
    expect(b.appealType).toBe('unknown');
  });

  it('keeps emoji and traditional characters as they are', () => {
    const d = normalizeGridWorker(raw('15-emoji-traditional.json'), cfg);
    expect(d.text).toContain('🌳 公園門口的行道樹被颱風吹倒');
    expect(d.title).toBe('行道樹倒伏 ⚠️');
  });

  it('a duplicated delivery normalizes to the same source id', () => {
    expect(normalizeGridWorker(raw('16-duplicate-delivery-of-01.json'), cfg).sourceId).toBe(normalizeGridWorker(raw('01-neighbour-dispute.json'), cfg).sourceId);
  });

  it.each([
    ['90.invalid.bad-grid-code.json', '/gridCode'],
    ['91.invalid.missing-text.json', '/text'],
    ['93.invalid.coordinates-without-datum.json', '/location'],
    // an unknown field is named by where it is and the rule, never by the name the sender chose
    ['94.invalid.unknown-field.json', '/ has a property that is not allowed'],
    ['95.invalid.bad-item-code.json', '/itemCode'],
    ['96.invalid.naive-timestamp.json', '/reportedAt'],
  ])('%s is rejected naming %s', (file, path) => {
    let err: unknown;
    try {
      normalizeGridWorker(raw(file), cfg);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PayloadError);
    expect((err as PayloadError).message).toContain(path);
  });

  it('rejects blank text, invalid UTF-8 and deep nesting', () => {
    expect(() => normalizeGridWorker(json({ ...base, text: '   ' }))).toThrow(PayloadError);
    expect(() => normalizeGridWorker({ ...json(base), body: Buffer.from([0x7b, 0xff, 0x7d]) })).toThrow(PayloadError);
    expect(() => normalizeGridWorker({ ...json(base), body: Buffer.from('['.repeat(50) + ']'.repeat(50)) })).toThrow(PayloadError);
  });

  it('property: any valid item and grid code normalizes; the category and grid are kept verbatim', () => {
    fc.assert(
      fc.property(fc.constantFrom(...AFFAIR_ITEMS.keys()), fc.stringMatching(/^[1-8][0-9]{14}$/), fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim().length > 0), (itemCode, gridCode, text) => {
        const d = normalizeGridWorker(json({ ...base, itemCode, gridCode, text }), cfg);
        expect(d.channelCategory?.code).toBe(itemCode);
        expect(d.location.grid).toBe(gridCode);
        expect(d.reporter.role).toBe('grid-worker');
        expect(d.text).toBe(text);
      }),
    );
  });
});
