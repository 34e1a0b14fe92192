import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from '../logger';
import type { OutRecord } from '../outputs/output';
import type { Topics } from '../outputs/topics';
import { baseConfig, kafkaModule, type KafkaConnectionConfig } from './client';
import { partitionFor } from './partitioner';
import { kjsLogger } from './processor';
import { PartitionReader } from './reader';
import { TxnProducer } from './txn-producer';

/**
 * Poller ownership on Kafka (the KIP-618 pattern of Kafka Connect's exactly-once sources).
 *
 * - **Lease**: every instance running pollers joins the consumer group `<ns>intake-hub-pollers`
 *   on `intake.poller-leases.v1` (no records; one partition per lease slot). Owning slot i means
 *   polling every source whose `slotOf(connectorId)` is i. Membership only hands out the work.
 * - **Fencing**: on acquiring a source, the owner initialises the transactional producer
 *   `<ns>intake-hub-poller-<connector id>`. That bumps the id's epoch: a zombie — an old owner
 *   that still believes it holds the lease until its session times out — can no longer commit, and
 *   its open transaction is aborted. Only then is the cursor read (read_committed, to the end).
 * - **Cursor with the data**: each page's reports and the new cursor are written in ONE
 *   transaction, so a crash leaves either both or neither: no loss, no duplicate.
 */
export class KafkaLeases {
  private consumer: KafkaJS.Consumer | null = null;
  private readonly owned = new Set<number>();

  constructor(
    private readonly conn: KafkaConnectionConfig,
    private readonly topics: Topics,
    private readonly slots: number,
    private readonly logger: Logger,
    private readonly onChange: (acquired: number[], released: number[]) => Promise<void>,
    private readonly sessionTimeoutMs = 10000,
  ) {}

  slotOf(connectorId: string): number {
    return partitionFor(connectorId, this.slots);
  }

  ownedSlots(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const { KafkaJS: K, CODES } = kafkaModule();
    const c = new K.Kafka({}).consumer({
      ...baseConfig(this.conn, 'poller-lease'),
      'group.id': `${this.conn.namespace}intake-hub-pollers`,
      'enable.auto.commit': false,
      'partition.assignment.strategy': 'cooperative-sticky',
      'session.timeout.ms': this.sessionTimeoutMs,
      'heartbeat.interval.ms': Math.max(500, Math.floor(this.sessionTimeoutMs / 4)),
      rebalance_cb: async (err: { code: number }, assignment: { partition: number }[]) => {
        const slots = assignment.map((a) => a.partition);
        if (err.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
          for (const s of slots) this.owned.add(s);
          await this.onChange(slots, []);
        } else {
          for (const s of slots) this.owned.delete(s);
          await this.onChange([], slots);
        }
      },
      kafkaJS: { logger: kjsLogger(this.logger) },
    } as never);
    await c.connect();
    await c.subscribe({ topics: [this.topics.leases] });
    this.consumer = c;
    void c.run({ eachMessage: async () => undefined }).catch((e) => this.logger.error('poller lease consumer stopped', { err: e }));
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = null;
    await c?.disconnect().catch(() => undefined);
    const released = this.ownedSlots();
    this.owned.clear();
    if (released.length > 0) await this.onChange([], released);
  }
}

/**
 * One poll source's fenced writer: `open` fences every earlier owner and reads the source's
 * checkpoints; `commit` writes a page's records and the new checkpoint values in one transaction.
 */
export class KafkaSourceSession {
  private producer: TxnProducer | null = null;
  private readonly values = new Map<string, string>();

  constructor(
    private readonly conn: KafkaConnectionConfig,
    private readonly topics: Topics,
    private readonly partitions: number,
    private readonly connectorId: string,
    private readonly o: { transactionTimeoutMs: number; callTimeoutMs: number; compression: 'none' | 'gzip' | 'snappy' | 'lz4' },
  ) {}

  async open(names: string[]): Promise<void> {
    const p = new TxnProducer(this.conn, { transactionalId: `${this.conn.namespace}intake-hub-poller-${this.connectorId}`, transactionTimeoutMs: this.o.transactionTimeoutMs, callTimeoutMs: this.o.callTimeoutMs, compression: this.o.compression, lingerMs: 1 }, `poller-${this.connectorId}`);
    try {
      await p.init(); // fences the previous owner; its open transaction is aborted before we read
    } catch (e) {
      await p.destroy();
      throw e;
    }
    this.producer = p;
    const reader = new PartitionReader(this.conn, 'cursor');
    try {
      const keys = new Set(names.map((n) => this.key(n)));
      const parts = [...new Set([...keys].map((k) => partitionFor(k, this.partitions)))];
      const marks = await reader.watermarks(this.topics.checkpoints);
      await reader.read(
        parts.map((partition) => {
          const m = marks.find((x) => x.partition === partition);
          return { topic: this.topics.checkpoints, partition, from: m?.low ?? 0n, to: m?.high ?? 0n };
        }),
        (r) => {
          if (!keys.has(r.key)) return;
          const name = r.key.slice(this.connectorId.length + 1);
          if (r.value === null) this.values.delete(name);
          else this.values.set(name, r.value);
        },
      );
    } finally {
      await reader.close();
    }
  }

  get isOpen(): boolean {
    return this.producer !== null;
  }

  get(name: string): string | null {
    return this.values.get(name) ?? null;
  }

  private key(name: string): string {
    return `${this.connectorId}/${name}`;
  }

  /** Writes the records and the checkpoint values atomically; throws on failure (nothing was written). */
  async commit(records: OutRecord[], checkpoints: Record<string, string>): Promise<void> {
    const p = this.producer;
    if (!p) throw new Error(`poll source ${this.connectorId} is not open`);
    const cps: OutRecord[] = Object.entries(checkpoints).map(([name, value]) => ({ topic: this.topics.checkpoints, partition: partitionFor(this.key(name), this.partitions), key: this.key(name), value, headers: { 'intake-connector': this.connectorId } }));
    try {
      await p.begin();
      p.send([...records, ...cps]);
      await p.flush(Date.now() + this.o.callTimeoutMs);
      await p.commit();
    } catch (e) {
      // whatever failed (abortable, fatal or an uncertain commit), drop the producer: the next
      // `open` re-initialises the transactional id — fencing a commit still in flight — and reads
      // the checkpoint back, so the poller resumes from what really is durable
      if (p.active) await p.abort().catch(() => undefined);
      await this.close();
      throw e;
    }
    for (const [k, v] of Object.entries(checkpoints)) this.values.set(k, v);
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    await p?.destroy();
  }
}
