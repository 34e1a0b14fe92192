/**
 * The shape of a matter catalog (事项目录): categories (大类) holding subcategories (小类), the channel
 * code schemes that map onto them, and the projection onto the 7 message-board labels. The JSON
 * Schema in `schemas/catalog.schema.json` is the contract; these types mirror it.
 */

/** Ticket urgency, as in `CanonicalTicket.urgency`. */
export type Urgency = 'normal' | 'urgent' | 'critical';
export const URGENCIES: readonly Urgency[] = ['critical', 'urgent', 'normal'];

/** A handling time limit (办理时限): either clock hours or working days (Mon–Fri, minus holidays). */
export type SlaLimit = { hours: number } | { workingDays: number };
export type Sla = Record<Urgency, SlaLimit>;

/** Where an entry comes from: a source file and its code or path, or `project` for hand-written items. */
export interface Provenance {
  source: 'gbt47678-5' | 'tipdm2020c-taxonomy' | 'wuhan12345' | 'police-110' | 'grid-affairs' | 'message-board' | 'project';
  code?: string;
  path?: string;
  note?: string;
}

export interface Subcategory {
  /** `Cnn.mmm`; `Cnn.000` is the category's general (其他) subcategory. */
  code: string;
  name: string;
  /** Literal substrings that make the keyword rules pick this subcategory (≥ 2 characters each). */
  keywords: string[];
  /** Functional department that handles (or, for territorial matters, supervises) it. */
  department: string;
  /** Departments that co-handle (协办). */
  coHandlers?: string[];
  /** true: handled by the territory (属地: street office / district); false: by `department`. */
  territorial: boolean;
  sla: Sla;
  /** Channel code scheme → codes of that scheme that map to this subcategory. */
  channelCodes: Record<string, string[]>;
  /** Override of the category's projection onto the 7 message-board labels. */
  l1?: string;
  /**
   * The least urgency a report of this matter has, whatever the channel said (e.g. a gas leak is
   * always critical): the router prioritises and sets the SLA by the higher of the two.
   */
  minUrgency?: Urgency;
  provenance: Provenance[];
}

export interface Category {
  /** `C01`…`C20`. */
  code: string;
  name: string;
  /** Projection onto one of `l1Labels`. */
  l1: string;
  department: string;
  subcategories: Subcategory[];
}

export interface ChannelCode {
  code: string;
  name: string;
  /** For gbt47678.5: 管理部件 or 管理事项 (the same 5-digit code can be both). */
  kind?: string;
  /** Other names the channel uses for this code (a code given only by name resolves by these too). */
  aliases?: string[];
  /**
   * For a code that names no single subcategory: the categories it may mean. One category: the
   * category is known and the text picks the subcategory. Several: the text picks among them. Empty:
   * the code is known but says nothing about the category (咨询求助, 其他). Absent: a subcategory's
   * `channelCodes` maps it.
   */
  categories?: string[];
}

/**
 * A channel's code table as its connector emits it (`channelCategory {scheme, code, name}`): the
 * connector owns the codes and names, the catalog maps each of them (`catalog build` fails on a
 * code without a mapping; `catalog lint` reports them as UNMAPPED_EMITTED_CODE).
 */
export interface EmittedCodeTable {
  scheme: string;
  /** The connector type that emits it. */
  connector: string;
  name: string;
  description?: string;
  codes: Array<{ code: string; name: string; aliases?: string[] }>;
  /** An unknown code resolves as its first N characters (longest first), e.g. a 110 code 1109 as family 11. */
  fallbackPrefixLengths?: number[];
}

export interface ChannelScheme {
  name: string;
  description?: string;
  /** Lint fails when a code of this scheme maps to no subcategory. */
  requireAllMapped?: boolean;
  /** The scheme's codes carry no category (e.g. message types): nothing maps to them. */
  notCategorical?: boolean;
  /** An unknown code resolves as its first N characters (longest first). */
  fallbackPrefixLengths?: number[];
  /**
   * The codes are the catalog's own subcategory codes (Open311 `service_code`: services.json is built
   * from the catalog), so every subcategory code resolves; `codes` may stay empty.
   */
  subcategoryCodes?: boolean;
  /** The connector that emits this scheme (informative). */
  connector?: string;
  codes: ChannelCode[];
}

export interface CatalogDoc {
  $schema?: string;
  catalogVersion: string;
  title: string;
  description?: string;
  /** Counts `catalog lint` enforces (the default catalog: 20 / 828). */
  expectedCounts?: { categories: number; subcategories: number };
  /** The 7 labels of the message-board data set the classifier model predicts. */
  l1Labels: string[];
  /** For each label: the subcategory chosen when the model predicts it and no rule narrows it. */
  l1Defaults: Record<string, string>;
  channelSchemes: Record<string, ChannelScheme>;
  categories: Category[];
}
