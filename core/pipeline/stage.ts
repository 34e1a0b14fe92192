import type { CanonicalTicket, ClusterEvent } from '../schema/types.generated';

/**
 * One pipeline step. Every stage has this one signature so each can be tested alone and composed.
 *
 * A stage receives the ticket being built and returns it (possibly changed), and may add cluster
 * events to `out.events`. A stage must not do I/O to the outputs itself: everything it produces is
 * written by the publish step in one durable batch, so a crash never leaves half a result.
 * A stage that has not touched a field leaves its "untouched" marker (`classification.method:
 * "none"`, `routing.status: "unrouted"`, `cluster.role: "none"`).
 */
export interface Stage {
  readonly name: StageName;
  run(ticket: CanonicalTicket, out: StageOutput): CanonicalTicket | Promise<CanonicalTicket>;
}

export type StageName = 'normalize' | 'enrich' | 'validate' | 'dedup' | 'cluster' | 'classify' | 'route' | 'publish';

export interface StageOutput {
  /** Cluster events produced while processing this ticket, published on tickets.clusters.v1. */
  events: ClusterEvent[];
}

/**
 * A stateful stage (clustering). Its state is rebuilt on a processor task's assignment from the
 * task's changelog (`intake.ticket-changelog.v1`): for every ticket it published, the processor
 * writes `changelogEntry(ticket)` in the same transaction as the ticket, and on assignment hands
 * the entries back to `restore` in their original order (no events are produced) before the first
 * `run`. Entries must be JSON-serialisable and carry only what the state needs.
 */
export interface StatefulStage extends Stage {
  /** How much history a restore needs: entries of tickets older than this (stream time) may be dropped. */
  readonly restoreHorizonMs: number;
  changelogEntry(published: CanonicalTicket): unknown;
  restore(entries: Iterable<unknown>): void;
}

export function isStateful(s: Stage): s is StatefulStage {
  return typeof (s as Partial<StatefulStage>).restore === 'function' && typeof (s as Partial<StatefulStage>).changelogEntry === 'function';
}
