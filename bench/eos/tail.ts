import { randomUUID } from 'node:crypto';
import type { KafkaConsumer, LibrdKafkaError, Message } from '@confluentinc/kafka-javascript';
import { baseConfig, kafkaModule, type KafkaConnectionConfig } from '../../core/kafka/client';
import { PartitionReader } from '../../core/kafka/reader';

/** What the concurrent consumer saw of one output topic. */
export interface TopicView {
  /** Record key → how many times a record with it was seen (tickets: ticket id; clusters: event id). */
  counts: Map<string, number>;
  /** Keys seen more than once, with their partition/offsets. */
  duplicates: string[];
  /** Per partition, the wall-clock times records arrived (ascending). */
  arrivals: Map<number, number[]>;
  records: number;
}

const emptyView = (): TopicView => ({ counts: new Map(), duplicates: [], arrivals: new Map(), records: 0 });

/**
 * The concurrent read_committed consumer of a fault run (the one Kafka's TransactionsTest runs
 * during the bounces): assign mode on every partition of the watched topics from the beginning,
 * nothing committed, consuming until stopped. A record of an aborted transaction is never
 * delivered to it; a record seen twice (same id) is a duplicate. Arrival times per partition give
 * the recovery time after each fault (time from the fault to the next committed output).
 */
export class ConcurrentConsumer {
  readonly views = new Map<string, TopicView>();
  private c: KafkaConsumer | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly keyOf: (topic: string, m: Message) => string;
  /** Called for each record (after counting). */
  onRecord: ((topic: string, m: Message, at: number) => void) | null = null;

  constructor(
    private readonly conn: KafkaConnectionConfig,
    private readonly topics: string[],
    keyOf?: (topic: string, m: Message) => string,
  ) {
    for (const t of topics) this.views.set(t, emptyView());
    this.keyOf = keyOf ?? ((_t, m) => (m.key === null || m.key === undefined ? '' : m.key.toString()));
  }

  async start(): Promise<void> {
    const reader = new PartitionReader(this.conn, 'eos-tail-meta');
    const assignment: { topic: string; partition: number; offset: number }[] = [];
    try {
      for (const topic of this.topics) for (const m of await reader.watermarks(topic)) assignment.push({ topic, partition: m.partition, offset: Number(m.low) });
    } finally {
      await reader.close();
    }
    const { KafkaConsumer: KC } = kafkaModule();
    const c = new KC(
      {
        ...baseConfig(this.conn, 'eos-tail'),
        'group.id': `${this.conn.namespace}eos-tail-${randomUUID()}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'isolation.level': 'read_committed',
        'fetch.wait.max.ms': 100,
        'auto.offset.reset': 'earliest',
      } as never,
      {},
    );
    c.on('event.error', () => undefined);
    await new Promise<void>((resolve, reject) => c.connect({ timeout: 30000 }, (err) => (err ? reject(new Error(err.message)) : resolve())));
    // consume(500) returns what is queued once one record came (within 100 ms), instead of waiting up
    // to a second per record until 500 are there: arrival times are when records became visible
    c.setDefaultConsumeTimeout(100);
    (c as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
    c.assign(assignment);
    this.c = c;
    this.loop = this.run(c);
  }

  private async run(c: KafkaConsumer): Promise<void> {
    while (!this.stopped) {
      const batch = await new Promise<Message[]>((resolve) => c.consume(500, (err: LibrdKafkaError | null | undefined, ms: Message[]) => resolve(err ? [] : ms)));
      const at = Date.now();
      for (const m of batch) {
        const v = this.views.get(m.topic);
        if (!v) continue;
        const key = this.keyOf(m.topic, m);
        const n = (v.counts.get(key) ?? 0) + 1;
        v.counts.set(key, n);
        if (n > 1) v.duplicates.push(`${key} (partition ${m.partition}, offset ${m.offset})`);
        v.records++;
        const arr = v.arrivals.get(m.partition) ?? [];
        arr.push(at);
        v.arrivals.set(m.partition, arr);
        this.onRecord?.(m.topic, m, at);
      }
      if (batch.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Time from `t0` until every partition of `topic` that had records after `t0` had its first one (null: none did). */
  recoveryAfter(topic: string, t0: number, until = Number.POSITIVE_INFINITY): { ms: number | null; slowestPartition: number | null } {
    const v = this.views.get(topic);
    let worst: number | null = null;
    let part: number | null = null;
    for (const [p, arr] of v?.arrivals ?? []) {
      const first = arr.find((t) => t > t0);
      if (first === undefined || first > until) continue;
      if (worst === null || first - t0 > worst) {
        worst = first - t0;
        part = p;
      }
    }
    return { ms: worst, slowestPartition: part };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    const c = this.c;
    this.c = null;
    if (c) await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  }
}
