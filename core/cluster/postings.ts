/**
 * Posting rings keyed by (block, bigram) in flat typed arrays: an open-addressing hash table
 * (linear probing; one Float64Array of [key, ring id] pairs, so a probe reads one cache line)
 * whose values are ring ids into chunked Int32Array slabs.
 * A lookup touches the key slot and the ring, never a heap object, so its cost does not grow with
 * the number of lists the way a large `Map` with non-Smi keys does (bucket → entry → boxed key →
 * typed array → backing store).
 *
 * A ring holds the `cap` most recent sequence numbers pushed to it: slot 0 is the push count,
 * slots 1..cap the entries (`1 + (n % cap)`).
 */

const EMPTY = 0;
const TOMBSTONE = -1;
const CHUNK_BITS = 14;
const CHUNK_RINGS = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_RINGS - 1;

export class PostingTable {
  /** Entries per ring. */
  readonly cap: number;
  private readonly stride: number;
  /** Slot i is [key, ring id] at 2i, 2i + 1. */
  private slots: Float64Array;
  private mask: number;
  private used = 0;
  private tombstones = 0;
  /** Ring storage: ring r is at chunks[r >>> CHUNK_BITS], offset (r & CHUNK_MASK) * stride. */
  readonly chunks: Int32Array[] = [];
  private readonly free: number[] = [];
  private nextRing = 0;
  private cursor = 0;
  /** `pushMany`'s first pass: each key's ring, or -1. */
  private found = new Int32Array(256);

  constructor(cap: number, initialSlots = 1 << 12) {
    this.cap = cap;
    this.stride = cap + 1;
    this.slots = new Float64Array(initialSlots * 2);
    this.mask = initialSlots - 1;
  }

  /** Lists held. */
  get size(): number {
    return this.used;
  }

  /** Ring id of `key` (a positive integer < 2^53), or -1. */
  get(key: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = slotOf(key) & mask;
    for (;;) {
      const k = slots[2 * i] as number;
      if (k === key) return slots[2 * i + 1] as number;
      if (k === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  /** Push `seq` to the ring of `key`, creating the ring when absent. */
  push(key: number, seq: number): void {
    let ring = this.get(key);
    if (ring < 0) ring = this.create(key);
    const chunk = this.chunks[ring >>> CHUNK_BITS] as Int32Array;
    const o = (ring & CHUNK_MASK) * this.stride;
    const n = chunk[o] as number;
    chunk[o + 1 + (n % this.cap)] = seq;
    chunk[o] = n + 1;
  }

  /**
   * Push `seq` to the rings of the first `n` keys (distinct or not), as `push` of each in turn
   * does (the same table afterwards), in two passes: every key's probe first, then the rings'
   * writes. With a table far larger than the cache nearly every probe and every ring is a miss;
   * a loop of independent reads lets the processor overlap them, a push at a time does not.
   */
  pushMany(keys: Float64Array, n: number, seq: number): void {
    if (this.found.length < n) this.found = new Int32Array(n * 2);
    const found = this.found;
    for (let j = 0; j < n; j++) found[j] = this.get(keys[j] as number);
    const cap = this.cap;
    const stride = this.stride;
    for (let j = 0; j < n; j++) {
      let ring = found[j] as number;
      if (ring < 0) {
        // (a key seen earlier in this batch has its ring by now)
        const key = keys[j] as number;
        ring = this.get(key);
        if (ring < 0) ring = this.create(key);
      }
      const chunk = this.chunks[ring >>> CHUNK_BITS] as Int32Array;
      const o = (ring & CHUNK_MASK) * stride;
      const c = chunk[o] as number;
      chunk[o + 1 + (c % cap)] = seq;
      chunk[o] = c + 1;
    }
  }

  /** The chunk holding ring `ring`, and the ring's offset in it. */
  chunkOf(ring: number): Int32Array {
    return this.chunks[ring >>> CHUNK_BITS] as Int32Array;
  }

  offsetOf(ring: number): number {
    return (ring & CHUNK_MASK) * this.stride;
  }

  /**
   * Incremental sweep: look at the next `steps` table slots and drop the lists whose newest entry
   * is before `base` (all their reports left the window). Flat cost per call.
   */
  sweep(steps: number, base: number): void {
    const slots = this.slots;
    for (let s = 0; s < steps; s++) {
      const i = this.cursor;
      this.cursor = (i + 1) & this.mask;
      const k = slots[2 * i] as number;
      if (k === EMPTY || k === TOMBSTONE) continue;
      const ring = slots[2 * i + 1] as number;
      const chunk = this.chunkOf(ring);
      const o = this.offsetOf(ring);
      const n = chunk[o] as number;
      const newest = n === 0 ? -1 : (chunk[o + 1 + ((n - 1) % this.cap)] as number);
      if (newest >= base) continue;
      slots[2 * i] = TOMBSTONE;
      this.used--;
      this.tombstones++;
      chunk.fill(0, o, o + this.stride);
      this.free.push(ring);
    }
  }

  private create(key: number): number {
    if ((this.used + this.tombstones + 1) * 2 > this.mask + 1) this.rehash();
    let ring: number;
    if (this.free.length > 0) ring = this.free.pop() as number;
    else {
      ring = this.nextRing++;
      if ((ring >>> CHUNK_BITS) >= this.chunks.length) this.chunks.push(new Int32Array(CHUNK_RINGS * this.stride));
    }
    const slots = this.slots;
    const mask = this.mask;
    let i = slotOf(key) & mask;
    while ((slots[2 * i] as number) !== EMPTY && (slots[2 * i] as number) !== TOMBSTONE) i = (i + 1) & mask;
    if ((slots[2 * i] as number) === TOMBSTONE) this.tombstones--;
    slots[2 * i] = key;
    slots[2 * i + 1] = ring;
    this.used++;
    return ring;
  }

  /** Rebuild without tombstones; double the table when more than a quarter full. */
  private rehash(): void {
    const old = this.slots;
    let n = this.mask + 1;
    if ((this.used + 1) * 4 > n) n *= 2;
    const slots = new Float64Array(n * 2);
    const mask = n - 1;
    for (let j = 0; j < old.length; j += 2) {
      const k = old[j] as number;
      if (k === EMPTY || k === TOMBSTONE) continue;
      let i = slotOf(k) & mask;
      while ((slots[2 * i] as number) !== EMPTY) i = (i + 1) & mask;
      slots[2 * i] = k;
      slots[2 * i + 1] = old[j + 1] as number;
    }
    this.slots = slots;
    this.mask = mask;
    this.tombstones = 0;
    this.cursor = 0;
  }
}

/** A 32-bit mix of a key < 2^53 (its high and low 32-bit halves). */
function slotOf(key: number): number {
  const lo = key >>> 0;
  const hi = Math.floor(key / 4294967296) >>> 0;
  return mix32(lo ^ Math.imul(hi, 0x9e3779b1));
}

/** `slotOf` of a key < 2^32, without the split into halves (the document-frequency table's keys). */
export function mix32(x: number): number {
  let h = Math.imul(x, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
