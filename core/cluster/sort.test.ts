import fc from 'fast-check';
import { smallestFirst, sortRange } from './sort';

describe('sortRange / smallestFirst (bottom-k of short Float64Arrays)', () => {
  it('sortRange equals the native sort, with many ties', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })), { maxLength: 600 }), (xs) => {
        const d = Float64Array.from(xs, (x) => x * 65536 + 0.5);
        sortRange(d);
        expect([...d]).toEqual([...Float64Array.from(xs, (x) => x * 65536 + 0.5).sort()]);
      }),
      { numRuns: 300 },
    );
  });

  it('sortRange sorts only its range', () => {
    const a = Float64Array.of(9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    sortRange(a, 2, 7);
    expect([...a]).toEqual([9, 8, 3, 4, 5, 6, 7, 2, 1, 0]);
  });

  it('smallestFirst puts the k smallest first in order, the rest after them', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 500 }), fc.nat(520), (xs, k) => {
        const a = Float64Array.from(xs);
        smallestFirst(a, a.length, k);
        const sorted = [...xs].sort((x, y) => x - y);
        const m = Math.min(k, xs.length);
        expect([...a.subarray(0, m)]).toEqual(sorted.slice(0, m));
        expect([...a].sort((x, y) => x - y)).toEqual(sorted);
      }),
      { numRuns: 300 },
    );
  });
});
