import type { CanonicalTicket, Channel, ClusterEvent } from '../schema/types';

/**
 * The ticket store: tickets and cluster state materialised from `tickets.canonical.v1` and
 * `tickets.clusters.v1` into a queryable database (PostgreSQL in production, SQLite embedded).
 * It is a read model: Kafka (or the embedded log) stays the source of truth, and the store can be
 * rebuilt from it at any time by deleting the database (or the consumer's positions).
 *
 * Contract shared by both implementations (one test suite runs against each, store.contract.ts):
 * - `apply` is one database transaction: the tickets, the cluster events AND the consumer's new
 *   positions commit together or not at all. A consumer that resumes from `positions()` after a
 *   crash therefore re-reads exactly the records whose batch did not commit.
 * - `apply` is idempotent: applying a batch twice leaves the store as applying it once (tickets
 *   upserted by id, events inserted by id, cluster summaries only move forward, merges resolve).
 * - Records may arrive in any order across topics and partitions (a merge before the tickets it
 *   moves, a ticket before its cluster's first event): the result does not depend on it.
 * - Reads never return unmasked personal data: tickets are stored as published (already masked),
 *   and reporters are exposed only through their masked name and phone.
 */
export interface TicketStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending schema migrations (idempotent, safe to run from several instances); returns the schema version. */
  migrate(): Promise<number>;
  close(): Promise<void>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;

  /** Where consumer `consumer` stopped: the next offset to read per topic and partition. */
  positions(consumer: string): Promise<Position[]>;
  apply(batch: MaterialBatch): Promise<void>;
  /**
   * Single-writer lease for a consumer name (PostgreSQL: a session advisory lock held until
   * `close`; SQLite: one process owns the file, always true). Materialisers that do not hold it
   * stand by: several hub instances can share one database without competing.
   */
  tryLease(consumer: string): Promise<boolean>;

  ticket(id: string): Promise<StoredTicket | null>;
  tickets(filter: TicketFilter, page: PageRequest): Promise<Page<TicketSummary>>;
  cluster(id: string, memberLimit: number): Promise<ClusterDetail | null>;
  clusters(q: ClusterQuery): Promise<ClusterSummary[]>;
  /** Tickets routed to manual triage that no operator has classified yet, oldest first. */
  triage(page: PageRequest): Promise<Page<TicketSummary>>;
  /** Records an operator's category for a ticket in triage. */
  assign(a: TriageAssignment): Promise<'assigned' | 'not-found' | 'not-in-triage'>;
  /** Open tickets whose routing.dueAt is before `nowMs`, by channel (every channel present, 0 included). */
  overdue(nowMs: number): Promise<Record<Channel, number>>;
  /** Tickets received since `sinceMs`, counted per `by` and per bucket of `bucketMs` (bucket = start ms). */
  intake(sinceMs: number, bucketMs: number, by: 'channel' | 'connector'): Promise<IntakeCount[]>;
  /** Number of tickets stored (for the store's own health and tests). */
  count(): Promise<number>;
}

export const CHANNELS: readonly Channel[] = ['hotline-12345', 'police-110', 'city-management', 'message-board', 'resident-app', 'grid-worker'];

/** A consumer position: the next offset to read (a decimal string: Kafka offsets are int64). */
export interface Position {
  topic: string;
  partition: number;
  next: string;
}

export interface MaterialBatch {
  consumer: string;
  tickets: CanonicalTicket[];
  events: ClusterEvent[];
  /** New positions after this batch (only the partitions it moved). */
  positions: Position[];
}

export interface TriageAssignment {
  ticketId: string;
  category: { code: string; name: string };
  subcategory: { code: string; name: string };
  department: string | null;
  /** Who assigned it: the admin token id (never the token). */
  actor: string;
  at: string;
  note: string | null;
}

export interface StoredTicket {
  ticket: CanonicalTicket;
  /** The cluster the ticket is in now (its published cluster id after later merges). */
  clusterId: string | null;
  triage: TriageAssignment | null;
}

/** The fields a list shows; the whole ticket is one `GET /api/tickets/:id` away. */
export interface TicketSummary {
  id: string;
  channel: Channel;
  connectorId: string;
  sourceId: string;
  receivedAt: string;
  title: string | null;
  excerpt: string;
  status: 'unrouted' | 'routed' | 'triage';
  department: string | null;
  subcategory: { code: string; name: string } | null;
  dueAt: string | null;
  clusterId: string | null;
  triaged: boolean;
}

export interface TicketFilter {
  channel?: Channel;
  connectorId?: string;
  sourceId?: string;
  status?: 'unrouted' | 'routed' | 'triage';
  /** Only tickets received at or after this time (epoch ms). */
  sinceMs?: number;
}

export interface PageRequest {
  limit: number;
  /** Opaque keyset cursor from the previous page's `next`. */
  cursor?: string | null;
}

export interface Page<T> {
  items: T[];
  /** Cursor of the next page, null on the last one. */
  next: string | null;
}

export interface ClusterSummary {
  id: string;
  primaryTicketId: string;
  size: number;
  reporterCount: number;
  block: string | null;
  hot: boolean;
  hotReporters: number | null;
  hotAt: string | null;
  firstAt: string;
  lastAt: string;
  /** Set when this cluster was merged into another (the survivor's id). */
  mergedInto: string | null;
}

export interface ClusterMember {
  ticketId: string;
  channel: Channel;
  receivedAt: string;
  role: 'none' | 'primary' | 'member';
  title: string | null;
  excerpt: string;
  /** Masked as published: 张**, 138****5678; never the contact token. */
  reporter: { nameMasked: string | null; phoneMasked: string | null; anonymous: boolean; role: string };
  /** Score components of the link that put the ticket in the cluster (text, place, distance, time, total). */
  score: Record<string, number> | null;
}

export interface ClusterDetail extends ClusterSummary {
  members: ClusterMember[];
  /** The most recent cluster events, newest first (at most 50). */
  events: { id: string; type: ClusterEvent['type']; at: string; ticketId: string | null; size: number; reporterCount: number; score: Record<string, number> | null }[];
}

export interface ClusterQuery {
  hot?: boolean;
  /** `size`: biggest first; `recent`: last activity first. */
  sort: 'size' | 'recent';
  /** Only clusters active at or after this time (epoch ms). */
  sinceMs?: number;
  limit: number;
}

export interface IntakeCount {
  key: string;
  bucket: number;
  count: number;
}
