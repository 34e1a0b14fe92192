import type { CanonicalTicket } from '../schema/types';

/**
 * The locality key: which partition of `intake.located.v1` (and so which processor task, with its
 * own clustering state) a report belongs to. Clustering compares a report only with reports of its
 * own task, so the key must be coarse enough to hold every candidate the clusterer compares: the
 * **district** (区/县) — the clusterer's blocks are 500 m geo cells and district/street
 * jurisdictions, which do not cross a district line except for the few reports right at it.
 *
 * Resolution, first match wins (pure: the same ticket always gives the same key):
 *   1. the ticket's own `location.district`, mapped through the configured aliases;
 *   2. a configured district name or alias found in the address, then the title, then the text
 *      (longest match first, so `高新区` wins over `新区`);
 *   3. `unlocated`: one key for every report with no district. Those reports can cluster only with
 *      each other (a message-board post naming no district never meets the located 12345 calls of
 *      its estate), and they all land in one partition — configure `locality.districts` so that
 *      district names in texts are recognised.
 * Keys are `d:<canonical district name>` or `unlocated`.
 */
export interface DistrictDef {
  /** Canonical name, e.g. 包河区. */
  name: string;
  /** Other spellings that mean the same district (包河, Baohe). */
  aliases?: string[];
}

export interface LocalityConfig {
  districts: DistrictDef[];
}

export const UNLOCATED = 'unlocated';

/** Only the start of a long text is searched for a district name (bounded cost per report). */
const SCAN_CHARS = 2000;

export class LocalityResolver {
  private readonly byName = new Map<string, string>();
  private readonly needles: [string, string][] = [];

  constructor(cfg: LocalityConfig = { districts: [] }) {
    for (const d of cfg.districts) {
      for (const n of [d.name, ...(d.aliases ?? [])]) {
        const k = n.trim();
        if (!k) continue;
        this.byName.set(k, d.name);
        this.needles.push([k, d.name]);
      }
    }
    this.needles.sort((a, b) => b[0].length - a[0].length || (a[0] < b[0] ? -1 : 1));
  }

  /** The locality key of a (masked, assembled) ticket. */
  keyOf(t: Pick<CanonicalTicket, 'location' | 'title' | 'text'>): string {
    const own = t.location.district?.trim();
    if (own) return `d:${this.byName.get(own) ?? own}`;
    for (const field of [t.location.address, t.title, t.text]) {
      if (!field) continue;
      const hay = field.length > SCAN_CHARS ? field.slice(0, SCAN_CHARS) : field;
      for (const [needle, name] of this.needles) if (hay.includes(needle)) return `d:${name}`;
    }
    return UNLOCATED;
  }
}
