/**
 * The TipDM 2020-C message-board format (`msg_id`, `user`, `title`, `time`, `detail`) and its
 * evaluation against the silver hot-issue labels. Used by `intake-hub cluster --format tipdm`, the
 * evaluator in bench/cluster and the tests. The data is read at run time from ../shared/data; it
 * is never copied into the repository.
 */
import { readFileSync } from 'node:fs';
import type { ClusterEvent } from '../schema/types.generated';
import type { ClusterConfigInput } from './config';
import { ClusterEngine, type ClusterInput, type ClusterOutcome } from './engine';
import { addCounts, groupBy, pairCounts, pairScores, round, type PairCounts, type PairScores } from './metrics';

export interface TipdmMessage {
  msg_id: string;
  user: string;
  title: string;
  time: string;
  detail: string;
}

/**
 * Defaults for message-board traffic: residents keep posting about one problem for months and
 * copy-paste petitions re-appear much later, so windows are far longer than for hotline calls.
 */
export const TIPDM_CONFIG: ClusterConfigInput = {
  windowHours: 24 * 90,
  exactWindowHours: 24 * 365,
  repeatWindowHours: 24 * 90,
  hotWindowHours: 24 * 7,
  hotReporters: 5,
  // Long petitions share fewer words than short calls: a slightly lower link threshold.
  linkThreshold: 0.11,
};

/** Message time "2019-02-28 11:25:05" (China time, UTC+8) → ms since epoch. */
export function tipdmTime(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(s.trim());
  if (m === null) {
    const t = Date.parse(s);
    if (Number.isNaN(t)) throw new Error(`unparseable time: ${JSON.stringify(s)}`);
    return t;
  }
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d as number, (h as number) - 8, mi as number, se as number);
}

export function tipdmToInput(m: TipdmMessage): ClusterInput {
  return {
    ticketId: String(m.msg_id),
    timeMs: tipdmTime(m.time),
    title: m.title ?? null,
    text: m.detail ?? '',
    contactToken: m.user ? `u:${m.user}` : null,
    channel: 'message-board',
    sourceId: String(m.msg_id),
    jurisdiction: null,
    point: null,
    categoryFamily: null,
    appealType: 'unknown',
  };
}

/** Parse a JSONL file; throws naming the line on malformed input. */
export function readJsonl<T>(path: string): T[] {
  const out: T[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not JSON (${(e as Error).message})`);
    }
  }
  return out;
}

/** Processing order: by time, then by message id (stable and deterministic). */
export function timeOrder<T extends { timeMs: number; ticketId: string }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => a.timeMs - b.timeMs || (a.ticketId < b.ticketId ? -1 : a.ticketId > b.ticketId ? 1 : 0));
}

/**
 * Run the engine over messages in time order; outcome per msg_id, with `clusterId` resolved
 * through later `merged` events (the final cluster of each message, as a consumer applying the
 * event stream would see it).
 */
export function clusterTipdm(messages: TipdmMessage[], config: ClusterConfigInput = TIPDM_CONFIG): Map<string, ClusterOutcome> {
  const engine = new ClusterEngine(config);
  const out = new Map<string, ClusterOutcome>();
  const merges = new MergeMap();
  for (const input of timeOrder(messages.map(tipdmToInput))) {
    const o = engine.process(input);
    merges.apply(o.events);
    out.set(input.ticketId, o);
  }
  for (const o of out.values()) o.clusterId = merges.resolve(o.clusterId);
  return out;
}

/** Applies `merged` cluster events: resolves a cluster id published earlier to its current id. */
export class MergeMap {
  private readonly into = new Map<string, string>();

  apply(events: readonly ClusterEvent[]): void {
    for (const e of events) {
      if (e.type !== 'merged') continue;
      for (const from of e.mergedFrom) if (from !== e.clusterId) this.into.set(from, e.clusterId);
    }
  }

  resolve(id: string): string {
    let cur = id;
    for (let guard = 0; guard < 10_000; guard++) {
      const next = this.into.get(cur);
      if (next === undefined) break;
      cur = next;
    }
    if (cur !== id) this.into.set(id, cur);
    return cur;
  }
}

export interface SilverTeamRow {
  team: string;
  issue_id: string;
  msg_id: string;
}
export interface SilverConsensusRow {
  consensus_issue: string;
  msg_id: string;
  n_teams: number;
}

export interface TipdmEvaluation {
  messages: number;
  clusters: number;
  nonSingletonClusters: number;
  largestCluster: number;
  exactDuplicates: { groups: number; pairs: number; pairsTogether: number; consistency: number };
  /** Recall on the consensus issues, messages that ≥ 2 teams put in the issue. */
  consensusRecall: PairScores & { perIssue: Record<string, number> };
  /** Recall on the consensus issues counting every message any team put in them. */
  consensusRecallAllMessages: PairScores;
  /** Precision against each team's labels, pairs judged within one team's labelled messages. */
  teamPrecision: PairScores & { perTeam: Record<string, number> };
}

/** Evaluate a clustering of messages_with_votes against the silver files. */
export function evaluateTipdm(
  messages: TipdmMessage[],
  clusterOf: ReadonlyMap<string, string>,
  byTeam: SilverTeamRow[],
  consensus: SilverConsensusRow[],
): TipdmEvaluation {
  const sizes = new Map<string, number>();
  for (const c of clusterOf.values()) sizes.set(c, (sizes.get(c) ?? 0) + 1);

  const dupGroups = [...groupBy(messages, (m) => (m.detail ?? '').replace(/\s+/g, '')).values()].filter((g) => g.length > 1);
  let dupPairs = 0;
  let dupTogether = 0;
  for (const g of dupGroups) {
    for (let i = 0; i < g.length; i++) {
      for (let j = i + 1; j < g.length; j++) {
        dupPairs++;
        if (clusterOf.get((g[i] as TipdmMessage).msg_id) === clusterOf.get((g[j] as TipdmMessage).msg_id)) dupTogether++;
      }
    }
  }

  const strict = new Map<string, string>();
  const loose = new Map<string, string>();
  for (const r of consensus) {
    loose.set(r.msg_id, r.consensus_issue);
    if (r.n_teams >= 2) strict.set(r.msg_id, r.consensus_issue);
  }
  const perIssue: Record<string, number> = {};
  for (const [issue, ids] of groupBy(strict.keys(), (k) => strict.get(k) ?? null)) {
    const t = new Map(ids.map((k) => [k, issue] as [string, string]));
    perIssue[issue] = pairScores(pairCounts(t, clusterOf)).recall;
  }

  let teamTotal: PairCounts = { truePairs: 0, predictedPairs: 0, correctPairs: 0 };
  const perTeam: Record<string, number> = {};
  for (const [team, rows] of groupBy(byTeam, (r) => r.team)) {
    const t = new Map(rows.map((r) => [r.msg_id, r.issue_id] as [string, string]));
    const c = pairCounts(t, clusterOf);
    perTeam[team] = pairScores(c).precision;
    teamTotal = addCounts(teamTotal, c);
  }

  return {
    messages: messages.length,
    clusters: sizes.size,
    nonSingletonClusters: [...sizes.values()].filter((n) => n > 1).length,
    largestCluster: Math.max(0, ...sizes.values()),
    exactDuplicates: {
      groups: dupGroups.length,
      pairs: dupPairs,
      pairsTogether: dupTogether,
      consistency: dupPairs === 0 ? 1 : round(dupTogether / dupPairs),
    },
    consensusRecall: { ...pairScores(pairCounts(strict, clusterOf)), perIssue },
    consensusRecallAllMessages: pairScores(pairCounts(loose, clusterOf)),
    teamPrecision: { ...pairScores(teamTotal), perTeam },
  };
}
