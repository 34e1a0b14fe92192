import type { CanonicalTicket } from '../schema/types.generated';
import type { StageOutput, StatefulStage } from '../pipeline/stage';
import type { ClusterConfigInput } from './config';
import { ClusterEngine, type ClusterInput, type PublishedAssignment } from './engine';

/** The engine's view of a canonical ticket. */
export function ticketToClusterInput(t: CanonicalTicket): ClusterInput {
  const loc = t.location;
  const time = Date.parse(t.source.occurredAt ?? t.source.receivedAt);
  return {
    ticketId: t.id,
    timeMs: Number.isNaN(time) ? 0 : time,
    title: t.title,
    text: t.text,
    contactToken: t.reporter.anonymous ? null : t.reporter.contactToken,
    channel: t.source.channel,
    sourceId: t.source.sourceId,
    jurisdiction: { district: loc.district, street: loc.street, community: loc.community, grid: loc.grid },
    point: loc.point !== null ? { lon: loc.point.lon, lat: loc.point.lat } : null,
    // Clustering runs before classification, so this is usually null: blocking then uses place only.
    categoryFamily: t.classification.category?.code ?? null,
    appealType: t.appealType,
    reporterRole: t.reporter.role,
    categoryName: t.channelCategory?.name ?? null,
  };
}

/** The clustering fields of a ticket as it was published. */
export function publishedAssignment(t: CanonicalTicket): PublishedAssignment {
  return {
    clusterId: t.cluster.id,
    duplicateOf: t.dedup.duplicateOf,
    repeatOf: t.dedup.repeatOf,
    repeatCount: t.dedup.repeatCount,
  };
}

/**
 * Pipeline stage `cluster` (dedup → cluster → classify → route): fills `dedup.duplicateOf`,
 * `dedup.repeatOf`, `dedup.repeatCount` and `cluster {id, role, score}`, and adds cluster events
 * (created, grew, merged, hot) to `out.events` for tickets.clusters.v1.
 *
 * Stateful: one stage instance per partition (locality key), fed in partition order. After a
 * restart call `restore()` with the tickets already published on tickets.canonical.v1 (the last
 * `restoreHorizonMs`, in publication order) before the first `run()`: clusters then keep their ids
 * and the results are those of an uninterrupted run.
 */
export class ClusterStage implements StatefulStage {
  readonly name = 'cluster' as const;
  readonly engine: ClusterEngine;
  /**
   * The engine input of the ticket `run` clustered last. Its changelog entry must carry exactly
   * this: the ticket handed to `changelogEntry` is the published one, changed by the stages after
   * clustering (classification sets the category family the engine uses for blocking), and a state
   * restored from those values clustered later reports differently from an uninterrupted run.
   */
  private last: { input: ClusterInput; merged: string[] | null } | null = null;

  constructor(config: ClusterConfigInput = {}) {
    this.engine = new ClusterEngine(config);
  }

  /** How far back `restore()` needs published tickets (ms before the newest one). */
  get restoreHorizonMs(): number {
    return this.engine.restoreHorizonMs;
  }

  run(ticket: CanonicalTicket, out: StageOutput): CanonicalTicket {
    const input = ticketToClusterInput(ticket);
    const o = this.engine.process(input);
    this.last = { input, merged: o.merged };
    out.events.push(...o.events);
    const score: Record<string, number> | null = o.score !== null ? { ...(o.score as Record<string, number>) } : null;
    if (score !== null && o.duplicateScore !== null) score.duplicate = o.duplicateScore;
    return {
      ...ticket,
      dedup: { ...ticket.dedup, duplicateOf: o.duplicateOf, repeatOf: o.repeatOf, repeatCount: o.repeatCount },
      cluster: { id: o.clusterId, role: o.role, score },
    };
  }

  /**
   * What `restore` needs of a published ticket: the engine input `run` clustered it with (not one
   * derived from the published ticket, which later stages changed), its published assignment and
   * the merges its arrival made (a restore replays those instead of recomputing them). Called right
   * after the ticket's `run` (the processor task does); for a ticket this stage did not just run,
   * the input is derived from `published` — right only when no later stage changed a field the
   * engine reads — and the merges are recomputed on restore.
   */
  changelogEntry(published: CanonicalTicket): { input: ClusterInput; published: PublishedAssignment } {
    const last = this.last !== null && this.last.input.ticketId === published.id ? this.last : null;
    const assignment = publishedAssignment(published);
    if (last?.merged) assignment.merged = last.merged;
    return { input: last?.input ?? ticketToClusterInput(published), published: assignment };
  }

  /**
   * Rebuild state from changelog entries (`changelogEntry` of each published ticket, in processing
   * order), without producing events; clusters keep their ids and later results are those of an
   * uninterrupted run.
   */
  restore(entries: Iterable<unknown>): void {
    this.engine.restore(entries as Iterable<{ input: ClusterInput; published: PublishedAssignment }>);
  }

  /**
   * Rebuild state from tickets as this stage returned them (offline tools, tests), without
   * producing events. Tickets classified afterwards carry a category family the engine did not
   * see when it clustered them: use changelog entries (`restore`) for those.
   */
  restoreFromTickets(published: Iterable<CanonicalTicket>): void {
    function* inputs(): Generator<{ input: ClusterInput; published: PublishedAssignment }> {
      for (const t of published) yield { input: ticketToClusterInput(t), published: publishedAssignment(t) };
    }
    this.engine.restore(inputs());
  }
}
