import type { ClusterEvent } from '../schema/types.generated';
import { deterministicUlid, ulidTime, ULID_PATTERN } from '../ids';
import { resolveClusterConfig, type ClusterConfig, type ClusterConfigInput } from './config';
import { CandidateAccumulator } from './accumulator';
import { PostingTable } from './postings';
import { CountTable } from './counts';
import { WeightedCodeSet } from './codeset';
import { smallestFirst } from './sort';
import { encodePart, F_BODY_NORM, F_CONCEPTS, F_HEAD_NORM, F_LAT, F_LON, F_TAGS, F_TIME, FeatureStore, HEADER, MIXED_FAMILIES, RUN_BITS, STRIDE, channelOf, placeMentionedAt, placeScoreAt, regionConflictAt } from './store';
import { LOCAL_CONCEPTS, bigramCodes, conceptBits, conceptConflict, conceptScore, extractPlaces, extractRegions, fnv1a, hash53, normalizeText, stripPlaces, type PlaceEntity } from './text';

/** One report as the clustering engine sees it (channel-neutral). */
export interface ClusterInput {
  /** Hub id (a ULID in the pipeline; any unique string in evaluation). */
  ticketId: string;
  /** When the resident reported it (ms since epoch). Reports should arrive roughly in this order. */
  timeMs: number;
  title: string | null;
  /** Report text (PII-masked). */
  text: string;
  /** Keyed contact token (never a raw phone number); null when anonymous or unknown. */
  contactToken: string | null;
  channel: string;
  sourceId: string;
  jurisdiction: Jurisdiction | null;
  /** WGS-84 point, when the channel or the enrich stage has one. */
  point: { lon: number; lat: number } | null;
  /** Category family (catalog category code); null when not classified yet: then no family blocking. */
  categoryFamily: string | null;
  appealType: string;
  /**
   * Who filed it (`reporter.role` of the ticket): `resident`, or staff (`inspector`,
   * `grid-worker`, `police-dispatch`, `official`), whose reports are cases, never repeat
   * complaints. Absent or null: unknown, treated as a resident.
   */
  reporterRole?: string | null;
  /**
   * The channel's own category name (`channelCategory.name`), when the channel has one. A title
   * that is only this name (a 110 hand-over's 噪音扰民, a city-management case type) says
   * nothing about the incident and carries no similarity weight.
   */
  categoryName?: string | null;
}

/** Reporter roles of staff: their reports are cases they file, not complaints they repeat. */
export const STAFF_ROLES: ReadonlySet<string> = new Set(['inspector', 'grid-worker', 'police-dispatch', 'official']);

export interface Jurisdiction {
  district: string | null;
  street: string | null;
  community: string | null;
  grid: string | null;
}

/**
 * Explainable score of one link between two reports, every component in [0, 1]. `place` and
 * `distance` are absent when one of the reports names no place / has no point. `total` is the
 * weighted mean of text, place and distance (over those present) scaled by a mild time decay.
 */
export interface LinkScore {
  [k: string]: number | undefined;
  text: number;
  head: number;
  body: number;
  place?: number;
  distance?: number;
  /** Problem-concept agreement (lexicon, `text.ts`); absent when either names no known problem. */
  concept?: number;
  /** 1 when the two name the same administrative regions, 0 when each names one the other does not (a veto); absent otherwise. */
  region?: number;
  /**
   * On the link that put a report in a cluster: how many of the cluster's reports (or its
   * primary, scored against) link to the report. A cluster of 3+ is joined, and a second
   * cluster merged, only with support ≥ 2 (docs/clustering.md, anti-chaining).
   */
  support?: number;
  /** The product of the vetoes applied (place or region conflict, concept conflict); absent when none. */
  veto?: number;
  time: number;
  total: number;
}

/** Cumulative work counters (`ClusterEngine.work`). */
export interface WorkCounters {
  reports: number;
  lookups: number;
  entries: number;
  candidates: number;
  scored: number;
}

/** What the engine decided for one report. */
export interface ClusterOutcome {
  /** Hub id of the original this report copies through another channel, or null. */
  duplicateOf: string | null;
  duplicateScore: number | null;
  /** First report of this reporter's chain of similar reports (一人多诉), or null. */
  repeatOf: string | null;
  /** Earlier reports in that chain (0 when not a repeat). */
  repeatCount: number;
  /** `cl_` + the primary (earliest) report's id. A report with no link gets its own cluster. */
  clusterId: string;
  role: 'primary' | 'member';
  /** The link that put the report in its cluster; null for a primary. */
  score: LinkScore | null;
  /** Block label of the report (blocking key, for events and explanations). */
  block: string;
  events: ClusterEvent[];
  /**
   * Ids of the clusters this report's arrival merged into its cluster (all of them, where the
   * event's `mergedFrom` keeps 64); what a changelog entry must record for `restore`. Null when
   * not known (a ticket seen again outside the outcome cache).
   */
  merged: string[] | null;
}

/** A report's clustering fields as already published (used to restore state after a restart). */
export interface PublishedAssignment {
  clusterId: string | null;
  duplicateOf: string | null;
  repeatOf: string | null;
  repeatCount: number;
  /**
   * The clusters this report's arrival merged into its own (`ClusterOutcome.merged`). A restore
   * replays exactly these merges. Absent (entries written before it existed, published tickets):
   * the merges are recomputed from the report's links, which misses a merge made by a duplicate or
   * repeat link alone (those links are adopted, not recomputed).
   */
  merged?: string[];
}

interface Chain {
  rootId: string;
  count: number;
}

interface ClusterState {
  id: string;
  primaryId: string;
  primaryTime: number;
  /** Seq of the primary report while it is in the window (scored against for support), else -1. */
  primarySeq: number;
  mergedInto: ClusterState | null;
  block: string;
  /** Reports of the cluster inside the window. */
  live: number;
  /** Live reports per reporter key (contact token, or a per-report key when anonymous). */
  reporters: Map<string, number>;
  /**
   * The most recent distinct reporters (latest report time each), newest first, at most
   * `hotListCap` of them: N distinct reporters within T hours ⇔ the N-th entry is within T. O(N)
   * per arrival and per merge, whatever the cluster size.
   */
  hot: HotEntry[];
  lastHotAt: number | null;
}

interface HotEntry {
  r: string;
  t: number;
}

interface Rec {
  seq: number;
  /** Repeat count published for this report (for a retried ticket). */
  repeatCount: number;
  id: string;
  time: number;
  channel: string;
  token: string | null;
  reporterKey: string;
  family: string | null;
  cluster: ClusterState;
  chain: Chain | null;
  dupOf: string | null;
}

interface ExactEntry {
  time: number;
  id: string;
  token: string | null;
  cluster: ClusterState;
  channel: string;
  dupOf: string | null;
  /** The first report's point, when it had one. */
  point: { lon: number; lat: number } | null;
}

interface Query {
  input: ClusterInput;
  head: Uint32Array;
  body: Uint32Array;
  wHead: Float64Array;
  wBody: Float64Array;
  headNorm: number;
  bodyNorm: number;
  places: PlaceEntity[];
  regions: string[];
  concepts: number;
  exactKey: number;
  /** Bigrams the report is indexed under (computed once). */
  indexed: number[];
  /** The indexed bigrams that are not head bigrams, with their weights. */
  sampled: { codes: number[]; weights: number[] };
}

interface Link {
  /** Seq of the windowed report linked to (its record: `linked`), or -1 for an exact-text entry. */
  seq: number;
  exact: ExactEntry | null;
  score: LinkScore;
}

const HOUR = 3_600_000;
const METRES_PER_DEG = 111_320;
/** cos(32°): a fixed E-W scale so cells are consistent everywhere (cells are 450–540 m wide at 23–40°N). */
const LON_SCALE = 0.848;
const BLOCK_MASK = 0xfffff;
const TWO32 = 4294967296;
const OUTCOME_CACHE = 4096;
const NO_FAMILY = -1;
/** Clusters with a single link scored again against their primary, per report (bounds the extra work). */
const MAX_SUPPORT_SCORES = 8;

/**
 * The 多人一诉 / 一人多诉 clustering engine. Pure and deterministic: the same reports in the same
 * order give the same outcomes and events (no clock, no randomness). State holds only the reports
 * inside the window (plus exact-text keys for `exactWindowHours`), so memory is bounded by the
 * window, and the cost per report is bounded by the candidate caps, not by the window size.
 *
 * Not thread-safe; one engine per partition (locality key).
 */
export class ClusterEngine {
  readonly config: ClusterConfig;
  /** Windowed reports by sequence number: seq s is at recs[s - recsOffset]; those before `base` are gone. */
  private recs: (Rec | undefined)[] = [];
  private recsOffset = 0;
  private base = 0;
  private nextSeq = 0;
  private liveCount = 0;
  private watermark = Number.NEGATIVE_INFINITY;
  private readonly df = new CountTable();
  /** (block, bigram) → ring of the most recent reports, in flat typed arrays (`postings.ts`). */
  private readonly postings: PostingTable;
  private readonly placePostings = new Map<number, Int32Array>();
  private readonly exact = new Map<number, ExactEntry>();
  private readonly byReporter = new Map<string, number[]>();
  private placeSweeper: IterableIterator<[number, Int32Array]> | null = null;
  /** Windowed reports by ticket id: a retried ticket gets its first outcome back (idempotence). */
  private readonly byId = new Map<string, Rec>();
  /** Outcomes (with their events) of the most recent reports, for retries of a failed write. */
  private readonly outcomes = new Map<string, ClusterOutcome>();
  /** Shared-bigram weight per candidate of the current query (`accumulator.ts`). */
  private readonly acc = new CandidateAccumulator();
  /** Candidates of the current query that pass the window and family filters, and their weights. */
  private readonly touched: number[] = [];
  private touchedW = new Float64Array(1024);
  private readonly rankScratch: { buf: Float64Array } = { buf: new Float64Array(1024) };
  private mixScratch = new Float64Array(1024);
  /** The (block, bigram) posting keys of the report being inserted. */
  private keyScratch = new Float64Array(256);
  private unionScratch = new Uint32Array(1024);
  /** The query being scored, its head and body codes laid out for scoring (`codeset.ts`): built on its first score. */
  private readonly scoreSets = { head: new WeightedCodeSet(), body: new WeightedCodeSet() };
  private scoreSetsFor: Query | null = null;
  /** Scoring features of the windowed reports, by seq, in flat typed arrays (`store.ts`). */
  private readonly store = new FeatureStore();
  /** Channel → small id (the store keeps ids). */
  private readonly channelIds = new Map<string, number>();
  /** Category family → small id, and each family's window (ms) by id. */
  private readonly familyIds = new Map<string, number>();
  private readonly familyWindowMs: number[] = [];
  private readonly hotListCap: number;
  /**
   * The lowest text similarity any decision accepts (a cluster link: `minText`; a duplicate: half
   * of `duplicateMinText` for one contact, …): a link whose text is below it decides nothing.
   */
  private readonly textFloor: number;
  private readonly prune: boolean;
  private readonly horizonMs: number;
  private readonly counters: WorkCounters = { reports: 0, lookups: 0, entries: 0, candidates: 0, scored: 0 };
  /** Cluster lookup by id, only while restoring. */
  private restoring: Map<string, ClusterState> | null = null;

  /**
   * @param options.exhaustive score every candidate in full (no floor on the text, see `scoreAt`):
   * the reference the pruned engine's outcomes are tested against (engine.test.ts); slower.
   */
  constructor(config: ClusterConfigInput = {}, options: { exhaustive?: boolean } = {}) {
    this.config = resolveClusterConfig(config);
    this.prune = options.exhaustive !== true;
    const fam = Object.values(this.config.windowHoursByFamily);
    this.horizonMs = Math.max(this.config.windowHours, this.config.repeatWindowHours, ...fam) * HOUR;
    this.hotListCap = Math.max(this.config.hotReporters, 16);
    this.postings = new PostingTable(this.config.candidates.postingCap);
    const c = this.config;
    this.textFloor = Math.min(c.minText, c.duplicateMinText * 0.5, c.duplicateMinText, 0.95);
  }

  /**
   * How much history a restore needs: replay the published reports of the last this many ms
   * (before the newest one). Twice the window, so that every report still in the window is
   * re-inserted with the same document frequencies it saw the first time.
   */
  get restoreHorizonMs(): number {
    return 2 * Math.max(this.horizonMs, this.config.exactWindowHours * HOUR);
  }

  /** Reports currently held in the window. */
  get size(): number {
    return this.liveCount;
  }

  /** Internal table sizes, for the memory benchmark and tests of eviction. */
  stats(): { reports: number; postingLists: number; placeLists: number; exactKeys: number; reporters: number; vocabulary: number } {
    return {
      reports: this.liveCount,
      postingLists: this.postings.size,
      placeLists: this.placePostings.size,
      exactKeys: this.exact.size,
      reporters: this.byReporter.size,
      vocabulary: this.df.size,
    };
  }

  /**
   * Work done so far, summed over every report processed or restored: posting-table lookups,
   * ring entries read, distinct candidates accumulated, candidates scored in full. Per report,
   * each is bounded by the candidate caps whatever the window size (the scale benchmark prints
   * them per report to show where the work saturates).
   */
  work(): WorkCounters {
    return { ...this.counters };
  }

  /** Process one report: decide duplicate, repeat and cluster, update state, return the events. */
  process(input: ClusterInput): ClusterOutcome {
    return this.run(input, null);
  }

  /**
   * Rebuild state from reports already published (in their original processing order, at least the
   * last `restoreHorizonMs` of them). Their published cluster ids, duplicate and repeat links are
   * adopted as they are, so clusters keep their ids across the restart; links between them are
   * recomputed to replay merges. No events are produced. Call on a fresh engine before `process`.
   */
  restore(reports: Iterable<{ input: ClusterInput; published: PublishedAssignment }>): void {
    this.restoring = new Map();
    try {
      for (const r of reports) this.run(r.input, r.published);
    } finally {
      this.restoring = null;
    }
  }

  /**
   * Score two reports against the current state (document frequencies of the window) without
   * changing it: "why were these two linked (or not)?".
   */
  explain(a: ClusterInput, b: ClusterInput): LinkScore {
    const qa = this.features(a);
    const qb = this.features(b);
    const part = encodePart(qb);
    const lon = b.point !== null ? b.point.lon : Number.NaN;
    const lat = b.point !== null ? b.point.lat : Number.NaN;
    return this.scoreAt(qa, part, 0, qb.headNorm, qb.bodyNorm, lon, lat, qb.concepts, b.timeMs, this.windowMsFor(a.categoryFamily), false);
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * A repeat needs evidence of the same issue beyond the reporter's own style of writing: a
   * shared place, point or problem concept, or words that agree at least `repeatMinText` (one
   * resident's posts about different city projects share 请加快…建设力度).
   */
  private repeatEvidence(s: LinkScore): boolean {
    return (
      s.text >= this.config.repeatMinText ||
      (s.place !== undefined && s.place >= 0.5) ||
      (s.distance !== undefined && s.distance >= 0.5) ||
      (s.concept !== undefined && s.concept >= 0.5)
    );
  }

  private windowMsFor(family: string | null): number {
    const h = family !== null ? this.config.windowHoursByFamily[family] : undefined;
    return (h ?? this.config.windowHours) * HOUR;
  }

  /** The record of a link's report (read only when a decision needs it), or null for an exact-text entry. */
  private linked(l: Link): Rec | null {
    return l.exact !== null ? null : (this.rec(l.seq) as Rec);
  }

  private rec(seq: number): Rec | undefined {
    return seq >= this.base ? this.recs[seq - this.recsOffset] : undefined;
  }

  private idf(code: number): number {
    return this.idfOf(this.df.get(code));
  }

  /** The weight of a bigram in `d` of the window's reports. */
  private idfOf(d: number): number {
    // 50 pseudo-documents without the bigram keep weights sane while the window is nearly empty.
    return Math.log((this.liveCount + 50) / (d + 0.5));
  }

  private run(input: ClusterInput, adopt: PublishedAssignment | null): ClusterOutcome {
    const cfg = this.config;
    const known = this.byId.get(input.ticketId);
    if (known !== undefined) return this.again(known);
    if (input.timeMs > this.watermark) this.watermark = input.timeMs;
    this.evict();

    const q = this.features(input);
    const blocks = this.blocks(input);
    const windowMs = this.windowMsFor(input.categoryFamily);

    // Candidates: reports sharing rare bigrams in a neighbouring block, or naming the same place.
    // Work is bounded by the caps (blocks × query bigrams × posting ring), never by the window.
    this.acc.reset();
    const queryCodes = this.queryCodes(q);
    const qFamily = this.familyId(input.categoryFamily);
    // Rarest bigram first, each in every block; with a budget, stop after the bigram that reaches it.
    const budget = cfg.candidates.entryBudget > 0 ? cfg.candidates.entryBudget : Number.POSITIVE_INFINITY;
    let read = 0;
    let lookups = 0;
    for (let k = 0; k < queryCodes.codes.length && read < budget; k++) {
      const code = queryCodes.codes[k] as number;
      const w = queryCodes.weights[k] as number;
      for (const bh of blocks.query) {
        lookups++;
        const ring = this.postings.get(bh * TWO32 + code);
        if (ring >= 0) read += this.collect(this.postings.chunkOf(ring), this.postings.offsetOf(ring), this.postings.cap, w);
      }
    }
    for (const p of q.places) {
      if (!p.fine) continue;
      const ring = this.placePostings.get(hash53(p.core));
      if (ring !== undefined) this.collect(ring, 0, ring.length - 1, 1);
    }
    const n = this.eligible(input.timeMs, qFamily, windowMs);
    const work = this.counters;
    work.reports++;
    work.lookups += lookups;
    work.candidates += this.acc.seqs.length;
    const rankedSeqs = topCandidates(this.touched, this.touchedW, n, cfg.candidates.maxScored, this.rankScratch);

    const links: Link[] = [];
    const exactEntry = q.exactKey !== 0 ? this.exact.get(q.exactKey) : undefined;
    // The same words kilometres apart are a template (an inspector's case text), not a copy.
    const far = exactEntry?.point != null && input.point !== null && haversine(exactEntry.point, input.point) > cfg.farDistanceM;
    if (exactEntry !== undefined && !far) {
      const s: LinkScore = { text: 1, head: 1, body: 1, time: 1, total: 1 };
      links.push({ seq: -1, exact: exactEntry, score: s });
    }
    // The best `firstScored` candidates first; the rest (up to maxScored) only where the words of
    // enough of those reach the text floor: a dense area, where the report's issue may rank lower.
    const first = Math.min(rankedSeqs.length, cfg.candidates.firstScored);
    let passing = 0;
    for (let i = 0; i < rankedSeqs.length; i++) {
      if (i === first && passing < cfg.candidates.moreWhenPassing) break;
      const score = this.score(q, rankedSeqs[i] as number, windowMs);
      if (score.text >= this.textFloor) passing++;
      links.push({ seq: rankedSeqs[i] as number, exact: null, score });
    }

    // Cross-channel duplicate: near-identical text, close in time and space, another channel.
    const token = input.contactToken;
    let duplicateOf: string | null = null;
    let duplicateScore: number | null = null;
    let dupLink: Link | null = null;
    if (adopt !== null) {
      duplicateOf = adopt.duplicateOf;
    } else {
      // The reporter's own recent reports are always candidates (a hot cluster may crowd them
      // out of the ranked list).
      const dupCands = links.slice();
      const qChannel = this.channelId(input.channel);
      const feat = this.store.feat;
      const mine = token !== null ? this.byReporter.get(token) : undefined;
      if (mine !== undefined) {
        for (const seq of mine) {
          if (seq < this.base) continue;
          const o = this.store.slot(seq);
          if (channelOf(feat[o + F_TAGS] as number) === qChannel || links.some((l) => l.seq === seq)) continue;
          if (Math.abs(input.timeMs - (feat[o + F_TIME] as number)) > cfg.duplicateWindowHours * HOUR) continue;
          dupCands.push({ seq, exact: null, score: this.score(q, seq, windowMs) });
        }
      }
      // The lowest text similarity any pair of contacts accepts: most candidates fail it, and are
      // dropped before their record is read.
      const minNeed = this.textFloor;
      for (const l of dupCands) {
        const ds = Math.max(l.score.body, l.score.text);
        if (ds < minNeed) continue;
        const o = l.exact === null ? this.store.slot(l.seq) : -1;
        const sameChannel = l.exact !== null ? l.exact.channel === input.channel : channelOf(feat[o + F_TAGS] as number) === qChannel;
        if (sameChannel) continue;
        const time = l.exact !== null ? l.exact.time : (feat[o + F_TIME] as number);
        if (Math.abs(input.timeMs - time) > cfg.duplicateWindowHours * HOUR) continue;
        // A copy through another channel carries the same contact (a 110 hand-over keeps the
        // caller's number): the same contact → one report; two different contacts → two
        // residents, never a duplicate; both anonymous → the text decides; one anonymous →
        // only a virtually identical text.
        const lr = this.linked(l);
        const otherToken = lr !== null ? lr.token : (l.exact as ExactEntry).token;
        // The same reporter through another channel shortly after (a 110 hand-over 12 minutes
        // after the caller's 12345 call) is one incident told twice, however the operator
        // re-worded it, unless the two name different places or different problems.
        const sameSoon = token !== null && token === otherToken && Math.abs(input.timeMs - time) <= cfg.duplicateSameReporterHours * HOUR;
        let need: number;
        if (sameSoon) need = l.score.veto === undefined ? cfg.minText : 2;
        else if (token !== null && otherToken !== null) need = token === otherToken ? cfg.duplicateMinText * 0.5 : 2;
        else if (token === null && otherToken === null) need = cfg.duplicateMinText;
        else need = 0.95;
        if (ds < need) continue;
        if (l.exact === null && input.point !== null && !Number.isNaN(feat[o + F_LON] as number)) {
          const cp = { lon: feat[o + F_LON] as number, lat: feat[o + F_LAT] as number };
          if (haversine(cp, input.point) > cfg.duplicateMaxDistanceM * (sameSoon ? 2 : 1)) continue;
        }
        if (l.score.place !== undefined && l.score.place < 0.5) continue;
        if (dupLink === null || ds > (duplicateScore ?? 0)) {
          dupLink = l;
          duplicateScore = ds;
          duplicateOf = lr?.dupOf ?? l.exact?.dupOf ?? lr?.id ?? l.exact?.id ?? null;
        }
      }
    }

    // Repeat complaint: the same reporter on a similar issue.
    let chain: Chain | null = null;
    let repeatOf: string | null = null;
    let repeatCount = 0;
    let repeatLink: Link | null = null;
    if (adopt !== null) {
      if (adopt.repeatOf !== null && token !== null) {
        chain = this.findChain(token, adopt.repeatOf) ?? { rootId: adopt.repeatOf, count: 0 };
        if (adopt.repeatCount > chain.count) chain.count = adopt.repeatCount;
        repeatOf = adopt.repeatOf;
        repeatCount = adopt.repeatCount;
      }
    } else if (token !== null && duplicateOf === null && !isStaff(input)) {
      // Staff (inspectors, grid workers, police dispatch) file cases; they never complain again.
      const mine = this.byReporter.get(token);
      if (mine !== undefined) {
        let best: Link | null = null;
        const feat = this.store.feat;
        for (let i = mine.length - 1; i >= 0; i--) {
          const seq = mine[i] as number;
          if (seq < this.base || Math.abs(input.timeMs - (feat[this.store.slot(seq) + F_TIME] as number)) > cfg.repeatWindowHours * HOUR) continue;
          const found = links.find((l) => l.seq === seq);
          const s = found?.score ?? this.score(q, seq, cfg.repeatWindowHours * HOUR);
          if (s.total >= cfg.repeatThreshold && s.text >= cfg.minText && this.repeatEvidence(s) && (best === null || s.total > best.score.total)) {
            best = { seq, exact: null, score: s };
          }
        }
        if (best !== null) {
          const m = this.linked(best) as Rec;
          if (m.chain === null) {
            // A copy's chain is its original's: the chain starts at the first report.
            const orig = m.dupOf !== null ? this.byId.get(m.dupOf) : undefined;
            const host = orig !== undefined && orig.token === m.token ? orig : m;
            if (host.chain === null) host.chain = { rootId: host.id, count: 0 };
            m.chain = host.chain;
          }
          chain = m.chain;
          chain.count++;
          repeatOf = chain.rootId;
          repeatCount = chain.count;
          repeatLink = best;
        }
      }
    }

    // Cluster links: the best cluster, plus any other cluster this report strongly bridges.
    // Anti-chaining: a cluster of 3+ reports is joined through two links (support), or one
    // strong (merge-grade) link; a second cluster of 2+ is merged only through a strong link
    // *and* support on both sides: never through a single pair of reports, which would let one
    // loosely similar report union two big clusters. A cluster with a single link is scored
    // once more, against its primary: a link to it counts as the second.
    type Cand = { best: Link; support: number; forced: boolean; hard: boolean; seqs: number[] };
    const byCluster = new Map<ClusterState, Cand>();
    const consider = (l: Link, min: number, forced: boolean, hard: boolean): void => {
      if (!forced && (l.score.total < min || l.score.text < cfg.minText)) return;
      const root = find(this.linked(l)?.cluster ?? (l.exact as ExactEntry).cluster);
      const prev = byCluster.get(root);
      if (prev === undefined) byCluster.set(root, { best: l, support: 1, forced, hard, seqs: [l.seq] });
      else {
        if (!prev.seqs.includes(l.seq) || l.seq < 0) prev.support++;
        prev.seqs.push(l.seq);
        prev.forced ||= forced;
        prev.hard ||= hard;
        if (l.score.total > prev.best.score.total) prev.best = l;
      }
    };
    // A reporter's own earlier reports are linked through the repeat decision only: one
    // author's posts share a style (请加快…建设力度) whatever their topic.
    for (const l of links) {
      // (a link below the threshold is dropped by `consider` anyway: its record is not read)
      if (l.exact === null && token !== null && l.score.total >= cfg.linkThreshold && l.score.text >= cfg.minText && (this.rec(l.seq) as Rec).token === token) continue;
      consider(l, cfg.linkThreshold, l.exact !== null, l.exact !== null);
    }
    if (dupLink !== null) consider(dupLink, 0, true, true);
    if (repeatLink !== null) consider(repeatLink, 0, true, false);
    let extra = 0;
    for (const [c, v] of [...byCluster.entries()].sort((x, y) => y[1].best.score.total - x[1].best.score.total || comparePrimary(x[0], y[0]))) {
      if (v.support >= 2 || c.live < 2 || extra >= MAX_SUPPORT_SCORES) continue;
      const p = c.primarySeq;
      if (p < this.base || v.seqs.includes(p)) continue;
      extra++;
      const s = this.score(q, p, windowMs);
      if (s.total >= cfg.linkThreshold && s.text >= cfg.minText) v.support++;
    }
    const ordered = [...byCluster.entries()]
      .filter(([c, v]) => v.forced || c.live < 3 || v.support >= 2 || v.best.score.total >= cfg.mergeThreshold)
      .sort((a, b) => b[1].best.score.total - a[1].best.score.total || comparePrimary(a[0], b[0]));
    const chosen: [ClusterState, Link, number][] = [];
    for (let i = 0; i < ordered.length; i++) {
      const [c, v] = ordered[i] as [ClusterState, Cand];
      if (i === 0) {
        chosen.push([c, v.best, v.support]);
        continue;
      }
      const first = ordered[0] as [ClusterState, Cand];
      const bothSides = (c.live < 2 || v.support >= 2) && (first[0].live < 2 || first[1].support >= 2 || first[1].hard);
      if (v.hard || (v.best.score.total >= cfg.mergeThreshold && bothSides)) chosen.push([c, v.best, v.support]);
    }

    const events: ClusterEvent[] = [];
    const reporterKey = token ?? `#${input.ticketId}`;
    const blockLabel = blocks.label + (input.categoryFamily !== null ? `|${input.categoryFamily}` : '');
    let cluster: ClusterState;
    let role: 'primary' | 'member';
    let linkScore: LinkScore | null = null;
    let bestLink: Link | null = chosen.length > 0 ? (chosen[0] as [ClusterState, Link, number])[1] : null;

    let merged: string[] = [];
    if (adopt !== null && adopt.clusterId !== null) {
      cluster = this.adoptCluster(adopt.clusterId, input, blockLabel);
      if (adopt.merged !== undefined) {
        // the merges the report made when it was processed (a cluster that left the restore horizon is gone: nothing to merge)
        for (const id of adopt.merged) {
          const c = this.restoring?.get(id);
          if (c !== undefined) this.merge(cluster, c);
        }
        merged = adopt.merged;
      } else for (const [c] of chosen) if (c !== cluster) this.merge(cluster, c);
      role = cluster.primaryId === input.ticketId ? 'primary' : 'member';
      bestLink = null;
    } else if (chosen.length === 0) {
      cluster = newCluster(input.ticketId, input.timeMs, blockLabel);
      this.restoring?.set(cluster.id, cluster);
      role = 'primary';
    } else {
      const roots = chosen.map((e) => e[0]);
      const survivor = roots.reduce((a, b) => (comparePrimary(a, b) <= 0 ? a : b));
      const sizeBefore = survivor.live;
      const absorbed: ClusterState[] = [];
      for (const r of roots) {
        if (r === survivor) continue;
        absorbed.push(r);
        this.merge(survivor, r);
      }
      merged = absorbed.map((x) => x.id);
      cluster = survivor;
      role = 'member';
      linkScore = { ...(bestLink as Link).score, support: (chosen[0] as [ClusterState, Link, number])[2] };
      const link = bestLink as Link;
      const linkTo = this.linked(link)?.id ?? link.exact?.id ?? survivor.primaryId;
      this.join(cluster, input.timeMs, reporterKey);
      const mk = (type: ClusterEvent['type']): ClusterEvent =>
        this.event(type, input, cluster, { from: input.ticketId, to: linkTo, score: { ...(linkScore as LinkScore) } }, absorbed);
      if (absorbed.length > 0) {
        if (sizeBefore <= 1) events.push(mk('created'));
        events.push(mk('merged'));
      } else {
        events.push(mk(sizeBefore <= 1 ? 'created' : 'grew'));
      }
    }
    if (role === 'primary' || adopt !== null) this.join(cluster, input.timeMs, reporterKey);

    // Hot issue: N distinct reporters within T hours.
    const distinct = this.recentReporters(cluster, input.timeMs);
    if (distinct >= cfg.hotReporters && cluster.live > 1) {
      const T = cfg.hotWindowHours * HOUR;
      if (cluster.lastHotAt === null || input.timeMs - cluster.lastHotAt > T) {
        cluster.lastHotAt = input.timeMs;
        if (adopt === null) {
          const e = this.event('hot', input, cluster, null, []);
          e.hot = { reporters: distinct, windowHours: cfg.hotWindowHours, threshold: cfg.hotReporters };
          events.push(e);
        }
      }
    }

    // Remember the report.
    const rec: Rec = {
      seq: this.nextSeq++,
      repeatCount,
      id: input.ticketId,
      time: input.timeMs,
      channel: input.channel,
      token,
      reporterKey,
      family: input.categoryFamily,
      cluster,
      chain,
      dupOf: duplicateOf,
    };
    if (cluster.primaryId === rec.id) cluster.primarySeq = rec.seq;
    this.insert(rec, q, blocks.index);

    const outcome: ClusterOutcome = {
      duplicateOf,
      duplicateScore,
      repeatOf,
      repeatCount,
      clusterId: cluster.id,
      role,
      score: linkScore,
      block: blockLabel,
      events,
      merged,
    };
    if (adopt === null) {
      this.outcomes.set(input.ticketId, { ...outcome, events: events.slice() });
      if (this.outcomes.size > OUTCOME_CACHE) this.outcomes.delete(this.outcomes.keys().next().value as string);
    }
    return outcome;
  }

  /**
   * The same ticket again (the pipeline retries a report whose durable write failed under the
   * same ticket id): the first outcome, with the same events (same deterministic ids, so a
   * consumer that did see them dedupes by id); no state changes. Outside the outcome cache (the
   * last 4,096 reports) the assignment is rebuilt from the stored report, without events.
   */
  private again(r: Rec): ClusterOutcome {
    const cached = this.outcomes.get(r.id);
    if (cached !== undefined) return { ...cached, events: cached.events.slice() };
    return {
      duplicateOf: r.dupOf,
      duplicateScore: null,
      repeatOf: r.chain !== null && r.chain.rootId !== r.id ? r.chain.rootId : null,
      repeatCount: r.repeatCount,
      clusterId: r.cluster.id,
      role: r.cluster.primaryId === r.id ? 'primary' : 'member',
      score: null,
      block: r.cluster.block,
      events: [],
      merged: null,
    };
  }

  private features(input: ClusterInput): Query {
    const cfg = this.config;
    const bodyFull = normalizeText(input.text);
    const titleFull = input.title !== null && !isCategoryTitle(input.title, input.categoryName ?? null) ? normalizeText(input.title) : '';
    const places = extractPlaces(titleFull + '|' + bodyFull.slice(0, cfg.bodyChars));
    const regions = extractRegions(titleFull + '|' + bodyFull.slice(0, cfg.bodyChars));
    // Place names are compared by the place component; the text component compares the issue.
    const bodyNorm = stripPlaces(bodyFull, places);
    const titleNorm = stripPlaces(titleFull, places);
    const headText = titleNorm.length >= 4 ? titleNorm : bodyNorm.slice(0, cfg.headChars);
    // Places a title names are what the report is about (a call's first words may name a landmark).
    if (titleNorm.length >= 4) for (const p of places) if (titleFull.includes(p.mention ?? p.name)) p.inHead = true;
    const head = bigramCodes(headText, cfg.headChars);
    const body = bigramCodes(bodyNorm, cfg.bodyChars);
    const wHead = new Float64Array(head.length);
    const wBody = new Float64Array(body.length);
    let hn = 0;
    let bn = 0;
    // Document frequencies first, all in one batch (`getMany`), then the weights.
    this.df.getMany(body, wBody);
    for (let i = 0; i < body.length; i++) {
      const w = this.idfOf(wBody[i] as number);
      wBody[i] = w;
      bn += w * w;
    }
    // A head bigram is mostly a body bigram too (always when the head is the body's start): its
    // weight is read from the body's (a search in a few hundred codes beats a probe of the table).
    for (let i = 0; i < head.length; i++) {
      const c = head[i] as number;
      const j = sortedIndex(body, c);
      const w = j >= 0 ? (wBody[j] as number) : this.idf(c);
      wHead[i] = w;
      hn += w * w;
    }
    const exactSource = bodyFull.length >= 16 ? bodyFull : titleFull + '|' + bodyFull;
    const exactKey = exactSource.length >= 6 ? hash53(exactSource) || 1 : 0;
    const { indexed, sampled } = this.indexedCodes(head, body, wBody);
    // Concepts read the text with only specific place names cut: suffix-based road extraction
    // would otherwise eat words (野狗追咬路人 → "追咬路").
    const fine = places.filter((p) => p.fine);
    const concepts = conceptBits(stripPlaces(titleFull, fine) + '|' + stripPlaces(bodyFull.slice(0, cfg.bodyChars), fine));
    return { input, head, body, wHead, wBody, headNorm: Math.sqrt(hn), bodyNorm: Math.sqrt(bn), places, regions, concepts, exactKey, indexed, sampled };
  }

  /**
   * The query bigrams with their weights, rarest first: every head (title) bigram, which names
   * the issue even when its words are common (the rarest `queryBigrams` of them), plus the rarest
   * `queryBigrams` of the other indexed bigrams.
   */
  private queryCodes(q: Query): { codes: number[]; weights: number[] } {
    const cap = this.config.candidates.queryBigrams;
    const head = rarest(q.head, q.wHead, q.head.length, cap);
    const rest = rarest(q.sampled.codes, q.sampled.weights, q.sampled.codes.length, cap);
    return mergeByRarity(head, rest);
  }

  /**
   * Bigrams a report is indexed under: all head bigrams, then body bigrams chosen by a fixed hash
   * order (a bottom-k sample), so two similar long texts pick overlapping samples. `sampled` are
   * the body bigrams taken (none is a head bigram), with their weights from `wBody`.
   */
  private indexedCodes(head: Uint32Array, body: Uint32Array, wBody: Float64Array): { indexed: number[]; sampled: { codes: number[]; weights: number[] } } {
    const cap = this.config.candidates.indexBigrams;
    const indexed: number[] = [];
    const codes: number[] = [];
    const weights: number[] = [];
    for (let i = 0; i < head.length && indexed.length < cap; i++) indexed.push(head[i] as number);
    // Below the cap every head bigram is in: a body bigram is new unless the head has it.
    const take = (j: number): void => {
      const c = body[j] as number;
      indexed.push(c);
      codes.push(c);
      weights.push(wBody[j] as number);
    };
    if (indexed.length < cap) {
      // Both lists are sorted: one walk along the head finds the body bigrams it lacks.
      let h = 0;
      const inHead = (c: number): boolean => {
        while (h < head.length && (head[h] as number) < c) h++;
        return h < head.length && head[h] === c;
      };
      if (body.length + indexed.length <= cap) {
        for (let j = 0; j < body.length; j++) if (!inHead(body[j] as number)) take(j);
      } else {
        // Bottom-k by a fixed mix of the body bigrams the head lacks: select the smallest mixes
        // (the index breaks no tie: the mix is a bijection of 32-bit codes), in mix order.
        if (this.mixScratch.length < body.length) this.mixScratch = new Float64Array(body.length * 2);
        const mixes = this.mixScratch;
        let m = 0;
        for (let j = 0; j < body.length; j++) if (!inHead(body[j] as number)) mixes[m++] = mix(body[j] as number) * 65536 + j;
        const need = Math.min(cap - indexed.length, m);
        smallestFirst(mixes, m, need);
        for (let k = 0; k < need; k++) take((mixes[k] as number) % 65536);
      }
    }
    return { indexed, sampled: { codes, weights } };
  }

  /** Accumulate the ring at `ring[o..o+cap]` (count, then `cap` entries) into the candidates; returns the entries read. */
  private collect(ring: Int32Array, o0: number, cap: number, w: number): number {
    const n = ring[o0] as number;
    const base = this.base;
    const acc = this.acc;
    const read = Math.min(n, cap);
    this.counters.entries += read;
    for (let i = n - read; i < n; i++) {
      const seq = ring[o0 + 1 + (i % cap)] as number;
      if (seq >= base) acc.add(seq, w);
    }
    return read;
  }

  /**
   * Keep the accumulated candidates inside the time window of the pair (the query's family
   * window, or the candidate's when the query has no family) and of the same family when both
   * have one: into `touched`/`touchedW`, in first-seen order. A candidate's time is read only
   * when its run of seqs is not wholly inside the pair's window (near the window's edge).
   */
  private eligible(t: number, qFamily: number, windowMs: number): number {
    const acc = this.acc;
    const seqs = acc.seqs;
    const touched = this.touched;
    touched.length = 0;
    if (this.touchedW.length < seqs.length) this.touchedW = new Float64Array(seqs.length * 2);
    const tw = this.touchedW;
    const st = this.store;
    const feat = st.feat;
    const famOf = st.fam;
    const mask = st.mask;
    const { id: runId, min: runMin, max: runMax, fam: runFam, mask: runMask } = st.runs;
    for (let k = 0; k < seqs.length; k++) {
      const seq = seqs[k] as number;
      const run = seq >>> RUN_BITS;
      const r = run & runMask;
      const known = runId[r] === run;
      const fam = known && runFam[r] !== MIXED_FAMILIES ? (runFam[r] as number) : (famOf[seq & mask] as number);
      if (qFamily !== NO_FAMILY && fam >= 0 && qFamily !== fam) continue;
      const pairWindow = qFamily === NO_FAMILY && fam >= 0 ? (this.familyWindowMs[fam] as number) : windowMs;
      // |t − time| is largest at an end of the run's time range (fl(t − x) is monotone in x).
      const inside = known && Math.abs(t - (runMin[r] as number)) <= pairWindow && Math.abs(t - (runMax[r] as number)) <= pairWindow;
      if (!inside && Math.abs(t - (feat[(seq & mask) * STRIDE + F_TIME] as number)) > pairWindow) continue;
      tw[touched.length] = acc.weightAt(k);
      touched.push(seq);
    }
    return touched.length;
  }

  /** Small id of a channel (channels are a closed set). */
  private channelId(channel: string): number {
    let id = this.channelIds.get(channel);
    if (id === undefined) {
      id = this.channelIds.size;
      this.channelIds.set(channel, id);
    }
    return id;
  }

  /** Small id of a category family (interned; families are a catalog's category codes). */
  private familyId(family: string | null): number {
    if (family === null) return NO_FAMILY;
    let id = this.familyIds.get(family);
    if (id === undefined) {
      id = this.familyWindowMs.length;
      this.familyIds.set(family, id);
      this.familyWindowMs.push(this.windowMsFor(family));
    }
    return id;
  }

  /** Score the query against windowed report `seq` (its features read from the store only). */
  private score(q: Query, seq: number, windowMs: number): LinkScore {
    this.counters.scored++;
    const st = this.store;
    const f = st.feat;
    const o = st.slot(seq);
    return this.scoreAt(q, st.slab, st.partAt(seq), f[o + F_HEAD_NORM] as number, f[o + F_BODY_NORM] as number, f[o + F_LON] as number, f[o + F_LAT] as number, f[o + F_CONCEPTS] as number, f[o + F_TIME] as number, windowMs, this.prune);
  }

  /**
   * Score the query against a report whose variable part (`store.ts` layout) is at `part[at..]`;
   * `lon`/`lat` NaN when it has no point.
   */
  private scoreAt(q: Query, part: Uint32Array, at: number, cHeadNorm: number, cBodyNorm: number, lon: number, lat: number, cConcepts: number, cTime: number, windowMs: number, prune: boolean): LinkScore {
    const cfg = this.config;
    const nHead = part[at] as number;
    const nBody = part[at + 1] as number;
    const sets = this.scoreSets;
    if (this.scoreSetsFor !== q) {
      sets.head.assign(q.head, q.wHead, q.headNorm);
      sets.body.assign(q.body, q.wBody, q.bodyNorm);
      this.scoreSetsFor = q;
    }
    const head = sets.head.cosineAt(part, at + HEADER, nHead, cHeadNorm);
    const body = sets.body.cosineAt(part, at + HEADER + nHead, nBody, cBodyNorm);
    const words = Math.max(body, 0.5 * (head + body), 0.85 * head);
    const concept = conceptScore(q.concepts, cConcepts);
    const dt = Math.abs(q.input.timeMs - cTime);
    const time = Math.max(0, 1 - dt / windowMs);
    // Most candidates share only common words: when the text is below every decision's floor and
    // no concept agreement can raise it, the rest (places, regions, distance, vetoes) is not
    // computed. Every decision reads the (rounded) text first and drops such a link; its total
    // is left at 0 and it is never published (`explain` computes everything).
    if (prune && r3(words) < this.textFloor && !(concept !== null && concept >= 0.5)) {
      return { text: r3(words), head: r3(head), body: r3(body), time: r3(time), total: 0 };
    }
    // The same problem in other words (停水 / 自来水停了) counts as some text similarity; two
    // different known problems (路灯 / 井盖) damp the link unless the words themselves agree.
    // Only at one place: a shared concept alone (two parking complaints across the city) is no link.
    const place = placeScoreAt(q.places, part, at + HEADER + nHead + nBody, part[at + 2] as number);
    const p = q.input.point;
    const metres = p !== null && !Number.isNaN(lon) ? haversine(p, { lon, lat }) : null;
    const distance = metres !== null ? Math.max(0, 1 - metres / cfg.maxDistanceM) : null;
    const samePlace = (place !== null && place >= 0.5) || (place === null && distance !== null && distance >= 0.5);
    const agree = concept !== null && concept >= 0.5;
    const text = agree && samePlace ? Math.max(words, cfg.conceptText * (concept as number)) : words;
    // One place, weak words: the place alone does not make two posts one issue (油烟 and 楼板开裂
    // at one estate share the estate, not the problem), unless their problem concepts agree.
    const placeCounts = place !== null && (text >= cfg.placeMinText || agree);
    let num = cfg.weights.text * text;
    let den = cfg.weights.text;
    if (place !== null && placeCounts) {
      num += cfg.weights.place * place;
      den += cfg.weights.place;
    }
    if (distance !== null) {
      num += cfg.weights.distance * distance;
      den += cfg.weights.distance;
    }
    // Hard evidence against: two reports naming different specific places (a swapped estate,
    // school or firm in one template) or different regions (J11市's policy is not K市's) are
    // about different things, however alike the words; two different known problems (油烟 vs
    // 楼板开裂 at one estate) damp the link unless the words themselves agree.
    const regionClash = regionConflictAt(q.regions, part, at + HEADER + nHead + nBody, part[at + 2] as number);
    let conflict = place !== null && place === 0 ? cfg.placeConflictFactor : 1;
    if (regionClash === true) conflict *= cfg.placeConflictFactor;
    // Two points kilometres apart are two incidents, whatever the template says.
    if (metres !== null && metres > cfg.farDistanceM) conflict *= cfg.placeConflictFactor;
    // The problem decides between reports at one place; elsewhere a policy question that mentions
    // 社保 in passing is not another problem, and the place or the words decide.
    const conceptClash = samePlace ? conceptConflict(q.concepts, cConcepts) : conceptConflict(q.concepts & LOCAL_CONCEPTS, cConcepts & LOCAL_CONCEPTS);
    if (conceptClash === true && words < cfg.conceptConflictMaxText) conflict *= cfg.conceptConflictFactor;
    // A template post that names an estate, school or firm the other does not mention at all is
    // about another place (the swapped name may have no suffix to extract).
    if (placeMentionedAt(q.places, q.head, q.body, part, at) === false) conflict *= cfg.placeUnmentionedFactor;
    const total = (num / den) * conflict * (0.9 + 0.1 * time);
    const s: LinkScore = { text: r3(text), head: r3(head), body: r3(body), time: r3(time), total: r3(total) };
    if (place !== null) s.place = r3(place);
    if (distance !== null) s.distance = r3(distance);
    if (concept !== null) s.concept = r3(concept);
    if (regionClash !== null) s.region = regionClash ? 0 : 1;
    if (conflict < 1) s.veto = r3(conflict);
    return s;
  }

  private blocks(input: ClusterInput): { query: number[]; index: number[]; label: string } {
    const query: number[] = [];
    const index: number[] = [];
    let label = 'u';
    if (input.point !== null) {
      const cell = this.config.geoCellMeters;
      const y = Math.floor((input.point.lat * METRES_PER_DEG) / cell);
      const x = Math.floor((input.point.lon * METRES_PER_DEG * LON_SCALE) / cell);
      label = `g:${x}:${y}`;
      index.push(fnv1a(label) & BLOCK_MASK);
      // The 2×2 cells nearest the point (its own cell and the neighbours on its quadrant's side):
      // everything within half a cell in any direction, at 4 lookups instead of 9.
      const fx = (input.point.lon * METRES_PER_DEG * LON_SCALE) / cell - x;
      const fy = (input.point.lat * METRES_PER_DEG) / cell - y;
      const sx = fx < 0.5 ? -1 : 1;
      const sy = fy < 0.5 ? -1 : 1;
      for (const dx of [0, sx]) {
        for (const dy of [0, sy]) query.push(fnv1a(`g:${x + dx}:${y + dy}`) & BLOCK_MASK);
      }
    }
    const j = input.jurisdiction;
    const jk = j?.street ? `j:${j.district ?? ''}/${j.street}` : j?.district ? `j:${j.district}` : null;
    if (jk !== null) {
      const h = fnv1a(jk) & BLOCK_MASK;
      index.push(h);
      query.push(h);
      if (label === 'u') label = jk;
    }
    if (index.length === 0) {
      const h = fnv1a('u') & BLOCK_MASK;
      index.push(h);
      query.push(h);
    }
    return { query: [...new Set(query)], index: [...new Set(index)], label };
  }

  private insert(rec: Rec, q: Query, blockIndex: number[]): void {
    const cap = this.config.candidates.postingCap;
    this.recs.push(rec);
    this.store.put(rec.seq, this.base, q, q.input.point, this.channelId(rec.channel), this.familyId(rec.family), rec.time);
    this.byId.set(rec.id, rec);
    this.liveCount++;
    // document frequencies over head ∪ body
    this.df.incrementMany(this.unionOf(q.head, q.body, 0, q.body.length));
    const nKeys = q.indexed.length * blockIndex.length;
    if (this.keyScratch.length < nKeys) this.keyScratch = new Float64Array(nKeys * 2);
    const keys = this.keyScratch;
    let k = 0;
    for (const code of q.indexed) {
      for (const bh of blockIndex) keys[k++] = bh * TWO32 + code;
    }
    this.postings.pushMany(keys, nKeys, rec.seq);
    for (const p of q.places) {
      if (!p.fine) continue;
      const key = hash53(p.core);
      let ring = this.placePostings.get(key);
      if (ring === undefined) {
        ring = new Int32Array(cap * 2 + 1);
        this.placePostings.set(key, ring);
      }
      ringPush(ring, rec.seq);
    }
    if (q.exactKey !== 0) {
      // The entry names the first report with this text; re-seeing the text keeps it alive.
      const prev = this.exact.get(q.exactKey);
      if (prev !== undefined) this.exact.delete(q.exactKey);
      this.exact.set(
        q.exactKey,
        prev !== undefined
          ? { ...prev, time: rec.time }
          : { time: rec.time, id: rec.id, token: rec.token, cluster: rec.cluster, channel: rec.channel, dupOf: rec.dupOf, point: q.input.point },
      );
    }
    if (rec.token !== null) {
      let mine = this.byReporter.get(rec.token);
      if (mine === undefined) {
        mine = [];
        this.byReporter.set(rec.token, mine);
      }
      mine.push(rec.seq);
      if (mine.length > 16) mine.shift();
    }
    this.postings.sweep(16, this.base);
    this.sweepPlaces(2);
  }

  /** The sorted union of `a` and `b[from..to)` (head and body codes), a view of a scratch array. */
  private unionOf(a: Uint32Array, b: Uint32Array, from: number, to: number): Uint32Array {
    const max = a.length + to - from;
    if (this.unionScratch.length < max) this.unionScratch = new Uint32Array(max * 2);
    const union = this.unionScratch;
    let n = 0;
    forUnion(a, b, from, to, (c) => {
      union[n++] = c;
    });
    return union.subarray(0, n);
  }

  /** Drop reports that left the window (by the watermark, the latest report time seen). */
  private evict(): void {
    const limit = this.watermark - this.horizonMs;
    while (this.base < this.nextSeq) {
      const r = this.recs[this.base - this.recsOffset];
      if (r !== undefined && r.time >= limit) break;
      this.recs[this.base - this.recsOffset] = undefined;
      this.base++;
      if (r === undefined) continue;
      this.liveCount--;
      if (this.byId.get(r.id) === r) this.byId.delete(r.id);
      const slab = this.store.slab;
      const at = this.store.partAt(r.seq);
      const nHead = slab[at] as number;
      const bodyAt = at + HEADER + nHead;
      this.df.decrementMany(this.unionOf(slab.subarray(at + HEADER, bodyAt), slab, bodyAt, bodyAt + (slab[at + 1] as number)));
      const root = find(r.cluster);
      root.live--;
      const k = root.reporters.get(r.reporterKey) ?? 1;
      if (k <= 1) root.reporters.delete(r.reporterKey);
      else root.reporters.set(r.reporterKey, k - 1);
      if (r.token !== null) {
        const mine = this.byReporter.get(r.token);
        if (mine !== undefined) {
          while (mine.length > 0 && (mine[0] as number) < this.base) mine.shift();
          if (mine.length === 0) this.byReporter.delete(r.token);
        }
      }
    }
    const dead = this.base - this.recsOffset;
    if (dead > 1024 && dead * 2 > this.recs.length) {
      this.recs = this.recs.slice(dead);
      this.recsOffset = this.base;
    }
    const exactLimit = this.watermark - this.config.exactWindowHours * HOUR;
    for (const [k, e] of this.exact) {
      if (e.time >= exactLimit) break;
      this.exact.delete(k);
    }
  }

  /** Incremental sweep of place lists whose reports all left the window: flat cost per report. */
  private sweepPlaces(steps: number): void {
    for (let i = 0; i < steps; i++) {
      if (this.placeSweeper === null) this.placeSweeper = this.placePostings.entries();
      const n = this.placeSweeper.next();
      if (n.done === true) {
        this.placeSweeper = null;
        return;
      }
      const [key, ring] = n.value;
      if (newest(ring) < this.base) this.placePostings.delete(key);
    }
  }

  private findChain(token: string, rootId: string): Chain | null {
    const mine = this.byReporter.get(token);
    if (mine === undefined) return null;
    for (const s of mine) {
      const c = this.rec(s);
      if (c?.chain?.rootId === rootId) return c.chain;
      if (c !== undefined && c.id === rootId) {
        if (c.chain === null) c.chain = { rootId, count: 0 };
        return c.chain;
      }
    }
    return null;
  }

  private adoptCluster(id: string, input: ClusterInput, block: string): ClusterState {
    const known = this.restoring?.get(id);
    if (known !== undefined) return find(known);
    const primaryId = id.startsWith('cl_') ? id.slice(3) : input.ticketId;
    const primaryTime =
      primaryId === input.ticketId ? input.timeMs : ULID_PATTERN.test(primaryId) ? ulidTime(primaryId) : input.timeMs;
    const c = newCluster(primaryId, primaryTime, block);
    c.id = id;
    this.restoring?.set(id, c);
    return c;
  }

  private join(c: ClusterState, t: number, reporterKey: string): void {
    c.live++;
    c.reporters.set(reporterKey, (c.reporters.get(reporterKey) ?? 0) + 1);
    hotInsert(c.hot, reporterKey, t, this.hotListCap);
  }

  /**
   * Absorb `from` into `into`: counts and hot history move; `from` points to `into` from now on.
   * The smaller reporter map is folded into the larger one (amortised O(log n) per reporter).
   */
  private merge(into: ClusterState, from: ClusterState): void {
    const a = find(into);
    const b = find(from);
    if (a === b) return;
    b.mergedInto = a;
    a.live += b.live;
    if (b.reporters.size > a.reporters.size) {
      const t = a.reporters;
      a.reporters = b.reporters;
      b.reporters = t;
    }
    for (const [k, v] of b.reporters) a.reporters.set(k, (a.reporters.get(k) ?? 0) + v);
    b.reporters = new Map();
    for (const e of b.hot) hotInsert(a.hot, e.r, e.t, this.hotListCap);
    b.hot = [];
    if (b.lastHotAt !== null && (a.lastHotAt === null || b.lastHotAt > a.lastHotAt)) a.lastHotAt = b.lastHotAt;
  }

  /** Distinct reporters of the cluster within the hot window ending at `t` (exact up to the list cap). */
  private recentReporters(c: ClusterState, t: number): number {
    const limit = t - this.config.hotWindowHours * HOUR;
    let n = 0;
    while (n < c.hot.length && (c.hot[n] as HotEntry).t >= limit) n++;
    return n;
  }

  private event(
    type: ClusterEvent['type'],
    input: ClusterInput,
    c: ClusterState,
    link: ClusterEvent['link'],
    absorbed: ClusterState[],
  ): ClusterEvent {
    return {
      schemaVersion: 'cluster-event/v1',
      id: deterministicUlid(input.timeMs, `${input.ticketId}:${type}:${c.id}`),
      type,
      at: new Date(input.timeMs).toISOString(),
      clusterId: c.id,
      primaryTicketId: c.primaryId,
      ticketId: input.ticketId,
      size: c.live,
      reporterCount: c.reporters.size,
      mergedFrom: absorbed.slice(0, 64).map((x) => x.id),
      link,
      block: c.block.slice(0, 128),
    };
  }
}

/** Highest weight (rarest bigram) first, then the lower code: a total order, so ties sort the same everywhere. */
function rarer(wa: number, ca: number, wb: number, cb: number): boolean {
  return wa > wb || (wa === wb && ca < cb);
}

/** The `k` rarest of the first `n` codes (`rarer` order, rarest first), by insertion into a sorted list of at most k. */
function rarest(codes: ArrayLike<number>, weights: ArrayLike<number>, n: number, k: number): { codes: number[]; weights: number[] } {
  const oc: number[] = [];
  const ow: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = codes[i] as number;
    const w = weights[i] as number;
    if (oc.length === k && !rarer(w, c, ow[k - 1] as number, oc[k - 1] as number)) continue;
    let j = oc.length === k ? k - 1 : oc.length;
    while (j > 0 && rarer(w, c, ow[j - 1] as number, oc[j - 1] as number)) {
      oc[j] = oc[j - 1] as number;
      ow[j] = ow[j - 1] as number;
      j--;
    }
    oc[j] = c;
    ow[j] = w;
  }
  return { codes: oc, weights: ow };
}

/** Two lists in `rarer` order with no code in common, merged into one. */
function mergeByRarity(a: { codes: number[]; weights: number[] }, b: { codes: number[]; weights: number[] }): { codes: number[]; weights: number[] } {
  const codes: number[] = [];
  const weights: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.codes.length || j < b.codes.length) {
    const fromA = j >= b.codes.length || (i < a.codes.length && rarer(a.weights[i] as number, a.codes[i] as number, b.weights[j] as number, b.codes[j] as number));
    if (fromA) {
      codes.push(a.codes[i] as number);
      weights.push(a.weights[i++] as number);
    } else {
      codes.push(b.codes[j] as number);
      weights.push(b.weights[j++] as number);
    }
  }
  return { codes, weights };
}

function newCluster(primaryId: string, primaryTime: number, block: string): ClusterState {
  return {
    id: `cl_${primaryId}`.slice(0, 64),
    primaryId,
    primaryTime,
    primarySeq: -1,
    mergedInto: null,
    block,
    live: 0,
    reporters: new Map(),
    hot: [],
    lastHotAt: null,
  };
}

function find(c: ClusterState): ClusterState {
  let r = c;
  while (r.mergedInto !== null) r = r.mergedInto;
  let x = c;
  while (x.mergedInto !== null && x.mergedInto !== r) {
    const next: ClusterState = x.mergedInto;
    x.mergedInto = r;
    x = next;
  }
  return r;
}

/** Earliest primary first (time, then id): the survivor of a merge keeps the earliest primary. */
function comparePrimary(a: ClusterState, b: ClusterState): number {
  if (a.primaryTime !== b.primaryTime) return a.primaryTime - b.primaryTime;
  return a.primaryId < b.primaryId ? -1 : a.primaryId > b.primaryId ? 1 : 0;
}

/** Calls `f` once per code of the union of sorted `a` and sorted `b[from..to)`. */
function forUnion(a: Uint32Array, b: Uint32Array, from: number, to: number, f: (c: number) => void): void {
  let i = 0;
  let j = from;
  while (i < a.length || j < to) {
    const x = i < a.length ? (a[i] as number) : Number.POSITIVE_INFINITY;
    const y = j < to ? (b[j] as number) : Number.POSITIVE_INFINITY;
    if (x === y) {
      f(x);
      i++;
      j++;
    } else if (x < y) {
      f(x);
      i++;
    } else {
      f(y);
      j++;
    }
  }
}

function ringPush(ring: Int32Array, seq: number): void {
  const cap = ring.length - 1;
  const n = ring[0] as number;
  ring[1 + (n % cap)] = seq;
  ring[0] = n + 1;
}

function newest(ring: Int32Array): number {
  const cap = ring.length - 1;
  const n = ring[0] as number;
  return n === 0 ? -1 : (ring[1 + ((n - 1) % cap)] as number);
}

/** A fixed 32-bit integer mix (the sampling order of body bigrams). */
function mix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Great-circle distance in metres. */
export function haversine(a: { lon: number; lat: number }, b: { lon: number; lat: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(s)));
}

function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Insert or refresh `r` at time `t` in a newest-first list of distinct reporters, capped. O(cap). */
function hotInsert(list: HotEntry[], r: string, t: number, cap: number): void {
  const at = list.findIndex((e) => e.r === r);
  if (at >= 0) {
    if ((list[at] as HotEntry).t >= t) return;
    list.splice(at, 1);
  }
  let i = 0;
  while (i < list.length && (list[i] as HotEntry).t > t) i++;
  if (i >= cap) return;
  list.splice(i, 0, { r, t });
  if (list.length > cap) list.length = cap;
}

/** Index of `x` in a sorted typed array, or -1. */
function sortedIndex(a: Uint32Array, x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid] as number;
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The best `k` of the first `n` candidates (`seqs[i]` with accumulated weight `ws[i]`) by weight,
 * ties to the most recent (highest seq), best first. Linear selection of the k-th weight (no sort
 * of the unbounded list), then a sort of at most k.
 */
function topCandidates(seqs: number[], ws: Float64Array, n: number, k: number, scratch: { buf: Float64Array }): number[] {
  let picked: number[];
  if (n <= k) picked = Array.from({ length: n }, (_, i) => i);
  else {
    if (scratch.buf.length < n) scratch.buf = new Float64Array(n * 2);
    const a = scratch.buf;
    a.set(ws.subarray(0, n));
    const thr = kthLargest(a, n, k);
    picked = [];
    for (let i = 0; i < n; i++) if ((ws[i] as number) > thr) picked.push(i);
    if (picked.length < k) {
      const ties: number[] = [];
      for (let i = 0; i < n; i++) if (ws[i] === thr) ties.push(i);
      ties.sort((x, y) => (seqs[y] as number) - (seqs[x] as number));
      for (const i of ties) {
        if (picked.length >= k) break;
        picked.push(i);
      }
    }
  }
  picked.sort((x, y) => (ws[y] as number) - (ws[x] as number) || (seqs[y] as number) - (seqs[x] as number));
  return picked.map((i) => seqs[i] as number);
}

/** The k-th largest of a[0..n) (quickselect, Hoare partition; reorders a). */
function kthLargest(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) > pivot) i++;
      while ((a[j] as number) < pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target] as number;
  }
  return a[target] as number;
}

/**
 * A title that is only the channel's category name (110's 噪音扰民, a city-management case type
 * 占道经营), or empty once normalised: it names a category, not an incident, so it is dropped
 * before comparing (two unrelated hand-overs of one category would otherwise share a head).
 */
export function isCategoryTitle(title: string, categoryName: string | null): boolean {
  const t = normalizeText(title);
  if (t.length === 0) return true;
  if (categoryName === null) return false;
  const c = normalizeText(categoryName);
  return c.length > 0 && (t === c || (t.length <= c.length + 2 && t.includes(c)) || (c.length <= t.length + 2 && c.includes(t)));
}

/** Whether the report was filed by staff (`STAFF_ROLES`). */
export function isStaff(input: ClusterInput): boolean {
  return input.reporterRole !== undefined && input.reporterRole !== null && STAFF_ROLES.has(input.reporterRole);
}
