import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import { formatAjvErrors, loadSchema } from '../schema/ajv';
import { packageRoot } from '../util/paths';
import type { CatalogDoc, Category, ChannelCode, ChannelScheme, Subcategory } from './types';

/** Where the default catalog lives (committed, built by `intake-hub catalog build`). */
export function defaultCatalogPath(): string {
  return join(packageRoot(), 'schemas', 'catalog', 'default.catalog.json');
}

let validator: ValidateFunction<CatalogDoc> | undefined;
function catalogValidator(): ValidateFunction<CatalogDoc> {
  if (!validator) {
    // A private instance: the catalog is trusted config (all errors), but must not share $ids or
    // defaults with the hub config instance.
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    validator = ajv.compile<CatalogDoc>(loadSchema('catalog.schema.json'));
  }
  return validator;
}

/** Schema errors as `{path, message}`, at most `max` of them. */
export function schemaErrors(doc: unknown, max = 20): Array<{ path: string; message: string }> {
  const v = catalogValidator();
  if (v(doc)) return [];
  return (v.errors ?? []).slice(0, max).map((e) => {
    const line = formatAjvErrors([e]);
    const i = line.indexOf(' ');
    return { path: line.slice(0, i), message: line.slice(i + 1) };
  });
}

/**
 * Validates a parsed catalog document against `schemas/catalog.schema.json` and the invariants the
 * classifier and router rely on (unique codes, known l1 labels, resolvable l1Defaults). Throws a
 * ConfigError naming the data path, e.g. `/categories/3/subcategories/7/sla is required`.
 */
export function validateCatalogDoc(doc: unknown, source = 'catalog'): CatalogDoc {
  const errs = schemaErrors(doc, 10);
  if (errs.length) {
    throw new ConfigError(`invalid catalog ${source}: ${errs.map((e) => `${e.path} ${e.message}`).join('; ')}`, { dataPath: errs[0]?.path ?? '/' });
  }
  return doc as CatalogDoc;
}

/** Key of a channel code in the index. */
function channelKey(scheme: string, code: string): string {
  return `${scheme}\u0000${code}`;
}

/**
 * Normalises a channel code as connectors may send it: GB/T 47678.5 codes are matched on their
 * 5 digits (`部件01001`, `P-01001` and `01001` are the same code); other schemes are trimmed.
 */
export function normalizeChannelCode(scheme: string, code: string): string {
  const c = code.trim();
  if (scheme === 'gbt47678.5') {
    const m = /(\d{5})$/.exec(c);
    return m?.[1] ?? c;
  }
  return c;
}

/**
 * What a channel code means in a catalog (`Catalog.resolveChannel`):
 * - `subcategory`: the code names one subcategory (a specific matter);
 * - `categories`: one category (the category is known, the text picks the subcategory), several
 *   (the text picks among them) or none (a known code that says nothing about the category).
 * `via` tells how it was found: the code itself, the channel's name for it, the code's prefix (an
 * unknown item of a known family), or the catalog's own subcategory code (Open311).
 * `conflict` is set when the code and the name the channel sent disagree.
 */
export type ChannelResolution =
  | { kind: 'subcategory'; subcategory: Subcategory; scheme: string; code: string; via: ResolveVia; conflict?: string }
  | { kind: 'categories'; categories: readonly string[]; scheme: string; code: string; via: ResolveVia; conflict?: string };
export type ResolveVia = 'code' | 'name' | 'prefix' | 'subcategory-code';

/** Dice coefficient of two strings' character bigrams (short names: a loose agreement test). */
function nameSimilarity(a: string, b: string): number {
  const grams = (s: string): string[] => (s.length < 2 ? [s] : Array.from({ length: s.length - 1 }, (_, i) => s.slice(i, i + 2)));
  const ga = grams(a);
  const gb = new Set(grams(b));
  let hit = 0;
  for (const g of ga) if (gb.has(g)) hit++;
  return (2 * hit) / (ga.length + gb.size || 1);
}

/** A name without spacing, punctuation and filler words (问题, 类), for loose comparison. */
function normName(s: string): string {
  const n = s.replace(/[\s（）()、/，,·-]|问题|类/g, '');
  return n || s.trim();
}

/**
 * An immutable, indexed catalog. Build it with `Catalog.fromDoc` or `loadCatalog`; hand it around
 * through a `CatalogStore` so a reload swaps every user at once.
 */
export class Catalog {
  readonly version: string;
  readonly doc: CatalogDoc;
  readonly categories: readonly Category[];
  readonly subcategories: readonly Subcategory[];
  private readonly bySub = new Map<string, Subcategory>();
  private readonly byCat = new Map<string, Category>();
  private readonly catOfSub = new Map<string, Category>();
  private readonly byChannel = new Map<string, Subcategory>();
  /** scheme\0code → the scheme's entry for that code. */
  private readonly schemeCode = new Map<string, ChannelCode>();
  /** scheme\0normalised name or alias → code. */
  private readonly schemeName = new Map<string, string>();

  private constructor(doc: CatalogDoc) {
    this.doc = doc;
    this.version = doc.catalogVersion;
    this.categories = doc.categories;
    const subs: Subcategory[] = [];
    for (const c of doc.categories) {
      if (this.byCat.has(c.code)) throw new ConfigError(`catalog ${doc.catalogVersion}: category code ${c.code} is used twice`, { dataPath: '/categories' });
      this.byCat.set(c.code, c);
      for (const s of c.subcategories) {
        if (this.bySub.has(s.code)) throw new ConfigError(`catalog ${doc.catalogVersion}: subcategory code ${s.code} is used twice`, { dataPath: '/categories' });
        this.bySub.set(s.code, s);
        this.catOfSub.set(s.code, c);
        subs.push(s);
        for (const [scheme, codes] of Object.entries(s.channelCodes)) {
          for (const code of codes) {
            const k = channelKey(scheme, normalizeChannelCode(scheme, code));
            if (!this.byChannel.has(k)) this.byChannel.set(k, s);
          }
        }
      }
    }
    this.subcategories = subs;
    for (const [scheme, def] of Object.entries(doc.channelSchemes)) {
      for (const c of def.codes) {
        const code = normalizeChannelCode(scheme, c.code);
        this.schemeCode.set(channelKey(scheme, code), c);
        for (const n of [c.name, ...(c.aliases ?? [])]) {
          const k = channelKey(scheme, normName(n));
          // a name shared by a family and its item (11 / 1101 噪音扰民) names the item: the longer code
          const prev = this.schemeName.get(k);
          if (n && (prev === undefined || code.length > prev.length)) this.schemeName.set(k, code);
        }
      }
    }
  }

  /** Validates and indexes a parsed document. */
  static fromDoc(doc: unknown, source = 'catalog'): Catalog {
    const d = validateCatalogDoc(doc, source);
    const cat = new Catalog(d);
    for (const [label, code] of Object.entries(d.l1Defaults)) {
      if (!d.l1Labels.includes(label)) throw new ConfigError(`invalid catalog ${source}: /l1Defaults/${label} is not one of l1Labels`, { dataPath: `/l1Defaults/${label}` });
      if (!cat.bySub.has(code)) throw new ConfigError(`invalid catalog ${source}: /l1Defaults/${label} names unknown subcategory ${code}`, { dataPath: `/l1Defaults/${label}` });
    }
    return cat;
  }

  subcategory(code: string): Subcategory | undefined {
    return this.bySub.get(code);
  }

  category(code: string): Category | undefined {
    return this.byCat.get(code);
  }

  /** The category holding a subcategory. */
  categoryOf(subcategoryCode: string): Category | undefined {
    return this.catOfSub.get(subcategoryCode);
  }

  /** The subcategory a channel's own code maps to (ticket.channelCategory), if any. */
  byChannelCode(scheme: string, code: string): Subcategory | undefined {
    return this.byChannel.get(channelKey(scheme, normalizeChannelCode(scheme, code)));
  }

  /** A channel scheme of the catalog. */
  scheme(name: string): ChannelScheme | undefined {
    return this.doc.channelSchemes[name];
  }

  /** The meaning of one code of a scheme (exact code only), if the catalog knows the code. */
  private lookup(scheme: string, code: string, via: ResolveVia): ChannelResolution | undefined {
    const c = normalizeChannelCode(scheme, code);
    const sub = this.byChannel.get(channelKey(scheme, c));
    if (sub) {
      // a code that lands on a category's general subcategory names the category, not a matter
      if (sub.code.endsWith('.000')) return { kind: 'categories', categories: [sub.code.slice(0, 3)], scheme, code: c, via };
      return { kind: 'subcategory', subcategory: sub, scheme, code: c, via };
    }
    const entry = this.schemeCode.get(channelKey(scheme, c));
    if (entry?.categories) return { kind: 'categories', categories: entry.categories, scheme, code: c, via };
    return undefined;
  }

  /**
   * What `ticket.channelCategory {scheme, code, name}` means in this catalog, or undefined when the
   * catalog does not know it. Order: a scheme of subcategory codes (Open311) takes any subcategory
   * code; then the code itself — but when the channel also sent a name that matches another code of
   * the scheme, or no code at all while disagreeing with this one, the name wins or the code is
   * set aside (`conflict`); then the name alone (a code sent as its name, or an alias); then the
   * code's prefixes (`fallbackPrefixLengths`: an unknown item of a known family).
   */
  resolveChannel(scheme: string, code: string, name?: string | null): ChannelResolution | undefined {
    const def = this.doc.channelSchemes[scheme];
    if (!def) return undefined;
    if (def.subcategoryCodes) {
      const sub = this.bySub.get(code.trim());
      if (sub) return sub.code.endsWith('.000') ? { kind: 'categories', categories: [sub.code.slice(0, 3)], scheme, code: sub.code, via: 'subcategory-code' } : { kind: 'subcategory', subcategory: sub, scheme, code: sub.code, via: 'subcategory-code' };
    }
    const nameCode = name ? this.schemeName.get(channelKey(scheme, normName(name))) : undefined;
    const byCode = this.lookup(scheme, code, 'code');
    if (byCode) {
      if (!name || nameCode === byCode.code) return byCode;
      const own = this.schemeCode.get(channelKey(scheme, byCode.code))?.name;
      if (own !== undefined && normName(own) === normName(name)) return byCode;
      if (nameCode !== undefined) {
        const byName = this.lookup(scheme, nameCode, 'name');
        if (byName) return { ...byName, conflict: `code ${code} is "${this.schemeCode.get(channelKey(scheme, byCode.code))?.name ?? '?'}" but the name "${name}" is code ${nameCode}: the name wins` };
      }
      const known = [this.schemeCode.get(channelKey(scheme, byCode.code))?.name, byCode.kind === 'subcategory' ? byCode.subcategory.name : undefined].filter((x): x is string => !!x);
      const n = normName(name);
      const agrees = known.length === 0 || known.some((k) => {
        const kk = normName(k);
        return kk.includes(n) || n.includes(kk) || nameSimilarity(n, kk) >= 0.34;
      });
      if (agrees) return byCode;
      return { kind: 'categories', categories: [], scheme, code: byCode.code, via: 'code', conflict: `code ${code} is "${known[0] ?? '?'}" but the channel calls it "${name}": code set aside` };
    }
    // a channel that sends the name as the code (message-board domainName when there is no id)
    const asName = nameCode ?? this.schemeName.get(channelKey(scheme, normName(code)));
    if (asName !== undefined) {
      const byName = this.lookup(scheme, asName, 'name');
      if (byName) return byName;
    }
    const c = normalizeChannelCode(scheme, code);
    for (const len of [...(def.fallbackPrefixLengths ?? [])].sort((a, b) => b - a)) {
      if (c.length <= len) continue;
      const r = this.lookup(scheme, c.slice(0, len), 'prefix');
      if (r) return r;
    }
    return undefined;
  }

  /** The projection of a subcategory onto the 7 message-board labels. */
  l1Of(subcategoryCode: string): string | undefined {
    const s = this.bySub.get(subcategoryCode);
    return s?.l1 ?? this.catOfSub.get(subcategoryCode)?.l1;
  }

  get counts(): { categories: number; subcategories: number } {
    return { categories: this.categories.length, subcategories: this.subcategories.length };
  }
}

/** Reads, validates and indexes a catalog file. */
export function loadCatalog(file: string = defaultCatalogPath()): Catalog {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read catalog ${file}: ${(e as Error).message}`, { cause: e, dataPath: '/' });
  }
  return Catalog.fromDoc(doc, file);
}

/**
 * Holds the catalog in use and swaps it without a restart. `reload` loads and validates the new
 * file first and swaps only when it is valid: a bad file leaves the running catalog in place and
 * throws. Readers call `current()` per ticket, so each ticket sees one catalog from start to end
 * and is stamped with that catalog's version.
 */
export class CatalogStore {
  private cat: Catalog;
  private file: string;
  private readonly listeners = new Set<(c: Catalog, previous: Catalog) => void>();

  /** @param initial a Catalog, or a catalog file path (default: the committed default catalog). */
  constructor(initial: Catalog | string = defaultCatalogPath()) {
    if (typeof initial === 'string') {
      this.file = initial;
      this.cat = loadCatalog(initial);
    } else {
      this.file = '';
      this.cat = initial;
    }
  }

  current(): Catalog {
    return this.cat;
  }

  get version(): string {
    return this.cat.version;
  }

  /** Loads `file` (default: the file last loaded) and swaps atomically. Returns the new catalog. */
  reload(file: string = this.file): Catalog {
    if (!file) throw new ConfigError('catalog reload: no file given and the store was not created from a file');
    const next = loadCatalog(file);
    this.swap(next);
    this.file = file;
    return next;
  }

  /** Swaps in an already validated catalog. */
  swap(next: Catalog): void {
    const prev = this.cat;
    this.cat = next;
    for (const l of this.listeners) l(next, prev);
  }

  /** Called after every swap (e.g. to rebuild a rule index, log the new version). Returns an unsubscribe function. */
  onChange(listener: (c: Catalog, previous: Catalog) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
