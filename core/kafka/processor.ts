import type { KafkaJS, KafkaConsumer as RdConsumer } from '@confluentinc/kafka-javascript';
import type { Task } from '../fleet/tasks';
import type { Logger } from '../logger';
import type { HubMetrics } from '../metrics';
import type { OutRecord, StoredRecord } from '../outputs/output';
import type { Topics } from '../outputs/topics';
import { KafkaAdmin } from './admin';
import { baseConfig, isFatal, kafkaModule, retryPause, type KafkaConnectionConfig } from './client';
import { PartitionReader } from './reader';
import { TxnProducer } from './txn-producer';

export interface TaskFactory {
  /** A fresh task for a partition of `topic` (intake.reports.v1 → dedup, intake.located.v1 → ticket). */
  create(topic: string, partition: number): Task;
}

export interface KafkaProcessorOptions {
  conn: KafkaConnectionConfig;
  topics: Topics;
  /** Stable and unique among live instances (StatefulSet ordinal, `--instance-id`): the transactional id is derived from it. */
  instanceId: string;
  transactionTimeoutMs: number;
  callTimeoutMs: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4';
  /** Records per transaction at most (one partition's batch). */
  maxBatchRecords: number;
  sessionTimeoutMs: number;
  tasks: TaskFactory;
  metrics: HubMetrics;
  logger: Logger;
  /**
   * Crash-only exit: called when a transactional call's outcome is uncertain (deadline exceeded) or
   * the producer is fenced or fatal. The process must exit; its restart re-initialises the same
   * transactional id, which fences anything still in flight. Tests, which cannot exit, pass
   * `restartOnFatal` (`core/testing/fatal.ts`) or a recorder.
   */
  onFatal(reason: string, err: unknown): void;
  /** Test only: abort this fraction of transactions (Kafka's TransactionalMessageCopier --enable-random-aborts). */
  testAbortRatio?: number;
}

/**
 * The processor tier on Kafka: one consumer-group member and one transactional producer per
 * instance (Kafka Streams' EOS-v2 model). Each batch of one input partition is processed by that
 * partition's task and committed in ONE transaction: its outputs, its changelog records and the
 * consumer offset (`sendOffsetsToTransaction` with the consumer's group metadata, so a zombie of
 * an older generation cannot commit — KIP-447).
 *
 * On assignment (inside the awaited rebalance callback, before any record of the partition is
 * delivered): committed offsets are fetched with `require_stable` (waits for the previous owner's
 * pending transaction to resolve), then each task is rebuilt from its changelog partition read
 * read_committed up to the high watermark. Revoked tasks are dropped. After an abortable error
 * the transaction is aborted, the task rebuilt from its changelog and the batch re-delivered.
 */
export class KafkaProcessor {
  private consumer: KafkaJS.Consumer | null = null;
  private producer: TxnProducer | null = null;
  private readonly tasks = new Map<string, Task>();
  private readonly reader: PartitionReader;
  private readonly admin: KafkaAdmin;
  private readonly groupId: string;
  private running = false;
  private stopping = false;
  private failed = false;
  private gapTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: KafkaProcessorOptions) {
    this.reader = new PartitionReader(o.conn, 'restore');
    this.admin = new KafkaAdmin(o.conn);
    this.groupId = `${o.conn.namespace}intake-hub-processor`;
  }

  /** Input partitions this instance owns now (topic/partition). */
  assigned(): string[] {
    return [...this.tasks.keys()].sort();
  }

  get ok(): boolean {
    return this.running && !this.failed;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.stopping = false;
    await this.admin.connect();
    const producer = new TxnProducer(this.o.conn, { transactionalId: `${this.o.conn.namespace}intake-hub-processor-${this.o.instanceId}`, transactionTimeoutMs: this.o.transactionTimeoutMs, callTimeoutMs: this.o.callTimeoutMs, compression: this.o.compression, lingerMs: 2 }, 'processor');
    await producer.init();
    this.producer = producer;
    const { KafkaJS: K } = kafkaModule();
    const logger = this.o.logger;
    const consumer = new K.Kafka({}).consumer({
      ...baseConfig(this.o.conn, 'processor'),
      'group.id': this.groupId,
      'isolation.level': 'read_committed',
      'enable.auto.commit': false,
      'auto.offset.reset': 'earliest',
      'partition.assignment.strategy': 'cooperative-sticky',
      'session.timeout.ms': this.o.sessionTimeoutMs,
      'heartbeat.interval.ms': Math.max(500, Math.floor(this.o.sessionTimeoutMs / 4)),
      // at most maxBatchRecords per batch (one transaction), as docs/configuration.md says: after an
      // outage's backlog an unbounded batch (-1) would be one transaction of everything fetched,
      // which can outlast transactionTimeoutMs
      'js.consumer.max.batch.size': this.o.maxBatchRecords,
      'max.partition.fetch.bytes': 2 * 1024 * 1024,
      rebalance_cb: (err: { code: number }, assignment: { topic: string; partition: number }[]) => this.onRebalance(err.code, assignment),
      kafkaJS: { logger: kjsLogger(logger) },
    } as never);
    await consumer.connect();
    await consumer.subscribe({ topics: [this.o.topics.reports, this.o.topics.located] });
    this.consumer = consumer;
    this.running = true;
    void consumer
      .run({ eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (p) => this.onBatch(p) })
      .catch((e) => this.fatal('consumer run loop failed', e));
    this.gapTimer = setInterval(() => void this.measureLsoGap(), 15000);
    this.gapTimer.unref();
  }

  /** HW − LSO of the output and changelog partitions this instance writes (its owned located/reports partitions). */
  private async measureLsoGap(): Promise<void> {
    const owned = new Map<string, Set<number>>();
    for (const t of this.tasks.values()) {
      const outs = t.topic === this.o.topics.reports ? [this.o.topics.dedupChangelog] : [this.o.topics.tickets, this.o.topics.clusters, this.o.topics.ticketChangelog];
      for (const topic of outs) owned.set(topic, (owned.get(topic) ?? new Set()).add(t.partition));
    }
    try {
      for (const [topic, parts] of owned) {
        for (const o of await this.admin.offsets(topic)) {
          if (parts.has(o.partition)) this.o.metrics.kafkaLsoGap.set({ topic, partition: String(o.partition) }, Number(o.high - o.stable));
        }
      }
    } catch {
      // the broker is unreachable: the gauge keeps its last value (and the output-down alert fires)
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.gapTimer) clearInterval(this.gapTimer);
    this.gapTimer = null;
    this.running = false;
    const c = this.consumer;
    this.consumer = null;
    await c?.disconnect().catch(() => undefined);
    await this.producer?.destroy();
    this.producer = null;
    this.tasks.clear();
    await this.reader.close();
    await this.admin.disconnect();
  }

  private fatal(reason: string, err: unknown): void {
    if (this.stopping || this.failed) return;
    this.failed = true;
    this.o.logger.error('processor: fatal, exiting (crash-only rule)', { reason, err });
    // Nothing more may be processed until the process is gone (onBatch refuses every batch): the
    // failed batch's task state has advanced past records whose transaction did not commit, so a
    // re-delivery would be dropped as a duplicate. Only a restart (state restored from the
    // changelogs) may consume again. (Not consumer.pause: the client defers it past a running
    // batch and then throws from its run loop once the consumer is disconnected.)
    this.o.onFatal(reason, err);
  }

  private async onRebalance(code: number, assignment: { topic: string; partition: number }[]): Promise<void> {
    const { CODES } = kafkaModule();
    if (code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
      const started = process.hrtime.bigint();
      try {
        await this.restoreRetrying(assignment);
      } catch (e) {
        this.fatal('state restore failed', e);
        throw e;
      }
      this.o.metrics.processorRestoreDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      this.o.logger.info('processor: partitions assigned', { partitions: assignment.map((t) => `${t.topic}/${t.partition}`), ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6) });
    } else {
      for (const tp of assignment) {
        this.tasks.delete(`${tp.topic}/${tp.partition}`);
        this.o.metrics.processorLag.remove({ topic: tp.topic, partition: String(tp.partition) });
      }
      this.o.logger.info('processor: partitions revoked', { partitions: assignment.map((t) => `${t.topic}/${t.partition}`) });
    }
    this.o.metrics.processorPartitions.set(this.tasks.size);
  }

  /**
   * Fresh tasks for `tps`, rebuilt from their changelogs. A failure (a broker being replaced: its
   * partitions are leaderless until its session times out, and the admin and metadata calls time
   * out meanwhile) is retried with fresh tasks and jittered backoff for as long as a dead owner's
   * transaction can stay open, then thrown (the caller exits). Nothing was committed in between,
   * so a retry is as good as a first attempt; exiting on the first timeout cost a restart per
   * broker loss.
   */
  private async restoreRetrying(tps: { topic: string; partition: number }[]): Promise<void> {
    const deadline = Date.now() + 2 * this.o.transactionTimeoutMs + 30000;
    for (let attempt = 0; ; attempt++) {
      for (const tp of tps) this.tasks.set(`${tp.topic}/${tp.partition}`, this.o.tasks.create(tp.topic, tp.partition));
      try {
        await this.restore(tps);
        return;
      } catch (e) {
        if (this.stopping || Date.now() > deadline) throw e;
        if (attempt === 0) this.o.logger.warn('processor: state restore failed; retrying', { partitions: tps.map((t) => `${t.topic}/${t.partition}`), err: e });
        await retryPause(attempt);
      }
    }
  }

  /** Rebuilds the tasks of `tps` from their changelogs, after the previous owner's last transaction resolved. */
  private async restore(tps: { topic: string; partition: number }[]): Promise<void> {
    if (tps.length === 0) return;
    // 1. stable committed offsets of these partitions: waits until the previous owner's pending
    //    offset commit is resolved (a transaction left open by a dead owner: until it is aborted)
    const byTopic = new Map<string, number[]>();
    for (const tp of tps) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    await this.admin.committed(this.groupId, [...byTopic].map(([topic, partitions]) => ({ topic, partitions })), 2 * this.o.transactionTimeoutMs + 30000);
    // 2. then the changelog ends (read_uncommitted high watermarks), read read_committed to them
    const byChangelog = new Map<string, Task[]>();
    for (const tp of tps) {
      const task = this.tasks.get(`${tp.topic}/${tp.partition}`);
      if (!task) continue;
      const list = byChangelog.get(task.changelog) ?? [];
      list.push(task);
      byChangelog.set(task.changelog, list);
    }
    for (const [changelog, tasks] of byChangelog) {
      const marks = await this.reader.watermarks(changelog);
      const buffers = new Map<number, StoredRecord[]>(tasks.map((t) => [t.partition, []]));
      await this.reader.read(
        tasks.map((t) => {
          const m = marks.find((x) => x.partition === t.partition);
          return { topic: changelog, partition: t.partition, from: m?.low ?? 0n, to: m?.high ?? 0n };
        }),
        (r) => buffers.get(r.partition)?.push(r),
      );
      for (const t of tasks) t.restore(buffers.get(t.partition) ?? []);
    }
  }

  private async onBatch(p: KafkaJS.EachBatchPayload): Promise<void> {
    const { batch } = p;
    if (this.failed) {
      // re-delivered until the exit; slowed so that the refusals do not spin
      await new Promise((r) => setTimeout(r, 1000).unref());
      throw new Error('processor failed (crash-only rule): no batch is processed before the restart');
    }
    if (batch.messages.length === 0 || p.isStale()) return;
    const key = `${batch.topic}/${batch.partition}`;
    const task = this.tasks.get(key);
    const producer = this.producer;
    if (!task || !producer) throw new Error(`no task for ${key}`);
    const out: OutRecord[] = [];
    for (const m of batch.messages) task.process(fromCompat(batch.topic, batch.partition, m), out);
    const last = batch.messages[batch.messages.length - 1] as KafkaJS.KafkaMessage;
    const started = process.hrtime.bigint();
    try {
      await producer.begin();
      producer.send(out);
      await producer.flush(Date.now() + this.o.callTimeoutMs);
      if (this.o.testAbortRatio && Math.random() < this.o.testAbortRatio) throw Object.assign(new Error('test: random abort'), { isTxnRequiresAbort: true });
      await producer.sendOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }], (this.consumer as unknown as { _getInternalClient(): RdConsumer })._getInternalClient());
      await producer.commit();
      this.o.metrics.processorTransactions.inc({ outcome: 'committed' });
      this.o.metrics.processorTransactionDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      p.resolveOffset(last.offset);
      const hw = BigInt(batch.highWatermark);
      const lag = hw - (BigInt(last.offset) + 1n);
      this.o.metrics.processorLag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(lag > 0n ? lag : 0n));
    } catch (e) {
      this.o.metrics.processorTransactions.inc({ outcome: 'aborted' });
      if (isFatal(e) || (e as { code?: unknown }).code === kafkaModule().CODES.ERRORS.ERR__FENCED) {
        this.fatal('transaction failed with an uncertain or fatal outcome', e);
        throw e;
      }
      try {
        await producer.abort();
      } catch (abortErr) {
        this.fatal('abort failed', abortErr);
        throw abortErr;
      }
      // the task's state advanced past the aborted batch: rebuild it, then the batch is re-delivered
      await this.restoreRetrying([{ topic: batch.topic, partition: batch.partition }]).catch((re) => this.fatal('restore after abort failed', re));
      if (!(e as Error).message.startsWith('test: random abort')) this.o.logger.warn('processor: transaction aborted; batch will be retried', { partition: key, err: e });
      throw e;
    }
  }
}

function fromCompat(topic: string, partition: number, m: KafkaJS.KafkaMessage): StoredRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return { topic, partition, offset: m.offset, key: m.key ? m.key.toString('utf8') : '', value: m.value ? m.value.toString('utf8') : null, headers, timestamp: Number(m.timestamp) };
}

/** The client's KafkaJS-style logger, onto ours (its info chatter goes to debug). */
export function kjsLogger(l: Logger): unknown {
  const fields = (extra: unknown): Record<string, unknown> => (extra && typeof extra === 'object' ? (extra as Record<string, unknown>) : {});
  return {
    info: (m: string, x?: unknown) => l.debug(`kafka: ${m}`, fields(x)),
    error: (m: string, x?: unknown) => l.warn(`kafka: ${m}`, fields(x)),
    warn: (m: string, x?: unknown) => l.warn(`kafka: ${m}`, fields(x)),
    debug: (m: string, x?: unknown) => l.debug(`kafka: ${m}`, fields(x)),
    namespace: () => kjsLogger(l),
    setLogLevel: () => undefined,
  };
}
