import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock';
import type { HubConfig } from '../config/config';
import type { Logger } from '../logger';
import type { Channel } from '../schema/types';
import type { TicketLookup } from '../sdk/connector';
import { Materializer, STORE_TOPICS, type RecordSource } from './materializer';
import { StoreMetrics } from './metrics';
import { openPostgresStore } from './postgres';
import { openSqliteStore } from './sqlite';
import { EmbeddedSource } from './sources/embedded';
import { KafkaSource } from './sources/kafka';
import { baseConfig } from '../kafka/client';
import { TOPICS, topicsFor, type Topics } from '../outputs/topics';
import type { TicketStore } from './types';

export interface StoreServiceOptions {
  logger: Logger;
  registry: Registry;
  clock: Clock;
  /**
   * The tickets and cluster-event topic names the materialiser reads (namespaced on Kafka); default
   * the plain names. `fromConfig` derives them from the config (`output.kafka.namespace`).
   */
  topics?: Topics;
}

const OVERDUE_CACHE_MS = 15_000;

/**
 * The ticket store of one hub instance: the database, the materialiser that fills it from the
 * hub's output (the Kafka topics or the embedded log) and the store metrics. Built from
 * `store` in hub.yaml; `fromConfig` returns null when the store is off.
 */
export class StoreService {
  readonly metrics: StoreMetrics;
  readonly materializer: Materializer | null;
  private schemaVersion = 0;
  private overdueCache: { at: number; value: Record<Channel, number> } | null = null;
  private started = false;

  constructor(
    readonly store: TicketStore,
    source: RecordSource | null,
    readonly consumer: string,
    private readonly o: StoreServiceOptions,
  ) {
    this.metrics = new StoreMetrics(o.registry);
    this.materializer = source
      ? new Materializer(store, source, {
          consumer,
          logger: o.logger.child({ component: 'store-materializer' }),
          topics: { tickets: (o.topics ?? TOPICS).tickets, clusters: (o.topics ?? TOPICS).clusters },
          // the metric label is the plain topic name (a closed set, whatever the namespace)
          onApplied: (topic, n) => this.metrics.materialized.inc({ topic: topic === (o.topics ?? TOPICS).tickets ? TOPICS.tickets : TOPICS.clusters }, n),
        })
      : null;
    this.metrics.attach({
      up: () => store.ping(),
      overdue: () => this.overdue(),
      lag: async () => (this.materializer?.leader ? this.materializer.lag() : null),
    });
  }

  static fromConfig(config: HubConfig, o: StoreServiceOptions): StoreService | null {
    const s = config.store;
    const type = s.type === 'auto' ? (config.output.type === 'embedded' ? 'sqlite' : 'none') : s.type;
    if (type === 'none') return null;
    const store =
      type === 'sqlite'
        ? openSqliteStore(s.sqlite.path ?? join(config.output.embedded.dir, 'store.db'))
        : openPostgresStore({ url: s.postgres.url as string, passwordFile: s.postgres.passwordFile, poolSize: s.postgres.poolSize, statementTimeoutMs: s.postgres.statementTimeoutMs });
    const m = s.materializer;
    // the source reads the namespaced topics, so the materialiser must match records by those names
    // (the stand-alone `store materialize` passes no topics of its own)
    const topics = config.output.type === 'kafka' ? topicsFor(config.output.kafka.namespace) : TOPICS;
    let source: RecordSource | null = null;
    if (m.enabled) {
      source =
        config.output.type === 'embedded'
          ? new EmbeddedSource({ dir: config.output.embedded.dir, topics: STORE_TOPICS, batchRecords: m.batchRecords, pollIntervalMs: m.pollIntervalMs })
          : new KafkaSource({
              brokers: config.output.kafka.brokers,
              clientId: config.output.kafka.clientId,
              consumer: `${config.output.kafka.namespace}${m.consumer}`,
              topics: [topics.tickets, topics.clusters],
              batchRecords: m.batchRecords,
              logger: o.logger,
              // TLS / SASL as the hub's other clients (secrets read here, never logged)
              rdkafka: baseConfig(config.output.kafka, 'store'),
            });
    }
    return new StoreService(store, source, m.consumer, { ...o, topics });
  }

  /** Migrates the schema and starts materialising. A database that is down fails the start. */
  async start(): Promise<void> {
    if (this.started) return;
    this.schemaVersion = await this.store.migrate();
    this.materializer?.start();
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.materializer?.stop();
    await this.store.close();
  }

  readonly lookup: TicketLookup = {
    ticket: async (id) => (await this.store.ticket(id))?.ticket ?? null,
    bySource: async (connectorId, sourceId) => {
      const first = (await this.store.tickets({ connectorId, sourceId }, { limit: 1 })).items[0];
      return first ? ((await this.store.ticket(first.id))?.ticket ?? null) : null;
    },
  };

  async overdue(): Promise<Record<Channel, number>> {
    const now = this.o.clock.now();
    if (this.overdueCache && now - this.overdueCache.at < OVERDUE_CACHE_MS) return this.overdueCache.value;
    const value = await this.store.overdue(now);
    this.overdueCache = { at: now, value };
    return value;
  }

  /** For GET /api/store: what the store is and how far the materialiser has come. */
  async status(): Promise<{ kind: string; schemaVersion: number; up: boolean; materializer: { enabled: boolean; leader: boolean; consumer: string; lag: Record<string, number> | null; applied: Record<string, number>; skipped: number } }> {
    const m = this.materializer;
    return {
      kind: this.store.kind,
      schemaVersion: this.schemaVersion,
      up: await this.store.ping(),
      materializer: {
        enabled: m !== null,
        leader: m?.leader ?? false,
        consumer: this.consumer,
        lag: m?.leader ? await m.lag().catch(() => null) : null,
        applied: Object.fromEntries(m?.applied ?? []),
        skipped: m?.skipped ?? 0,
      },
    };
  }
}
