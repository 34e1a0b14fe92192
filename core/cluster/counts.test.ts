import fc from 'fast-check';
import { CountTable } from './counts';

describe('CountTable (document frequencies per bigram code)', () => {
  it('agrees with a Map model over random increments and decrements, through rebuilds', () => {
    fc.assert(
      fc.property(
        // small code pools force repeats and zero counts; the 2^32 - 1 edge and 0 are included
        fc.array(fc.tuple(fc.constantFrom('inc', 'dec', 'many'), fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0, 65536 * 0x9fa5 + 0x4e00, 4294967295))), { maxLength: 3000 }),
        (ops) => {
          const t = new CountTable(4);
          const m = new Map<number, number>();
          const batch: number[] = [];
          const flush = (): void => {
            t.incrementMany(Uint32Array.from(batch));
            for (const c of batch) m.set(c, (m.get(c) ?? 0) + 1);
            batch.length = 0;
          };
          for (const [op, code] of ops) {
            // a batch of distinct codes (a report's bigrams), flushed when a code repeats or at any other op
            if (op === 'many') {
              if (batch.includes(code)) flush();
              batch.push(code);
              continue;
            }
            flush();
            if (op === 'inc') {
              t.increment(code);
              m.set(code, (m.get(code) ?? 0) + 1);
            } else if (code % 2 === 0) {
              t.decrementMany(Uint32Array.of(code));
              const d = (m.get(code) ?? 0) - 1;
              if (d <= 0) m.delete(code);
              else m.set(code, d);
            } else {
              t.decrement(code);
              const d = (m.get(code) ?? 0) - 1;
              if (d <= 0) m.delete(code);
              else m.set(code, d);
            }
          }
          flush();
          expect(t.size).toBe(m.size);
          const got = new Float64Array(303);
          const probe = Uint32Array.from({ length: 303 }, (_, i) => (i <= 300 ? i : i === 301 ? 65536 * 0x9fa5 + 0x4e00 : 4294967295));
          t.getMany(probe, got);
          for (let i = 0; i < probe.length; i++) expect(got[i]).toBe(m.get(probe[i] as number) ?? 0);
          for (let c = 0; c <= 300; c++) expect(t.get(c)).toBe(m.get(c) ?? 0);
          for (const c of [65536 * 0x9fa5 + 0x4e00, 4294967295]) expect(t.get(c)).toBe(m.get(c) ?? 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps a large vocabulary exact and shrinks after it is evicted', () => {
    const t = new CountTable();
    const codes = Array.from({ length: 50_000 }, (_, i) => 0x4e00 * 65536 + i * 7);
    for (const c of codes) t.increment(c);
    for (const c of codes.slice(0, 100)) t.increment(c);
    expect(t.size).toBe(50_000);
    expect(t.get(codes[0] as number)).toBe(2);
    expect(t.get(codes[49_999] as number)).toBe(1);
    expect(t.get(0x4e00 * 65536 + 1)).toBe(0);
    for (const c of codes) t.decrement(c);
    expect(t.size).toBe(100);
    expect(t.get(codes[0] as number)).toBe(1);
    expect(t.get(codes[100] as number)).toBe(0);
    // new codes after the evictions: the table rebuilds around the 100 live ones
    for (let i = 0; i < 20_000; i++) t.increment(i);
    expect(t.size).toBe(20_100);
    expect(t.get(codes[99] as number)).toBe(1);
    expect(t.get(19_999)).toBe(1);
  });
});
