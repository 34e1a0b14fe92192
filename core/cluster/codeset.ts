/**
 * A query's IDF-weighted bigram codes, laid out so that scoring one candidate costs one pass over
 * the candidate's codes with a bit test each (issue 13, item 5). The merge join of two sorted code
 * lists (the engine's scorer until 2026-12) branches unpredictably on every step of both lists;
 * here most of a candidate's codes are not in the query and fail a test of one bit in a filter
 * that stays in L1, and only the rest probe the open-addressing table for the weight.
 *
 * The value is exactly the merge join's (`codeset.test.ts` keeps it as the model): the matches are
 * visited in the candidate's ascending code order, which is the merge's order, so the same
 * products are summed in the same order.
 * Code 0 marks an empty slot: no bigram of normalised text is 0 (`bigramCodes`, text.ts).
 */

const GOLDEN = 0x9e3779b1;
/** log2 of the filter's bits: 8,192 bits (1 KiB), about 5% false hits at 400 codes. */
const FILTER_LOG = 13;

export class WeightedCodeSet {
  private readonly filter = new Uint32Array(1 << (FILTER_LOG - 5));
  private keys = new Uint32Array(16);
  private weights = new Float64Array(16);
  private mask = 15;
  private norm = 0;

  /** `codes` sorted and distinct (a `bigramCodes` result), `weights` beside them, `norm` their Euclidean norm. */
  constructor(codes: Uint32Array = new Uint32Array(0), weights: Float64Array = new Float64Array(0), norm = 0) {
    this.assign(codes, weights, norm);
  }

  /** Make this the set of `codes` (as the constructor's): the engine reuses one set per query. */
  assign(codes: Uint32Array, weights: Float64Array, norm: number): void {
    let size = 16;
    while (size < codes.length * 2) size *= 2;
    if (size > this.keys.length) {
      this.keys = new Uint32Array(size);
      this.weights = new Float64Array(size);
    } else {
      size = this.keys.length;
      this.keys.fill(0);
    }
    this.filter.fill(0);
    this.mask = size - 1;
    this.norm = norm;
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i] as number;
      if (c === 0) throw new RangeError('bigram code 0 is reserved for an empty slot');
      const h = Math.imul(c, GOLDEN);
      const bit = h >>> (32 - FILTER_LOG);
      this.filter[bit >>> 5] = (this.filter[bit >>> 5] as number) | (1 << (bit & 31));
      let s = (h >>> 8) & this.mask;
      while (this.keys[s] !== 0 && this.keys[s] !== c) s = (s + 1) & this.mask;
      this.keys[s] = c;
      this.weights[s] = weights[i] as number;
    }
  }

  /** The weight of `code`, or 0 when it is not in the set. */
  weightOf(code: number): number {
    const h = Math.imul(code, GOLDEN);
    const bit = h >>> (32 - FILTER_LOG);
    if (((this.filter[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return 0;
    const keys = this.keys;
    const mask = this.mask;
    let s = (h >>> 8) & mask;
    for (;;) {
      const k = keys[s] as number;
      if (k === code) return this.weights[s] as number;
      if (k === 0) return 0;
      s = (s + 1) & mask;
    }
  }

  /**
   * IDF-weighted cosine of the set with the `n` sorted distinct codes at `slab[at..]` whose norm is
   * `cn` (the candidate's, stored when it was indexed), capped at 1.
   */
  cosineAt(slab: Uint32Array, at: number, n: number, cn: number): number {
    if (this.norm === 0 || cn === 0) return 0;
    const filter = this.filter;
    const keys = this.keys;
    const weights = this.weights;
    const mask = this.mask;
    let dot = 0;
    for (let j = at, end = at + n; j < end; j++) {
      const y = slab[j] as number;
      const h = Math.imul(y, GOLDEN);
      const bit = h >>> (32 - FILTER_LOG);
      if (((filter[bit >>> 5] as number) & (1 << (bit & 31))) === 0) continue;
      let s = (h >>> 8) & mask;
      for (;;) {
        const k = keys[s] as number;
        if (k === y) {
          const w = weights[s] as number;
          dot += w * w;
          break;
        }
        if (k === 0) break;
        s = (s + 1) & mask;
      }
    }
    return Math.min(1, dot / (this.norm * cn));
  }
}
