import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { ConfigError } from '../errors';
import type { Topics } from '../outputs/topics';
import { baseConfig, kafkaModule, type KafkaConnectionConfig } from './client';

/** Topic layout settings (`output.kafka`, defaults applied). */
export interface TopicLayout {
  /** Partitions of every processor topic (reports, located, outputs, changelogs); fixes processor parallelism for good. */
  partitions: number;
  /** Slots of the poller lease topic (one poll source maps to one slot). */
  leasePartitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4';
  /** intake.reports.v1, intake.located.v1 and intake.dlq.v1: the raw archive. */
  rawRetentionMs: number;
  /** tickets.canonical.v1 and tickets.clusters.v1; at least the dedup window. */
  ticketRetentionMs: number;
  /** Dedup window (the dedup changelog keeps it plus a day). */
  dedupWindowMs: number;
  /** Clustering restore horizon (the ticket changelog keeps it plus a day). */
  clusterHorizonMs: number;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  config: Record<string, string>;
}

const DAY = 24 * 3600 * 1000;

/** Every topic the hub uses, with its partitions and configuration. */
export function topicSpecs(t: Topics, l: TopicLayout): TopicSpec[] {
  const common = { 'min.insync.replicas': String(l.minInsyncReplicas), 'compression.type': l.compression === 'none' ? 'producer' : l.compression };
  const P = l.partitions;
  const del = (ms: number): Record<string, string> => ({ ...common, 'cleanup.policy': 'delete', 'retention.ms': String(ms) });
  return [
    { topic: t.reports, numPartitions: P, config: del(l.rawRetentionMs) },
    { topic: t.located, numPartitions: P, config: del(l.rawRetentionMs) },
    { topic: t.tickets, numPartitions: P, config: del(l.ticketRetentionMs) },
    { topic: t.clusters, numPartitions: P, config: del(l.ticketRetentionMs) },
    { topic: t.dlq, numPartitions: P, config: del(l.rawRetentionMs) },
    { topic: t.checkpoints, numPartitions: P, config: { ...common, 'cleanup.policy': 'compact' } },
    { topic: t.dedupChangelog, numPartitions: P, config: { ...common, 'cleanup.policy': 'compact,delete', 'retention.ms': String(l.dedupWindowMs + DAY) } },
    { topic: t.ticketChangelog, numPartitions: P, config: del(l.clusterHorizonMs + DAY) },
    { topic: t.leases, numPartitions: l.leasePartitions, config: del(DAY) },
    { topic: t.audit, numPartitions: 1, config: del(365 * DAY) },
  ];
}

/** The KafkaJS-compatible admin of the client, for topic management and offset queries. */
export class KafkaAdmin {
  private admin: KafkaJS.Admin | null = null;

  constructor(private readonly conn: KafkaConnectionConfig) {}

  async connect(): Promise<void> {
    if (this.admin) return;
    const { KafkaJS: K } = kafkaModule();
    // its connection errors surface as the failing call's error; the client's own log stays quiet
    const quiet = { info: () => undefined, error: () => undefined, warn: () => undefined, debug: () => undefined, namespace: () => quiet, setLogLevel: () => undefined };
    const a = new K.Kafka({}).admin({ ...baseConfig(this.conn, 'admin'), kafkaJS: { logger: quiet } } as never);
    await a.connect();
    this.admin = a;
  }

  async disconnect(): Promise<void> {
    const a = this.admin;
    this.admin = null;
    await a?.disconnect().catch(() => undefined);
  }

  private get a(): KafkaJS.Admin {
    if (!this.admin) throw new Error('admin not connected');
    return this.admin;
  }

  /**
   * Creates missing topics; refuses to run on an existing topic whose partition count differs from
   * the configured one (partitioning would no longer match the state: migrate with a new topic).
   */
  async ensureTopics(specs: TopicSpec[], replicationFactor: number): Promise<string[]> {
    const existing = new Set(await this.a.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      try {
        await this.a.createTopics({
          topics: missing.map((s) => ({ topic: s.topic, numPartitions: s.numPartitions, replicationFactor, configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })) })),
          timeout: 30000,
        });
      } catch (e) {
        const nested = (e as { errors?: { message?: string }[] }).errors ?? [];
        const m = [(e as Error).message, ...nested.map((x) => x.message ?? '')].join('; ');
        if (/replication factor|INVALID_REPLICATION_FACTOR|brokers available/i.test(m)) {
          throw new ConfigError(`cannot create topics with replication factor ${replicationFactor}: ${m} (set output.kafka.replicationFactor and minInsyncReplicas to fit the cluster; 1 for a single local broker)`, { dataPath: '/output/kafka/replicationFactor' });
        }
        if (/min\.insync|INVALID_CONFIG|Invalid config|POLICY_VIOLATION/i.test(m)) {
          throw new ConfigError(`cannot create topics: ${m} (check output.kafka.minInsyncReplicas and the retention settings)`, { dataPath: '/output/kafka' });
        }
        if (nested.length === 0 || !nested.every((x) => /already exists/i.test(x.message ?? ''))) throw Object.assign(new Error(`topic creation failed: ${m}`), { cause: e });
      }
    }
    // freshly created topics take a moment to appear in every broker's metadata
    let meta: Awaited<ReturnType<KafkaJS.Admin['fetchTopicMetadata']>> = [];
    for (let attempt = 0; ; attempt++) {
      try {
        meta = await this.a.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
        if (meta.every((m) => m.partitions.length > 0)) break;
      } catch (e) {
        if (attempt >= 40 || !/unknown topic|leader not available|not available/i.test((e as Error).message)) throw e;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const s of specs) {
      const m = meta.find((x) => x.name === s.topic);
      const n = m?.partitions.length ?? 0;
      if (n !== s.numPartitions) {
        throw new ConfigError(
          `topic ${s.topic} has ${n} partitions but the hub is configured for ${s.numPartitions}: the partition count fixes how reports map to processor state and cannot change in place (see docs/OPERATIONS.md, "Changing the partition count")`,
          { dataPath: '/output/kafka/partitions' },
        );
      }
    }
    return missing.map((s) => s.topic);
  }

  /** Per partition: low, high watermark (read_uncommitted end) and last stable offset (read_committed end). */
  async offsets(topic: string): Promise<{ partition: number; low: bigint; high: bigint; stable: bigint }[]> {
    const { KafkaJS: K } = kafkaModule();
    const hw = await this.a.fetchTopicOffsets(topic, { isolationLevel: K.IsolationLevel.READ_UNCOMMITTED } as never);
    const lso = await this.a.fetchTopicOffsets(topic, { isolationLevel: K.IsolationLevel.READ_COMMITTED } as never);
    return hw
      .map((h) => ({ partition: h.partition, low: BigInt(h.low), high: BigInt(h.high), stable: BigInt(lso.find((x) => x.partition === h.partition)?.high ?? h.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  /**
   * Committed offsets of a consumer group (`topic/partition` → offset; absent: none committed) for
   * whole topics or the named partitions, stable: returns once no partition has a pending transactional offset commit (KIP-447
   * require_stable). The broker answers such a partition with UNSTABLE_OFFSET_COMMIT — only when
   * it is asked by partition: asked by topic it leaves the partition out, as if nothing were
   * committed — and librdkafka's consumer retries that error, its admin API does not. So the
   * partitions are named and the call is retried here until the commit is resolved or `timeoutMs`
   * has passed (then it throws: a transaction that does not resolve).
   */
  async committed(groupId: string, topics: (string | { topic: string; partitions: number[] })[], timeoutMs = 120000): Promise<Map<string, bigint>> {
    const unstable = kafkaModule().CODES.ERRORS.ERR_UNSTABLE_OFFSET_COMMIT;
    const whole = topics.filter((t): t is string => typeof t === 'string');
    const meta = whole.length > 0 ? await this.a.fetchTopicMetadata({ topics: whole }) : [];
    const named = [...meta.map((m) => ({ topic: m.name, partitions: m.partitions.map((p) => p.partitionId) })), ...topics.filter((t): t is { topic: string; partitions: number[] } => typeof t !== 'string')];
    const deadline = Date.now() + timeoutMs;
    for (let wait = 50; ; wait = Math.min(1000, wait * 2)) {
      const r = await this.a.fetchOffsets({ groupId, topics: named, requireStableOffsets: true });
      const pending = r.flatMap((t) => t.partitions.filter((p) => p.error?.code === unstable).map((p) => `${t.topic}/${p.partition}`));
      if (pending.length === 0) {
        const out = new Map<string, bigint>();
        for (const t of r) for (const p of t.partitions) if (!p.error && BigInt(p.offset) >= 0n) out.set(`${t.topic}/${p.partition}`, BigInt(p.offset));
        return out;
      }
      if (Date.now() > deadline) throw new Error(`committed offsets of group ${groupId} still unstable after ${timeoutMs} ms (${pending.slice(0, 5).join(', ')}): a pending transaction did not resolve`);
      await new Promise((res) => setTimeout(res, wait));
    }
  }

  async deleteGroups(ids: string[]): Promise<void> {
    await this.a.deleteGroups(ids).catch(() => undefined);
  }

  async listTopics(): Promise<string[]> {
    return this.a.listTopics();
  }

  async deleteTopics(topics: string[]): Promise<void> {
    await this.a.deleteTopics({ topics, timeout: 30000 });
  }
}
