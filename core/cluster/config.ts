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

  /**
   * Cross-channel duplicate: at most this far apart in time (hours). Default 12: a hand-over or a
   * mirror arrives within hours; the same resident again a day later is a repeat (一人多诉).
   */
  duplicateWindowHours: number;
  /**
   * Cross-channel duplicate by the same reporter within this many hours: one incident told
   * twice (a 110 hand-over minutes after the caller's 12345 call), accepted with the text of any
   * link (`minText`) unless the places or problems conflict. Default 2.
   */
  duplicateSameReporterHours: number;
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
  /**
   * Same reporter, no shared place, point or problem concept: a repeat needs at least this text
   * similarity (one resident's posts on different topics share a style). Default 0.4.
   */
  repeatMinText: number;
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
   * Two reports with points farther apart than this (metres) are two incidents: the total is
   * multiplied by `placeConflictFactor` (two inspectors' identical templates on one long road).
   * Default 2000.
   */
  farDistanceM: number;

  /**
   * Total multiplied by this when both reports name specific places and none match: two estates
   * with the same broken street light are two issues. Default 0.1 (a near veto).
   */
  placeConflictFactor: number;

  /**
   * Total multiplied by this when exactly one report names a specific place and the other does
   * not mention it at all (a template post with a swapped name the extractor did not see).
   * Default 0.1.
   */
  placeUnmentionedFactor: number;
  /**
   * A shared place counts in the total only when the text reaches this (or the problem concepts
   * agree): one estate with two problems is two issues. Default 0.15.
   */
  placeMinText: number;
  /**
   * A shared problem concept (lexicon in text.ts: 停水 / 自来水停了) lifts the text component to at
   * least this. Default 0.3.
   */
  conceptText: number;
  /**
   * Total multiplied by this when both reports name known problems and none is shared (路灯 vs 井盖
   * at one estate)… Default 0.2.
   */
  conceptConflictFactor: number;
  /** …unless their words agree at least this much (the lexicon is incomplete). Default 0.7. */
  conceptConflictMaxText: number;

  /** Weights of the score components in the total (renormalised over the components present). */
  weights: { text: number; place: number; distance: number };

  /** Candidate generation caps: they bound the cost per report whatever the window holds. */
  candidates: {
    /** Rarest bigrams of a new report looked up in the index. Default 24. */
    queryBigrams: number;
    /** Most recent reports kept per (block, bigram) posting list (place lists keep twice as many). Default 16. */
    postingCap: number;
    /** Reports scored in full per new report (best by shared-bigram weight). Default 48. */
    maxScored: number;
    /**
     * Candidates scored first; the rest, up to maxScored, only when at least `moreWhenPassing` of
     * them reach the lowest text similarity any decision accepts (a dense area). Default 32.
     */
    firstScored: number;
    /** See firstScored. Default 4. */
    moreWhenPassing: number;
    /** Bigrams of a report indexed (title/head first, then body). Default 96. */
    indexBigrams: number;
    /**
     * Posting entries read per new report: bigrams are read rarest first, each in every block, and
     * reading stops after the bigram that reaches the budget. 0: no budget. Default 128.
     */
    entryBudget: number;
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
  duplicateWindowHours: 12,
  duplicateSameReporterHours: 2,
  duplicateMinText: 0.8,
  duplicateMaxDistanceM: 500,
  linkThreshold: 0.13,
  mergeThreshold: 0.26,
  minText: 0.1,
  repeatThreshold: 0.2,
  repeatMinText: 0.4,
  repeatWindowHours: 720,
  hotReporters: 5,
  hotWindowHours: 24,
  geoCellMeters: 500,
  maxDistanceM: 1000,
  farDistanceM: 2000,
  placeConflictFactor: 0.1,
  placeUnmentionedFactor: 0.1,
  placeMinText: 0.15,
  conceptText: 0.3,
  conceptConflictFactor: 0.2,
  conceptConflictMaxText: 0.7,
  weights: { text: 0.7, place: 0.2, distance: 0.1 },
  candidates: { queryBigrams: 24, postingCap: 16, maxScored: 48, firstScored: 32, moreWhenPassing: 4, indexBigrams: 96, entryBudget: 128 },
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
    ['duplicateSameReporterHours', c.duplicateSameReporterHours],
    ['repeatWindowHours', c.repeatWindowHours],
    ['hotWindowHours', c.hotWindowHours],
    ['geoCellMeters', c.geoCellMeters],
    ['maxDistanceM', c.maxDistanceM],
    ['farDistanceM', c.farDistanceM],
    ['candidates/queryBigrams', c.candidates.queryBigrams],
    ['candidates/postingCap', c.candidates.postingCap],
    ['candidates/maxScored', c.candidates.maxScored],
    ['candidates/indexBigrams', c.candidates.indexBigrams],
    ['candidates/firstScored', c.candidates.firstScored],
    ['bodyChars', c.bodyChars],
    ['headChars', c.headChars],
  ];
  for (const [k, v] of Object.entries(c.windowHoursByFamily)) positive.push([`windowHoursByFamily/${k}`, v]);
  for (const [path, v] of positive) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`cluster config: /${path} must be > 0 (got ${v})`);
  }
  if (!Number.isInteger(c.candidates.moreWhenPassing) || c.candidates.moreWhenPassing < 0) {
    throw new Error(`cluster config: /candidates/moreWhenPassing must be an integer >= 0 (got ${c.candidates.moreWhenPassing})`);
  }
  if (!Number.isInteger(c.candidates.entryBudget) || c.candidates.entryBudget < 0) {
    throw new Error(`cluster config: /candidates/entryBudget must be an integer >= 0 (got ${c.candidates.entryBudget})`);
  }
  if (!Number.isInteger(c.hotReporters) || c.hotReporters < 1) {
    throw new Error(`cluster config: /hotReporters must be an integer >= 1 (got ${c.hotReporters})`);
  }
  return c;
}

/** A JSON Schema (2020-12) object node. */
type SchemaNode = Record<string, unknown>;

const num = (description: string, dflt: number, extra: SchemaNode = { exclusiveMinimum: 0 }): SchemaNode => ({
  type: 'number',
  description,
  default: dflt,
  ...extra,
});
const D = DEFAULT_CLUSTER_CONFIG;
const unit = { minimum: 0, maximum: 1 };

/**
 * JSON Schema (draft 2020-12) of the `clustering:` section of hub.yaml: every property has a
 * description and its default, unknown properties are rejected (`additionalProperties: false`).
 * Validate with Ajv 2020 (`new Ajv2020({ allErrors: true })`): errors carry the data path
 * (`/clustering/candidates/postingCap`). Structural only: `resolveClusterConfig` still checks
 * the values the engine cannot work with (and is what the engine uses).
 */
export const clusterConfigSchema: SchemaNode = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://intake-hub.dev/schemas/hub-config/clustering.v1.json',
  title: 'ClusteringConfig',
  description:
    'Dedup (cross-channel duplicates), repeat complaints (一人多诉) and clustering (多人一诉) settings; every property is optional and defaults as documented in docs/clustering.md.',
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    windowHours: num('How far back a new report is compared with earlier ones (hours).', D.windowHours),
    windowHoursByFamily: {
      type: 'object',
      description:
        'Per category family (catalog category or subcategory code) window overrides in hours, e.g. {"0203": 720}; a pair uses the new report\'s family window.',
      default: {},
      propertyNames: { type: 'string', minLength: 1, maxLength: 64 },
      additionalProperties: { type: 'number', exclusiveMinimum: 0 },
    },
    exactWindowHours: num('Identical normalised texts join one cluster within this many hours, whatever the similarity window.', D.exactWindowHours),
    duplicateWindowHours: num('Cross-channel duplicate: at most this far apart in time (hours); later, the same resident is a repeat.', D.duplicateWindowHours),
    duplicateSameReporterHours: num(
      'Cross-channel duplicate by the same reporter within this many hours: one incident told twice, accepted with the text of any link unless places or problems conflict.',
      D.duplicateSameReporterHours,
    ),
    duplicateMinText: num('Cross-channel duplicate between two anonymous reports: minimum text similarity (the same contact needs half of it).', D.duplicateMinText, unit),
    duplicateMaxDistanceM: num('Cross-channel duplicate: at most this far apart when both have a point (metres).', D.duplicateMaxDistanceM),
    linkThreshold: num('A link joins a report to a cluster when its total score reaches this.', D.linkThreshold, unit),
    mergeThreshold: num('A report bridges (merges) a second cluster, or joins a cluster of 3+ through a single link, only with a link at least this strong.', D.mergeThreshold, unit),
    minText: num('No link below this text similarity, whatever place and distance say.', D.minText, unit),
    repeatThreshold: num('Same reporter: minimum total score to count as a repeat complaint (一人多诉).', D.repeatThreshold, unit),
    repeatMinText: num('Same reporter with no shared place, point or problem concept: minimum text similarity for a repeat.', D.repeatMinText, unit),
    repeatWindowHours: num('Same reporter: how far back repeats are looked for (hours).', D.repeatWindowHours),
    hotReporters: {
      type: 'integer',
      minimum: 1,
      description: 'Hot issue: this many distinct reporters (N) in one cluster within hotWindowHours fire a hot event.',
      default: D.hotReporters,
    },
    hotWindowHours: num('Hot issue: the window T (hours) for hotReporters; a cluster fires at most once per T.', D.hotWindowHours),
    geoCellMeters: num('Geo blocking cell edge (metres); a report is compared with its cell and the 8 around it.', D.geoCellMeters),
    maxDistanceM: num('The distance score falls linearly from 1 at 0 m to 0 at this distance (metres).', D.maxDistanceM),
    farDistanceM: num('Reports with points farther apart than this (metres) are two incidents (total multiplied by placeConflictFactor).', D.farDistanceM),
    placeConflictFactor: num('Total multiplied by this when both reports name specific places and none match.', D.placeConflictFactor, unit),
    placeUnmentionedFactor: num('Total multiplied by this when one report names a specific place that the other does not mention at all.', D.placeUnmentionedFactor, unit),
    placeMinText: num('A shared place counts in the total only when the text similarity reaches this (or the problem concepts agree).', D.placeMinText, unit),
    conceptText: num('A shared problem concept (lexicon) at one place lifts the text component to at least this.', D.conceptText, unit),
    conceptConflictFactor: num('Total multiplied by this when both reports name known problems that mostly differ (concept Jaccard < 0.5)…', D.conceptConflictFactor, unit),
    conceptConflictMaxText: num('…unless their words agree at least this much.', D.conceptConflictMaxText, unit),
    weights: {
      type: 'object',
      additionalProperties: false,
      description: 'Weights of the score components in the total (renormalised over the components present).',
      default: { ...D.weights },
      properties: {
        text: num('Weight of the text component.', D.weights.text, { minimum: 0 }),
        place: num('Weight of the place-name component.', D.weights.place, { minimum: 0 }),
        distance: num('Weight of the distance component.', D.weights.distance, { minimum: 0 }),
      },
    },
    candidates: {
      type: 'object',
      additionalProperties: false,
      description: 'Candidate generation caps: they bound the cost per report whatever the window holds.',
      default: { ...D.candidates },
      properties: {
        queryBigrams: { type: 'integer', minimum: 1, description: 'Rarest non-head bigrams of a new report looked up in the index.', default: D.candidates.queryBigrams },
        postingCap: { type: 'integer', minimum: 1, description: 'Most recent reports kept per (block, bigram) posting list.', default: D.candidates.postingCap },
        maxScored: { type: 'integer', minimum: 1, description: 'Reports scored in full per new report (best by shared-bigram weight).', default: D.candidates.maxScored },
        firstScored: {
          type: 'integer',
          minimum: 1,
          description: 'Candidates scored first; the rest, up to maxScored, only when at least moreWhenPassing of them reach the lowest text similarity any decision accepts.',
          default: D.candidates.firstScored,
        },
        moreWhenPassing: { type: 'integer', minimum: 0, description: 'See firstScored (0: always score up to maxScored).', default: D.candidates.moreWhenPassing },
        indexBigrams: { type: 'integer', minimum: 1, description: 'Bigrams a report is indexed under (title/head first, then a fixed-hash sample of the body).', default: D.candidates.indexBigrams },
        entryBudget: {
          type: 'integer',
          minimum: 0,
          description: 'Posting entries read per new report: query bigrams are read rarest first, each in every block, until the budget is reached (0: no budget).',
          default: D.candidates.entryBudget,
        },
      },
    },
    bodyChars: { type: 'integer', minimum: 1, description: 'Characters of normalised body text compared (long petitions are cut).', default: D.bodyChars },
    headChars: { type: 'integer', minimum: 1, description: 'Characters of normalised body used as the head when a report has no title.', default: D.headChars },
  },
};
