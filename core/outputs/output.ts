/** A record to write: value is UTF-8 JSON for the hub's own records. */
export interface OutRecord {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface StoredRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  timestamp: number;
}

/**
 * Where tickets go. Two implementations with the same semantics: Kafka (production) and an
 * embedded file log (one-process default).
 *
 * `write` resolves only when every record of the batch is durable (Kafka: acks=all on an
 * idempotent producer; embedded: appended and fsynced). It rejects with a retriable `SinkError`
 * when that cannot be done in time; the caller must then not acknowledge its source.
 */
export interface Output {
  readonly kind: 'kafka' | 'embedded';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True when the last write or probe succeeded. */
  ready(): boolean;
  write(records: OutRecord[]): Promise<void>;
  /**
   * Reads a topic from `sinceMs` (record timestamp) up to its end as of the call, in order per
   * partition. Used to rebuild state (dedup index, clusters, checkpoints) after a restart.
   */
  scan(topic: string, sinceMs: number, onRecord: (r: StoredRecord) => void): Promise<number>;
}
