import type { FastifyInstance } from 'fastify';
import type { Clock } from '../clock';
import type { IntakeError } from '../errors';
import type { Logger } from '../logger';
import type { HubMetrics } from '../metrics';
import type { CanonicalTicket, Channel } from '../schema/types';
import type { TicketDraft } from './draft';
import type { OutRecord } from '../outputs/output';

export type ConnectorKind = 'webhook' | 'poller' | 'subscription';
export type Stability = 'experimental' | 'beta' | 'stable';

/** A JSON Schema object (2020-12) with descriptions, defaults and examples. */
export type JsonSchema = Record<string, unknown>;

/**
 * What a connector type is: registered in `connectors/index.ts` (an explicit registry).
 *
 * `normalize` is pure: raw bytes → ticket draft, no I/O, no clock, no randomness, so it can be
 * tested on fixtures and replayed from the raw archive. It throws a `PayloadError` (with a data
 * path) for input it cannot turn into a ticket.
 */
export interface ConnectorSpec<C = Record<string, unknown>> {
  /** Type name used in hub.yaml (`connectors[].type`). */
  readonly type: string;
  readonly channel: Channel;
  readonly kind: ConnectorKind;
  readonly stability: Stability;
  readonly summary: string;
  /** JSON Schema of `connectors[].config`, compiled by the config ajv (defaults applied). */
  readonly configSchema: JsonSchema;
  /** Folder of native-format fixtures, relative to the package root. */
  readonly fixturesDir?: string;
  normalize(input: RawInput, config: C): TicketDraft;
  create(config: C, ctx: ConnectorContext): Connector;
}

/** A report as the transport received it, before any parsing. */
export interface RawInput {
  transport: 'webhook' | 'poller' | 'subscription' | 'import' | 'replay';
  body: Buffer;
  contentType: string;
  /** Transport headers worth archiving (lower-case names). Secrets must not be passed here. */
  headers: Record<string, string>;
  /** Source id if the transport knows it before parsing. */
  sourceId?: string | null;
  /** Epoch ms the hub received it; defaults to the context clock. */
  receivedAt?: number;
}

/**
 * The outcome of `submit`. `accepted` means the report is durable on intake.reports.v1: the source
 * may be acknowledged. `ticketId` is the id its ticket has — derived from the report, the same for
 * every delivery that carries the same source time (the processor drops later deliveries of a
 * report as duplicates; intake cannot tell them apart). `rejected` means the input is bad and has
 * been dead-lettered durably: the source may be acknowledged too (with a refusal, e.g. HTTP 4xx).
 */
/**
 * `sourceId` of an accepted report is its ticket's published `source.sourceId` (tokenised when the
 * source id is personal): derived from the report alone, the same on every instance and redelivery.
 */
export type SubmitResult = { outcome: 'accepted'; ticketId: string; sourceId: string } | { outcome: 'rejected'; error: IntakeError; deadLetterId: string };

/** What one delivery becomes before anything is written (a poller commits a whole page at once). */
export interface PreparedDelivery {
  records: OutRecord[];
  result: SubmitResult;
}

/**
 * A poll source's fenced session (only the lease owner opens one): its checkpoints as durable, and
 * `commit` writing a page's records with the new checkpoint values in one transaction. A failed
 * commit closes the session: reopen it (which fences any commit still in flight and reads the
 * checkpoints back) before polling again.
 */
export interface SourceSession {
  readonly isOpen: boolean;
  open(names: string[]): Promise<void>;
  get(name: string): string | null;
  commit(records: OutRecord[], checkpoints: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Everything a connector gets, injected (no singletons).
 *
 * Contract of `submit(raw)` (push and subscription transports):
 * - normalises, masks and validates the report and resolves only after its record on
 *   intake.reports.v1 (or its dead letter) is durable: Kafka transaction committed (acks=all), or
 *   the embedded log fsynced. Only then may the source be acked.
 * - rejects with a retriable `SinkError` when that cannot be done within the output's write timeout
 *   (Kafka down): the connector must NOT acknowledge the source (HTTP 503 + Retry-After, NATS nak);
 *   the source's redelivery is safe because the processor keeps one ticket per dedup key.
 * - never throws for bad input: that is a `rejected` outcome.
 * Pollers use `prepare` + `openSource().commit` instead, so a page and its cursor are atomic.
 */
export interface ConnectorContext {
  readonly id: string;
  readonly channel: Channel;
  readonly logger: Logger;
  readonly metrics: HubMetrics;
  readonly clock: Clock;
  submit(raw: RawInput): Promise<SubmitResult>;
  /** Dead-letters a report the transport rejected before normalisation (bad signature, too large…). */
  reject(raw: RawInput, error: IntakeError, stage: 'transport' | 'auth' | 'decode'): Promise<string>;
  /**
   * Records a report refused before its sender was authenticated (size, media type, signature,
   * api_key): the first bytes and a hash only, within a per-client and total budget. Resolves to
   * the dead-letter id, or null when over budget (counted, not written). The id must not be sent
   * to the unauthenticated sender. Absent in minimal contexts: transports fall back to `reject`.
   */
  rejectUnauthenticated?(raw: RawInput, error: IntakeError, stage: 'transport' | 'auth', client: string): Promise<string | null>;
  /** Normalises and checks one delivery without writing it. */
  prepare(raw: RawInput): PreparedDelivery;
  /** A new fenced session for this connector's poll source (call `open` on it). */
  openSource(): SourceSession;
  /** The HTTP server, for webhook connectors to register their routes during `create`. */
  readonly http: FastifyInstance;
  /**
   * Tickets materialised in the ticket store (core/store), when the hub has one: answers for any
   * ticket any instance made durable, after a restart too, once the store has caught up (usually
   * well under a second). Absent when the store is off.
   */
  readonly ticketStore?: TicketLookup;
}

/** Read access to the ticket store's copy of published tickets. */
export interface TicketLookup {
  ticket(id: string): Promise<CanonicalTicket | null>;
  /** The ticket a connector published for a (published) source id, or null. */
  bySource(connectorId: string, sourceId: string): Promise<CanonicalTicket | null>;
}

/** `standby`: a poller whose source is polled by another instance (it does not own the lease). */
export type ConnectorState = 'created' | 'starting' | 'running' | 'standby' | 'paused' | 'degraded' | 'failed' | 'stopped';

/** Typed health snapshot, served by GET /api/connectors. */
export interface ConnectorHealth {
  id: string;
  type: string;
  channel: Channel;
  kind: ConnectorKind;
  state: ConnectorState;
  lastSuccessAt: string | null;
  lastError: { at: string; code: string; message: string } | null;
  breaker: 'closed' | 'open' | 'half-open' | null;
  pollLagMs: number | null;
  /** This instance's deliveries: accepted = durable on intake.reports.v1 (duplicates are counted by the processor, `intake_duplicates_total`). */
  counters: { received: number; accepted: number; rejected: number; failed: number };
}

/**
 * A running connector instance.
 *
 * Lifecycle: `start` and `stop` are idempotent (calling either twice is a no-op); `stop` waits
 * for in-flight submissions. A webhook connector registers its routes at `create` and refuses
 * requests (503) unless running. Bad input never stops a connector; an unavailable output makes
 * it refuse (webhook 503) or back off (poller, subscription) until the output is back.
 */
export interface Connector {
  readonly id: string;
  readonly spec: ConnectorSpec<never>;
  start(): Promise<void>;
  stop(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  health(): ConnectorHealth;
  /**
   * Present on connectors that poll an upstream: polling runs only between `acquire` (this
   * instance got the source's lease) and `release`; the hub calls them as leases move. Push routes
   * of the same connector are served whatever the lease.
   */
  readonly lease?: { acquire(): Promise<void>; release(): Promise<void> };
}
