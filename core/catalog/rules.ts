import type { Catalog } from './catalog';

/**
 * Keyword rules: every keyword of every subcategory in one Aho–Corasick automaton over char codes,
 * so one pass over a text finds all keywords whatever the catalog size. Built once per catalog
 * (cached), hence rebuilt automatically when a CatalogStore swaps in a new catalog.
 */

export interface RuleHit {
  subcategory: string;
  /** Σ length of the distinct keywords found (title matches count twice). */
  score: number;
  keywords: string[];
}

interface Automaton {
  /** Goto function of the root: char code → state (0: stay at the root). */
  root: Int16Array;
  /** Goto of the other states: open addressing on key state·65536 + char (−1: empty slot). */
  keys: Int32Array;
  vals: Int32Array;
  mask: number;
  /** Per state: OR of 1 << (c & 31) over its children's chars — rejects most misses without a probe. */
  childBits: Int32Array;
  fail: Int32Array;
  /** Per state: keywords ending here (own and via failure links) — outList[outStart[s] … outStart[s+1]). */
  outStart: Int32Array;
  outList: Int32Array;
  keywords: string[];
  /** keyword index → indexes into `subs` of the subcategories owning it. */
  ownStart: Int32Array;
  ownList: Int32Array;
  subs: string[];
}

const slotOf = (k: number, mask: number): number => Math.imul(k, 0x9e3779b1) >>> 0 & mask;

function build(pairs: Array<[string, string]>): Automaton {
  const next = new Map<number, number>();
  const outs: number[][] = [[]];
  const kwIndex = new Map<string, number>();
  const keywords: string[] = [];
  const owners: number[][] = [];
  const subs: string[] = [];
  const subIndex = new Map<string, number>();
  const key = (state: number, c: number): number => state * 65536 + c;
  let states = 1;
  for (const [kw, sub] of pairs) {
    let ki = kwIndex.get(kw);
    if (ki === undefined) {
      ki = keywords.length;
      kwIndex.set(kw, ki);
      keywords.push(kw);
      owners.push([]);
      let s = 0;
      for (let i = 0; i < kw.length; i++) {
        const k = key(s, kw.charCodeAt(i));
        let t = next.get(k);
        if (t === undefined) {
          t = states++;
          next.set(k, t);
          outs.push([]);
        }
        s = t;
      }
      (outs[s] as number[]).push(ki);
    }
    let si = subIndex.get(sub);
    if (si === undefined) {
      si = subs.length;
      subIndex.set(sub, si);
      subs.push(sub);
    }
    const o = owners[ki] as number[];
    if (!o.includes(si)) o.push(si);
  }
  if (states >= 32768) throw new Error(`keyword automaton too large (${states} states)`);
  // children lists for BFS
  const children: Array<Array<[number, number]>> = Array.from({ length: states }, () => []);
  for (const [k, t] of next) (children[Math.floor(k / 65536)] as Array<[number, number]>).push([k % 65536, t]);
  const fail = new Int32Array(states);
  const queue: number[] = [];
  for (const [, t] of children[0] as Array<[number, number]>) queue.push(t);
  for (let qi = 0; qi < queue.length; qi++) {
    const s = queue[qi] as number;
    for (const [c, t] of children[s] as Array<[number, number]>) {
      let f = fail[s] as number;
      while (f !== 0 && !next.has(key(f, c))) f = fail[f] as number;
      const ft = next.get(key(f, c));
      fail[t] = ft !== undefined && ft !== t ? ft : 0;
      const fo = outs[fail[t] as number] as number[];
      if (fo.length) (outs[t] as number[]).push(...fo);
      queue.push(t);
    }
  }
  // typed-array layout
  const root = new Int16Array(65536);
  let size = 16;
  while (size < next.size * 2) size *= 2;
  const mask = size - 1;
  const keys = new Int32Array(size).fill(-1);
  const vals = new Int32Array(size);
  const childBits = new Int32Array(states);
  for (const [k, t] of next) {
    const from = Math.floor(k / 65536);
    childBits[from] = (childBits[from] as number) | (1 << (k & 31));
    if (k < 65536) root[k] = t;
    else {
      let h = slotOf(k, mask);
      while (keys[h] !== -1) h = (h + 1) & mask;
      keys[h] = k;
      vals[h] = t;
    }
  }
  const outStart = new Int32Array(states + 1);
  const outList: number[] = [];
  for (let s = 0; s < states; s++) {
    outStart[s] = outList.length;
    outList.push(...(outs[s] as number[]));
  }
  outStart[states] = outList.length;
  const ownStart = new Int32Array(keywords.length + 1);
  const ownList: number[] = [];
  owners.forEach((o, i) => {
    ownStart[i] = ownList.length;
    ownList.push(...o);
  });
  ownStart[keywords.length] = ownList.length;
  return { root, keys, vals, mask, childBits, fail, outStart, outList: Int32Array.from(outList), keywords, ownStart, ownList: Int32Array.from(ownList), subs };
}

export class KeywordRules {
  private readonly ac: Automaton;
  /** Scratch: keyword index → generation it was last seen in (distinct counting without allocation). */
  private readonly seen: Int32Array;
  private gen = 0;
  /** Scratch per subcategory: score, generation stamp; and the (subcategory, keyword) hits of a text. */
  private readonly subScore: Float64Array;
  private readonly subStamp: Int32Array;
  private subGen = 0;
  private touched: number[] = [];
  private hitSub: number[] = [];
  private hitKw: number[] = [];

  constructor(catalog: Catalog) {
    const pairs: Array<[string, string]> = [];
    for (const s of catalog.subcategories) for (const k of s.keywords) pairs.push([k, s.code]);
    this.ac = build(pairs);
    this.seen = new Int32Array(this.ac.keywords.length);
    this.subScore = new Float64Array(this.ac.subs.length);
    this.subStamp = new Int32Array(this.ac.subs.length);
  }

  get size(): number {
    return this.ac.keywords.length;
  }

  /** Goto from a non-root state (−1: none). */
  private step(s: number, c: number): number {
    const { keys, vals, mask, childBits } = this.ac;
    if (((childBits[s] as number) & (1 << (c & 31))) === 0) return -1;
    const k = s * 65536 + c;
    let h = slotOf(k, mask);
    for (;;) {
      const kk = keys[h] as number;
      if (kk === k) return vals[h] as number;
      if (kk === -1) return -1;
      h = (h + 1) & mask;
    }
  }

  private scan(text: string, weight: number): void {
    const { root, fail, outStart, outList, keywords, ownStart, ownList } = this.ac;
    const seen = this.seen;
    const gen = this.gen;
    let s = 0;
    const len = text.length;
    for (let i = 0; i < len; i++) {
      const c = text.charCodeAt(i);
      if (s === 0) {
        s = root[c] as number;
        if (s === 0) continue;
      } else {
        let t = this.step(s, c);
        while (t === -1) {
          s = fail[s] as number;
          t = s === 0 ? (root[c] as number) : this.step(s, c);
        }
        s = t;
      }
      const o0 = outStart[s] as number;
      const o1 = outStart[s + 1] as number;
      for (let j = o0; j < o1; j++) {
        const ki = outList[j] as number;
        if (seen[ki] === gen) continue;
        seen[ki] = gen;
        const kl = (keywords[ki] as string).length * weight;
        for (let q = ownStart[ki] as number; q < (ownStart[ki + 1] as number); q++) {
          const si = ownList[q] as number;
          if (this.subStamp[si] !== this.subGen) {
            this.subStamp[si] = this.subGen;
            this.subScore[si] = 0;
            this.touched.push(si);
          }
          this.subScore[si] = (this.subScore[si] as number) + kl;
          this.hitSub.push(si);
          this.hitKw.push(ki);
        }
      }
    }
  }

  /** Subcategories whose keywords occur in the title or text, best first. */
  match(text: string, title?: string | null): RuleHit[] {
    this.subGen++;
    this.touched.length = 0;
    this.hitSub.length = 0;
    this.hitKw.length = 0;
    if (title) {
      this.gen++;
      this.scan(title, 2);
    }
    this.gen++;
    this.scan(text, 1);
    if (this.touched.length === 0) return [];
    const { subs, keywords } = this.ac;
    const bySub = new Map<number, RuleHit>();
    const out: RuleHit[] = [];
    for (const si of this.touched) {
      const h: RuleHit = { subcategory: subs[si] as string, score: this.subScore[si] as number, keywords: [] };
      bySub.set(si, h);
      out.push(h);
    }
    for (let i = 0; i < this.hitSub.length; i++) {
      const h = bySub.get(this.hitSub[i] as number) as RuleHit;
      const kw = keywords[this.hitKw[i] as number] as string;
      if (!h.keywords.includes(kw)) h.keywords.push(kw);
    }
    return out.sort((a, b) => b.score - a.score || (a.subcategory < b.subcategory ? -1 : 1));
  }
}

const cache = new WeakMap<Catalog, KeywordRules>();

/** The keyword rules of a catalog (built on first use, cached per catalog instance). */
export function rulesFor(catalog: Catalog): KeywordRules {
  let r = cache.get(catalog);
  if (!r) {
    r = new KeywordRules(catalog);
    cache.set(catalog, r);
  }
  return r;
}
