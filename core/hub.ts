import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { backOff } from 'exponential-backoff';
import { Registry } from 'prom-client';
import { CONNECTORS } from '../connectors';
import type { CatalogStore } from './catalog/catalog';
import { systemClock, type Clock } from './clock';
import type { HubConfig } from './config/config';
import { ConfigError, IntakeError } from './errors';
import { EmbeddedProcessor, EmbeddedSourceSession } from './fleet/embedded-runtime';
import { IntakePipeline, type Source } from './fleet/intake';
import { LocalityResolver } from './fleet/locality';
import { DedupTask, TicketTask, type Task, type TaskDeps } from './fleet/tasks';
import { KafkaLeases, KafkaSourceSession } from './kafka/leases';
import { withDeadline } from './kafka/client';
import { KafkaLog } from './kafka/log';
import { KafkaProcessor, type TaskFactory } from './kafka/processor';
import { createLogger, type Logger } from './logger';
import { HubMetrics } from './metrics';
import { EmbeddedLog } from './outputs/embedded';
import type { RecordLog } from './outputs/output';
import { topicsFor, TOPICS, type Topics } from './outputs/topics';
import { createRawSealer } from './pii/raw-seal';
import type { Stage } from './pipeline/stage';
import type { Connector, ConnectorContext, RawInput, SourceSession, SubmitResult } from './sdk/connector';
import { OutputAuditSink, type AuditSink } from './admin/audit';
import { TokenStore } from './admin/auth';
import { MemoryDeadLetterIndex, replayInput } from './admin/deadletters';
import { createAdminPlane, type AdminPlane } from './admin/plane';
import { DeadLetterFeed } from './admin/dlq-feed';
import { createServer, installHealthRoutes } from './server/http';
import { EventLoopWatch } from './server/liveness';
import { UnauthenticatedBudget } from './server/rejections';
import type { DeadLetter } from './schema/types';
import { StoreService } from './store/service';
import { installOperatorRoutes } from './console/install';
import { version as hubVersion } from './version';
import { crashExit } from './util/crash-exit';

/**
 * What an instance runs (`intake-hub start --role`):
 * - `intake`: the connectors — webhooks, NATS subscriptions and (for the sources whose lease it
 *   holds) pollers. Stateless: any number behind a load balancer.
 * - `processor`: one member of the processor consumer group: dedup, clustering, classification,
 *   routing, exactly-once on Kafka. At most as many busy instances as partitions.
 * - `all`: both (the default; what `npm start` and small installs run).
 */
export type HubRole = 'intake' | 'processor' | 'all';

/** Builds the stages after exact dedup (cluster → classify → route) for one processor partition. */
export type StageFactory = () => Stage[];

export interface HubOptions {
  role?: HubRole;
  /**
   * Stable and unique per live instance (a StatefulSet ordinal, a pod name): transactional ids are
   * derived from it. Default `<hostname>-<port>`.
   */
  instanceId?: string;
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
  /** The processor's stages, built once per partition; none by default. */
  stages?: StageFactory;
  /**
   * How far back the stateful stages restore (the retention of the ticket changelog topic). Default:
   * read from one set of `stages()` (which an intake would otherwise never build).
   */
  restoreHorizonMs?: number;
  /** The catalog store used by the classify and route stages, for the admin API. */
  catalog?: CatalogStore;
  /**
   * Called when the processor hits an uncertain or fatal transactional outcome; the process must
   * exit (crash-only rule). Default: log and exit with code 70 (`crashExit`: SIGKILL after 5 s when a
   * native Kafka call holds the exit). Tests, which cannot exit, pass `restartOnFatal`
   * (`core/testing/fatal.ts`: `hub.restartProcessor()`, what the restart does).
   */
  onFatal?: (reason: string, err: unknown, hub: Hub) => void;
  /** Where audit records go; default: `intake.audit.v1` on the log. */
  audit?: AuditSink;
  /** The log to use instead of the configured one (check-config builds a hub on a null log). */
  log?: RecordLog & { start(): Promise<void>; stop(): Promise<void> };
}

interface Instance {
  source: Source;
  connector: Connector | null;
  enabled: boolean;
}

/** Jittered backoff until the call succeeds or the hub stops (the log at start-up, a processor's restart). */
const RETRY_FOREVER = { numOfAttempts: Number.MAX_SAFE_INTEGER, startingDelay: 500, maxDelay: 15000, jitter: 'full' as const };

/**
 * One hub process: the log (embedded file or Kafka), the intake pipeline and connectors, the
 * processor, the HTTP server. `start` may be called before the log is reachable: it retries with
 * jittered backoff while `/healthz` answers and `/readyz` says not ready.
 */
export class Hub {
  /** The intake listener: webhooks, Open311, probes. */
  readonly app: FastifyInstance;
  /** The admin listener: admin API, /metrics, probes (core/admin/plane.ts). */
  readonly admin: AdminPlane;
  readonly deadLetters: MemoryDeadLetterIndex;
  readonly metrics: HubMetrics;
  /** The ticket store (core/store), null when `store.type` resolves to none. */
  readonly store: StoreService | null;
  readonly log: RecordLog & { start(): Promise<void>; stop(): Promise<void> };
  readonly topics: Topics;
  readonly intake: IntakePipeline;
  readonly role: HubRole;
  readonly instanceId: string;
  private processor: EmbeddedProcessor | KafkaProcessor | null = null;
  private leases: KafkaLeases | null = null;
  private readonly instances = new Map<string, Instance>();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly stages: StageFactory;
  private readonly onFatal: (reason: string, err: unknown, hub: Hub) => void;
  private phase: 'created' | 'starting' | 'running' | 'stopping' | 'stopped' = 'created';
  private readonly liveness: EventLoopWatch;
  private readonly tokens: TokenStore;
  private readonly unauthenticated: UnauthenticatedBudget;
  private dlqFeed: DeadLetterFeed | null = null;
  private readonly catalog: CatalogStore | null;
  private operatorRoutes: Promise<void> | null = null;
  /** The admin listener's address once `listen` resolved. */
  adminAddress: string | null = null;

  constructor(
    readonly config: HubConfig,
    opts: HubOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? createLogger();
    this.role = opts.role ?? 'all';
    this.instanceId = (opts.instanceId ?? `${hostname()}-${config.server.port}`).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100);
    this.stages = opts.stages ?? (() => []);
    this.onFatal =
      opts.onFatal ??
      ((reason) => {
        this.logger.error('exiting: the processor cannot know the outcome of its last transaction (crash-only rule)', { reason });
        crashExit(70);
      });
    this.metrics = new HubMetrics(opts.registry ?? new Registry(), { defaultMetrics: !opts.registry });
    const out = config.output;
    if (opts.log) {
      this.topics = TOPICS;
      this.log = opts.log;
    } else if (out.type === 'kafka') {
      const k = out.kafka;
      this.topics = topicsFor(k.namespace);
      this.log = new KafkaLog(
        k,
        this.topics,
        {
          partitions: k.partitions,
          leasePartitions: k.leasePartitions,
          replicationFactor: k.replicationFactor,
          minInsyncReplicas: k.minInsyncReplicas,
          compression: k.compression,
          rawRetentionMs: k.rawRetentionMs,
          ticketRetentionMs: k.ticketRetentionMs,
          dedupWindowMs: config.dedup.windowHours * 3600_000,
          clusterHorizonMs: opts.restoreHorizonMs ?? Math.max(0, ...this.stages().map((s) => (s as { restoreHorizonMs?: number }).restoreHorizonMs ?? 0)),
        },
        { instanceId: this.instanceId, writeTimeoutMs: k.writeTimeoutMs, transactionTimeoutMs: k.transactionTimeoutMs, callTimeoutMs: k.callTimeoutMs, maxBatchRecords: k.maxBatchRecords, maxBatchBytes: k.maxBatchBytes },
        this.logger.child({ component: 'kafka' }),
        this.metrics,
      );
    } else {
      this.topics = TOPICS;
      this.log = new EmbeddedLog(out.embedded.dir, out.embedded.partitions, this.metrics, () => this.clock.now());
    }
    this.store = opts.log ? null : StoreService.fromConfig(config, { logger: this.logger.child({ component: 'store' }), registry: this.metrics.registry, clock: this.clock, topics: this.topics });
    this.catalog = opts.catalog ?? null;
    const sealer = createRawSealer(config.pii.rawKeys, config.pii.rawKeyId);
    this.intake = new IntakePipeline({
      log: this.log,
      topics: this.topics,
      metrics: this.metrics,
      clock: this.clock,
      logger: this.logger,
      tokenSecret: config.pii.tokenSecret,
      locality: new LocalityResolver(config.locality),
      rawSealer: sealer,
    });
    this.deadLetters = new MemoryDeadLetterIndex(this.log, this.topics.dlq, { max: config.admin.deadLetterIndexMax });
    this.liveness = new EventLoopWatch(config.health.maxEventLoopDelayMs);
    this.unauthenticated = new UnauthenticatedBudget(config.server.unauthenticated, () => this.clock.now());
    const { server: srv, admin } = config;
    this.app = createServer({ listener: 'intake', tls: srv.tls, caps: srv, rateLimit: srv.rateLimit.max > 0 ? srv.rateLimit : null, metrics: this.metrics });
    installHealthRoutes(this.app, { live: () => this.liveness.live(), ready: () => this.readiness().ready });
    this.admin = createAdminPlane({
      listener: { host: admin.host, port: admin.port, tls: admin.tls, caps: admin, rateLimit: admin.rateLimit },
      tokens: (this.tokens = new TokenStore(admin.tokens, admin.tokensFile, 5000, Date.now, (e) => this.logger.error('admin tokens file not reloaded; the previous tokens stay in force', { err: e }))),
      audit: opts.audit ?? new OutputAuditSink(this.log, this.topics.audit),
      metrics: this.metrics,
      logger: this.logger.child({ component: 'admin' }),
      clock: this.clock,
      instanceId: this.instanceId,
      live: () => this.liveness.live(),
      readiness: () => this.readiness(),
      connectors: () => this.connectors(),
      connector: (id) => this.connector(id),
      catalog: opts.catalog ?? null,
      deadLetters: this.deadLetters,
      replay: (dl) => this.submitAs(dl.connectorId, replayInput(dl, sealer), dl.id),
    });
    for (const c of config.connectors) this.addConnector(c.id, c.type, c.config, c.enabled, c.dedupScope ?? c.id);
    this.metrics.observeConnectors(this, [...this.instances].map(([id, i]) => ({ id, channel: i.source.channel })));
    for (const [id, i] of this.instances) if (i.connector?.lease) this.metrics.pollerLeaseOwned.set({ connector: id }, 0);
  }

  private get runsIntake(): boolean {
    return this.role === 'intake' || this.role === 'all';
  }

  private get runsProcessor(): boolean {
    return this.role === 'processor' || this.role === 'all';
  }

  private addConnector(id: string, type: string, config: Record<string, unknown>, enabled: boolean, dedupScope: string): void {
    const spec = CONNECTORS[type];
    if (!spec) throw new IntakeError('INTAKE_ERR_CONFIG', `unknown connector type ${type}`, false);
    const source: Source = { connectorId: id, channel: spec.channel, spec, config, dedupScope };
    let connector: Connector | null = null;
    if (this.runsIntake) {
      const ctx: ConnectorContext = {
        id,
        channel: spec.channel,
        logger: this.logger.child({ connector: id }),
        metrics: this.metrics,
        clock: this.clock,
        http: this.app,
        submit: (raw) => this.intake.submit(source, raw),
        reject: (raw, error, stage) => this.intake.reject(source, raw, error, stage),
        prepare: (raw) => this.intake.prepare(source, raw),
        openSource: () => this.openSource(id),
        ...(this.store ? { ticketStore: this.store.lookup } : {}),
        rejectUnauthenticated: async (raw, error, stage, client) => {
          if (this.unauthenticated.admit(client)) return this.intake.reject(source, raw, error, stage, this.config.server.unauthenticated.keepBytes);
          this.metrics.received.inc({ connector: id, channel: spec.channel });
          this.metrics.rejected.inc({ connector: id, reason: error.code });
          this.metrics.rejectionsUnrecorded.inc({ connector: id });
          return null;
        },
      };
      try {
        connector = spec.create(config as never, ctx);
      } catch (e) {
        // e.g. two connectors declaring one route: name the connector instead of a fastify code
        if (e instanceof IntakeError) throw e;
        throw new ConfigError(`connector ${id}: ${(e as Error).message}`, { cause: e });
      }
    }
    this.instances.set(id, { source, connector, enabled });
  }

  private openSource(connectorId: string): SourceSession {
    const log = this.log;
    if (log instanceof KafkaLog) {
      const k = this.config.output.kafka;
      return new KafkaSourceSession(log.conn, this.topics, log.partitions, connectorId, { transactionTimeoutMs: k.transactionTimeoutMs, callTimeoutMs: k.callTimeoutMs, compression: k.compression });
    }
    return new EmbeddedSourceSession(log as EmbeddedLog, this.topics, connectorId);
  }

  /**
   * Submits a raw report as if connector `connectorId` had received it (no transport checks):
   * used by replay and backfill import. Throws a SinkError when the log is down.
   */
  async submitAs(connectorId: string, raw: RawInput, replayOf: string | null = null): Promise<SubmitResult> {
    const i = this.instances.get(connectorId);
    if (!i) throw new IntakeError('INTAKE_ERR_NOT_FOUND', `no connector ${connectorId}`, false, { httpStatus: 404 });
    return this.intake.submit(i.source, raw, { replayOf });
  }

  /** Dead-letters a raw report for connector `connectorId` with a reason found before normalisation. */
  async rejectAs(connectorId: string, raw: RawInput, error: IntakeError, stage: 'transport' | 'auth' | 'decode'): Promise<string> {
    const i = this.instances.get(connectorId);
    if (!i) throw new IntakeError('INTAKE_ERR_NOT_FOUND', `no connector ${connectorId}`, false, { httpStatus: 404 });
    return this.intake.reject(i.source, raw, error, stage);
  }

  connectors(): Connector[] {
    return [...this.instances.values()].flatMap((i) => (i.connector ? [i.connector] : []));
  }

  connector(id: string): Connector | undefined {
    return this.instances.get(id)?.connector ?? undefined;
  }

  /** Whether a connector id is configured (whatever this instance's role). */
  hasConnector(id: string): boolean {
    return this.instances.has(id);
  }

  /** Input partitions the processor of this instance owns (empty when it runs none). */
  processorAssignment(): string[] {
    return this.processor?.assigned() ?? [];
  }

  /** The embedded processor, for tests that wait until everything written is processed. */
  get embeddedProcessor(): EmbeddedProcessor | null {
    return this.processor instanceof EmbeddedProcessor ? this.processor : null;
  }

  /** Resolves once the embedded processor has processed everything written so far (no-op on Kafka). */
  async settled(): Promise<void> {
    await this.embeddedProcessor?.idle();
  }

  /**
   * This instance can take traffic: the log is writable, and the processor (if it runs one) is up.
   * A paused or failing connector does not make the instance unready (it shows in its health).
   */
  readiness(): { ready: boolean; checks: Record<string, boolean> } {
    const checks: Record<string, boolean> = { log: this.log.ready(), started: this.phase === 'running' };
    if (this.runsProcessor) checks.processor = this.processor?.ok ?? false;
    return { ready: Object.values(checks).every(Boolean), checks };
  }

  private taskFactory(): TaskFactory {
    const deps: TaskDeps = { topics: this.topics, partitions: this.log.partitions, metrics: this.metrics, logger: this.logger };
    const windowMs = this.config.dedup.windowHours * 3600_000;
    return {
      create: (topic: string, partition: number): Task => (topic === this.topics.reports ? new DedupTask(partition, deps, windowMs) : new TicketTask(partition, deps, this.stages())),
    };
  }

  /**
   * Starts the log (retrying with jittered backoff while it is unreachable; a configuration error
   * fails at once), then the processor, then the connectors and poll leases.
   */
  async start(): Promise<void> {
    if (this.phase !== 'created' && this.phase !== 'stopped') return;
    this.phase = 'starting';
    let attempt = 0;
    await backOff(
      async () => {
        if (this.phase !== 'starting') return;
        await this.log.start();
      },
      {
        ...RETRY_FOREVER,
        retry: (e: unknown) => {
          if (e instanceof ConfigError || this.phase !== 'starting') return false;
          if (attempt++ % 10 === 0) this.logger.warn('log not reachable; retrying', { output: this.log.kind, err: e });
          return true;
        },
      },
    );
    if (this.phase !== 'starting') return;
    await this.store?.start();
    const dlqHorizon = this.config.output.type === 'kafka' ? this.config.output.kafka.rawRetentionMs : 365 * 24 * 3600_000;
    await this.deadLetters.load(this.clock.now() - dlqHorizon);
    this.dlqFeed = new DeadLetterFeed(this.log, this.topics.dlq, (dl: DeadLetter) => this.deadLetters.add(dl));
    this.dlqFeed.start();
    if (this.runsProcessor) {
      this.processor = this.makeProcessor();
      await this.processor.start();
    }
    if (this.runsIntake) {
      for (const [id, i] of this.instances) {
        if (!i.enabled || !i.connector) continue;
        await i.connector.start();
        this.metrics.connectorUp.set({ connector: id, channel: i.source.channel }, 1);
      }
      await this.startLeases();
    }
    this.phase = 'running';
  }

  private makeProcessor(): EmbeddedProcessor | KafkaProcessor {
    const factory = this.taskFactory();
    if (this.log instanceof KafkaLog) {
      const k = this.config.output.kafka;
      return new KafkaProcessor({
        conn: this.log.conn,
        topics: this.topics,
        instanceId: this.instanceId,
        transactionTimeoutMs: k.transactionTimeoutMs,
        callTimeoutMs: k.callTimeoutMs,
        compression: k.compression,
        maxBatchRecords: k.maxBatchRecords,
        sessionTimeoutMs: k.sessionTimeoutMs,
        tasks: factory,
        metrics: this.metrics,
        logger: this.logger.child({ component: 'processor' }),
        onFatal: (reason, err) => this.onFatal(reason, err, this),
        testAbortRatio: this.config.processor.testAbortRatio,
      });
    }
    return new EmbeddedProcessor(this.log as EmbeddedLog, this.topics, factory, this.logger.child({ component: 'processor' }));
  }

  /**
   * Replaces the Kafka processor by a new one, as the process's restart would after a fatal
   * outcome (the new one re-initialises the same transactional id, which fences the old, and
   * restores its tasks from the changelogs). For tests and in-process supervisors whose `onFatal`
   * cannot exit: production exits instead (crash-only rule). The old processor has stopped
   * consuming at its fatal; its stop is bounded by twice the call timeout, and the new one's start is
   * retried with jittered backoff while the broker is unreachable.
   */
  async restartProcessor(): Promise<void> {
    if (!(this.processor instanceof KafkaProcessor) || this.phase === 'stopping' || this.phase === 'stopped') return;
    const old = this.processor;
    this.processor = null;
    const callTimeoutMs = this.config.output.kafka.callTimeoutMs;
    await withDeadline(old.stop(), 2 * callTimeoutMs, 'stop of the failed processor').catch(() => undefined);
    await backOff(
      async () => {
        if (this.phase === 'stopping' || this.phase === 'stopped') return;
        const p = this.makeProcessor();
        try {
          await p.start();
        } catch (e) {
          await withDeadline(p.stop(), callTimeoutMs, 'stop of a processor that did not start').catch(() => undefined);
          throw e;
        }
        this.processor = p;
      },
      { ...RETRY_FOREVER, retry: () => this.phase !== 'stopping' && this.phase !== 'stopped' },
    );
  }

  /** Poll leases: on Kafka, a consumer group hands out sources; the embedded log has one owner. */
  private async startLeases(): Promise<void> {
    const pollable = [...this.instances.values()].filter((i) => i.enabled && i.connector?.lease);
    if (pollable.length === 0) return;
    if (!(this.log instanceof KafkaLog)) {
      for (const i of pollable) await i.connector?.lease?.acquire();
      return;
    }
    const k = this.config.output.kafka;
    const leases: KafkaLeases = new KafkaLeases(
      this.log.conn,
      this.topics,
      k.leasePartitions,
      this.logger.child({ component: 'leases' }),
      async (acquired, released) => {
        for (const i of pollable) {
          const slot = leases.slotOf(i.source.connectorId);
          if (released.includes(slot)) await i.connector?.lease?.release();
        }
        for (const i of pollable) {
          const slot = leases.slotOf(i.source.connectorId);
          if (acquired.includes(slot)) await i.connector?.lease?.acquire();
        }
      },
      k.sessionTimeoutMs,
    );
    this.leases = leases;
    await leases.start();
  }

  /**
   * Listens on the intake and the admin listeners; resolves to the intake address. Call it before
   * `start`: the probes answer from the first moment (/readyz 503 until started).
   */
  async listen(): Promise<string> {
    await this.installOperatorRoutes();
    const intake = await this.app.listen({ host: this.config.server.host, port: this.config.server.port });
    this.adminAddress = await this.admin.listen();
    return intake;
  }

  /**
   * The ticket store's lookup API, the triage queue and the console on the admin plane (behind its
   * tokens and roles; triage assignments audited) — when the hub has a store.
   */
  installOperatorRoutes(): Promise<void> {
    const store = this.store;
    if (!store) return Promise.resolve();
    this.operatorRoutes ??= installOperatorRoutes(this.admin.app, {
      // the plane's own onRequest hook checks the role each route declares
      authorize: () => async () => undefined,
      audit: (req, e) => this.admin.audit(req, e),
      principal: (req) => this.admin.principal(req),
      store,
      catalog: () => this.catalog?.current().doc ?? null,
      clock: this.clock,
      version: hubVersion(),
    });
    return this.operatorRoutes;
  }

  /** Tokens that can authenticate on the admin plane now. */
  get adminTokenCount(): number {
    return this.tokens.size;
  }

  async stop(): Promise<void> {
    if (this.phase === 'stopped' || this.phase === 'stopping') return;
    this.phase = 'stopping';
    await this.leases?.stop();
    this.leases = null;
    for (const [id, i] of this.instances) {
      if (!i.connector) continue;
      await i.connector.stop();
      this.metrics.connectorUp.set({ connector: id, channel: i.source.channel }, 0);
    }
    await this.app.close();
    await this.admin.close();
    this.liveness.stop();
    await this.dlqFeed?.stop();
    this.dlqFeed = null;
    await this.store?.stop();
    if (this.processor instanceof EmbeddedProcessor) await this.processor.idle();
    await this.processor?.stop();
    this.processor = null;
    await this.log.stop();
    this.phase = 'stopped';
  }
}
