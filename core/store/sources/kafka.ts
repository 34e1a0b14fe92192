import type { KafkaConsumer, LibrdKafkaError, Message, Metadata } from '@confluentinc/kafka-javascript';
import type { Logger } from '../../logger';
import type { Position } from '../types';
import type { RecordSource, SourceBatch } from '../materializer';

export interface KafkaSourceOptions {
  brokers: string[];
  clientId: string;
  /** Used as the group.id librdkafka requires; nothing is committed to the group (positions live in the store). */
  consumer: string;
  topics: readonly string[];
  batchRecords: number;
  logger: Logger;
  /** Extra librdkafka properties (security.protocol, sasl.*, ssl.*). */
  rdkafka?: Record<string, string | number | boolean>;
}

type Rdkafka = typeof import('@confluentinc/kafka-javascript');

/** The native client is an optional dependency: loaded only when the store reads Kafka. */
async function loadClient(): Promise<Rdkafka> {
  try {
    return await import('@confluentinc/kafka-javascript');
  } catch (e) {
    throw new Error(`the ticket store reads Kafka with @confluentinc/kafka-javascript, which is not installed (CKJS_LINKING=dynamic npm install): ${(e as Error).message}`);
  }
}

const OFFSET_BEGINNING = -2;

/**
 * Reads the store's topics with librdkafka in assign mode (no consumer-group rebalancing, no
 * offset commits: the positions come from and go to the store, in the store's transactions) with
 * isolation.level=read_committed, so records of aborted or open transactions are never
 * materialised. Every partition of each topic is assigned; partitions are read from metadata at
 * start (a topic's partition count is fixed, see docs/ARCHITECTURE.md).
 */
export class KafkaSource implements RecordSource {
  readonly name = 'kafka' as const;
  private consumer: KafkaConsumer | null = null;
  private stopped = false;
  private partitions: { topic: string; partition: number }[] = [];

  constructor(private readonly o: KafkaSourceOptions) {}

  private async connect(): Promise<KafkaConsumer> {
    const K = await loadClient();
    const c = new K.KafkaConsumer(
      {
        'metadata.broker.list': this.o.brokers.join(','),
        'client.id': `${this.o.clientId}-store`,
        'group.id': `intake-hub-store-${this.o.consumer}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': 'read_committed',
        'fetch.wait.max.ms': 200,
        'socket.keepalive.enable': true,
        ...(this.o.rdkafka ?? {}),
      },
      { 'auto.offset.reset': 'earliest' },
    );
    c.on('event.error', (e: LibrdKafkaError) => this.o.logger.debug('store kafka client error', { code: e.code, message: e.message }));
    await new Promise<void>((resolve, reject) => c.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
    c.setDefaultConsumeTimeout(500);
    return c;
  }

  private metadata(c: KafkaConsumer): Promise<Metadata> {
    return new Promise((resolve, reject) => c.getMetadata({ timeout: 10_000 }, (err, md) => (err ? reject(err) : resolve(md))));
  }

  async run(from: Position[], onBatch: (b: SourceBatch) => Promise<void>): Promise<void> {
    this.stopped = false;
    const c = await this.connect();
    this.consumer = c;
    try {
      // The topics may not exist yet when the store starts before the first hub did.
      for (;;) {
        if (this.stopped) return;
        const md = await this.metadata(c);
        const found = md.topics.filter((t) => this.o.topics.includes(t.name) && t.partitions.length > 0);
        if (found.length === this.o.topics.length) {
          this.partitions = found.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.id })));
          break;
        }
        await new Promise((r) => setTimeout(r, 2000));
      }
      const at = new Map(from.map((p) => [`${p.topic}/${p.partition}`, Number(p.next)]));
      c.assign(this.partitions.map((p) => ({ ...p, offset: at.get(`${p.topic}/${p.partition}`) ?? OFFSET_BEGINNING })));
      while (!this.stopped) {
        const messages = await new Promise<Message[]>((resolve, reject) => c.consume(this.o.batchRecords, (err, m) => (err ? reject(err) : resolve(m))));
        if (messages.length === 0 || this.stopped) continue;
        const next = new Map<string, Position>();
        for (const m of messages) next.set(`${m.topic}/${m.partition}`, { topic: m.topic, partition: m.partition, next: String(m.offset + 1) });
        await onBatch({
          records: messages.map((m) => ({ topic: m.topic, partition: m.partition, offset: String(m.offset), value: m.value?.toString('utf8') ?? '' })),
          positions: [...next.values()],
        });
      }
    } finally {
      this.consumer = null;
      await new Promise<void>((resolve) => c.disconnect(() => resolve()));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  /** High watermarks (they include records of still-open transactions, which read_committed does not return yet). */
  async ends(): Promise<Position[] | null> {
    const c = this.consumer;
    if (!c || this.partitions.length === 0) return null;
    const out: Position[] = [];
    for (const p of this.partitions) {
      const high = await new Promise<number>((resolve, reject) => c.queryWatermarkOffsets(p.topic, p.partition, 2000, (err, o) => (err ? reject(err) : resolve(o.highOffset))));
      out.push({ ...p, next: String(high) });
    }
    return out;
  }
}
