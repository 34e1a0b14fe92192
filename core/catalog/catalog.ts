import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import { formatAjvErrors, loadSchema } from '../schema/ajv';
import { packageRoot } from '../util/paths';
import type { CatalogDoc, Category, Subcategory } from './types';

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
