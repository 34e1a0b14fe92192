import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { CONNECTORS } from '../connectors';
import type { CatalogStore } from './catalog/catalog';
import { systemClock, type Clock } from './clock';
import type { HubConfig } from './config/config';
import { IntakeError } from './errors';
import { createLogger, type Logger } from './logger';
import { HubMetrics } from './metrics';
import { EmbeddedLog } from './outputs/embedded';
import { KafkaOutput } from './outputs/kafka';
import type { Output } from './outputs/output';
import { OutputCheckpoints } from './outputs/checkpoints';
import { createRawSealer } from './pii/raw-seal';
import { TOPICS } from './outputs/topics';
import { DedupIndex } from './pipeline/dedup-index';
import { Pipeline, type Source } from './pipeline/pipeline';
import { isRestorable, type Stage } from './pipeline/stage';
import type { CanonicalTicket } from './schema/types';
import type { CheckpointStore, Connector, ConnectorContext, RawInput, SubmitResult } from './sdk/connector';
import { installDeadLetterRoutes } from './admin/deadletters';
import { createServer, installOpsRoutes } from './server/http';

export interface HubOptions {
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
  /** Stages after exact dedup (cluster, classify, route); defaults to the shipped ones. */
  stages?: Stage[];
  output?: Output;
  /** The catalog store used by the classify and route stages, for the admin API. */
  catalog?: CatalogStore;
}

interface Instance {
  source: Source;
  connector: Connector;
  enabled: boolean;
}

/**
 * One hub process: output, pipeline, HTTP server and connector instances, wired from a validated
 * config. `start` rebuilds state from the output before the hub reports ready.
 */
export class Hub {
  readonly app: FastifyInstance;
  readonly metrics: HubMetrics;
  readonly output: Output;
  readonly pipeline: Pipeline;
  readonly dedup: DedupIndex;
  private readonly checkpoints: OutputCheckpoints;
  private readonly instances = new Map<string, Instance>();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly stages: Stage[];
  private started = false;
  private rebuilding = false;
  private evictTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly config: HubConfig,
    opts: HubOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? createLogger();
    this.metrics = new HubMetrics(opts.registry ?? new Registry(), { defaultMetrics: !opts.registry });
    this.output =
      opts.output ??
      (config.output.type === 'kafka'
        ? new KafkaOutput(config.output.kafka, this.logger.child({ component: 'kafka' }), this.metrics)
        : new EmbeddedLog(config.output.embedded.dir, this.metrics, () => this.clock.now()));
    this.checkpoints = new OutputCheckpoints(this.output);
    this.dedup = new DedupIndex(config.dedup.windowHours * 3600 * 1000);
    this.pipeline = new Pipeline({
      output: this.output,
      metrics: this.metrics,
      clock: this.clock,
      logger: this.logger,
      tokenSecret: config.pii.tokenSecret,
      dedup: this.dedup,
      stages: (this.stages = opts.stages ?? []),
      rawSealer: createRawSealer(config.pii.rawKeys, config.pii.rawKeyId),
    });
    this.app = createServer();
    installOpsRoutes(this.app, {
      live: () => true,
      ready: () => this.readiness(),
      registry: this.metrics.registry,
    });
    this.installAdminRoutes(opts.catalog ?? null);
    const sealer = createRawSealer(config.pii.rawKeys, config.pii.rawKeyId);
    installDeadLetterRoutes(this.app, { output: this.output, sealer, clock: this.clock, submitAs: (id, raw, replayOf) => this.submitAs(id, raw, replayOf) });
    for (const c of config.connectors) this.addConnector(c.id, c.type, c.config, c.enabled);
  }

  private addConnector(id: string, type: string, config: Record<string, unknown>, enabled: boolean): void {
    const spec = CONNECTORS[type];
    if (!spec) throw new IntakeError('INTAKE_ERR_CONFIG', `unknown connector type ${type}`, false);
    const source: Source = { connectorId: id, channel: spec.channel, spec, config };
    const checkpoints: CheckpointStore = this.checkpoints.forConnector(id);
    const ctx: ConnectorContext = {
      id,
      channel: spec.channel,
      logger: this.logger.child({ connector: id }),
      metrics: this.metrics,
      clock: this.clock,
      http: this.app,
      checkpoints,
      submit: (raw) => this.pipeline.submit(source, raw),
      reject: (raw, error, stage) => this.pipeline.reject(source, raw, error, stage),
    };
    const connector = spec.create(config as never, ctx);
    this.instances.set(id, { source, connector, enabled });
  }

  /**
   * Submits a raw report as if connector `connectorId` had received it (no transport checks):
   * used by replay and backfill import. Throws a SinkError when the output is down.
   */
  async submitAs(connectorId: string, raw: RawInput, replayOf: string | null = null): Promise<SubmitResult> {
    const i = this.instances.get(connectorId);
    if (!i) throw new IntakeError('INTAKE_ERR_NOT_FOUND', `no connector ${connectorId}`, false, { httpStatus: 404 });
    return this.pipeline.submit(i.source, raw, { replayOf });
  }

  /** Dead-letters a raw report for connector `connectorId` with a reason found before normalisation. */
  async rejectAs(connectorId: string, raw: RawInput, error: IntakeError, stage: 'transport' | 'auth' | 'decode'): Promise<string> {
    const i = this.instances.get(connectorId);
    if (!i) throw new IntakeError('INTAKE_ERR_NOT_FOUND', `no connector ${connectorId}`, false, { httpStatus: 404 });
    return this.pipeline.reject(i.source, raw, error, stage);
  }

  connectors(): Connector[] {
    return [...this.instances.values()].map((i) => i.connector);
  }

  connector(id: string): Connector | undefined {
    return this.instances.get(id)?.connector;
  }

  readiness(): { ready: boolean; checks: Record<string, boolean> } {
    const checks: Record<string, boolean> = { output: this.output.ready(), stateRebuilt: this.started && !this.rebuilding };
    for (const [id, i] of this.instances) if (i.enabled) checks[`connector:${id}`] = ['running', 'degraded'].includes(i.connector.health().state);
    return { ready: Object.values(checks).every(Boolean), checks };
  }

  /** Starts the output, rebuilds the dedup index from the tickets topic, starts connectors. */
  async start(): Promise<void> {
    if (this.started) return;
    await this.output.start();
    this.rebuilding = true;
    this.started = true;
    try {
      const restorable = this.stages.filter(isRestorable);
      const dedupSince = this.clock.now() - this.config.dedup.windowHours * 3600 * 1000;
      const stateSince = Math.min(dedupSince, ...restorable.map((s) => this.clock.now() - s.restoreHorizonMs));
      const replay: CanonicalTicket[] = [];
      const n = await this.output.scan(TOPICS.tickets, stateSince, (r) => {
        let t: CanonicalTicket;
        try {
          t = JSON.parse(r.value) as CanonicalTicket;
        } catch {
          this.logger.warn('unreadable ticket record during rebuild', { partition: r.partition, offset: r.offset });
          return;
        }
        const at = Date.parse(t.source.receivedAt);
        if (at >= dedupSince) this.dedup.remember(t.dedup.key, t.id, at);
        if (restorable.length > 0) replay.push(t);
      });
      // Publication order across partitions: ticket ids are ULIDs of first receipt, so sorting by
      // id restores the order the stages saw them in.
      replay.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (const s of restorable) {
        const from = this.clock.now() - s.restoreHorizonMs;
        s.restore(replay.filter((t) => Date.parse(t.source.receivedAt) >= from));
      }
      if (n > 0) this.logger.info('state rebuilt from the tickets topic', { tickets: n, dedupKeys: this.dedup.size, restoredStages: restorable.map((s) => s.name) });
      await this.checkpoints.load();
    } finally {
      this.rebuilding = false;
    }
    for (const [id, i] of this.instances) {
      if (!i.enabled) continue;
      await i.connector.start();
      this.metrics.connectorUp.set({ connector: id, channel: i.source.channel }, 1);
    }
    this.evictTimer = setInterval(() => this.dedup.evict(this.clock.now()), 60_000);
    this.evictTimer.unref();
  }

  async listen(): Promise<string> {
    return this.app.listen({ host: this.config.server.host, port: this.config.server.port });
  }

  async stop(): Promise<void> {
    if (this.evictTimer) clearInterval(this.evictTimer);
    for (const [id, i] of this.instances) {
      await i.connector.stop();
      this.metrics.connectorUp.set({ connector: id, channel: i.source.channel }, 0);
    }
    await this.app.close();
    await this.output.stop();
    this.started = false;
  }

  private installAdminRoutes(catalog: CatalogStore | null): void {
    this.app.get('/api/catalog', async (_req, reply) => {
      if (!catalog) return reply.code(404).send({ error: { code: 'INTAKE_ERR_NOT_FOUND', message: 'no catalog configured', retriable: false } });
      const c = catalog.current();
      return { version: c.version, categories: c.doc.categories.length, subcategories: c.doc.categories.reduce((n, k) => n + k.subcategories.length, 0) };
    });
    this.app.post('/api/catalog/reload', async (_req, reply) => {
      if (!catalog) return reply.code(404).send({ error: { code: 'INTAKE_ERR_NOT_FOUND', message: 'no catalog configured', retriable: false } });
      try {
        const c = catalog.reload();
        return { version: c.version };
      } catch (e) {
        return reply.code(400).send({ error: { code: 'INTAKE_ERR_CONFIG', message: (e as Error).message, retriable: false } });
      }
    });
    this.app.get('/api/connectors', async () => ({ connectors: this.connectors().map((c) => c.health()) }));
    this.app.get<{ Params: { id: string } }>('/api/connectors/:id', async (req, reply) => {
      const c = this.connector(req.params.id);
      if (!c) return reply.code(404).send({ error: { code: 'INTAKE_ERR_NOT_FOUND', message: `no connector ${req.params.id}`, retriable: false } });
      return c.health();
    });
    this.app.post<{ Params: { id: string; action: string } }>('/api/connectors/:id/:action', async (req, reply) => {
      const c = this.connector(req.params.id);
      if (!c) return reply.code(404).send({ error: { code: 'INTAKE_ERR_NOT_FOUND', message: `no connector ${req.params.id}`, retriable: false } });
      switch (req.params.action) {
        case 'pause':
          await c.pause();
          break;
        case 'resume':
          await c.resume();
          break;
        case 'restart':
          await c.stop();
          await c.start();
          break;
        default:
          return reply.code(404).send({ error: { code: 'INTAKE_ERR_NOT_FOUND', message: `unknown action ${req.params.action} (pause, resume, restart)`, retriable: false } });
      }
      return c.health();
    });
  }
}
