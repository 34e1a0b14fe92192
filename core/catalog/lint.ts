import { schemaErrors, normalizeChannelCode } from './catalog';
import type { CatalogDoc, EmittedCodeTable } from './types';

export type LintLevel = 'error' | 'warning';

export type LintCode =
  | 'SCHEMA'
  | 'DUPLICATE_CODE'
  | 'CODE_PREFIX'
  | 'COUNT_MISMATCH'
  | 'NOT_ROUTABLE'
  | 'NO_SLA'
  | 'UNKNOWN_SCHEME'
  | 'UNKNOWN_CHANNEL_CODE'
  | 'UNMAPPED_CHANNEL_CODE'
  | 'CHANNEL_CODE_CONFLICT'
  | 'NOT_CATEGORICAL'
  | 'UNKNOWN_L1'
  | 'BAD_L1_DEFAULT'
  | 'AMBIGUOUS_KEYWORD'
  | 'DUPLICATE_NAME'
  | 'UNMAPPED_EMITTED_CODE'
  | 'BAD_CODE_CATEGORY';

export interface LintFinding {
  level: LintLevel;
  code: LintCode;
  /** JSON pointer into the catalog document. */
  path: string;
  message: string;
}

export interface LintOptions {
  /** Overrides the document's `expectedCounts`. */
  expectedCounts?: { categories: number; subcategories: number };
  /**
   * The code tables the connectors emit (connectors/code-tables.ts; the CLI passes them): every
   * emitted code must resolve in the catalog (by code or by a fallback prefix), else
   * UNMAPPED_EMITTED_CODE — an error when the catalog has the scheme, a warning when it lacks the
   * whole scheme (a city that does not run that connector).
   */
  emitted?: readonly EmittedCodeTable[];
}

export interface LintReport {
  ok: boolean;
  errors: number;
  warnings: number;
  counts: { categories: number; subcategories: number };
  findings: LintFinding[];
}

type Loose<T> = { [K in keyof T]?: unknown };

/**
 * Checks a catalog document: the schema, unique codes, counts, every subcategory routable with an
 * SLA for each urgency, every mapped channel code known to its scheme, every code of a
 * `requireAllMapped` scheme (all 403 GB/T 47678.5 part/matter codes) mapped, and — as warnings —
 * keywords shared by several subcategories (the keyword rules cannot tell them apart) and duplicate
 * names. Works on broken documents (each check guards its own fields), so one run reports all kinds.
 */
export function lintCatalog(input: unknown, opts: LintOptions = {}): LintReport {
  const findings: LintFinding[] = [];
  const add = (level: LintLevel, code: LintCode, path: string, message: string): void => {
    findings.push({ level, code, path, message });
  };
  for (const e of schemaErrors(input, 50)) add('error', 'SCHEMA', e.path, e.message);

  const doc = (typeof input === 'object' && input !== null ? input : {}) as Loose<CatalogDoc>;
  const categories = Array.isArray(doc.categories) ? (doc.categories as Array<Record<string, unknown>>) : [];
  const schemes = (typeof doc.channelSchemes === 'object' && doc.channelSchemes !== null ? doc.channelSchemes : {}) as Record<string, Record<string, unknown>>;
  const l1Labels = Array.isArray(doc.l1Labels) ? (doc.l1Labels as string[]) : [];

  const schemeCodes = new Map<string, Set<string>>();
  for (const [name, s] of Object.entries(schemes)) {
    const codes = Array.isArray(s.codes) ? (s.codes as Array<{ code?: unknown }>) : [];
    schemeCodes.set(name, new Set(codes.map((c) => normalizeChannelCode(name, String(c.code)))));
  }

  const catCodes = new Map<string, string>();
  const subCodes = new Map<string, string>();
  const mapped = new Map<string, string>(); // scheme\0code -> subcategory code
  const keywordOwners = new Map<string, string[]>();
  let nSubs = 0;

  categories.forEach((c, ci) => {
    const cp = `/categories/${ci}`;
    const ccode = String(c.code);
    if (catCodes.has(ccode)) add('error', 'DUPLICATE_CODE', `${cp}/code`, `category code ${ccode} is also used at ${catCodes.get(ccode)}`);
    else catCodes.set(ccode, cp);
    if (typeof c.l1 === 'string' && l1Labels.length && !l1Labels.includes(c.l1)) add('error', 'UNKNOWN_L1', `${cp}/l1`, `l1 "${c.l1}" is not one of l1Labels`);
    const subs = Array.isArray(c.subcategories) ? (c.subcategories as Array<Record<string, unknown>>) : [];
    const names = new Map<string, string>();
    subs.forEach((s, si) => {
      nSubs++;
      const sp = `${cp}/subcategories/${si}`;
      const scode = String(s.code);
      if (subCodes.has(scode)) add('error', 'DUPLICATE_CODE', `${sp}/code`, `subcategory code ${scode} is also used at ${subCodes.get(scode)}`);
      else subCodes.set(scode, sp);
      if (!scode.startsWith(ccode + '.')) add('error', 'CODE_PREFIX', `${sp}/code`, `subcategory code ${scode} does not start with its category code ${ccode}.`);
      const name = String(s.name);
      if (names.has(name)) add('warning', 'DUPLICATE_NAME', `${sp}/name`, `name "${name}" is also used at ${names.get(name)}`);
      else names.set(name, sp);
      if (typeof s.department !== 'string' || s.department.trim() === '') add('error', 'NOT_ROUTABLE', `${sp}/department`, `subcategory ${scode} has no handling department`);
      const sla = (typeof s.sla === 'object' && s.sla !== null ? s.sla : {}) as Record<string, unknown>;
      for (const u of ['critical', 'urgent', 'normal']) {
        const lim = sla[u] as { hours?: unknown; workingDays?: unknown } | undefined;
        const ok = lim && ((typeof lim.hours === 'number' && lim.hours > 0) || (typeof lim.workingDays === 'number' && lim.workingDays > 0));
        if (!ok) add('error', 'NO_SLA', `${sp}/sla/${u}`, `subcategory ${scode} has no SLA for urgency ${u}`);
      }
      if (typeof s.l1 === 'string' && l1Labels.length && !l1Labels.includes(s.l1)) add('error', 'UNKNOWN_L1', `${sp}/l1`, `l1 "${s.l1}" is not one of l1Labels`);
      const cc = (typeof s.channelCodes === 'object' && s.channelCodes !== null ? s.channelCodes : {}) as Record<string, unknown>;
      for (const [scheme, codes] of Object.entries(cc)) {
        const known = schemeCodes.get(scheme);
        if (!known) {
          add('error', 'UNKNOWN_SCHEME', `${sp}/channelCodes/${scheme}`, `scheme "${scheme}" is not declared in channelSchemes`);
          continue;
        }
        if (schemes[scheme]?.notCategorical) add('error', 'NOT_CATEGORICAL', `${sp}/channelCodes/${scheme}`, `scheme "${scheme}" is not categorical: nothing may map to it`);
        (Array.isArray(codes) ? codes : []).forEach((raw, k) => {
          const code = normalizeChannelCode(scheme, String(raw));
          if (!known.has(code)) add('error', 'UNKNOWN_CHANNEL_CODE', `${sp}/channelCodes/${scheme}/${k}`, `${scheme} code "${String(raw)}" is not in the scheme's code list`);
          const key = `${scheme}\u0000${code}`;
          const prev = mapped.get(key);
          if (prev && prev !== scode) add('error', 'CHANNEL_CODE_CONFLICT', `${sp}/channelCodes/${scheme}/${k}`, `${scheme} code ${code} maps to both ${prev} and ${scode}`);
          else mapped.set(key, scode);
        });
      }
      for (const kw of Array.isArray(s.keywords) ? (s.keywords as unknown[]) : []) {
        const k = String(kw);
        const owners = keywordOwners.get(k) ?? [];
        if (!owners.includes(scode)) owners.push(scode);
        keywordOwners.set(k, owners);
      }
    });
  });

  // codes of a scheme that name categories instead of a subcategory
  for (const [name, s] of Object.entries(schemes)) {
    const codes = Array.isArray(s.codes) ? (s.codes as Array<{ code?: unknown; categories?: unknown }>) : [];
    codes.forEach((c, i) => {
      if (!Array.isArray(c.categories)) return;
      const code = normalizeChannelCode(name, String(c.code));
      for (const cat of c.categories as unknown[]) if (!catCodes.has(String(cat))) add('error', 'BAD_CODE_CATEGORY', `/channelSchemes/${name}/codes/${i}/categories`, `${name} code ${code} names unknown category ${String(cat)}`);
      if (mapped.has(`${name}\u0000${code}`)) add('error', 'CHANNEL_CODE_CONFLICT', `/channelSchemes/${name}/codes/${i}`, `${name} code ${code} names categories and is also mapped to ${mapped.get(`${name}\u0000${code}`)}`);
      else mapped.set(`${name}\u0000${code}`, `categories ${(c.categories as unknown[]).join(',') || '(none)'}`);
    });
  }

  for (const [name, s] of Object.entries(schemes)) {
    if (!s.requireAllMapped) continue;
    const codes = Array.isArray(s.codes) ? (s.codes as Array<{ code?: unknown; kind?: unknown; name?: unknown }>) : [];
    codes.forEach((c, i) => {
      const code = normalizeChannelCode(name, String(c.code));
      if (!mapped.has(`${name}\u0000${code}`)) {
        add('error', 'UNMAPPED_CHANNEL_CODE', `/channelSchemes/${name}/codes/${i}`, `${name} code ${code}${c.kind ? ` (${String(c.kind)})` : ''} ${String(c.name ?? '')} maps to no subcategory`);
      }
    });
  }

  for (const table of opts.emitted ?? []) {
    const s = schemes[table.scheme];
    if (!s) {
      add('warning', 'UNMAPPED_EMITTED_CODE', `/channelSchemes`, `connector ${table.connector} emits scheme "${table.scheme}" (${table.codes.length} codes), which this catalog does not declare: its tickets are classified by text only`);
      continue;
    }
    if (s.subcategoryCodes) continue;
    const prefixes = (Array.isArray(s.fallbackPrefixLengths) ? (s.fallbackPrefixLengths as number[]) : []).slice().sort((a, b) => b - a);
    for (const { code: raw, name } of table.codes) {
      const code = normalizeChannelCode(table.scheme, raw);
      const ok = mapped.has(`${table.scheme}\u0000${code}`) || prefixes.some((n) => code.length > n && mapped.has(`${table.scheme}\u0000${code.slice(0, n)}`));
      if (!ok) add('error', 'UNMAPPED_EMITTED_CODE', `/channelSchemes/${table.scheme}`, `connector ${table.connector} emits ${table.scheme} code ${code} (${name}), which maps to nothing in this catalog`);
    }
  }

  const l1Defaults = (typeof doc.l1Defaults === 'object' && doc.l1Defaults !== null ? doc.l1Defaults : {}) as Record<string, unknown>;
  for (const label of l1Labels) if (!(label in l1Defaults)) add('error', 'BAD_L1_DEFAULT', `/l1Defaults`, `label "${label}" has no default subcategory`);
  for (const [label, code] of Object.entries(l1Defaults)) {
    if (!l1Labels.includes(label)) add('error', 'BAD_L1_DEFAULT', `/l1Defaults/${label}`, `"${label}" is not one of l1Labels`);
    if (!subCodes.has(String(code))) add('error', 'BAD_L1_DEFAULT', `/l1Defaults/${label}`, `unknown subcategory ${String(code)}`);
  }

  for (const [kw, owners] of keywordOwners) {
    if (owners.length > 1) add('warning', 'AMBIGUOUS_KEYWORD', `/keywords/${kw}`, `keyword "${kw}" belongs to ${owners.length} subcategories: ${owners.join(', ')} (rules score them equally)`);
  }

  const counts = { categories: categories.length, subcategories: nSubs };
  const expected = opts.expectedCounts ?? (doc.expectedCounts as LintOptions['expectedCounts']);
  if (expected) {
    if (expected.categories !== counts.categories) add('error', 'COUNT_MISMATCH', '/categories', `${counts.categories} categories, expected ${expected.categories}`);
    if (expected.subcategories !== counts.subcategories) add('error', 'COUNT_MISMATCH', '/categories', `${counts.subcategories} subcategories, expected ${expected.subcategories}`);
  }

  const errors = findings.filter((f) => f.level === 'error').length;
  return { ok: errors === 0, errors, warnings: findings.length - errors, counts, findings };
}

/** One line per finding, errors first, then a summary line. */
export function formatLintReport(r: LintReport, file: string): string {
  const sorted = [...r.findings].sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1));
  const lines = sorted.map((f) => `${f.level} ${f.code} ${f.path}: ${f.message}`);
  lines.push(`${file}: ${r.counts.categories} categories, ${r.counts.subcategories} subcategories — ${r.errors} error(s), ${r.warnings} warning(s)${r.ok ? ' — OK' : ''}`);
  return lines.join('\n');
}
