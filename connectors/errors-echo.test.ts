import { IntakeError, PayloadError } from '../core/errors';
import type { RawInput } from '../core/sdk/connector';
import { parseJson } from '../core/sdk/decode';
import { parseXml } from '../core/sdk/xml';
import { normalizeHotline } from './hotline-12345/normalize';
import { normalizeMapped } from './mapped-webhook/mapping';
import { normalizeOpen311 } from './open311/normalize';
import { normalizePolice110 } from './police-110/normalize';
import { normalizeResidentApp } from './resident-app/normalize';

/**
 * Issue 11: dead-letter messages and 4xx bodies name the field and the rule, never the value. Each
 * case puts a phone number (or a name) exactly where the error is, and checks the error's message
 * and data path for it.
 */
const PHONE = '13812345678';
// a marker the masking engine leaves alone: its absence shows the value was not echoed at all
const MARK = 'qzxv';
const V = `${MARK}${PHONE}`;
const raw = (body: string, contentType = 'application/json'): RawInput => ({ transport: 'webhook', body: Buffer.from(body), contentType, headers: {} });

function errorOf(f: () => unknown): IntakeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(IntakeError);
    return e as IntakeError;
  }
  throw new Error('expected an error');
}

const echoes = (e: IntakeError, what: string): boolean => `${e.message} ${e.dataPath ?? ''}`.includes(what);

describe('errors do not echo input', () => {
  it.each([
    ['a JSON syntax error next to the value', () => normalizeResidentApp(raw(`{"reportId":"R1","text": ${V}}`))],
    ['an unknown field named by the value', () => normalizeResidentApp(raw(JSON.stringify({ reportId: 'R1', openid: 'o', text: 't', submittedAt: '2026-11-20T08:00:00+08:00', [V]: 1 })))],
    ['a value breaking a pattern', () => normalizeResidentApp(raw(JSON.stringify({ reportId: `R-${V}-张三`, openid: 'o', text: 't', submittedAt: '2026-11-20T08:00:00+08:00' })))],
    ['an XML entity named by the value', () => parseXml(Buffer.from(`<JQXX><JYQK>&${MARK};</JYQK></JQXX>`))],
    ['mismatched XML tags named by the value', () => parseXml(Buffer.from(`<JQXX><T${V}>x</B${V}></JQXX>`))],
    ['an XML root element named by the value', () => normalizePolice110(raw(`<T${V}><JQBH>1</JQBH></T${V}>`, 'application/xml'))],
    ['a processing instruction named by the value', () => parseXml(Buffer.from(`<JQXX><?p${V} x?></JQXX>`))],
    ['an Open311 field given twice, named by the value', () => normalizeOpen311(raw(`service_code=A&lat=1&long=2&${V}=1&${V}=2`, 'application/x-www-form-urlencoded'))],
    ['an Open311 unknown field', () => normalizeOpen311(raw(`service_code=A&lat=1&long=2&tel${V}=1`, 'application/x-www-form-urlencoded'))],
    ['a mapped datum that is not in the table', () => normalizeMapped(raw(JSON.stringify({ id: '1', t: 'x', lon: 117, lat: 31, crs: V })), { charset: 'utf-8', categoryScheme: 'm', mapping: { sourceId: '/id', text: '/t', point: { lon: '/lon', lat: '/lat', crsFrom: '/crs' } }, tables: { crs: {} }, defaults: {}, maxDepth: 8 })],
    ['a hotline time that is not a time', () => normalizeHotline(raw(JSON.stringify({ GDBH: 'G1', LDSJ: '2026-02-30 25:00:00', GXSJ: '2026-01-05 09:05:00', SQNR: `电话${V}` })))],
  ])('%s', (_what, f) => {
    const e = errorOf(f);
    expect(echoes(e, PHONE)).toBe(false);
    expect(echoes(e, MARK)).toBe(false);
    expect(echoes(e, '张三')).toBe(false);
    expect(e.httpStatus).toBeGreaterThanOrEqual(400);
    expect(e.httpStatus).toBeLessThan(500);
  });

  it('JSON errors keep where, not what', () => {
    expect(errorOf(() => parseJson(`{"a": ${PHONE}x}`)).message).toMatch(/^body is not valid JSON \(at character \d+\)$/);
  });

  it('an error that quotes a value anyway is masked at construction (message and data path)', () => {
    const e = new PayloadError('INTAKE_ERR_PAYLOAD_INVALID', `bad value 电话${PHONE}, 身份证340104199001011234`, { dataPath: `/x/${PHONE}` });
    expect(e.message).toBe('bad value 电话138****5678, 身份证340104************');
    expect(e.dataPath).toBe('/x/138****5678');
    expect(JSON.stringify(e.toJSON())).not.toContain(PHONE);
  });
});
