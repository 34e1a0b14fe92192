import { encodePart, F_BODY_NORM, F_HEAD_NORM, F_LON, F_TAGS, F_TIME, FeatureStore, HEADER, channelOf, familyOf, placeMatchAt, placeMentionedAt, placeScoreAt, regionConflictAt, type Features } from './store';
import { bigramCodes, extractPlaces, normalizeText, placeMatch, placeScore, regionConflict, type PlaceEntity } from './text';
import { prng } from './synthetic';

type Point = { lon: number; lat: number } | null;

function feats(text: string, point: Point = null): Features & { point: Point } {
  const norm = normalizeText(text);
  return { head: bigramCodes(norm.slice(0, 10)), body: bigramCodes(norm), headNorm: 1.5, bodyNorm: 2.5, places: extractPlaces(norm), concepts: 5, point };
}

function bodyOf(st: FeatureStore, seq: number): number[] {
  const at = st.partAt(seq);
  const nHead = st.slab[at] as number;
  const nBody = st.slab[at + 1] as number;
  return Array.from(st.slab.subarray(at + HEADER + nHead, at + HEADER + nHead + nBody));
}

describe('FeatureStore', () => {
  it('keeps every windowed report readable while both rings wrap and grow (FIFO eviction)', () => {
    const st = new FeatureStore(4, 64);
    const r = prng(3);
    const live: { seq: number; f: Features & { point: Point } }[] = [];
    let base = 0;
    for (let seq = 0; seq < 3000; seq++) {
      // a window that breathes: sometimes 2 reports, sometimes 200
      const target = 2 + Math.floor(r() * (seq < 1500 ? 200 : 20));
      while (live.length > target) {
        live.shift();
        base++;
      }
      const len = 1 + Math.floor(r() * 60);
      const text = Array.from({ length: len }, () => String.fromCharCode(0x4e00 + Math.floor(r() * 400))).join('');
      const f = feats(`${text}金阳小区`, r() < 0.5 ? { lon: 117 + r(), lat: 31 + r() } : null);
      st.put(seq, base, f, f.point, seq % 7, (seq % 5) - 1, 1000 + seq);
      live.push({ seq, f });
      for (const x of live) {
        expect(bodyOf(st, x.seq)).toEqual(Array.from(x.f.body));
        const o = st.slot(x.seq);
        expect(st.feat[o + F_TIME]).toBe(1000 + x.seq);
        expect(channelOf(st.feat[o + F_TAGS] as number)).toBe(x.seq % 7);
        expect(familyOf(st.feat[o + F_TAGS] as number)).toBe((x.seq % 5) - 1);
        expect(st.feat[o + F_HEAD_NORM]).toBe(1.5);
        expect(st.feat[o + F_BODY_NORM]).toBe(2.5);
        if (x.f.point === null) expect(Number.isNaN(st.feat[o + F_LON])).toBe(true);
        else expect(st.feat[o + F_LON]).toBe(x.f.point.lon);
      }
    }
    // the slab grew to the window's need, not to everything ever written
    expect(st.slabWords).toBeLessThan(3000 * 40);
  });

  it('refuses a family id it cannot pack', () => {
    const st = new FeatureStore();
    expect(() => st.put(0, 0, feats('路灯不亮'), null, 0, 1 << 20, 0)).toThrow(RangeError);
  });
});

describe('scoring on stored code units equals scoring on strings', () => {
  const names = ['金阳小区', '金阳花园', '金阳', '丽发新城', '丽发新城小区', '伊景园滨河苑', '伊景园滨河院', '华云家园', '华云苑', '长江路', '长江', '黄河大道', 'x', '', '和平里小学', '和平里'];
  const ents: PlaceEntity[] = names.map((n, i) => ({ name: n, core: n, fine: i % 3 !== 2 }));

  it('placeMatchAt = placeMatch for every pair of names', () => {
    for (const a of ents) {
      for (const b of ents) {
        const part = encodePart({ head: new Uint32Array(0), body: new Uint32Array(0), headNorm: 0, bodyNorm: 0, places: [b], concepts: 0 });
        expect([a.name, b.name, placeMatchAt(a.name, part, HEADER + 1, b.name.length)]).toEqual([a.name, b.name, placeMatch(a, b)]);
      }
    }
  });

  it('placeScoreAt = placeScore on random place lists', () => {
    const r = prng(11);
    for (let t = 0; t < 2000; t++) {
      const pick = (): PlaceEntity[] => Array.from({ length: Math.floor(r() * 4) }, () => ents[Math.floor(r() * ents.length)] as PlaceEntity);
      const a = pick();
      const b = pick();
      const part = encodePart({ head: new Uint32Array(0), body: new Uint32Array(0), headNorm: 0, bodyNorm: 0, places: b, concepts: 0 });
      expect(placeScoreAt(a, part, HEADER, part[2] as number)).toBe(placeScore(a, b));
    }
  });

  it('regionConflictAt = regionConflict on random region lists, and regions leave placeScoreAt alone', () => {
    const regions = ['a市', 'b市', 'j11市', 'a3区', 'a7县', '长沙市', '岳麓区'];
    const r = prng(12);
    for (let t = 0; t < 2000; t++) {
      const pick = (): string[] => [...new Set(Array.from({ length: Math.floor(r() * 4) }, () => regions[Math.floor(r() * regions.length)] as string))];
      const a = pick();
      const b = pick();
      const places = ents.slice(0, Math.floor(r() * 3));
      const part = encodePart({ head: new Uint32Array(0), body: new Uint32Array(0), headNorm: 0, bodyNorm: 0, places, regions: b, concepts: 0 });
      expect([a, b, regionConflictAt(a, part, HEADER, part[2] as number)]).toEqual([a, b, regionConflict(a, b)]);
      expect(placeScoreAt(ents.slice(0, 2), part, HEADER, part[2] as number)).toBe(placeScore(ents.slice(0, 2), places));
    }
  });
});

describe('placeMentionedAt', () => {
  const head = (name: string): PlaceEntity => ({ name, core: name, fine: true, inHead: true });
  const other = (text: string): Uint32Array => {
    const codes = bigramCodes(normalizeText(text), 400);
    return encodePart({ head: new Uint32Array(0), body: codes, headNorm: 0, bodyNorm: 1, places: [], concepts: 0 });
  };
  const none = new Uint32Array(0);

  it('a bigram of the title place in the other text mentions it; generic bigrams (信息, 科技, 公司) do not', () => {
    expect(placeMentionedAt([head('富惠天下商务公司')], none, none, other('惠伏天下的工作人员卷款跑路'), 0)).toBe(true);
    expect(placeMentionedAt([head('聚汇企信息科技公司')], none, none, other('他们自称做信息服务和科技推广'), 0)).toBe(false);
  });

  it('a name whose bigrams are all generic is not judged', () => {
    expect(placeMentionedAt([head('有限公司')], none, none, other('工作人员承诺每月返息'), 0)).toBeNull();
  });
});
