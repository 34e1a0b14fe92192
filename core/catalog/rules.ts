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
  next: Map<number, number>;
  fail: Int32Array;
  /** Per state: indexes of keywords ending here (own and via failure links). */
  out: Array<number[] | undefined>;
  keywords: string[];
  /** keyword index → subcategory codes owning it. */
  owners: string[][];
}

function key(state: number, c: number): number {
  return state * 65536 + c;
}

function build(pairs: Array<[string, string]>): Automaton {
  const next = new Map<number, number>();
  const outs: number[][] = [[]];
  const kwIndex = new Map<string, number>();
  const keywords: string[] = [];
  const owners: string[][] = [];
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
    const o = owners[ki] as string[];
    if (!o.includes(sub)) o.push(sub);
  }
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
  return { next, fail, out: outs.map((o) => (o.length ? o : undefined)), keywords, owners };
}

export class KeywordRules {
  private readonly ac: Automaton;
  /** Scratch: keyword index → generation it was last seen in (distinct counting without allocation). */
  private readonly seen: Int32Array;
  private gen = 0;
  /** Char codes that start some keyword: lets the scan skip the map lookup in the root state. */
  private readonly rootStarts = new Uint8Array(65536);

  constructor(catalog: Catalog) {
    const pairs: Array<[string, string]> = [];
    for (const s of catalog.subcategories) for (const k of s.keywords) pairs.push([k, s.code]);
    this.ac = build(pairs);
    this.seen = new Int32Array(this.ac.keywords.length);
    for (const k of this.ac.keywords) this.rootStarts[k.charCodeAt(0)] = 1;
  }

  get size(): number {
    return this.ac.keywords.length;
  }

  private scan(text: string, weight: number, acc: Map<string, RuleHit>): void {
    const { next, fail, out, keywords, owners } = this.ac;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (s === 0 && this.rootStarts[c] === 0) continue;
      let t = next.get(s * 65536 + c);
      while (t === undefined && s !== 0) {
        s = fail[s] as number;
        t = next.get(s * 65536 + c);
      }
      s = t ?? 0;
      const o = out[s];
      if (!o) continue;
      for (const ki of o) {
        if (this.seen[ki] === this.gen) continue;
        this.seen[ki] = this.gen;
        const kw = keywords[ki] as string;
        for (const sub of owners[ki] as string[]) {
          const h = acc.get(sub) ?? { subcategory: sub, score: 0, keywords: [] };
          h.score += kw.length * weight;
          if (!h.keywords.includes(kw)) h.keywords.push(kw);
          acc.set(sub, h);
        }
      }
    }
  }

  /** Subcategories whose keywords occur in the title or text, best first. */
  match(text: string, title?: string | null): RuleHit[] {
    const acc = new Map<string, RuleHit>();
    if (title) {
      this.gen++;
      this.scan(title, 2, acc);
    }
    this.gen++;
    this.scan(text, 1, acc);
    if (acc.size === 0) return [];
    return [...acc.values()].sort((a, b) => b.score - a.score || (a.subcategory < b.subcategory ? -1 : 1));
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
