import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditRecord } from './schema/types.generated';
import type { ConnectorHealth } from './sdk/connector';

/** The connectors whose state the scrape-time gauges read (the hub's instances). */
export interface ConnectorStateSource {
  connectors(): { health(): ConnectorHealth }[];
}

/** Reasons a report may be rejected with, initialised to 0 per connector (`intake_rejected_total`). */
export const REJECTION_REASONS = [
  'INTAKE_ERR_PAYLOAD_INVALID',
  'INTAKE_ERR_PAYLOAD_TOO_LARGE',
  'INTAKE_ERR_UNSUPPORTED_MEDIA_TYPE',
  'INTAKE_ERR_BAD_ENCODING',
  'INTAKE_ERR_SIGNATURE',
  'INTAKE_ERR_STALE',
  'INTAKE_ERR_TICKET_INVALID',
  'INTAKE_ERR_BOUNCED',
  'INTAKE_ERR_INTERNAL',
] as const;

/** Every audited action and outcome (schemas/audit.v1.schema.json; a test keeps them in step). */
export const AUDIT_ACTIONS = ['connector.pause', 'connector.resume', 'connector.restart', 'deadletter.list', 'deadletter.read', 'deadletter.replay', 'catalog.reload', 'triage.assign'] as const satisfies readonly AuditRecord['action'][];
export const AUDIT_OUTCOMES = ['ok', 'denied', 'not-found', 'refused', 'failed'] as const satisfies readonly AuditRecord['outcome'][];

const BREAKER: Record<NonNullable<ConnectorHealth['breaker']>, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Up = running or degraded with the breaker not open (paused, stopped, failed, breaker open: down). */
export function connectorIsUp(h: ConnectorHealth): boolean {
  return (h.state === 'running' || h.state === 'degraded') && h.breaker !== 'open';
}

/**
 * The hub's metrics, registered on an injected registry (tests pass a fresh one). Names follow
 * `intake_<noun>_<unit>`; labels are closed sets (connector ids and channels come from config,
 * reasons from the error-code catalog, stages from the pipeline) — never ids, URLs or free text.
 */
export class HubMetrics {
  readonly received: Counter<'connector' | 'channel'>;
  readonly published: Counter<'connector' | 'channel'>;
  readonly duplicates: Counter<'connector' | 'channel'>;
  readonly rejected: Counter<'connector' | 'reason'>;
  readonly stageDuration: Histogram<'stage'>;
  readonly outputWriteDuration: Histogram<'output'>;
  readonly outputBatchRecords: Histogram<'output'>;
  readonly outputUp: Gauge<'output'>;
  readonly connectorUp: Gauge<'connector' | 'channel'>;
  readonly clusterEvents: Counter<'type'>;
  /** Circuit breaker in front of a polled upstream: 0 closed, 1 half-open, 2 open. */
  readonly breakerState: Gauge<'connector'>;
  /** Poll lag of a polling connector (see core/sdk/poller.ts for the definition). */
  readonly pollLag: Gauge<'connector'>;
  readonly connectorPaused: Gauge<'connector'>;
  readonly connectorLastSuccess: Gauge<'connector'>;
  /** HTTP requests by listener (intake | admin), route pattern (never the URL), method and status. */
  readonly httpRequests: Counter<'listener' | 'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'listener' | 'route' | 'method'>;
  /** Admin actions by outcome (ok, denied, failed, not-found, refused), as audited. */
  readonly adminActions: Counter<'action' | 'outcome'>;
  /** Admin requests refused for a missing/invalid token (401) or an insufficient role (403). */
  readonly authFailures: Counter<'listener'>;
  readonly rateLimited: Counter<'listener'>;
  /** Connections refused by the total or per-client cap. */
  readonly connectionsRefused: Counter<'listener' | 'cap'>;
  /** Unauthenticated rejections answered but not written (over the per-client or total budget). */
  readonly rejectionsUnrecorded: Counter<'connector'>;
  readonly auditWriteFailures: Counter;
  readonly processorPartitions: Gauge;
  readonly processorTransactions: Counter<'outcome'>;
  readonly processorTransactionDuration: Histogram;
  readonly processorRestoreDuration: Histogram;
  readonly pollerLeaseOwned: Gauge<'connector'>;
  /** Records of an input partition this processor owns not yet processed (end offset − position). */
  readonly processorLag: Gauge<'topic' | 'partition'>;
  /** High watermark − last stable offset of an output partition: records behind an open transaction. */
  readonly kafkaLsoGap: Gauge<'topic' | 'partition'>;
  private source: ConnectorStateSource | null = null;

  constructor(readonly registry: Registry = new Registry(), opts: { defaultMetrics?: boolean } = {}) {
    // prom-client names its defaults process_* and nodejs_*: the prefix makes them intake_process_*, intake_nodejs_*
    if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'intake_' });
    const states = (): ConnectorHealth[] => (this.source ? this.source.connectors().map((c) => c.health()) : []);
    this.received = new Counter({ name: 'intake_received_total', help: 'Source reports received, before any check.', labelNames: ['connector', 'channel'], registers: [registry] });
    this.published = new Counter({ name: 'intake_published_total', help: 'Canonical tickets published by the processor (committed with their input offsets).', labelNames: ['connector', 'channel'], registers: [registry] });
    this.duplicates = new Counter({ name: 'intake_duplicates_total', help: 'Deliveries dropped by the processor as exact duplicates of a report already seen (redeliveries, retries, replays of published tickets).', labelNames: ['connector', 'channel'], registers: [registry] });
    this.rejected = new Counter({ name: 'intake_rejected_total', help: 'Reports rejected, by reason code: dead-lettered, or only counted when an unauthenticated rejection is over its budget (intake_rejections_unrecorded_total).', labelNames: ['connector', 'reason'], registers: [registry] });
    this.stageDuration = new Histogram({
      name: 'intake_stage_duration_seconds',
      help: 'Time spent in each pipeline stage.',
      labelNames: ['stage'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.outputWriteDuration = new Histogram({
      name: 'intake_output_write_duration_seconds',
      help: 'Time to make one batch durable on the output (Kafka acks=all or embedded fsync).',
      labelNames: ['output'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.outputBatchRecords = new Histogram({
      name: 'intake_output_batch_records',
      help: 'Records per durable output batch (group commit).',
      labelNames: ['output'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
      registers: [registry],
    });
    this.outputUp = new Gauge({ name: 'intake_output_up', help: '1 when the output accepted its last write or probe.', labelNames: ['output'], registers: [registry] });
    const src = (): boolean => this.source !== null;
    this.connectorUp = new Gauge({
      name: 'intake_connector_up',
      help: '1 when the connector is running (or degraded) with its breaker not open; 0 paused, breaker open, stopped or failed. Read at scrape time.',
      labelNames: ['connector', 'channel'],
      registers: [registry],
      collect() {
        if (src()) for (const h of states()) this.set({ connector: h.id, channel: h.channel }, connectorIsUp(h) ? 1 : 0);
      },
    });
    this.clusterEvents = new Counter({ name: 'intake_cluster_events_total', help: 'Cluster events published, by type.', labelNames: ['type'], registers: [registry] });
    this.breakerState = new Gauge({
      name: 'intake_connector_breaker_state',
      help: 'Circuit breaker state of a polled upstream: 0 closed, 1 half-open, 2 open.',
      labelNames: ['connector'],
      registers: [registry],
      collect() {
        for (const h of states()) if (h.breaker) this.set({ connector: h.id }, BREAKER[h.breaker]);
      },
    });
    this.pollLag = new Gauge({
      name: 'intake_poll_lag_seconds',
      help: 'Seconds since the start of the last poll that read the upstream listing to its end: how stale the hub view of the upstream is. Computed at scrape time.',
      labelNames: ['connector'],
      registers: [registry],
      collect() {
        for (const h of states()) if (h.pollLagMs !== null) this.set({ connector: h.id }, h.pollLagMs / 1000);
      },
    });
    this.connectorPaused = new Gauge({
      name: 'intake_connector_paused',
      help: '1 when the connector is paused by an operator.',
      labelNames: ['connector'],
      registers: [registry],
      collect() {
        for (const h of states()) this.set({ connector: h.id }, h.state === 'paused' ? 1 : 0);
      },
    });
    this.connectorLastSuccess = new Gauge({
      name: 'intake_connector_last_success_timestamp_seconds',
      help: 'When the connector last made a report durable or completed a poll (Unix seconds; absent before the first).',
      labelNames: ['connector'],
      registers: [registry],
      collect() {
        for (const h of states()) if (h.lastSuccessAt) this.set({ connector: h.id }, Date.parse(h.lastSuccessAt) / 1000);
      },
    });
    this.httpRequests = new Counter({ name: 'intake_http_requests_total', help: 'HTTP requests answered, by listener (intake or admin), route pattern, method and status.', labelNames: ['listener', 'route', 'method', 'status'], registers: [registry] });
    this.httpDuration = new Histogram({
      name: 'intake_http_request_duration_seconds',
      help: 'Time from receiving a request to sending its response, by listener, route pattern and method.',
      labelNames: ['listener', 'route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.adminActions = new Counter({ name: 'intake_admin_actions_total', help: 'Audited admin actions, by action and outcome (ok, denied, failed, not-found, refused).', labelNames: ['action', 'outcome'], registers: [registry] });
    this.authFailures = new Counter({ name: 'intake_auth_failures_total', help: 'Admin requests refused with 401 (no valid token) or 403 (role may not).', labelNames: ['listener'], registers: [registry] });
    this.rateLimited = new Counter({ name: 'intake_ratelimited_total', help: 'Requests answered 429 by the per-client rate limit.', labelNames: ['listener'], registers: [registry] });
    this.connectionsRefused = new Counter({ name: 'intake_connections_refused_total', help: 'Connections refused by the total (cap=total) or per-client (cap=client) connection cap.', labelNames: ['listener', 'cap'], registers: [registry] });
    this.rejectionsUnrecorded = new Counter({
      name: 'intake_rejections_unrecorded_total',
      help: 'Rejections of unauthenticated requests answered but not dead-lettered: the per-client or total budget of recorded unauthenticated rejections was spent.',
      labelNames: ['connector'],
      registers: [registry],
    });
    this.auditWriteFailures = new Counter({ name: 'intake_audit_write_failures_total', help: 'Audit records that could not be written (the action itself was done).', registers: [registry] });
    this.processorPartitions = new Gauge({ name: 'intake_processor_partitions_assigned', help: 'Input partitions (intake.reports.v1 and intake.located.v1) this processor instance owns.', registers: [registry] });
    this.processorTransactions = new Counter({ name: 'intake_processor_transactions_total', help: 'Processor transactions (one per input-partition batch), by outcome (committed, aborted).', labelNames: ['outcome'], registers: [registry] });
    this.processorTransactionDuration = new Histogram({ name: 'intake_processor_transaction_duration_seconds', help: 'Time to commit one processor transaction (outputs, changelog, offsets).', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
    this.processorRestoreDuration = new Histogram({ name: 'intake_processor_restore_duration_seconds', help: 'Time to rebuild the tasks of newly assigned partitions from their changelogs.', buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers: [registry] });
    this.pollerLeaseOwned = new Gauge({ name: 'intake_poller_lease_owned', help: '1 when this instance owns the poll lease of the source (polls it), 0 otherwise.', labelNames: ['connector'], registers: [registry] });
    this.processorLag = new Gauge({ name: 'intake_processor_lag_records', help: 'Records of an input partition this processor owns that it has not processed yet: the partition end offset (as of the last batch) minus the next offset to process. Dropped when the partition is revoked.', labelNames: ['topic', 'partition'], registers: [registry] });
    this.kafkaLsoGap = new Gauge({ name: 'intake_kafka_lso_gap_records', help: 'High watermark minus last stable offset of an output partition of the processor: records behind an open or hanging transaction (measured every 15 s by each processor for the partitions it owns).', labelNames: ['topic', 'partition'], registers: [registry] });
    this.processorPartitions.set(0);
    for (const outcome of ['committed', 'aborted']) this.processorTransactions.inc({ outcome }, 0);
    for (const listener of ['intake', 'admin']) {
      this.authFailures.inc({ listener }, 0);
      this.rateLimited.inc({ listener }, 0);
      for (const cap of ['total', 'client']) this.connectionsRefused.inc({ listener, cap }, 0);
    }
    this.auditWriteFailures.inc(0);
    for (const type of ['created', 'grew', 'merged', 'hot']) this.clusterEvents.inc({ type }, 0);
    for (const action of AUDIT_ACTIONS) for (const outcome of AUDIT_OUTCOMES) this.adminActions.inc({ action, outcome }, 0);
  }

  /**
   * Registers the connectors the scrape-time gauges read (up, paused, breaker, poll lag, last
   * success) and initialises every counter whose label values are known from config to 0.
   */
  observeConnectors(source: ConnectorStateSource, known: { id: string; channel: string }[]): void {
    this.source = source;
    for (const { id, channel } of known) {
      this.received.inc({ connector: id, channel }, 0);
      this.published.inc({ connector: id, channel }, 0);
      this.duplicates.inc({ connector: id, channel }, 0);
      this.rejectionsUnrecorded.inc({ connector: id }, 0);
      for (const reason of REJECTION_REASONS) this.rejected.inc({ connector: id, reason }, 0);
    }
  }
}
