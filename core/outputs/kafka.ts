import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Producer, type ITopicConfig } from 'kafkajs';
import { SinkError } from '../errors';
import type { Logger } from '../logger';
import type { HubMetrics } from '../metrics';
import { GroupCommitter } from './group-commit';
import type { OutRecord, Output, StoredRecord } from './output';
import { TOPICS } from './topics';

export interface KafkaOutputConfig {
  brokers: string[];
  clientId: string;
  partitions: number;
  replicationFactor: number;
  /** A write not durable within this time fails with a retriable SinkError (HTTP 503). */
  writeTimeoutMs: number;
  connectionTimeoutMs: number;
  /** Retention of the raw archive and the dead letters (ms). */
  rawRetentionMs: number;
}

export const KAFKA_DEFAULTS: Omit<KafkaOutputConfig, 'brokers'> = {
  clientId: 'intake-hub',
  partitions: 3,
  replicationFactor: 1,
  writeTimeoutMs: 10000,
  connectionTimeoutMs: 3000,
  rawRetentionMs: 30 * 24 * 3600 * 1000,
};

/**
 * Kafka output on kafkajs: an idempotent producer, acks=all (-1) on every batch, group commit (all
 * writes queued while one is in flight go out in one produce request). Topics are created at start
 * with the configured partitions; the checkpoint topic is compacted.
 *
 * After a failed or timed-out write the producer is replaced, so a broker that comes back is used
 * again without a restart; a readiness probe (describeCluster) runs every few seconds.
 */
export class KafkaOutput implements Output {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private admin: Admin | null = null;
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;
  private readonly committer: GroupCommitter;
  private ok = false;
  private probeTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly cfg: KafkaOutputConfig,
    private readonly logger: Logger,
    private readonly metrics?: HubMetrics,
  ) {
    this.kafka = new Kafka({
      clientId: cfg.clientId,
      brokers: cfg.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: cfg.connectionTimeoutMs,
      requestTimeout: Math.max(cfg.writeTimeoutMs, 5000),
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
    });
    this.committer = new GroupCommitter((records) => this.send(records));
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.ensureTopics();
    await this.getProducer();
    this.setOk(true);
    this.probeTimer = setInterval(() => void this.probe(), 3000);
    this.probeTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
    const p = this.producer;
    this.producer = null;
    this.connecting = null;
    await Promise.allSettled([p?.disconnect(), this.admin?.disconnect()]);
    this.admin = null;
    this.setOk(false);
  }

  ready(): boolean {
    return this.ok;
  }

  write(records: OutRecord[]): Promise<void> {
    if (this.stopped) return Promise.reject(new SinkError('kafka output is stopped'));
    return this.committer.write(records);
  }

  private async ensureTopics(): Promise<void> {
    const admin = this.admin as Admin;
    const existing = new Set(await admin.listTopics());
    const retention = String(this.cfg.rawRetentionMs);
    const wanted: ITopicConfig[] = [
      { topic: TOPICS.raw, configEntries: [{ name: 'retention.ms', value: retention }] },
      { topic: TOPICS.tickets, configEntries: [] },
      { topic: TOPICS.clusters, configEntries: [] },
      { topic: TOPICS.dlq, configEntries: [{ name: 'retention.ms', value: retention }] },
      { topic: TOPICS.checkpoints, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]
      .filter((t) => !existing.has(t.topic))
      .map((t) => ({ ...t, numPartitions: this.cfg.partitions, replicationFactor: this.cfg.replicationFactor }));
    if (wanted.length > 0) {
      await admin.createTopics({ topics: wanted, waitForLeaders: true });
      this.logger.info('created topics', { topics: wanted.map((t) => t.topic) });
    }
  }

  private getProducer(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    if (this.connecting) return this.connecting;
    const p = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 } });
    this.connecting = p
      .connect()
      .then(() => {
        this.producer = p;
        return p;
      })
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
  }

  private resetProducer(): void {
    const p = this.producer;
    this.producer = null;
    if (p) void p.disconnect().catch(() => undefined);
  }

  private async send(records: OutRecord[]): Promise<void> {
    const started = process.hrtime.bigint();
    const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
    for (const r of records) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push({ key: r.key, value: r.value, headers: r.headers });
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SinkError(`kafka write not acknowledged within ${this.cfg.writeTimeoutMs} ms`)), this.cfg.writeTimeoutMs);
    });
    try {
      const work = (async () => {
        const producer = await this.getProducer();
        await producer.sendBatch({ acks: -1, timeout: this.cfg.writeTimeoutMs, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      })();
      work.catch(() => undefined);
      await Promise.race([work, timeout]);
      this.setOk(true);
      this.metrics?.outputWriteDuration.observe({ output: 'kafka' }, Number(process.hrtime.bigint() - started) / 1e9);
      this.metrics?.outputBatchRecords.observe({ output: 'kafka' }, records.length);
    } catch (e) {
      this.setOk(false);
      this.resetProducer();
      if (e instanceof SinkError) throw e;
      throw new SinkError(`kafka write failed: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  private async probe(): Promise<void> {
    if (this.stopped || !this.admin) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.admin.describeCluster(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('probe timeout')), 2500);
        }),
      ]);
      this.setOk(true);
    } catch {
      this.setOk(false);
    } finally {
      clearTimeout(timer);
    }
  }

  private setOk(v: boolean): void {
    if (v !== this.ok) this.logger.info(v ? 'kafka output available' : 'kafka output unavailable');
    this.ok = v;
    this.metrics?.outputUp.set({ output: 'kafka' }, v ? 1 : 0);
  }

  async scan(topic: string, sinceMs: number, onRecord: (r: StoredRecord) => void): Promise<number> {
    const admin = this.admin ?? this.kafka.admin();
    if (!this.admin) await admin.connect();
    const high = await retryOnLeaderChange(admin, topic, () => admin.fetchTopicOffsets(topic));
    const from = sinceMs > 0 ? await retryOnLeaderChange(admin, topic, () => admin.fetchTopicOffsetsByTimestamp(topic, sinceMs)) : high.map((h) => ({ partition: h.partition, offset: h.low }));
    const targets = new Map<number, { start: bigint; end: bigint }>();
    for (const h of high) {
      const f = from.find((x) => x.partition === h.partition);
      const start = BigInt(f && f.offset !== '-1' ? f.offset : h.high);
      const end = BigInt(h.high);
      if (start < end) targets.set(h.partition, { start, end });
    }
    if (targets.size === 0) return 0;
    const groupId = `intake-hub-scan-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    let n = 0;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve, reject) => {
        const remaining = new Set(targets.keys());
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const t = targets.get(batch.partition);
              if (!t) return;
              for (const m of batch.messages) {
                const off = BigInt(m.offset);
                if (off < t.start || off >= t.end) continue;
                const headers: Record<string, string> = {};
                for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
                onRecord({ topic, partition: batch.partition, offset: m.offset, key: m.key?.toString('utf8') ?? '', value: m.value?.toString('utf8') ?? '', headers, timestamp: Number(m.timestamp) });
                n++;
              }
              const last = BigInt(batch.lastOffset());
              if (last + 1n >= t.end) {
                remaining.delete(batch.partition);
                if (remaining.size === 0) resolve();
              }
            },
          })
          .catch(reject);
        for (const [partition, t] of targets) consumer.seek({ topic, partition, offset: t.start.toString() });
      });
      await done;
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
      if (!this.admin) await admin.disconnect();
    }
    return n;
  }
}

/**
 * Right after topics are created (or a broker restarts) partition leaders may not be elected yet
 * and the broker answers NOT_LEADER / LEADER_NOT_AVAILABLE: retriable errors. Refresh the topic's
 * metadata and retry for up to ~15 s instead of failing the hub's start.
 */
export async function retryOnLeaderChange<T>(admin: Admin, topic: string, f: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      const retriable = (e as { retriable?: boolean }).retriable === true || /leader|not available|coordinator/i.test((e as Error).message);
      if (!retriable || attempt >= 30) throw e;
      await new Promise((r) => setTimeout(r, 500));
      await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
    }
  }
}
