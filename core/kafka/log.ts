import { SinkError } from '../errors';
import type { Logger } from '../logger';
import type { HubMetrics } from '../metrics';
import { GroupCommitter } from '../outputs/group-commit';
import type { OutRecord, RecordLog, StoredRecord } from '../outputs/output';
import type { Topics } from '../outputs/topics';
import { KafkaAdmin, topicSpecs, type TopicLayout } from './admin';
import { DeadlineError, isFatal, kafkaModule, retryPause, withDeadline, type KafkaConnectionConfig } from './client';
import { PartitionReader } from './reader';
import { TxnProducer } from './txn-producer';

export interface KafkaLogOptions {
  instanceId: string;
  writeTimeoutMs: number;
  transactionTimeoutMs: number;
  callTimeoutMs: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
}

/**
 * The intake tier's writer on Kafka: one transactional producer per instance
 * (`<namespace>intake-hub-intake-<instance id>`), group commit — every write queued while one
 * transaction is in flight goes out in the next — and one transaction per batch.
 *
 * `writeTimeoutMs` bounds the whole wait of a caller from `write` to its answer, queueing
 * included. A batch that cannot be committed before the earliest deadline of its writes is aborted
 * (its records never become visible); when the commit itself does not answer in time its outcome is
 * uncertain, so the producer is destroyed and re-initialised under the same transactional id, which
 * fences the stray commit. The caller gets a retriable SinkError in both cases, and a retry of an
 * uncertain write that did land is an exact duplicate the processor's dedup drops.
 */
export class KafkaLog implements RecordLog {
  readonly kind = 'kafka' as const;
  readonly partitions: number;
  private producer: TxnProducer | null = null;
  private reinit: Promise<void> | null = null;
  private cleanup: Promise<void> | null = null;
  private readonly committer: GroupCommitter;
  private readonly admin: KafkaAdmin;
  private readonly reader: PartitionReader;
  private ok = false;
  private stopped = true;
  private probing: Promise<void> | null = null;

  constructor(
    readonly conn: KafkaConnectionConfig,
    readonly topics: Topics,
    readonly layout: TopicLayout,
    private readonly o: KafkaLogOptions,
    private readonly logger: Logger,
    private readonly metrics?: HubMetrics,
  ) {
    this.partitions = layout.partitions;
    this.admin = new KafkaAdmin(conn);
    this.reader = new PartitionReader(conn, 'scan');
    this.committer = new GroupCommitter((records, deadline) => this.commit(records, deadline), { maxBatchRecords: o.maxBatchRecords, maxBatchBytes: o.maxBatchBytes, timeoutMs: o.writeTimeoutMs });
  }

  /** Connects, creates missing topics (checking the partition counts of existing ones) and initialises the producer. Throws when Kafka is unreachable: the hub retries. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.admin.connect();
    const created = await this.admin.ensureTopics(topicSpecs(this.topics, this.layout), this.layout.replicationFactor);
    if (created.length > 0) this.logger.info('created topics', { topics: created });
    await this.initProducer();
    this.setOk(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.producer?.destroy();
    this.producer = null;
    await this.reader.close();
    await this.admin.disconnect();
    this.setOk(false);
  }

  ready(): boolean {
    return this.ok;
  }

  /** The admin client (offset queries for metrics and tests). */
  get adminClient(): KafkaAdmin {
    return this.admin;
  }

  write(records: OutRecord[]): Promise<void> {
    if (this.stopped) return Promise.reject(new SinkError('kafka output is stopped'));
    return this.committer.write(records);
  }

  scan(topic: string, sinceMs: number, onRecord: (r: StoredRecord) => void): Promise<number> {
    return this.reader.scan(topic, sinceMs, onRecord);
  }

  private async initProducer(): Promise<void> {
    const p = new TxnProducer(this.conn, { transactionalId: `${this.conn.namespace}intake-hub-intake-${this.o.instanceId}`, transactionTimeoutMs: this.o.transactionTimeoutMs, callTimeoutMs: this.o.callTimeoutMs, compression: this.layout.compression, lingerMs: 1 }, 'intake');
    try {
      await p.init();
    } catch (e) {
      await p.destroy();
      throw e;
    }
    this.producer = p;
  }

  /** Destroys the producer and re-initialises it in the background (fencing anything in flight). */
  private resetProducer(): void {
    const old = this.producer;
    this.producer = null;
    this.setOk(false);
    if (this.reinit) return;
    this.reinit = (async () => {
      await old?.destroy();
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          await this.initProducer();
          this.setOk(true);
          return;
        } catch (e) {
          if (attempt === 0) this.logger.warn('kafka producer re-initialisation failed; retrying', { err: e });
          await retryPause(attempt);
        }
      }
    })().finally(() => {
      this.reinit = null;
    });
  }

  private async commit(records: OutRecord[], deadline: number): Promise<void> {
    const left = (): number => deadline - Date.now();
    // the previous batch's clean-up (an abort after its deadline) must end before this one begins
    if (this.cleanup) await withDeadline(this.cleanup, Math.max(1, left()), 'previous batch clean-up').catch(() => undefined);
    const p = this.producer;
    if (!p || this.cleanup) {
      this.probe();
      throw new SinkError('kafka output unavailable (producer re-initialising)');
    }
    const started = process.hrtime.bigint();
    let committing = false;
    try {
      if (left() <= 0) throw new SinkError('write deadline passed before its batch could start');
      await p.begin(deadline);
      p.send(records);
      await p.flush(deadline);
      // commit only with time left for it: a commit cut short by the deadline has an uncertain outcome
      if (left() < Math.min(1000, this.o.writeTimeoutMs / 4)) throw new SinkError(`kafka write not acknowledged within ${this.o.writeTimeoutMs} ms; aborted`);
      committing = true;
      await p.commit(deadline);
      this.setOk(true);
      this.metrics?.outputWriteDuration.observe({ output: 'kafka' }, Number(process.hrtime.bigint() - started) / 1e9);
      this.metrics?.outputBatchRecords.observe({ output: 'kafka' }, records.length);
    } catch (e) {
      this.probe();
      // A commit that did not answer in time, or a fatal error: the outcome is uncertain, fence the
      // producer by re-initialising it. Anything else: abort (in the background, so the caller is
      // answered at its deadline; the next batch waits for it) — the records never become visible.
      // (the client's own timeout of a commit, __TIMED_OUT, leaves the commit running in the background)
      const uncertain = (committing && (e instanceof DeadlineError || (e as { code?: unknown }).code === kafkaModule().CODES.ERRORS.ERR__TIMED_OUT)) || isFatal(e);
      if (uncertain) this.resetProducer();
      else if (p.active) {
        this.cleanup = p
          .abort()
          .catch(() => this.resetProducer())
          .finally(() => {
            this.cleanup = null;
          });
      }
      if (e instanceof SinkError) throw e;
      throw new SinkError(`kafka write failed${uncertain ? ' (outcome uncertain: producer fenced and re-initialised)' : ' (aborted)'}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * After a failed write: asks the broker whether it answers at all (a metadata request with the
   * call timeout). A failure that is only this batch's (a deadline under load) keeps the instance
   * ready; an unreachable broker makes it unready (`/readyz` 503, `intake_output_up` 0) and the probe
   * repeats with jittered backoff until the broker answers and the producer is usable again — the
   * instance gets no traffic while unready, so it must not wait for a write to tell it it is healthy.
   */
  private probe(): void {
    if (this.probing || this.stopped) return;
    this.probing = (async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        const reachable = await withDeadline(this.admin.listTopics(), this.o.callTimeoutMs, 'broker probe').then(
          () => true,
          () => false,
        );
        if (this.stopped) return;
        if (reachable && this.producer && !this.reinit && !this.cleanup) {
          this.setOk(true);
          return;
        }
        if (!reachable) this.setOk(false);
        await retryPause(attempt);
      }
    })().finally(() => {
      this.probing = null;
    });
  }

  private setOk(v: boolean): void {
    if (v !== this.ok) this.logger.info(v ? 'kafka output available' : 'kafka output unavailable');
    this.ok = v;
    this.metrics?.outputUp.set({ output: 'kafka' }, v ? 1 : 0);
  }
}
