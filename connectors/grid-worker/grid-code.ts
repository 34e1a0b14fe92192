import { lookup } from '../../core/sdk/tables';

/**
 * 15-digit grid codes (单元网格 / 社会治理网格): 6-digit administrative division (县级行政区划代码)
 * + 3-digit street (乡镇街道) + 3-digit community (村社区) + 3-digit grid (网格).
 */
export interface GridCode {
  code: string;
  division: string;
  street: string;
  community: string;
  grid: string;
}

export interface Jurisdiction {
  district: string | null;
  street: string | null;
  community: string | null;
}

const GRID_CODE = /^[1-8][0-9]{14}$/;

export function parseGridCode(code: string): GridCode | null {
  if (!GRID_CODE.test(code)) return null;
  return { code, division: code.slice(0, 6), street: code.slice(0, 9), community: code.slice(0, 12), grid: code };
}

/**
 * Names the jurisdiction of a grid from a code table keyed by prefix: 6 digits → district name,
 * 9 digits → street name, 12 digits → community name. Levels missing from the table stay null
 * (the grid code itself is always kept on the ticket). Levels are looked up independently, so a
 * partial table (only the districts, say) still names what it can.
 */
export function jurisdictionOf(code: string, table: Readonly<Record<string, string>>): Jurisdiction {
  const g = parseGridCode(code);
  if (!g) return { district: null, street: null, community: null };
  return {
    district: lookup(table, g.division) ?? null,
    street: lookup(table, g.street) ?? null,
    community: lookup(table, g.community) ?? null,
  };
}
