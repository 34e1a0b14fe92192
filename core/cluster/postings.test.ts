import { PostingTable } from './postings';

function entries(t: PostingTable, key: number): number[] {
  const ring = t.get(key);
  if (ring < 0) return [];
  const c = t.chunkOf(ring);
  const o = t.offsetOf(ring);
  const n = c[o] as number;
  const out: number[] = [];
  for (let i = Math.max(0, n - t.cap); i < n; i++) out.push(c[o + 1 + (i % t.cap)] as number);
  return out;
}

describe('PostingTable', () => {
  it('keeps the cap most recent entries per key, oldest first', () => {
    const t = new PostingTable(4, 8);
    const big = 0xfffff * 4294967296 + 0xffffffff;
    for (let s = 0; s < 10; s++) {
      t.push(7, s);
      t.push(big, 100 + s);
    }
    expect(entries(t, 7)).toEqual([6, 7, 8, 9]);
    expect(entries(t, big)).toEqual([106, 107, 108, 109]);
    expect(t.get(8)).toBe(-1);
    expect(t.size).toBe(2);
  });

  it('grows and rehashes without losing keys', () => {
    const t = new PostingTable(2, 4);
    for (let k = 1; k <= 5000; k++) t.push(k * 4294967296 + k, k);
    for (let k = 1; k <= 5000; k++) expect(entries(t, k * 4294967296 + k)).toEqual([k]);
    expect(t.size).toBe(5000);
  });

  it('sweeps lists whose entries all left the window, and reuses their rings', () => {
    const t = new PostingTable(3, 16);
    for (let k = 1; k <= 100; k++) t.push(k, k);
    // Everything before seq 51 left the window.
    for (let i = 0; i < 100; i++) t.sweep(16, 51);
    expect(t.size).toBe(50);
    expect(t.get(10)).toBe(-1);
    expect(entries(t, 60)).toEqual([60]);
    // A swept key starts a fresh ring (no stale entries).
    t.push(10, 200);
    expect(entries(t, 10)).toEqual([200]);
    // Churn stays bounded: keys that die are swept and their slots and rings reused.
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 100; k++) t.push(1000 + round * 100 + k, 1000 + round * 100 + k);
      for (let i = 0; i < 40; i++) t.sweep(16, 1000 + round * 100);
    }
    expect(t.size).toBeLessThanOrEqual(200);
    expect(t.chunks.length).toBe(1);
  });

  it('pushMany leaves the table push by push would (keys repeated within a batch, growth, sweeps and reused rings)', () => {
    const a = new PostingTable(3, 4);
    const b = new PostingTable(3, 4);
    let x = 12345;
    const rnd = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    const keys = new Float64Array(64);
    for (let seq = 0; seq < 3000; seq++) {
      const n = 1 + rnd(40);
      for (let j = 0; j < n; j++) keys[j] = (1 + rnd(3)) * 4294967296 + 1 + rnd(seq < 1500 ? 400 : 4000);
      for (let j = 0; j < n; j++) a.push(keys[j] as number, seq);
      b.pushMany(keys, n, seq);
      a.sweep(8, seq - 200);
      b.sweep(8, seq - 200);
    }
    expect(b.size).toBe(a.size);
    expect(b.chunks.length).toBe(a.chunks.length);
    for (let k = 0; k < a.chunks.length; k++) expect(Array.from(b.chunks[k] as Int32Array)).toEqual(Array.from(a.chunks[k] as Int32Array));
    for (let blk = 1; blk <= 3; blk++) {
      for (let c = 1; c <= 4000; c++) expect(b.get(blk * 4294967296 + c)).toBe(a.get(blk * 4294967296 + c));
    }
  });
});
