import { mix32 } from './postings';

const EMPTY = 0;

/**
 * Document frequencies per bigram code (an integer in [0, 2^32)) in one flat typed array: an
 * open-addressing hash table (linear probing) of 32-bit [code + 1, count] pairs, so a lookup reads
 * one cache line. It replaces a `Map<number, number>` whose keys above 2^30 are heap numbers (a
 * bigram code is `a * 65536 + b`), which made the clustering CPU per real long text 1.1–1.2 ×
 * of this table's (`bench/cluster/real-cost.ts`, docs/BENCHMARKS.md).
 *
 * A count that drops to 0 keeps its slot (no tombstones to manage); the table is rebuilt with only
 * the live codes when occupied slots pass half of its size.
 */
export class CountTable {
  /** Slot i is [code + 1, count] at 2i, 2i + 1; code + 1 = 0 marks an empty slot. */
  private slots: Uint32Array;
  private mask: number;
  private used = 0;
  private live = 0;
  /** The count of code 2^32 − 1, whose code + 1 does not fit a slot's 32 bits. */
  private top = 0;
  private slotScratch = new Int32Array(512);

  constructor(initialSlots = 1 << 12) {
    const n = pow2(initialSlots);
    this.slots = new Uint32Array(n * 2);
    this.mask = n - 1;
  }

  /** Codes with a count above 0. */
  get size(): number {
    return this.live;
  }

  /** The count of `code` (0 when absent). */
  get(code: number): number {
    if (code === TOP) return this.top;
    const i = this.probe(code + 1);
    return this.slots[2 * i + 1] as number;
  }

  /**
   * The counts of `codes` into `out[0..codes.length)`: `get` of each, with the slots' reads
   * issued back to back. On a large vocabulary nearly every read misses the cache, and a loop of
   * independent reads lets the processor overlap those misses (one probe per code with work in
   * between does not).
   */
  getMany(codes: Uint32Array, out: Float64Array): void {
    const n = codes.length;
    const at = this.homeSlots(codes);
    const slots = this.slots;
    for (let i = 0; i < n; i++) {
      const key = (codes[i] as number) + 1;
      if (key > TOP) {
        out[i] = this.top;
        continue;
      }
      const j = at[i] as number;
      const k = slots[2 * j] as number;
      if (k === key) out[i] = slots[2 * j + 1] as number;
      else if (k === EMPTY) out[i] = 0;
      else out[i] = this.get(key - 1);
    }
  }

  /** Adds 1 to the count of `code`. */
  increment(code: number): void {
    if (code === TOP) {
      if (this.top++ === 0) this.live++;
      return;
    }
    const key = code + 1;
    const i = this.probe(key);
    const slots = this.slots;
    const c = slots[2 * i + 1] as number;
    if (c === 0) this.live++;
    slots[2 * i + 1] = c + 1;
    if ((slots[2 * i] as number) === EMPTY) {
      slots[2 * i] = key;
      this.used++;
      if (this.used * 2 > this.mask + 1) this.rebuild();
    }
  }

  /**
   * `increment` of each of `codes` in order, with the reads of their home slots issued back to back
   * (as `getMany`); a code not at its home slot takes `increment`'s probe, and after a rebuild the
   * rest do.
   */
  incrementMany(codes: Uint32Array): void {
    const n = codes.length;
    const at = this.homeSlots(codes);
    const slots = this.slots;
    for (let i = 0; i < n; i++) {
      const code = codes[i] as number;
      const j = at[i] as number;
      if (this.slots === slots && code !== TOP && (slots[2 * j] as number) === code + 1) {
        const c = slots[2 * j + 1] as number;
        if (c === 0) this.live++;
        slots[2 * j + 1] = c + 1;
      } else this.increment(code);
    }
  }

  /** Subtracts 1 from the count of `code`; a count of 0 (or an absent code) stays 0. */
  decrement(code: number): void {
    if (code === TOP) {
      if (this.top > 0 && --this.top === 0) this.live--;
      return;
    }
    const i = this.probe(code + 1);
    const c = this.slots[2 * i + 1] as number;
    if (c === 0) return;
    this.slots[2 * i + 1] = c - 1;
    if (c === 1) this.live--;
  }

  /** `decrement` of each of `codes`, with the home-slot reads issued back to back (as `incrementMany`). */
  decrementMany(codes: Uint32Array): void {
    const n = codes.length;
    const at = this.homeSlots(codes);
    const slots = this.slots;
    for (let i = 0; i < n; i++) {
      const code = codes[i] as number;
      const j = at[i] as number;
      if (code !== TOP && (slots[2 * j] as number) === code + 1) {
        const c = slots[2 * j + 1] as number;
        if (c === 0) continue;
        slots[2 * j + 1] = c - 1;
        if (c === 1) this.live--;
      } else this.decrement(code);
    }
  }

  /** The home slot of each code (the first slot its probe reads), in a scratch array. */
  private homeSlots(codes: Uint32Array): Int32Array {
    if (this.slotScratch.length < codes.length) this.slotScratch = new Int32Array(codes.length * 2);
    const at = this.slotScratch;
    const mask = this.mask;
    for (let i = 0; i < codes.length; i++) at[i] = mix32((codes[i] as number) + 1) & mask;
    return at;
  }

  /** The slot holding `key`, or the empty slot where it would go (its count reads 0). */
  private probe(key: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = mix32(key) & mask;
    for (;;) {
      const k = slots[2 * i] as number;
      if (k === key || k === EMPTY) return i;
      i = (i + 1) & mask;
    }
  }

  /** Re-inserts the live codes into a table of at least 3 slots per live code (drops the zeros). */
  private rebuild(): void {
    const old = this.slots;
    const n = pow2(Math.max(1 << 12, this.live * 3));
    const slots = new Uint32Array(n * 2);
    const mask = n - 1;
    let used = 0;
    for (let j = 0; j < old.length; j += 2) {
      const key = old[j] as number;
      const c = old[j + 1] as number;
      if (key === EMPTY || c === 0) continue;
      let i = mix32(key) & mask;
      while ((slots[2 * i] as number) !== EMPTY) i = (i + 1) & mask;
      slots[2 * i] = key;
      slots[2 * i + 1] = c;
      used++;
    }
    this.slots = slots;
    this.mask = mask;
    this.used = used;
  }
}

const TOP = 4294967295;

function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
