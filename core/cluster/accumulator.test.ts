import { CandidateAccumulator } from './accumulator';
import { prng } from './synthetic';

describe('CandidateAccumulator', () => {
  it('sums weights per seq in first-seen order, across growth and queries', () => {
    const acc = new CandidateAccumulator(4);
    const r = prng(5);
    for (let query = 0; query < 50; query++) {
      acc.reset();
      const want = new Map<number, number>();
      const n = 1 + Math.floor(r() * 3000);
      for (let i = 0; i < n; i++) {
        const seq = Math.floor(r() * 2000) + query * 100;
        const w = r();
        acc.add(seq, w);
        want.set(seq, (want.get(seq) ?? 0) + w);
      }
      expect(acc.seqs).toEqual([...want.keys()]);
      for (let k = 0; k < acc.seqs.length; k++) expect(acc.weightAt(k)).toBe(want.get(acc.seqs[k] as number));
      for (const [seq, w] of want) expect(acc.weight(seq)).toBe(w);
      expect(acc.weight(-5)).toBe(0);
    }
  });

  it('forgets the previous query on reset', () => {
    const acc = new CandidateAccumulator();
    acc.reset();
    acc.add(7, 1);
    acc.reset();
    expect(acc.weight(7)).toBe(0);
    acc.add(7, 2);
    expect(acc.seqs).toEqual([7]);
    expect(acc.weightAt(0)).toBe(2);
  });
});
