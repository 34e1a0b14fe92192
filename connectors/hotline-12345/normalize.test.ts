import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PayloadError } from '../../core/errors';
import { encodeText } from '../../core/sdk/charset';
import type { RawInput } from '../../core/sdk/connector';
import { formatBeijingTime, normalizeHotline, parseBeijingTime, REENCODED_HEADER } from './normalize';
import { splitHotlinePage } from './spec';

const dir = join(__dirname, 'fixtures');
const raw = (name: string, contentType = 'application/json'): RawInput => ({ transport: 'replay', body: readFileSync(join(dir, name)), contentType, headers: {} });
const json = (o: unknown, contentType = 'application/json'): RawInput => ({ transport: 'webhook', body: Buffer.from(JSON.stringify(o)), contentType, headers: {} });

describe('hotline-12345 normalize', () => {
  it('maps the pinyin columns onto the canonical draft', () => {
    const d = normalizeHotline(raw('01-noise-complaint.json'));
    expect(d).toMatchObject({
      sourceId: 'GD202601050001',
      occurredAt: '2026-01-05T01:00:00.000Z',
      reporter: { name: '张某', phone: '13800000001', anonymous: false, role: 'resident', userId: null },
      title: '夜间施工噪音扰民',
      appealType: 'complaint',
      urgency: 'normal',
      location: { address: '江岸区后湖大道123号工地', point: { lon: 114.3051, lat: 30.6322, crs: 'GCJ-02' }, district: '江岸区', street: '后湖街道', community: '幸福社区', grid: null },
      channelCategory: { scheme: 'hotline-12345', code: '014', name: '工地噪音' },
      channelFields: { status: '已受理', intakeChannel: '电话', updatedAt: '2026-01-05T01:05:00.000Z' },
      mappingVersion: 'hotline-12345/1',
    });
  });

  it('maps every appeal type and urgency', () => {
    const types = ['consult', 'help', 'complaint', 'report', 'suggestion', 'praise'];
    ['咨询', '求助', '投诉', '举报', '建议', '表扬'].forEach((t, i) => expect(normalizeHotline(json({ GDBH: 'A1', LDSJ: '2026-01-05 09:00:00', GXSJ: '2026-01-05 09:00:00', SQNR: 'x', SQLX: t })).appealType).toBe(types[i]));
    expect(normalizeHotline(raw('03-help-water-outage.json')).urgency).toBe('urgent');
    expect(normalizeHotline(raw('14-critical-gas.json')).urgency).toBe('critical');
    expect(normalizeHotline(raw('17-no-type-no-urgency.json'))).toMatchObject({ appealType: 'unknown', urgency: 'normal' });
  });

  it('edge cases: missing phone, anonymous, no coordinates, datum, attachments', () => {
    expect(normalizeHotline(raw('07-missing-phone.json')).reporter).toMatchObject({ phone: null, name: '周某', anonymous: false });
    expect(normalizeHotline(raw('08-anonymous.json')).reporter).toMatchObject({ phone: null, name: null, anonymous: true });
    expect(normalizeHotline(raw('09-address-no-coords.json')).location).toMatchObject({ address: '武昌区中南路街道中南二路口', point: null });
    expect(normalizeHotline(raw('14-critical-gas.json')).location.point?.crs).toBe('BD-09');
    expect(normalizeHotline(raw('15-cgcs2000-coords.json')).location.point?.crs).toBe('CGCS2000');
    expect(normalizeHotline(raw('16-default-crs.json')).location.point?.crs).toBe('GCJ-02');
    expect(normalizeHotline(raw('16-default-crs.json'), { defaultCrs: 'WGS-84' }).location.point?.crs).toBe('WGS-84');
    expect(normalizeHotline(raw('18-attachments.json')).attachments.map((a) => a.kind)).toEqual(['audio', 'photo']);
    expect(normalizeHotline(raw('11-emoji-traditional.json')).text).toContain('😷😷');
    expect(normalizeHotline(raw('10-very-long-text.json')).text.length).toBeGreaterThan(10000);
  });

  it('category name from the record, else from the configured table', () => {
    expect(normalizeHotline(raw('05-suggestion-bus.json')).channelCategory).toEqual({ scheme: 'hotline-12345', code: '373', name: null });
    expect(normalizeHotline(raw('05-suggestion-bus.json'), { categoryNames: { '373': '公交车管理' } }).channelCategory?.name).toBe('公交车管理');
  });

  it('the duplicated delivery (same GDBH twice) yields the same source id', () => {
    expect(normalizeHotline(raw('12-duplicate-a.json')).sourceId).toBe(normalizeHotline(raw('13-duplicate-b-same-gdbh.json')).sourceId);
  });

  it('decodes GBK: declared, configured, overridden; rejects GBK sent as UTF-8', () => {
    const bytes = readFileSync(join(dir, '23-gbk-encoded.gbk.json'));
    expect(bytes.includes(Buffer.from('cad0c3f1', 'hex'))).toBe(true); // 市民 in GBK
    const declared = normalizeHotline({ transport: 'webhook', body: bytes, contentType: 'application/json; charset=GBK', headers: {} });
    expect(declared.text).toBe('市民来电反映：小区门口占道经营，影响通行，请城管部门处理。');
    expect(normalizeHotline({ transport: 'webhook', body: bytes, contentType: 'application/json', headers: {} }, { charset: 'gbk' }).text).toBe(declared.text);
    expect(normalizeHotline({ transport: 'webhook', body: bytes, contentType: 'application/json; charset=utf-8', headers: {} }, { charset: 'gbk', charsetOverride: true }).text).toBe(declared.text);
    const err = (() => {
      try {
        normalizeHotline({ transport: 'webhook', body: bytes, contentType: 'application/json', headers: {} });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(PayloadError);
    expect((err as PayloadError).code).toBe('INTAKE_ERR_BAD_ENCODING');
  });

  it('records re-encoded by the poller are UTF-8 whatever the charset override says', () => {
    const body = Buffer.from(JSON.stringify({ GDBH: 'A2', LDSJ: '2026-01-05 09:00:00', GXSJ: '2026-01-05 09:00:00', SQNR: '市民来电' }));
    const d = normalizeHotline({ transport: 'poller', body, contentType: 'application/json; charset=utf-8', headers: { [REENCODED_HEADER]: 'gbk' } }, { charset: 'gbk', charsetOverride: true });
    expect(d.text).toBe('市民来电');
  });

  it('rejects bad records with a data path', () => {
    const cases: [RawInput, string][] = [
      [raw('90-missing-content.invalid.json'), '/SQNR'],
      [raw('91-bad-time.invalid.json'), '/LDSJ'],
      [raw('92-unknown-type.invalid.json'), '/SQLX'],
      [json({ GDBH: 'A3', LDSJ: '2026-01-05 09:00:00', GXSJ: '2026-01-05 09:00:00', SQNR: 'x', FLDM: '12' }), '/FLDM'],
      [json({ GDBH: 'A4', LDSJ: '2026-01-05 09:00:00', GXSJ: '2026-01-05 09:00:00', SQNR: 'x'.repeat(20001) }), '/SQNR'],
    ];
    for (const [r, path] of cases) {
      let err: unknown;
      try {
        normalizeHotline(r);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PayloadError);
      expect((err as PayloadError).dataPath ?? '').toBe(path);
    }
  });

  it('Beijing time parsing and formatting', () => {
    expect(parseBeijingTime('2026-01-05 08:00:00')).toBe(Date.UTC(2026, 0, 5, 0, 0, 0));
    expect(parseBeijingTime('2026-02-30 08:00:00')).toBeNull();
    expect(parseBeijingTime('2026-01-05T08:00:00')).toBeNull();
    expect(formatBeijingTime(Date.UTC(2026, 0, 5, 0, 0, 0))).toBe('2026-01-05 08:00:00');
  });
});

describe('hotline-12345 listing page', () => {
  const page = (rows: unknown[], extra: Record<string, unknown> = {}): string => JSON.stringify({ code: 0, msg: '成功', total: rows.length, rows, ...extra });

  it('splits a GBK page into UTF-8 records with cursor keys', () => {
    const rows = [{ GDBH: 'GD1', GXSJ: '2026-01-05 09:00:00', LDSJ: '2026-01-05 09:00:00', SQNR: '市民来电' }, { GDBH: 'GD2', GXSJ: 'bad', SQNR: 'x' }];
    const items = splitHotlinePage(encodeText(page(rows), 'gbk'), 'application/json; charset=GBK', { charset: null, charsetOverride: false });
    expect(items).toHaveLength(2);
    expect(items[0]?.key).toEqual({ t: Date.UTC(2026, 0, 5, 1, 0, 0), id: 'GD1' });
    expect(items[1]?.key).toBeNull();
    expect(JSON.parse(items[0]?.raw.body.toString('utf8') ?? '')).toEqual(rows[0]);
    expect(normalizeHotline(items[0]?.raw as RawInput, { charset: 'gbk', charsetOverride: true }).text).toBe('市民来电');
  });

  it('a page without charset uses the configured one; an error code or bad bytes refuse the page', () => {
    const body = encodeText(page([{ GDBH: 'GD1', GXSJ: '2026-01-05 09:00:00', SQNR: '市民' }]), 'gbk');
    expect(splitHotlinePage(body, 'application/json', { charset: 'gbk', charsetOverride: false })).toHaveLength(1);
    expect(() => splitHotlinePage(body, 'application/json', { charset: null, charsetOverride: false })).toThrow(PayloadError);
    expect(() => splitHotlinePage(Buffer.from(JSON.stringify({ code: 500, msg: '系统繁忙' })), 'application/json', { charset: null, charsetOverride: false })).toThrow(/系统繁忙/);
    expect(() => splitHotlinePage(Buffer.from('[]'), 'application/json', { charset: null, charsetOverride: false })).toThrow();
  });
});
