/**
 * Scoring features of the windowed reports in flat typed arrays, by sequence number, so that
 * scoring a candidate reads one fixed-stride slot and one contiguous run of a slab, never a heap
 * object (a report record, its typed arrays and their backing stores, its place objects and
 * strings, its point: each a likely cache miss once the window holds a million reports).
 *
 * - `feat`: a ring of fixed-stride slots (`STRIDE` doubles, one 64-byte cache line) indexed by
 *   `seq & mask`: the time, the channel and category family, the norms, the point, the concept
 *   bits and the slab position of each windowed report. Candidate filtering (time window,
 *   family) and scoring read this slot, nothing else of the report.
 * - `slab`: a ring of 32-bit words holding each report's variable-length part at its position:
 *   `[nHead, nBody, nPlaceWords, head codes…, body codes…, places…]`, a place being
 *   `len | fine << 16` followed by its `len` UTF-16 code units. A part never wraps around the end
 *   of the slab (the writer skips to the start instead), so it is read with plain indices.
 *
 * - `fam`: each report's category family id (-1: none) in 2 bytes, and per run of 1,024
 *   consecutive seqs the earliest and latest report time and the family all its reports share
 *   (or MIXED_FAMILIES): a candidate whose run lies wholly inside the query's time window and has
 *   one family passes the window and family filters without reading anything of its own.
 *
 * Reports leave in sequence order (the engine's window), so the rings are FIFO: the oldest
 * live report's position is the slab's tail. They grow by doubling when the window outgrows them.
 */
import { GENERIC_BIGRAMS, diceCodes, equalsAt, type PlaceEntity } from './text';

export const F_HEAD_NORM = 0;
export const F_BODY_NORM = 1;
/** WGS-84 longitude, NaN when the report has no point. */
export const F_LON = 2;
export const F_LAT = 3;
export const F_CONCEPTS = 4;
/** Absolute slab position of the report's variable part (a position, not an index: `pos & slabMask`). */
export const F_POS = 5;
/** Channel and category family ids, packed: `channel * FAMILY_RANGE + family + 1` (family -1: none). */
export const F_TAGS = 6;
export const F_TIME = 7;
export const STRIDE = 8;

/** Header words before the codes: nHead, nBody, nPlaceWords. */
export const HEADER = 3;
const FINE_BIT = 0x10000;
/** A place word of an administrative region (`a7县`, `长沙市`), not a place. */
const REGION_BIT = 0x20000;
/** A place named in the head (`PlaceEntity.inHead`). */
const HEAD_BIT = 0x40000;
const LEN_MASK = 0xffff;
const FAMILY_RANGE = 1 << 15;
/** Seqs per time summary run (log2). */
export const RUN_BITS = 10;
/** `runFam` of a run whose reports have different families. */
export const MIXED_FAMILIES = -2;

/** Channel id of packed tags. */
export function channelOf(tags: number): number {
  return Math.floor(tags / FAMILY_RANGE);
}

/** Category family id of packed tags (-1: none). */
export function familyOf(tags: number): number {
  return (tags % FAMILY_RANGE) - 1;
}

/** One report's scoring features, as the engine computes them for a new report. */
export interface Features {
  head: Uint32Array;
  body: Uint32Array;
  headNorm: number;
  bodyNorm: number;
  places: readonly PlaceEntity[];
  /** Administrative regions named (`extractRegions`), kept after the places. */
  regions?: readonly string[];
  concepts: number;
}

/**
 * Per run of 1,024 consecutive seqs (`seq >>> RUN_BITS`, at `run & mask`): the run number, its
 * earliest and latest report time, and the family id all its reports share (-1: none) or
 * MIXED_FAMILIES. Twice the runs a window of `seqSlots` seqs can span, so live runs do not collide
 * (a collision is still safe: the run number is checked).
 */
export class RunSummaries {
  readonly id: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly fam: Int32Array;
  readonly mask: number;

  constructor(seqSlots: number) {
    let n = 4;
    while (n < (2 * seqSlots) >>> RUN_BITS) n *= 2;
    this.id = new Float64Array(n).fill(-1);
    this.min = new Float64Array(n);
    this.max = new Float64Array(n);
    this.fam = new Int32Array(n);
    this.mask = n - 1;
  }

  note(seq: number, time: number, family: number): void {
    const run = seq >>> RUN_BITS;
    const r = run & this.mask;
    if (this.id[r] !== run) {
      this.id[r] = run;
      this.min[r] = time;
      this.max[r] = time;
      this.fam[r] = family;
    } else {
      if (time < (this.min[r] as number)) this.min[r] = time;
      if (time > (this.max[r] as number)) this.max[r] = time;
      if (this.fam[r] !== family) this.fam[r] = MIXED_FAMILIES;
    }
  }
}

/** Words the place list (places, then regions) takes in the slab. */
function placeWords(places: readonly PlaceEntity[], regions: readonly string[] = []): number {
  let n = 0;
  for (const p of places) n += 1 + p.name.length;
  for (const r of regions) n += 1 + r.length;
  return n;
}

/** Write a report's variable part at `slab[at..]` (the caller made room: `partLength` words). */
function writePart(slab: Uint32Array, at: number, f: Features): void {
  const nPlace = placeWords(f.places, f.regions);
  slab[at] = f.head.length;
  slab[at + 1] = f.body.length;
  slab[at + 2] = nPlace;
  slab.set(f.head, at + HEADER);
  slab.set(f.body, at + HEADER + f.head.length);
  let w = at + HEADER + f.head.length + f.body.length;
  for (const p of f.places) {
    slab[w++] = Math.min(p.name.length, LEN_MASK) | (p.fine ? FINE_BIT : 0) | (p.inHead === true ? HEAD_BIT : 0);
    for (let i = 0; i < p.name.length; i++) slab[w++] = p.name.charCodeAt(i);
  }
  for (const r of f.regions ?? []) {
    slab[w++] = Math.min(r.length, LEN_MASK) | REGION_BIT;
    for (let i = 0; i < r.length; i++) slab[w++] = r.charCodeAt(i);
  }
}

/** Words a report's variable part takes. */
export function partLength(f: Features): number {
  return HEADER + f.head.length + f.body.length + placeWords(f.places, f.regions);
}

/** A standalone encoding of one report's variable part (at index 0), for `explain`. */
export function encodePart(f: Features): Uint32Array {
  const out = new Uint32Array(partLength(f));
  writePart(out, 0, f);
  return out;
}

export class FeatureStore {
  feat: Float64Array;
  mask: number;
  /** Category family id per seq (-1: none), at `seq & mask`. */
  fam: Int16Array;
  runs: RunSummaries;
  slab: Uint32Array;
  slabMask: number;
  /** Next free absolute slab position. */
  private head = 0;

  constructor(slots = 1024, words = 1 << 16) {
    this.feat = new Float64Array(slots * STRIDE);
    this.mask = slots - 1;
    this.fam = new Int16Array(slots);
    this.runs = new RunSummaries(slots);
    this.slab = new Uint32Array(words);
    this.slabMask = words - 1;
  }

  /** Offset of `seq`'s slot in `feat`. */
  slot(seq: number): number {
    return (seq & this.mask) * STRIDE;
  }

  /** Index in `slab` of `seq`'s variable part. */
  partAt(seq: number): number {
    return (this.feat[(seq & this.mask) * STRIDE + F_POS] as number) & this.slabMask;
  }

  /**
   * Store the features of report `seq` (the next sequence number); `base` is the oldest report
   * still in the window (its slot and part are kept, everything before it may be overwritten).
   */
  put(seq: number, base: number, f: Features, point: { lon: number; lat: number } | null, channel: number, family: number, time: number): void {
    if (family + 1 >= FAMILY_RANGE || family < -1) throw new RangeError(`category family id ${family} out of range`);
    if (seq - base >= this.mask + 1) this.growSlots(seq, base);
    const len = partLength(f);
    const tail = base < seq ? (this.feat[(base & this.mask) * STRIDE + F_POS] as number) : this.head;
    let pos: number;
    for (;;) {
      const size = this.slabMask + 1;
      pos = this.head;
      // A part never wraps: skip to the start of the ring when it would cross the end.
      if ((pos & this.slabMask) + len > size) pos = (Math.floor(pos / size) + 1) * size;
      if (pos + len - tail <= size) break;
      this.growSlab(tail, len);
    }
    writePart(this.slab, pos & this.slabMask, f);
    this.head = pos + len;
    const o = (seq & this.mask) * STRIDE;
    const feat = this.feat;
    feat[o + F_HEAD_NORM] = f.headNorm;
    feat[o + F_BODY_NORM] = f.bodyNorm;
    feat[o + F_LON] = point !== null ? point.lon : Number.NaN;
    feat[o + F_LAT] = point !== null ? point.lat : Number.NaN;
    feat[o + F_CONCEPTS] = f.concepts;
    feat[o + F_POS] = pos;
    feat[o + F_TAGS] = channel * FAMILY_RANGE + family + 1;
    feat[o + F_TIME] = time;
    this.fam[seq & this.mask] = family;
    this.runs.note(seq, time, family);
  }

  /** Words held by the slab (capacity), for memory reports. */
  get slabWords(): number {
    return this.slabMask + 1;
  }

  private growSlots(seq: number, base: number): void {
    const oldMask = this.mask;
    const old = this.feat;
    let size = (oldMask + 1) * 2;
    while (seq - base >= size) size *= 2;
    const next = new Float64Array(size * STRIDE);
    const mask = size - 1;
    for (let s = base; s < seq; s++) {
      const from = (s & oldMask) * STRIDE;
      next.set(old.subarray(from, from + STRIDE), (s & mask) * STRIDE);
    }
    const fam = new Int16Array(size);
    for (let s = base; s < seq; s++) fam[s & mask] = this.fam[s & oldMask] as number;
    this.feat = next;
    this.mask = mask;
    this.fam = fam;
    // Rebuild the run summaries for the new size (a live run's summary may only cover its live seqs).
    this.runs = new RunSummaries(size);
    for (let s = base; s < seq; s++) this.runs.note(s, next[(s & mask) * STRIDE + F_TIME] as number, fam[s & mask] as number);
  }

  /**
   * Double the slab until the live range [tail, head) plus a part of `len` words fits. Absolute
   * positions stay valid: a part that did not cross a multiple of the old size does not cross a
   * multiple of the new one, and the live range is shorter than the old size, so `pos & newMask`
   * is one-to-one on it.
   */
  private growSlab(tail: number, len: number): void {
    const old = this.slab;
    const oldSize = this.slabMask + 1;
    let size = oldSize * 2;
    while (this.head - tail + 2 * len > size) size *= 2;
    const next = new Uint32Array(size);
    const mask = size - 1;
    let p = tail;
    while (p < this.head) {
      // Copy runs that wrap neither ring.
      const from = p & this.slabMask;
      const to = p & mask;
      const run = Math.min(this.head - p, oldSize - from, size - to);
      next.set(old.subarray(from, from + run), to);
      p += run;
    }
    this.slab = next;
    this.slabMask = mask;
  }
}

/**
 * `placeScore` (text.ts) of a query's places against the places stored at `slab[at..at+nWords)`:
 * the same values, computed on code units instead of strings.
 */
export function placeScoreAt(a: readonly PlaceEntity[], slab: Uint32Array, at: number, nWords: number): number | null {
  let fineA = false;
  for (const x of a) fineA ||= x.fine;
  if (!fineA) return null;
  const end = at + nWords;
  let fineB = false;
  for (let p = at; p < end; p += 1 + ((slab[p] as number) & LEN_MASK)) fineB ||= ((slab[p] as number) & FINE_BIT) !== 0;
  if (!fineB) return null;
  let fine = 0;
  let coarse = 0;
  for (const x of a) {
    for (let p = at; p < end; p += 1 + ((slab[p] as number) & LEN_MASK)) {
      const h = slab[p] as number;
      if ((h & REGION_BIT) !== 0) continue;
      const d = placeMatchAt(x.name, slab, p + 1, h & LEN_MASK);
      if (d < 0.5) continue;
      const yFine = (h & FINE_BIT) !== 0;
      if (x.fine && yFine) fine = Math.max(fine, d);
      else if (!x.fine && !yFine) coarse = Math.max(coarse, 0.5 * d);
    }
  }
  if (fine === 0) return 0;
  return Math.max(fine, coarse);
}

/** `placeMatch` (text.ts) of a name and `len` code units at `slab[at..]`. */
export function placeMatchAt(x: string, slab: Uint32Array, at: number, len: number): number {
  if (x.length === len && equalsAt(x, 0, slab, at, len)) return 1;
  if (x.length >= 3 && len >= 3) {
    if (len <= x.length) {
      for (let s = 0; s + len <= x.length; s++) if (equalsAt(x, s, slab, at, len)) return 1;
    }
    if (x.length <= len) {
      for (let s = 0; s + x.length <= len; s++) if (equalsAt(x, 0, slab, at + s, x.length)) return 1;
    }
  }
  const d = diceCodes(x, slab, at, len);
  return d >= 0.66 ? d : 0;
}

/**
 * `regionConflict` (text.ts) of a query's regions against the regions stored among the place
 * words at `slab[at..at+nWords)`, judged at the widest level both name (city, else
 * district/county): true when each side names a region of that level the other does not, false
 * when they agree, null when they name no region of a common level.
 */
export function regionConflictAt(q: readonly string[], slab: Uint32Array, at: number, nWords: number): boolean | null {
  if (q.length === 0) return null;
  const end = at + nWords;
  for (const city of [true, false]) {
    let qHas = false;
    let qOnly = false;
    for (const r of q) {
      if (r.endsWith('市') !== city) continue;
      qHas = true;
      if (!hasRegion(r, slab, at, end)) qOnly = true;
    }
    if (!qHas) continue;
    let cHas = false;
    let cOnly = false;
    for (let p = at; p < end; p += 1 + ((slab[p] as number) & LEN_MASK)) {
      const h = slab[p] as number;
      if ((h & REGION_BIT) === 0) continue;
      const len = h & LEN_MASK;
      if ((slab[p + len] === CITY) !== city) continue;
      cHas = true;
      if (!q.some((r) => r.length === len && equalsAt(r, 0, slab, p + 1, len))) cOnly = true;
    }
    if (!cHas) continue;
    // The widest level both name decides: two posts of one city that mention different
    // districts in passing (where the writer lives) ask one city-wide question.
    return qOnly && cOnly;
  }
  return null;
}

const CITY = '市'.charCodeAt(0);

function hasRegion(r: string, slab: Uint32Array, at: number, end: number): boolean {
  for (let p = at; p < end; p += 1 + ((slab[p] as number) & LEN_MASK)) {
    const h = slab[p] as number;
    if ((h & REGION_BIT) !== 0 && (h & LEN_MASK) === r.length && equalsAt(r, 0, slab, p + 1, r.length)) return true;
  }
  return false;
}

/**
 * When exactly one of two reports names specific places: whether the other mentions one of
 * those named in its head (what it is about; a place the body names in passing is no claim) at
 * all: a bigram of the name (its last character aside: mostly the suffix), other than the
 * generic ones (`GENERIC_BIGRAMS`: 信息, 科技, 公司…), among the other's head or body bigrams
 * (惠伏天下 mentions 富惠天下商务公司; 丁家岭安置区 does not mention 泉塘小区). Null when both or
 * neither name a specific place, or the one that does names none in its head with a bigram that
 * is not generic. `q` are the query's places with its sorted `head`/`body` codes; the
 * candidate's part is at `slab[at..]` (`store.ts` layout).
 */
export function placeMentionedAt(q: readonly PlaceEntity[], head: Uint32Array, body: Uint32Array, slab: Uint32Array, at: number): boolean | null {
  const nHead = slab[at] as number;
  const nBody = slab[at + 1] as number;
  const placeAt = at + HEADER + nHead + nBody;
  const end = placeAt + (slab[at + 2] as number);
  let qFine = false;
  for (const x of q) qFine ||= x.fine;
  let cFine = false;
  for (let p = placeAt; p < end; p += 1 + ((slab[p] as number) & LEN_MASK)) cFine ||= ((slab[p] as number) & FINE_BIT) !== 0;
  if (qFine === cFine) return null;
  if (qFine) {
    // Only the side's head places are judged: a place its body mentions in passing is no claim.
    let judged = false;
    for (const x of q) {
      if (!x.fine || x.name.length < 2 || x.inHead !== true) continue;
      for (let i = 0; i === 0 || i + 2 < x.name.length; i++) {
        const code = x.name.charCodeAt(i) * 65536 + x.name.charCodeAt(i + 1);
        // (a name made only of generic bigrams is not judged: nothing in it could be mentioned)
        if (GENERIC_BIGRAMS.has(code)) continue;
        judged = true;
        if (sortedHasAt(slab, at + HEADER, nHead, code) || sortedHasAt(slab, at + HEADER + nHead, nBody, code)) return true;
      }
    }
    return judged ? false : null;
  }
  let judged = false;
  for (let p = placeAt; p < end; p += 1 + ((slab[p] as number) & LEN_MASK)) {
    const h = slab[p] as number;
    const len = h & LEN_MASK;
    if ((h & FINE_BIT) === 0 || len < 2 || (h & HEAD_BIT) === 0) continue;
    for (let i = 0; i === 0 || i + 2 < len; i++) {
      const code = (slab[p + 1 + i] as number) * 65536 + (slab[p + 2 + i] as number);
      if (GENERIC_BIGRAMS.has(code)) continue;
      judged = true;
      if (sortedHasAt(head, 0, head.length, code) || sortedHasAt(body, 0, body.length, code)) return true;
    }
  }
  return judged ? false : null;
}

/** Binary search for `x` in the sorted `n` codes at `a[at..]`. */
function sortedHasAt(a: Uint32Array, at: number, n: number, x: number): boolean {
  let lo = at;
  let hi = at + n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid] as number;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
