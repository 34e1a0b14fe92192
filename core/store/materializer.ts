import type { Logger } from '../logger';
import { TOPICS } from '../outputs/topics';
import type { CanonicalTicket, ClusterEvent } from '../schema/types';
import type { MaterialBatch, Position, TicketStore } from './types';

/** The topics the store materialises. */
export const STORE_TOPICS = [TOPICS.tickets, TOPICS.clusters] as const;

/** One record as a source read it. */
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: string;
  value: string;
}

/** A batch from a source: its records in order, and the positions after them. */
export interface SourceBatch {
  records: SourceRecord[];
  /** The next offset to read for every partition this batch moved (and any bookkeeping position the source needs). */
  positions: Position[];
}

/**
 * Where the materialiser reads from: the Kafka topics (sources/kafka.ts) or the embedded log
 * (sources/embedded.ts).
 *
 * `run` reads from `from` (a partition without a position starts at its beginning) and awaits
 * `onBatch` for each batch before reading on; when `onBatch` throws, `run` rejects with that error
 * and reads nothing more (the materialiser restarts it from the stored positions). `run` resolves
 * after `stop`.
 */
export interface RecordSource {
  readonly name: 'kafka' | 'embedded';
  run(from: Position[], onBatch: (b: SourceBatch) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  /** End positions (the next offset to be written) per topic partition, or null when not known. */
  ends(): Promise<Position[] | null>;
}

export interface MaterializerOptions {
  /** Consumer name: the key of the stored positions and of the single-writer lease. */
  consumer: string;
  logger: Logger;
  /** Back-off after a failure (doubling with jitter up to 30 s). */
  retryMs?: number;
  /** How often a stand-by instance tries to take the lease. */
  leaseRetryMs?: number;
  onApplied?: (topic: string, n: number) => void;
  onError?: (e: unknown) => void;
  /** The tickets and cluster-event topics (namespaced on Kafka); default the plain names. */
  topics?: StoreTopics;
}

export interface StoreTopics {
  tickets: string;
  clusters: string;
}

/**
 * The idempotent consumer that keeps the ticket store in step with the topics. Each source batch
 * becomes one store transaction holding its upserts and the source positions after it, so after a
 * crash (kill -9 included) the materialiser resumes exactly after the last committed batch, and a
 * batch re-read after a crash is applied idempotently anyway. Unreadable records are skipped (and
 * logged), never retried forever. Only the holder of the store lease for `consumer` runs; other
 * instances stand by.
 */
export class Materializer {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private lastPositions = new Map<string, Position>();
  private active = false;
  /** Records applied since start, per topic (tests and the status API). */
  readonly applied = new Map<string, number>();
  skipped = 0;

  /** The topic names records are matched by (a record of any other topic is ignored). */
  readonly topics: StoreTopics;

  constructor(
    private readonly store: TicketStore,
    private readonly source: RecordSource,
    private readonly o: MaterializerOptions,
  ) {
    this.topics = o.topics ?? { tickets: TOPICS.tickets, clusters: TOPICS.clusters };
  }

  /** True while this instance holds the lease and reads. */
  get leader(): boolean {
    return this.active;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.runLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.source.stop();
    await this.loop;
    this.loop = null;
  }

  /**
   * Records not yet materialised per topic (end − stored position, summed over partitions), keyed
   * by the plain topic name (the metric label: a closed set, whatever the namespace); null when the
   * source cannot tell.
   */
  async lag(): Promise<Record<string, number> | null> {
    const ends = await this.source.ends();
    if (!ends) return null;
    const plain = new Map([
      [this.topics.tickets, TOPICS.tickets],
      [this.topics.clusters, TOPICS.clusters],
    ]);
    const out: Record<string, number> = { [TOPICS.tickets]: 0, [TOPICS.clusters]: 0 };
    for (const e of ends) {
      const name = plain.get(e.topic);
      if (name === undefined) continue;
      const at = this.lastPositions.get(`${e.topic}/${e.partition}`);
      const d = Number(BigInt(e.next) - BigInt(at?.next ?? '0'));
      out[name] = (out[name] ?? 0) + Math.max(0, d);
    }
    return out;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      t.unref();
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private async runLoop(): Promise<void> {
    let backoff = this.o.retryMs ?? 500;
    while (this.running) {
      try {
        if (!(await this.store.tryLease(this.o.consumer))) {
          this.active = false;
          await this.sleep(this.o.leaseRetryMs ?? 5000);
          continue;
        }
        this.active = true;
        const from = await this.store.positions(this.o.consumer);
        this.lastPositions = new Map(from.map((p) => [`${p.topic}/${p.partition}`, p]));
        this.o.logger.info('store materialiser reading', { source: this.source.name, from: from.map((p) => `${p.topic}/${p.partition}@${p.next}`).join(' ') || 'the beginning' });
        if (!this.running) break;
        await this.source.run(from, (b) => this.applyBatch(b));
        backoff = this.o.retryMs ?? 500;
      } catch (e) {
        if (!this.running) break;
        this.o.onError?.(e);
        this.o.logger.warn('store materialiser failed; restarting from the stored positions', { err: e, retryInMs: backoff });
        await this.sleep(backoff * (0.5 + Math.random()));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    this.active = false;
  }

  private async applyBatch(b: SourceBatch): Promise<void> {
    const batch: MaterialBatch = { consumer: this.o.consumer, tickets: [], events: [], positions: b.positions };
    for (const r of b.records) {
      let v: unknown;
      try {
        v = JSON.parse(r.value);
      } catch {
        v = null;
      }
      if (r.topic === this.topics.tickets && isTicket(v)) batch.tickets.push(v);
      else if (r.topic === this.topics.clusters && isClusterEvent(v)) batch.events.push(v);
      else {
        // an unreadable record, or one of a topic this materialiser does not know (a namespace
        // mismatch would otherwise advance the positions past everything, silently)
        this.skipped++;
        this.o.logger.warn('store materialiser skipped an unreadable record', { topic: r.topic, partition: r.partition, offset: r.offset });
      }
    }
    await this.store.apply(batch);
    for (const p of b.positions) this.lastPositions.set(`${p.topic}/${p.partition}`, p);
    const counts = new Map<string, number>([
      [this.topics.tickets, batch.tickets.length],
      [this.topics.clusters, batch.events.length],
    ]);
    for (const [t, n] of counts) {
      if (n === 0) continue;
      this.applied.set(t, (this.applied.get(t) ?? 0) + n);
      this.o.onApplied?.(t, n);
    }
  }
}

function isTicket(v: unknown): v is CanonicalTicket {
  const t = v as Partial<CanonicalTicket> | null;
  return !!t && typeof t.id === 'string' && typeof t.source?.receivedAt === 'string' && typeof t.routing?.status === 'string' && typeof t.cluster === 'object' && typeof t.text === 'string';
}

function isClusterEvent(v: unknown): v is ClusterEvent {
  const e = v as Partial<ClusterEvent> | null;
  return !!e && typeof e.id === 'string' && typeof e.clusterId === 'string' && typeof e.type === 'string' && typeof e.at === 'string' && Array.isArray(e.mergedFrom);
}
