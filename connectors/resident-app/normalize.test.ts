import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { PayloadError } from '../../core/errors';
import { gcj02ToBd09, wgs84ToGcj02 } from '../../core/geo/coords';
import { assembleTicket } from '../../core/pipeline/enrich';
import { validateTicket } from '../../core/schema/validators';
import type { RawInput } from '../../core/sdk/connector';
import { packageRoot } from '../../core/util/paths';
import { normalizeResidentApp } from './normalize';
import { residentAppSpec } from './spec';

const raw = (body: string | Buffer): RawInput => ({ transport: 'webhook', body: Buffer.isBuffer(body) ? body : Buffer.from(body), contentType: 'application/json', headers: {} });
const assemble = (_i: number, r: RawInput) =>
  assembleTicket(normalizeResidentApp(r), {
    channel: 'resident-app',
    connectorId: 'resident-app',
    dedupScope: 'resident-app',
    receivedAt: Date.UTC(2026, 10, 20),
    rawTopic: 'intake.reports.v1',
    envelopeId: '01JC00000000000000000000ZZ',
    sha256: 'a'.repeat(64),
    tokenSecret: 'test-secret-of-some-length',
  });

describe('resident-app normalize', () => {
  const dir = join(packageRoot(), residentAppSpec.fixturesDir as string);

  it('the demo samples in examples/resident-app normalize to schema-valid tickets', () => {
    const ex = join(packageRoot(), 'examples', 'resident-app');
    for (const f of readdirSync(ex).filter((x) => x.endsWith('.json'))) expect(validateTicket(assemble(1, raw(readFileSync(join(ex, f)))))).toBe(true);
  });

  it('masks ID and phone numbers inside the text and normalises +86 phones', () => {
    const t = assemble(4, raw(readFileSync(join(dir, '14-text-with-id-number.json'))));
    expect(t.text).not.toMatch(/340104199001011234|13800000114/);
    expect(assemble(5, raw(readFileSync(join(dir, '16-plus86.json')))).reporter.phoneMasked).toBe('138****0116');
  });

  it('converts GCJ-02 and BD-09 coordinates to WGS-84 and keeps the source datum', () => {
    const body = JSON.parse(readFileSync(join(dir, '04-anonymous.json'), 'utf8')) as Record<string, unknown>;
    const t = assemble(2, raw(JSON.stringify(body)));
    expect(t.location.point?.sourceCrs).toBe('BD-09');
    // the fixture's BD-09 point (117.2952, 31.8198), taken back through WGS-84 → GCJ-02 → BD-09
    const back = gcj02ToBd09(wgs84ToGcj02({ lon: t.location.point?.lon ?? 0, lat: t.location.point?.lat ?? 0 }));
    expect(back.lon).toBeCloseTo(117.2952, 6);
    expect(back.lat).toBeCloseTo(31.8198, 6);
    expect(Math.abs((t.location.point?.lon ?? 0) - 117.2952)).toBeGreaterThan(0.005);
  });

  it('anonymous reports carry no name, phone or contact token', () => {
    const t = assemble(3, raw(readFileSync(join(dir, '04-anonymous.json'))));
    expect(t.reporter).toMatchObject({ anonymous: true, nameMasked: null, phoneMasked: null, contactToken: null });
  });

  it('is pure and deterministic', () => {
    const r = raw(readFileSync(join(dir, '01-manhole.json')));
    expect(normalizeResidentApp(r)).toEqual(normalizeResidentApp(r));
  });

  it('rejects bad input with a PayloadError naming the data path (property: never another exception)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        try {
          normalizeResidentApp(raw(JSON.stringify(v)));
          return true;
        } catch (e) {
          return e instanceof PayloadError && e.httpStatus === 400;
        }
      }),
      { numRuns: 300 },
    );
    try {
      normalizeResidentApp(raw(JSON.stringify({ reportId: 'a', openid: 'b', text: 'x', submittedAt: 'yesterday' })));
      throw new Error('expected failure');
    } catch (e) {
      expect((e as PayloadError).dataPath).toBe('/submittedAt');
    }
  });

  it('rejects deeply nested JSON before parsing it', () => {
    expect(() => normalizeResidentApp(raw('['.repeat(10000) + ']'.repeat(10000)))).toThrow(/nesting depth/);
  });
});
