/**
 * Clustering configuration with documented defaults. Every threshold is explained in
 * docs/clustering.md; the defaults were chosen on the synthetic city and the TipDM message-board
 * data (see that page for the figures).
 */
export interface ClusterConfig {
  /** How far back a new report is compared with earlier ones (hours). Default 168 (7 days). */
  windowHours: number;
  /**
   * Per category family (catalog category or subcategory code) window overrides, in hours; e.g.
   * `{ "0203": 720 }` keeps construction-noise reports comparable for 30 days. A pair uses the
   * new report's family window (or the earlier report's when the new one has no family).
   */
  windowHoursByFamily: Record<string, number>;
  /**
   * Identical normalised texts join one cluster within this many hours, whatever the similarity
   * window (copy-pasted petitions are re-posted months later). Default 720 (30 days).
   */
  exactWindowHours: number;

  /** Cross-channel duplicate: at most this far apart in time (hours). Default 72. */
  duplicateWindowHours: number;
  /** Cross-channel duplicate: minimum text similarity (body cosine). Default 0.8. */
  duplicateMinText: number;
  /** Cross-channel duplicate: at most this far apart when both have a point (metres). Default 500. */
  duplicateMaxDistanceM: number;

  /**
   * A link joins a report to a cluster when its total score reaches this. Default 0.13: the
   * IDF-weighted bigram cosine of two residents' own words about one issue is low (median ≈ 0.2),
   * while unrelated reports score ≈ 0.01 (docs/clustering.md).
   */
  linkThreshold: number;
  /** A report bridges (merges) a second cluster only with a link at least this strong. Default 0.26. */
  mergeThreshold: number;
  /** No link below this text similarity, whatever place and distance say. Default 0.1. */
  minText: number;

  /** Same reporter: minimum total score to count as a repeat complaint (一人多诉). Default 0.2. */
  repeatThreshold: number;
  /** Same reporter: how far back repeats are looked for (hours). Default 720 (30 days). */
  repeatWindowHours: number;

  /** Hot issue: this many distinct reporters (N)… Default 5. */
  hotReporters: number;
  /** …within this many hours (T). Default 24. */
  hotWindowHours: number;

  /** Geo blocking cell edge (metres); a report is compared with its cell and the 8 around it. Default 500. */
  geoCellMeters: number;
  /** Distance score falls linearly from 1 at 0 m to 0 at this distance (metres). Default 1000. */
  maxDistanceM: number;

  /**
   * Total multiplied by this when both reports name specific places and none match: two estates
   * with the same broken street light are two issues. Default 0.1 (a near veto).
   */
  placeConflictFactor: number;

  /** Weights of the score components in the total (renormalised over the components present). */
  weights: { text: number; place: number; distance: number };

  /** Candidate generation caps: they bound the cost per report whatever the window holds. */
  candidates: {
    /** Rarest bigrams of a new report looked up in the index. Default 24. */
    queryBigrams: number;
    /** Most recent reports kept per (block, bigram) posting list. Default 32. */
    postingCap: number;
    /** Reports scored in full per new report (best by shared-bigram weight). Default 48. */
    maxScored: number;
    /** Bigrams of a report indexed (title/head first, then body). Default 96. */
    indexBigrams: number;
  };
  /** Characters of normalised body text compared (long petitions are cut). Default 400. */
  bodyChars: number;
  /** Characters of normalised body used as the "head" when a report has no title. Default 40. */
  headChars: number;
}

export const DEFAULT_CLUSTER_CONFIG: ClusterConfig = {
  windowHours: 168,
  windowHoursByFamily: {},
  exactWindowHours: 720,
  duplicateWindowHours: 72,
  duplicateMinText: 0.8,
  duplicateMaxDistanceM: 500,
  linkThreshold: 0.13,
  mergeThreshold: 0.26,
  minText: 0.1,
  repeatThreshold: 0.2,
  repeatWindowHours: 720,
  hotReporters: 5,
  hotWindowHours: 24,
  geoCellMeters: 500,
  maxDistanceM: 1000,
  placeConflictFactor: 0.1,
  weights: { text: 0.7, place: 0.2, distance: 0.1 },
  candidates: { queryBigrams: 24, postingCap: 32, maxScored: 48, indexBigrams: 96 },
  bodyChars: 400,
  headChars: 40,
};

/** A partial configuration: nested objects may be partial too. */
export type ClusterConfigInput = Partial<Omit<ClusterConfig, 'weights' | 'candidates'>> & {
  weights?: Partial<ClusterConfig['weights']>;
  candidates?: Partial<ClusterConfig['candidates']>;
};

/** Defaults overlaid with `input`; throws on a value that would make the engine misbehave. */
export function resolveClusterConfig(input: ClusterConfigInput = {}): ClusterConfig {
  const c: ClusterConfig = {
    ...DEFAULT_CLUSTER_CONFIG,
    ...input,
    windowHoursByFamily: { ...DEFAULT_CLUSTER_CONFIG.windowHoursByFamily, ...(input.windowHoursByFamily ?? {}) },
    weights: { ...DEFAULT_CLUSTER_CONFIG.weights, ...(input.weights ?? {}) },
    candidates: { ...DEFAULT_CLUSTER_CONFIG.candidates, ...(input.candidates ?? {}) },
  };
  const positive: [string, number][] = [
    ['windowHours', c.windowHours],
    ['exactWindowHours', c.exactWindowHours],
    ['duplicateWindowHours', c.duplicateWindowHours],
    ['repeatWindowHours', c.repeatWindowHours],
    ['hotWindowHours', c.hotWindowHours],
    ['geoCellMeters', c.geoCellMeters],
    ['maxDistanceM', c.maxDistanceM],
    ['candidates/queryBigrams', c.candidates.queryBigrams],
    ['candidates/postingCap', c.candidates.postingCap],
    ['candidates/maxScored', c.candidates.maxScored],
    ['candidates/indexBigrams', c.candidates.indexBigrams],
    ['bodyChars', c.bodyChars],
    ['headChars', c.headChars],
  ];
  for (const [k, v] of Object.entries(c.windowHoursByFamily)) positive.push([`windowHoursByFamily/${k}`, v]);
  for (const [path, v] of positive) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`cluster config: /${path} must be > 0 (got ${v})`);
  }
  if (!Number.isInteger(c.hotReporters) || c.hotReporters < 1) {
    throw new Error(`cluster config: /hotReporters must be an integer >= 1 (got ${c.hotReporters})`);
  }
  return c;
}
