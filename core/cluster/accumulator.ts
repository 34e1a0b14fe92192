/**
 * Per-query candidate accumulator: the shared-bigram weight of every report seen in the posting
 * rings of one query, in a small open-addressing table (seq → weight) reused across queries
 * (a generation number marks the live slots, so nothing is cleared between queries).
 *
 * The table holds only the reports one query touches (hundreds, a few thousand at most), so it
 * stays in the CPU cache whatever the window size; the per-report fields (time, family) are read
 * once per distinct report afterwards instead of once per posting entry.
 */

/** Slot layout (Float64Array, stride 4 = 32 bytes): [seq, generation, weight, unused]. */
const STRIDE = 4;

export class CandidateAccumulator {
  private table: Float64Array;
  private mask: number;
  private gen = 0;
  /** Distinct seqs of the current query, in first-seen order. */
  readonly seqs: number[] = [];
  /** Their slots (offsets into `table`), parallel to `seqs`. */
  private readonly slots: number[] = [];

  constructor(initialSlots = 1024) {
    this.table = new Float64Array(initialSlots * STRIDE);
    this.mask = initialSlots - 1;
  }

  /** Start a new query: forget every weight. */
  reset(): void {
    this.gen++;
    this.seqs.length = 0;
    this.slots.length = 0;
  }

  /** Add `w` to the weight of `seq` (inserting it at weight `w` when first seen). */
  add(seq: number, w: number): void {
    const t = this.table;
    const gen = this.gen;
    let i = hash(seq) & this.mask;
    for (;;) {
      const o = i * STRIDE;
      if (t[o + 1] !== gen) {
        t[o] = seq;
        t[o + 1] = gen;
        t[o + 2] = w;
        this.seqs.push(seq);
        this.slots.push(o);
        if (this.seqs.length * 2 > this.mask + 1) this.grow();
        return;
      }
      if (t[o] === seq) {
        t[o + 2] = (t[o + 2] as number) + w;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Weight of the k-th distinct seq (first-seen order). */
  weightAt(k: number): number {
    return this.table[(this.slots[k] as number) + 2] as number;
  }

  /** Weight of `seq` in the current query (0 when not seen). */
  weight(seq: number): number {
    const t = this.table;
    let i = hash(seq) & this.mask;
    for (;;) {
      const o = i * STRIDE;
      if (t[o + 1] !== this.gen) return 0;
      if (t[o] === seq) return t[o + 2] as number;
      i = (i + 1) & this.mask;
    }
  }

  /** Double the table, re-inserting the current query's entries (first-seen order kept). */
  private grow(): void {
    const old = this.table;
    const size = (this.mask + 1) * 2;
    this.table = new Float64Array(size * STRIDE);
    this.mask = size - 1;
    const gen = this.gen;
    for (let k = 0; k < this.seqs.length; k++) {
      const from = this.slots[k] as number;
      const seq = old[from] as number;
      let i = hash(seq) & this.mask;
      while (this.table[i * STRIDE + 1] === gen) i = (i + 1) & this.mask;
      const o = i * STRIDE;
      this.table[o] = seq;
      this.table[o + 1] = gen;
      this.table[o + 2] = old[from + 2] as number;
      this.slots[k] = o;
    }
  }
}

function hash(seq: number): number {
  const h = Math.imul(seq, 0x9e3779b1);
  return (h ^ (h >>> 15)) >>> 0;
}
