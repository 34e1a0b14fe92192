import type { Producer as RdProducer, KafkaConsumer as RdConsumer, LibrdKafkaError, MessageHeader } from '@confluentinc/kafka-javascript';
import type { OutRecord, OffsetCommit } from '../outputs/output';
import { baseConfig, DeadlineError, kafkaModule, withDeadline, type KafkaConnectionConfig } from './client';

export interface TxnProducerOptions {
  transactionalId: string;
  /** transaction.timeout.ms: an open transaction of a dead producer blocks read_committed readers this long at most. */
  transactionTimeoutMs: number;
  /** Deadline of one transactional call (init, begin, flush, sendOffsets, commit, abort). */
  callTimeoutMs: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4';
  lingerMs: number;
}

const promisify = (f: (cb: (err: LibrdKafkaError | null | undefined) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => f((err) => (err ? reject(toError(err)) : resolve())));

function toError(err: LibrdKafkaError): Error {
  const e = new Error(err.message) as Error & LibrdKafkaError;
  Object.assign(e, { code: err.code, isFatal: err.isFatal, isRetriable: err.isRetriable, isTxnRequiresAbort: err.isTxnRequiresAbort });
  return e;
}

/**
 * A transactional producer (librdkafka's native API): idempotent, acks=all, explicit partitions.
 * One transaction at a time. Every call has the hub's own deadline on top of librdkafka's timeout
 * (librdkafka #5456/#5511: some transactional calls can hang past theirs); a call that exceeds it
 * rejects with a `DeadlineError`, whose outcome is uncertain: the owner must `destroy` this
 * producer (or exit) — re-initialising the same transactional id then fences whatever was in flight.
 */
export class TxnProducer {
  private p: RdProducer | null = null;
  private inTxn = false;

  constructor(
    private readonly conn: KafkaConnectionConfig,
    private readonly o: TxnProducerOptions,
    private readonly role: string,
  ) {}

  get active(): boolean {
    return this.inTxn;
  }

  /** Connects and initialises transactions: fences any earlier producer with the same transactional id and resolves its open transaction. */
  async init(): Promise<void> {
    const { Producer } = kafkaModule();
    const p = new Producer({
      ...baseConfig(this.conn, this.role),
      'transactional.id': this.o.transactionalId,
      'enable.idempotence': true,
      'acks': -1,
      'transaction.timeout.ms': this.o.transactionTimeoutMs,
      'compression.type': this.o.compression,
      'linger.ms': this.o.lingerMs,
      'message.timeout.ms': Math.max(this.o.transactionTimeoutMs - 1000, 1000),
      'dr_cb': false,
    } as never);
    this.p = p;
    p.on('event.error', () => undefined); // surfaced through the failing call instead
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        p.connect({ timeout: this.o.callTimeoutMs }, (err) => (err ? reject(toError(err as LibrdKafkaError)) : resolve()));
      }),
      this.o.callTimeoutMs + 1000,
      'kafka connect',
    );
    p.setPollInterval(50);
    await withDeadline(promisify((cb) => p.initTransactions(this.o.callTimeoutMs, cb)), this.o.callTimeoutMs + 1000, 'initTransactions');
  }

  private producer(): RdProducer {
    if (!this.p) throw new Error('producer is not initialised');
    return this.p;
  }

  async begin(deadline = Date.now() + this.o.callTimeoutMs): Promise<void> {
    const p = this.producer();
    await withDeadline(promisify((cb) => p.beginTransaction(cb)), Math.max(1, Math.min(this.o.callTimeoutMs, deadline - Date.now())), 'beginTransaction');
    this.inTxn = true;
  }

  /** Queues records in the open transaction (non-blocking; delivery is awaited by `flush` or `commit`). */
  send(records: OutRecord[]): void {
    const p = this.producer();
    for (const r of records) {
      const headers: MessageHeader[] = Object.entries(r.headers).map(([k, v]) => ({ [k]: v }));
      for (let attempt = 0; ; attempt++) {
        try {
          p.produce(r.topic, r.partition, r.value === null ? null : Buffer.from(r.value, 'utf8'), r.key, null, undefined, headers);
          break;
        } catch (e) {
          // local queue full: serve delivery callbacks and retry (bounded by queue.buffering.max.*)
          if (attempt > 1000) throw e;
          p.poll();
        }
      }
    }
  }

  /** Waits until every queued record is acknowledged by the brokers (acks=all). */
  async flush(deadline: number): Promise<void> {
    const p = this.producer();
    const ms = Math.max(1, Math.min(this.o.callTimeoutMs, deadline - Date.now()));
    await withDeadline(promisify((cb) => p.flush(ms, cb)), ms + 500, 'flush');
  }

  /** Adds the consumer's offsets to the transaction, with its group metadata (KIP-447 fencing). */
  async sendOffsets(offsets: OffsetCommit, consumer: RdConsumer): Promise<void> {
    const p = this.producer();
    const tpos = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) }));
    await withDeadline(promisify((cb) => p.sendOffsetsToTransaction(tpos, consumer, this.o.callTimeoutMs, cb)), this.o.callTimeoutMs + 1000, 'sendOffsetsToTransaction');
  }

  async commit(deadline = Date.now() + this.o.callTimeoutMs): Promise<void> {
    const p = this.producer();
    const ms = Math.max(1, Math.min(this.o.callTimeoutMs, deadline - Date.now()));
    await withDeadline(promisify((cb) => p.commitTransaction(ms, cb)), ms + 500, 'commitTransaction');
    this.inTxn = false;
  }

  async abort(): Promise<void> {
    const p = this.producer();
    if (!this.inTxn) return;
    await withDeadline(promisify((cb) => p.abortTransaction(this.o.callTimeoutMs, cb)), this.o.callTimeoutMs + 1000, 'abortTransaction');
    this.inTxn = false;
  }

  /** Disconnects without waiting for anything in flight (used after an uncertain call). */
  async destroy(): Promise<void> {
    const p = this.p;
    this.p = null;
    this.inTxn = false;
    if (!p) return;
    await withDeadline(new Promise<void>((resolve) => p.disconnect(2000, () => resolve())), 3000, 'disconnect').catch(() => undefined);
  }
}

export { DeadlineError };
