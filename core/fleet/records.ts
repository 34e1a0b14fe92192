import type { ClusterInput, PublishedAssignment } from '../cluster/engine';
import type { CanonicalTicket, RawEnvelope } from '../schema/types';

/**
 * Value of `intake.reports.v1`: one accepted delivery of a source report, written by the intake
 * tier (webhooks, NATS, pollers) once the report passed transport checks, authentication,
 * normalisation, masking and schema validation. Hub-internal: `raw` holds the unmasked bytes.
 */
export interface IntakeReport {
  schemaVersion: 'intake-report/v1';
  /** `<dedup scope>:<source id>`; the record key and the partition key of intake.reports.v1. */
  dedupKey: string;
  /** Partition key of intake.located.v1 (see `core/fleet/locality.ts`). */
  localityKey: string;
  /** The ticket as intake assembled it: masked and valid, not yet deduplicated, clustered, classified or routed. */
  ticket: CanonicalTicket;
  raw: RawEnvelope;
  /** Dead-letter id when this delivery is an operator's replay of a dead letter. */
  replayOf: string | null;
}

/** Value of `intake.located.v1`: the first delivery of a report, re-keyed by locality. */
export interface LocatedReport {
  schemaVersion: 'located-report/v1';
  localityKey: string;
  ticket: CanonicalTicket;
  raw: RawEnvelope;
  replayOf: string | null;
}

/** Value of `intake.dedup-changelog.v1` (key: dedup key; null value = tombstone). */
export interface DedupEntry {
  /** Ticket id of the first delivery. */
  t: string;
  /** Its intake receipt time, epoch ms (stream time of the dedup stage). */
  at: number;
}

/** Value of `intake.ticket-changelog.v1` (key: ticket id): what the clustering state needs to be rebuilt. */
export interface TicketChangelogEntry {
  input: ClusterInput;
  published: PublishedAssignment;
}
