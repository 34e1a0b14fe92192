import fc from 'fast-check';
import { WeightedCodeSet } from './codeset';

/** The model: the merge join of two sorted code lists the engine used before the code set. */
function mergeCosine(qa: Uint32Array, qw: Float64Array, qn: number, slab: Uint32Array, at: number, n: number, cn: number): number {
  if (qn === 0 || cn === 0) return 0;
  let i = 0;
  let j = at;
  let dot = 0;
  while (i < qa.length && j < at + n) {
    const x = qa[i] as number;
    const y = slab[j] as number;
    if (x === y) {
      dot += (qw[i] as number) * (qw[i] as number);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return Math.min(1, dot / (qn * cn));
}

const sortedCodes = (pool: number, max: number): fc.Arbitrary<Uint32Array> =>
  fc.uniqueArray(fc.integer({ min: 1, max: pool }), { maxLength: max }).map((xs) => Uint32Array.from(xs).sort());

describe('WeightedCodeSet (a query scored against candidates)', () => {
  it('is the IDF-weighted cosine of the two code sets (a worked case)', () => {
    const q = new WeightedCodeSet(Uint32Array.of(1, 3, 5, 9), Float64Array.of(1, 2, 3, 4), 10);
    const slab = Uint32Array.of(77, 3, 4, 9, 10, 77);
    // shared codes 3 and 9: (2² + 4²) / (qn · cn), capped at 1
    expect(q.cosineAt(slab, 1, 4, 4)).toBeCloseTo(0.5, 12);
    expect(q.cosineAt(slab, 1, 3, 4)).toBeCloseTo(0.5, 12);
    expect(q.cosineAt(slab, 1, 2, 4)).toBeCloseTo(0.1, 12);
    expect(new WeightedCodeSet(Uint32Array.of(1, 3, 5, 9), Float64Array.of(1, 2, 3, 4), 5).cosineAt(slab, 1, 4, 2)).toBe(1);
    expect(q.cosineAt(slab, 1, 0, 4)).toBe(0);
    expect(new WeightedCodeSet(Uint32Array.of(1, 3), Float64Array.of(1, 2), 0).cosineAt(slab, 1, 4, 4)).toBe(0);
    expect(q.weightOf(9)).toBe(4);
    expect(q.weightOf(4)).toBe(0);
  });

  it('equals the merge join exactly, bit for bit, on random sets (small pools force overlaps and probe chains)', () => {
    // one set reassigned through every run, as the engine reuses it query after query
    const reused = new WeightedCodeSet();
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(50), fc.constant(2 ** 32 - 1)).chain((pool) => fc.tuple(sortedCodes(pool, 450), sortedCodes(pool, 450))),
        fc.double({ min: 0.01, max: 12, noNaN: true }),
        ([qa, cand], cn) => {
          const qw = Float64Array.from(qa, (c) => 1 + (c % 97) / 7);
          let qn = 0;
          for (const w of qw) qn += w * w;
          qn = Math.sqrt(qn);
          const slab = new Uint32Array(cand.length + 2);
          slab.set(cand, 1);
          const set = new WeightedCodeSet(qa, qw, qn);
          const model = mergeCosine(qa, qw, qn, slab, 1, cand.length, cn);
          expect(set.cosineAt(slab, 1, cand.length, cn)).toBe(model);
          reused.assign(qa, qw, qn);
          expect(reused.cosineAt(slab, 1, cand.length, cn)).toBe(model);
          for (let i = 0; i < qa.length; i++) expect(reused.weightOf(qa[i] as number)).toBe(qw[i]);
          for (const c of cand) if (!qa.includes(c)) expect(reused.weightOf(c)).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses code 0, which marks an empty slot', () => {
    expect(() => new WeightedCodeSet(Uint32Array.of(0, 5), Float64Array.of(1, 1), 1)).toThrow(RangeError);
  });
});
