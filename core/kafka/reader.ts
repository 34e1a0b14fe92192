import { randomUUID } from 'node:crypto';
import type { KafkaConsumer as RdConsumer, LibrdKafkaError, Message } from '@confluentinc/kafka-javascript';
import type { StoredRecord } from '../outputs/output';
import { baseConfig, kafkaModule, type KafkaConnectionConfig } from './client';

export interface ReadTarget {
  topic: string;
  partition: number;
  /** First offset to read. */
  from: bigint;
  /** Stop once the read position reaches this offset (exclusive end). */
  to: bigint;
}

const cb = <T>(f: (done: (err: LibrdKafkaError | null | undefined, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((err, v) => (err ? reject(new Error(err.message)) : resolve(v as T))));

export function toStored(m: Message): StoredRecord {
  const headers: Record<string, string> = {};
  for (const h of m.headers ?? []) for (const [k, v] of Object.entries(h)) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return {
    topic: m.topic,
    partition: m.partition,
    offset: String(m.offset),
    key: m.key === null || m.key === undefined ? '' : Buffer.isBuffer(m.key) ? m.key.toString('utf8') : String(m.key),
    value: m.value === null || m.value === undefined ? null : m.value.toString('utf8'),
    headers,
    timestamp: m.timestamp ?? 0,
  };
}

/**
 * A read_committed reader in assign mode (no group membership, nothing committed): reads partitions
 * from given offsets until the read position reaches each target's end. With read_committed the
 * position only passes an open transaction's records once that transaction is resolved, so
 * reading to the high watermark waits for every earlier transaction to commit or abort — what a
 * state restore needs (Kafka Streams lists the restore end read_uncommitted for the same reason).
 */
export class PartitionReader {
  private c: RdConsumer | null = null;

  constructor(
    private readonly conn: KafkaConnectionConfig,
    private readonly role = 'reader',
    /** read_uncommitted also returns the records of aborted transactions (tests that read every byte written). */
    private readonly isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
  ) {}

  async connect(): Promise<RdConsumer> {
    if (this.c) return this.c;
    const { KafkaConsumer } = kafkaModule();
    const c = new KafkaConsumer(
      {
        ...baseConfig(this.conn, this.role),
        'group.id': `${this.conn.namespace}intake-hub-${this.role}-${randomUUID()}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': this.isolation,
        'fetch.wait.max.ms': 50,
        'auto.offset.reset': 'earliest',
      } as never,
      {},
    );
    c.on('event.error', () => undefined);
    await cb<unknown>((done) => c.connect({ timeout: Math.max(5000, this.conn.connectionTimeoutMs) }, done as never));
    c.setDefaultConsumeTimeout(100);
    this.c = c;
    return c;
  }

  async close(): Promise<void> {
    const c = this.c;
    this.c = null;
    if (c) await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  }

  /** Low and high watermark of every partition of a topic. */
  async watermarks(topic: string): Promise<{ partition: number; low: bigint; high: bigint }[]> {
    const c = await this.connect();
    const meta = await cb<{ topics: { name: string; partitions: { id: number }[] }[] }>((done) => c.getMetadata({ topic, timeout: 10000 }, done as never));
    const parts = meta.topics.find((t) => t.name === topic)?.partitions.map((p) => p.id) ?? [];
    const out: { partition: number; low: bigint; high: bigint }[] = [];
    for (const partition of parts.sort((a, b) => a - b)) {
      const w = await cb<{ lowOffset: number; highOffset: number }>((done) => c.queryWatermarkOffsets(topic, partition, 10000, done as never));
      out.push({ partition, low: BigInt(w.lowOffset), high: BigInt(w.highOffset) });
    }
    return out;
  }

  /** Offsets of the first records at or after `sinceMs` per partition (high watermark when none). */
  async offsetsForTime(topic: string, sinceMs: number, marks: { partition: number; low: bigint; high: bigint }[]): Promise<Map<number, bigint>> {
    const c = await this.connect();
    const r = await cb<{ partition: number; offset: number }[]>((done) => c.offsetsForTimes(marks.map((m) => ({ topic, partition: m.partition, offset: sinceMs })), 10000, done as never));
    const out = new Map<number, bigint>();
    for (const m of marks) {
      const o = r.find((x) => x.partition === m.partition)?.offset;
      out.set(m.partition, o === undefined || o < 0 ? m.high : BigInt(o));
    }
    return out;
  }

  /** Reads the targets to their ends, calling `onRecord` in offset order per partition. */
  async read(targets: ReadTarget[], onRecord: (r: StoredRecord) => void, timeoutMs = 120000): Promise<number> {
    const todo = targets.filter((t) => t.from < t.to);
    if (todo.length === 0) return 0;
    const c = await this.connect();
    c.assign(todo.map((t) => ({ topic: t.topic, partition: t.partition, offset: Number(t.from) })));
    const remaining = new Map(todo.map((t) => [`${t.topic}/${t.partition}`, t]));
    const deadline = Date.now() + timeoutMs;
    let n = 0;
    try {
      while (remaining.size > 0) {
        if (Date.now() > deadline) throw new Error(`reading ${[...remaining.keys()].join(', ')} did not reach the end within ${timeoutMs} ms (an open transaction that does not resolve?)`);
        const batch = await cb<Message[]>((done) => c.consume(1000, done as never));
        for (const m of batch) {
          const t = remaining.get(`${m.topic}/${m.partition}`);
          if (!t || BigInt(m.offset) >= t.to) continue;
          onRecord(toStored(m));
          n++;
        }
        for (const p of c.position(todo.filter((t) => remaining.has(`${t.topic}/${t.partition}`)).map((t) => ({ topic: t.topic, partition: t.partition })))) {
          const t = remaining.get(`${p.topic}/${p.partition}`);
          if (t && p.offset !== undefined && p.offset >= 0 && BigInt(p.offset) >= t.to) remaining.delete(`${p.topic}/${p.partition}`);
        }
      }
    } finally {
      c.unassign();
    }
    return n;
  }

  /** Every partition of a topic from `sinceMs` (0: from the start) to its high watermark as of the call. */
  async scan(topic: string, sinceMs: number, onRecord: (r: StoredRecord) => void): Promise<number> {
    const marks = await this.watermarks(topic);
    const from = sinceMs > 0 ? await this.offsetsForTime(topic, sinceMs, marks) : new Map(marks.map((m) => [m.partition, m.low]));
    return this.read(
      marks.map((m) => ({ topic, partition: m.partition, from: from.get(m.partition) ?? m.low, to: m.high })),
      onRecord,
    );
  }
}
