/**
 * A record the hub writes. `partition` is always explicit (see `core/kafka/partitioner.ts`);
 * `value` is UTF-8 JSON, or null for a tombstone on a compacted topic.
 */
export interface OutRecord {
  topic: string;
  partition: number;
  key: string;
  value: string | null;
  headers: Record<string, string>;
}

/** A record read back. `offset` is a decimal string (Kafka offsets exceed 2^53 in theory). */
export interface StoredRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: string | null;
  headers: Record<string, string>;
  timestamp: number;
}

/** Consumer offsets committed together with a batch: topic → partition → next offset to read. */
export type OffsetCommit = { topic: string; partition: number; offset: string }[];

/**
 * The durable log the hub runs on: Kafka in production, the embedded file log in one process.
 * Both give the same guarantees to the code above them.
 *
 * `write` (intake): resolves only when every record of the batch is durable (Kafka: committed in
 * a transaction on an idempotent producer with acks=all; embedded: appended and fsynced), within
 * `writeTimeoutMs` counted from the call (queueing behind an in-flight batch included). It
 * rejects with a retriable `SinkError` otherwise, and a rejected batch never becomes visible to
 * read_committed readers later (the transaction is aborted, or the producer fenced).
 */
export interface RecordLog {
  readonly kind: 'kafka' | 'embedded';
  /** Partition count of intake.reports.v1, intake.located.v1 and the processor's outputs. */
  readonly partitions: number;
  ready(): boolean;
  write(records: OutRecord[]): Promise<void>;
  /**
   * Reads a topic from `sinceMs` (record timestamp; 0 = from the start) up to its end as of the
   * call, read_committed, in order per partition.
   */
  scan(topic: string, sinceMs: number, onRecord: (r: StoredRecord) => void): Promise<number>;
}
