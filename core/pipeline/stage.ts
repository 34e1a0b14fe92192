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
 * A stateful stage whose state is rebuilt after a restart from the tickets it published: the hub
 * reads `tickets.canonical.v1` back from `restoreHorizonMs` before the newest ticket, in
 * publication order, and hands them to `restore` (which emits no events) before the first `run`.
 */
export interface RestorableStage extends Stage {
  readonly restoreHorizonMs: number;
  restore(published: Iterable<CanonicalTicket>): void;
}

export function isRestorable(s: Stage): s is RestorableStage {
  return typeof (s as Partial<RestorableStage>).restore === 'function' && typeof (s as Partial<RestorableStage>).restoreHorizonMs === 'number';
}
