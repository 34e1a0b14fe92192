import type { FastifyInstance } from 'fastify';
import type { Clock } from '../clock';
import type { IntakeError } from '../errors';
import type { Logger } from '../logger';
import type { HubMetrics } from '../metrics';
import type { Channel } from '../schema/types';
import type { TicketDraft } from './draft';

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
 * The outcome of `submit`. `accepted` and `duplicate` mean the report is durable (the ticket is on
 * the output): the source may be acknowledged. `rejected` means the input is bad and has been
 * dead-lettered durably: the source may be acknowledged too (with a refusal, e.g. HTTP 4xx).
 */
export type SubmitResult =
  | { outcome: 'accepted'; ticketId: string }
  | { outcome: 'duplicate'; ticketId: string }
  | { outcome: 'rejected'; error: IntakeError; deadLetterId: string };

/**
 * Everything a connector gets, injected (no singletons).
 *
 * Contract of `submit(raw)`:
 * - resolves only after the raw report and its ticket (or its dead-letter record) are durable on
 *   the output (Kafka acks=all, or the embedded log fsynced). Only then may the source be acked.
 * - rejects with a retriable `SinkError` when the output cannot make it durable (Kafka down): the
 *   connector must NOT acknowledge the source (HTTP 503 + Retry-After, NATS nak, keep the cursor);
 *   the source's redelivery is safe because the same (channel, source id) never makes a second ticket.
 * - never throws for bad input: that is a `rejected` outcome.
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
  /** The HTTP server, for webhook connectors to register their routes during `create`. */
  readonly http: FastifyInstance;
  readonly checkpoints: CheckpointStore;
}

/** Durable small state (poll cursors). Kafka compacted topic in Kafka mode, embedded log otherwise. */
export interface CheckpointStore {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
}

export type ConnectorState = 'created' | 'starting' | 'running' | 'paused' | 'degraded' | 'failed' | 'stopped';

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
  counters: { received: number; accepted: number; duplicates: number; rejected: number; failed: number };
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
}
