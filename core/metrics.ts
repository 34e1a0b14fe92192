import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The hub's metrics, registered on an injected registry (tests pass a fresh one). Names follow
 * `intake_<noun>_<unit>`; labels are closed sets (connector ids and channels come from config,
 * reasons from the error-code catalog, stages from the pipeline) — never ids, URLs or free text.
 */
export class HubMetrics {
  readonly received: Counter<'connector' | 'channel'>;
  readonly published: Counter<'channel'>;
  readonly duplicates: Counter<'channel'>;
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

  constructor(readonly registry: Registry = new Registry(), opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'intake_process_' });
    this.received = new Counter({ name: 'intake_received_total', help: 'Source reports received, before any check.', labelNames: ['connector', 'channel'], registers: [registry] });
    this.published = new Counter({ name: 'intake_published_total', help: 'Canonical tickets made durable on the output.', labelNames: ['channel'], registers: [registry] });
    this.duplicates = new Counter({ name: 'intake_duplicates_total', help: 'Redelivered reports answered with the existing ticket (exact dedup).', labelNames: ['channel'], registers: [registry] });
    this.rejected = new Counter({ name: 'intake_rejected_total', help: 'Reports rejected and dead-lettered, by reason code.', labelNames: ['connector', 'reason'], registers: [registry] });
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
    this.connectorUp = new Gauge({ name: 'intake_connector_up', help: '1 when the connector is running and healthy.', labelNames: ['connector', 'channel'], registers: [registry] });
    this.clusterEvents = new Counter({ name: 'intake_cluster_events_total', help: 'Cluster events published, by type.', labelNames: ['type'], registers: [registry] });
    this.breakerState = new Gauge({ name: 'intake_connector_breaker_state', help: 'Circuit breaker state of a polled upstream: 0 closed, 1 half-open, 2 open.', labelNames: ['connector'], registers: [registry] });
    this.pollLag = new Gauge({ name: 'intake_poll_lag_seconds', help: 'Seconds since the start of the last poll that read the upstream listing to its end: how stale the hub view of the upstream is.', labelNames: ['connector'], registers: [registry] });
  }
}
