import type { Crs } from '../schema/types';

/**
 * Coordinate conversion to WGS-84 for the datums Chinese channels send.
 *
 * - GCJ-02 (Amap, Tencent, WeChat): WGS-84 plus a published non-linear offset inside China. The
 *   forward transform is closed-form; the inverse has none, so it is solved by fixed-point iteration
 *   to < 1e-9 degrees (a few millimetres), instead of the common one-step approximation (~1 m off).
 * - BD-09 (Baidu): a further closed-form transform on top of GCJ-02.
 * - CGCS2000: the national geodetic datum; its ellipsoid differs from WGS-84 by at most ~0.1 mm in
 *   position at these latitudes, so it is taken as WGS-84 (documented, not approximated silently).
 * Points outside China's bounding box are not offset by GCJ-02 and pass through unchanged.
 */
export interface LonLat {
  lon: number;
  lat: number;
}

const A = 6378245.0;
const EE = 0.00669342162296594323;
const X_PI = (Math.PI * 3000.0) / 180.0;

export function outOfChina(lon: number, lat: number): boolean {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function transformLat(x: number, y: number): number {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function transformLon(x: number, y: number): number {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return r;
}

export function wgs84ToGcj02(p: LonLat): LonLat {
  if (outOfChina(p.lon, p.lat)) return { lon: p.lon, lat: p.lat };
  let dLat = transformLat(p.lon - 105.0, p.lat - 35.0);
  let dLon = transformLon(p.lon - 105.0, p.lat - 35.0);
  const radLat = (p.lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return { lon: p.lon + dLon, lat: p.lat + dLat };
}

export function gcj02ToWgs84(p: LonLat): LonLat {
  if (outOfChina(p.lon, p.lat)) return { lon: p.lon, lat: p.lat };
  let w = { lon: p.lon, lat: p.lat };
  for (let i = 0; i < 30; i++) {
    const g = wgs84ToGcj02(w);
    const dLon = g.lon - p.lon;
    const dLat = g.lat - p.lat;
    w = { lon: w.lon - dLon, lat: w.lat - dLat };
    if (Math.abs(dLon) < 1e-10 && Math.abs(dLat) < 1e-10) break;
  }
  return w;
}

export function bd09ToGcj02(p: LonLat): LonLat {
  const x = p.lon - 0.0065;
  const y = p.lat - 0.006;
  const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * X_PI);
  const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * X_PI);
  return { lon: z * Math.cos(theta), lat: z * Math.sin(theta) };
}

export function gcj02ToBd09(p: LonLat): LonLat {
  const z = Math.sqrt(p.lon * p.lon + p.lat * p.lat) + 0.00002 * Math.sin(p.lat * X_PI);
  const theta = Math.atan2(p.lat, p.lon) + 0.000003 * Math.cos(p.lon * X_PI);
  return { lon: z * Math.cos(theta) + 0.0065, lat: z * Math.sin(theta) + 0.006 };
}

/** Inverse of gcj02ToBd09 to < 1e-10 degrees: the closed form above, refined by fixed-point steps. */
export function bd09ToGcj02Exact(p: LonLat): LonLat {
  let g = bd09ToGcj02(p);
  for (let i = 0; i < 10; i++) {
    const b = gcj02ToBd09(g);
    const dLon = b.lon - p.lon;
    const dLat = b.lat - p.lat;
    g = { lon: g.lon - dLon, lat: g.lat - dLat };
    if (Math.abs(dLon) < 1e-11 && Math.abs(dLat) < 1e-11) break;
  }
  return g;
}

/** Converts a point in any supported datum to WGS-84, rounded to 1e-7 degrees (~1 cm). */
export function toWgs84(p: LonLat, crs: Crs): LonLat {
  let w: LonLat;
  switch (crs) {
    case 'WGS-84':
    case 'CGCS2000':
      w = p;
      break;
    case 'GCJ-02':
      w = gcj02ToWgs84(p);
      break;
    case 'BD-09':
      w = gcj02ToWgs84(bd09ToGcj02Exact(p));
      break;
  }
  return { lon: round7(w.lon), lat: round7(w.lat) };
}

function round7(v: number): number {
  return Math.round(v * 1e7) / 1e7;
}

/** Great-circle distance in metres (haversine). */
export function distanceM(a: LonLat, b: LonLat): number {
  const R = 6371008.8;
  const toRad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * toRad;
  const dLon = (b.lon - a.lon) * toRad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * toRad) * Math.cos(b.lat * toRad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(s)));
}
