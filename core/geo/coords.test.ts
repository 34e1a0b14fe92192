import fc from 'fast-check';
import { bd09ToGcj02, distanceM, gcj02ToBd09, gcj02ToWgs84, toWgs84, wgs84ToGcj02 } from './coords';

// Reference values published with wandergis/coordtransform (and reused by hutool's CoordinateUtilTest)
// for the point (116.404, 39.915) in Beijing.
describe('coordinate conversion against known points', () => {
  it('WGS-84 → GCJ-02 matches the reference implementation', () => {
    const g = wgs84ToGcj02({ lon: 116.404, lat: 39.915 });
    expect(g.lon).toBeCloseTo(116.41024449916938, 10);
    expect(g.lat).toBeCloseTo(39.91640428150164, 10);
  });

  it('BD-09 → GCJ-02 and GCJ-02 → BD-09 match the reference implementation', () => {
    const g = bd09ToGcj02({ lon: 116.404, lat: 39.915 });
    expect(g.lon).toBeCloseTo(116.39762729119315, 10);
    expect(g.lat).toBeCloseTo(39.90865673957631, 10);
    const b = gcj02ToBd09({ lon: 116.404, lat: 39.915 });
    expect(b.lon).toBeCloseTo(116.41036949371029, 10);
    expect(b.lat).toBeCloseTo(39.92133699351021, 10);
  });

  it('Beijing railway station: BD-09 (116.43351, 39.90851) is GCJ-02 (116.42703, 39.90245) within 1 m', () => {
    const g = bd09ToGcj02({ lon: 116.43351, lat: 39.90851 });
    expect(distanceM(g, { lon: 116.42703, lat: 39.90245 })).toBeLessThan(1.5);
  });

  it('GCJ-02 → WGS-84 is within 1 m of the one-step reference and exact on round trip', () => {
    const w = gcj02ToWgs84({ lon: 116.404, lat: 39.915 });
    // The one-step inverse published by coordtransform is (116.39775550083061, 39.91359571849836);
    // ours iterates to the exact inverse, so it differs from it by well under a metre.
    expect(distanceM(w, { lon: 116.39775550083061, lat: 39.91359571849836 })).toBeLessThan(1);
    const back = wgs84ToGcj02(w);
    expect(back.lon).toBeCloseTo(116.404, 9);
    expect(back.lat).toBeCloseTo(39.915, 9);
  });

  it('the GCJ-02 offset in Hefei is a few hundred metres and is removed', () => {
    const truth = { lon: 117.2272, lat: 31.8206 }; // WGS-84, Hefei
    const gcj = wgs84ToGcj02(truth);
    expect(distanceM(truth, gcj)).toBeGreaterThan(100);
    expect(distanceM(truth, toWgs84(gcj, 'GCJ-02'))).toBeLessThan(0.05);
    expect(distanceM(truth, toWgs84(gcj02ToBd09(gcj), 'BD-09'))).toBeLessThan(0.05);
  });

  it('points outside China are not offset', () => {
    expect(toWgs84({ lon: 2.35, lat: 48.85 }, 'GCJ-02')).toEqual({ lon: 2.35, lat: 48.85 });
  });

  it('round trip GCJ-02 ∘ inverse is the identity within 1 cm anywhere in China (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 74, max: 134, noNaN: true }), fc.double({ min: 18, max: 53, noNaN: true }), (lon, lat) => {
        const p = { lon, lat };
        return distanceM(p, toWgs84(wgs84ToGcj02(p), 'GCJ-02')) < 0.01;
      }),
      { numRuns: 300 },
    );
  });
});
