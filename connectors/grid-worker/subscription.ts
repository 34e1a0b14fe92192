import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type Consumer, type JsMsg, type StreamConfig } from '@nats-io/jetstream';
import { readFileSync } from 'node:fs';
import { credsAuthenticator } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { PayloadError, UpstreamError, isIntakeError } from '../../core/errors';
import type { ConnectorContext, ConnectorHealth, ConnectorSpec, RawInput } from '../../core/sdk/connector';
import type { HealthTracker } from '../../core/sdk/health';
import { ConnectorRunner, OperatorNeededError, type StepControl, type TransportLoop } from '../../core/sdk/runner';
import type { GridWorkerConfig } from './spec';

/** The grid-worker health snapshot: the common one plus the JetStream view. */
export interface GridWorkerHealth extends ConnectorHealth {
  nats: {
    connected: boolean;
    server: string | null;
    /** Messages in the stream not yet delivered to the durable consumer (last consumer info). */
    numPending: number | null;
    /** Delivered but not yet acked (last consumer info). */
    numAckPending: number | null;
    /** Deliveries this instance saw with a delivery count above 1. */
    redelivered: number;
    /** Messages this instance nak'ed because the output was unavailable. */
    naks: number;
  };
}

type NatsConnection = Awaited<ReturnType<typeof connect>>;
type Fetched = Awaited<ReturnType<Consumer['fetch']>>;

const INFO_EVERY_MS = 2000;
const nanos = (ms: number): number => ms * 1_000_000;
const MAX_BACKOFF_MS = 30000;

/**
 * The JetStream subscription: the connector runner with a NATS transport loop — each step is one
 * fetch from a durable pull consumer with explicit acks. See `gridWorkerSpec` for the ack/nak
 * contract. Pause and stop end the loop between fetches: deliveries already fetched but not started
 * are nak'ed (handed back at once), those in flight finish and are acked, then the connection closes.
 */
export class GridWorkerConnector extends ConnectorRunner {
  private readonly nats: NatsLoop;

  constructor(config: GridWorkerConfig, ctx: ConnectorContext, spec: ConnectorSpec<never>) {
    const loop = new NatsLoop(config, ctx);
    super(spec, ctx, { kind: 'subscription', loop, backoff: { initialMs: config.reconnectWaitMs, maxMs: MAX_BACKOFF_MS }, firstStepWaitMs: config.connectTimeoutMs + 1000 });
    this.nats = loop;
  }

  override health(): GridWorkerHealth {
    return { ...super.health(), nats: this.nats.view() };
  }
}

class NatsLoop implements TransportLoop {
  readonly idleMs = 0;
  private tracker!: HealthTracker;
  private nc: NatsConnection | null = null;
  private consumer: Consumer | null = null;
  private batch: Fetched | null = null;
  private active = false;
  private connected = false;
  private server: string | null = null;
  private numPending: number | null = null;
  private numAckPending: number | null = null;
  private redelivered = 0;
  private naks = 0;
  private lastInfoAt = 0;
  private lastMsgAt: number | null = null;
  private sinkBackoffUntil = 0;
  private readonly inflight = new Set<Promise<void>>();
  private wakers = new Set<() => void>();

  constructor(
    private readonly config: GridWorkerConfig,
    private readonly ctx: ConnectorContext,
  ) {}

  attach(h: HealthTracker): void {
    this.tracker = h;
  }

  view(): GridWorkerHealth['nats'] {
    return { connected: this.connected, server: this.server, numPending: this.numPending, numAckPending: this.numAckPending, redelivered: this.redelivered, naks: this.naks };
  }

  /** A step that returned while the client reconnects leaves the connector degraded. */
  healthy(): boolean {
    return this.connected;
  }

  async open(): Promise<void> {
    this.active = true;
  }

  async step(ctl: StepControl): Promise<'more' | 'idle'> {
    this.active = true;
    let consumer: Consumer;
    try {
      consumer = await this.ensureConsumer();
    } catch (e) {
      this.consumer = null;
      // a JetStream API refusal (subject overlap, JetStream disabled) needs an operator
      if (e instanceof JetStreamApiError) throw new OperatorNeededError(`NATS/JetStream: ${e.message}`, e);
      throw upstream(e);
    }
    const wait = this.sinkBackoffUntil - Date.now();
    if (wait > 0) {
      await this.sleep(wait);
      return 'more';
    }
    const c = this.config;
    let batch: Fetched;
    try {
      batch = await consumer.fetch({ max_messages: c.batch, expires: c.fetchExpiresMs });
    } catch (e) {
      this.consumer = null;
      throw upstream(e);
    }
    this.batch = batch;
    const tasks: Promise<void>[] = [];
    try {
      for await (const m of batch) {
        if (ctl.stopping() || this.sinkBackoffUntil > Date.now()) {
          // hand it back at once: another instance (or this one, later) takes it
          m.nak(ctl.stopping() ? 0 : c.nakDelayMs);
          continue;
        }
        while (this.inflight.size >= c.concurrency) await Promise.race(this.inflight);
        tasks.push(this.track(this.handle(m)));
      }
    } catch (e) {
      await Promise.all(tasks);
      this.consumer = null;
      throw upstream(e);
    } finally {
      this.batch = null;
    }
    await Promise.all(tasks);
    if (Date.now() - this.lastInfoAt >= INFO_EVERY_MS) await this.refreshInfo(consumer);
    return 'more';
  }

  abort(): void {
    this.active = false;
    try {
      this.batch?.stop();
    } catch {
      // already ended
    }
    this.wakeAll();
  }

  /** Waits for in-flight submissions (acked or nak'ed), then closes the connection. */
  async close(): Promise<void> {
    this.active = false;
    await Promise.allSettled([...this.inflight]);
    const nc = this.nc;
    this.nc = null;
    this.consumer = null;
    if (nc && !nc.isClosed()) await nc.close().catch(() => undefined);
    this.connected = false;
  }

  private setState(s: 'running' | 'degraded'): void {
    if (this.active) this.tracker.state = s;
  }

  private async ensureConsumer(): Promise<Consumer> {
    const nc = await this.connection();
    if (!this.consumer) this.consumer = await this.setup(nc);
    return this.consumer;
  }

  private async connection(): Promise<NatsConnection> {
    if (this.nc && !this.nc.isClosed()) return this.nc;
    const c = this.config;
    this.consumer = null;
    const nc = await connect({
      servers: c.servers,
      name: `intake-hub/${this.ctx.id}`,
      timeout: c.connectTimeoutMs,
      reconnectTimeWait: c.reconnectWaitMs,
      maxReconnectAttempts: -1,
      ...natsAuth(c),
    });
    this.nc = nc;
    this.connected = true;
    this.server = nc.getServer();
    void this.watch(nc);
    return nc;
  }

  /** Follows the connection status: disconnected → degraded with the error, reconnected → running. */
  private async watch(nc: NatsConnection): Promise<void> {
    try {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.connected = false;
          this.tracker.failure(new UpstreamError(`NATS connection to ${s.server} lost; reconnecting`));
          this.setState('degraded');
        } else if (s.type === 'reconnect') {
          this.connected = true;
          this.server = s.server;
          this.setState('running');
        } else if (s.type === 'error') {
          this.tracker.failure(new UpstreamError(`NATS error: ${String(s.error)}`));
        }
      }
    } catch {
      // the status iterator ends with the connection
    }
    if (this.nc === nc) this.connected = false;
  }

  /** Ensures the stream (if allowed) and the durable consumer; returns the consumer. */
  private async setup(nc: NatsConnection): Promise<Consumer> {
    const c = this.config;
    const jsm = await jetstreamManager(nc, { timeout: c.connectTimeoutMs });
    try {
      await jsm.streams.info(c.stream);
    } catch (e) {
      if (!(isApiError(e, JetStreamApiCodes.StreamNotFound) && c.createStream)) throw e;
      const cfg: Partial<StreamConfig> & { name: string } = { name: c.stream, subjects: c.subjects, duplicate_window: nanos(c.duplicateWindowMs) };
      await jsm.streams.add(cfg);
    }
    const want = {
      ack_wait: nanos(c.ackWaitMs),
      max_deliver: c.maxDeliver,
      max_ack_pending: Math.max(1000, c.batch * 4),
    };
    try {
      const info = await jsm.consumers.info(c.stream, c.durable);
      if (info.config.ack_wait !== want.ack_wait || info.config.max_deliver !== want.max_deliver) {
        await jsm.consumers.update(c.stream, c.durable, { ack_wait: want.ack_wait, max_deliver: want.max_deliver }).catch((e: unknown) => {
          this.ctx.logger.warn('could not update the durable consumer; keeping its settings', { error: e instanceof Error ? e.message : String(e) });
        });
      }
    } catch (e) {
      if (!isApiError(e, JetStreamApiCodes.ConsumerNotFound)) throw e;
      await jsm.consumers.add(c.stream, {
        durable_name: c.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...want,
        ...(c.filterSubject ? { filter_subject: c.filterSubject } : {}),
      });
    }
    return jetstream(nc).consumers.get(c.stream, c.durable);
  }

  private track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
  }

  private async refreshInfo(consumer: Consumer): Promise<void> {
    this.lastInfoAt = Date.now();
    try {
      const info = await consumer.info();
      this.numPending = info.num_pending;
      this.numAckPending = info.num_ack_pending;
      this.tracker.pollLagMs = info.num_pending === 0 || this.lastMsgAt === null ? 0 : Math.max(0, Date.now() - this.lastMsgAt);
    } catch {
      // informational only
    }
  }

  /** One message: submit, then ack (durable) or nak (output unavailable). Never throws. */
  private async handle(m: JsMsg): Promise<void> {
    const c = this.config;
    this.tracker.received();
    if (m.info.deliveryCount > 1) this.redelivered++;
    this.lastMsgAt = Math.floor(m.info.timestampNanos / 1e6);
    const headers: Record<string, string> = {
      'nats-subject': m.subject.slice(0, 256),
      'nats-stream-seq': String(m.seq),
      'nats-delivered': String(m.info.deliveryCount),
    };
    const msgId = m.headers?.get('Nats-Msg-Id');
    if (msgId) headers['nats-msg-id'] = msgId.slice(0, 128);
    const contentType = (m.headers?.get('Content-Type') || 'application/json').slice(0, 128);
    // keep the ack deadline alive while the output works, so a slow write is not redelivered
    const keepAlive = setInterval(() => m.working(), Math.max(250, Math.floor(c.ackWaitMs / 3)));
    try {
      if (m.data.length > c.maxBodyBytes) {
        const raw: RawInput = { transport: 'subscription', body: Buffer.from(m.data.subarray(0, c.maxBodyBytes)), contentType, headers };
        const error = new PayloadError('INTAKE_ERR_PAYLOAD_TOO_LARGE', `message of ${m.data.length} bytes exceeds maxBodyBytes ${c.maxBodyBytes}`);
        const deadLetterId = await this.ctx.reject(raw, error, 'transport');
        this.tracker.outcome({ outcome: 'rejected', error, deadLetterId });
      } else {
        const r = await this.ctx.submit({ transport: 'subscription', body: Buffer.from(m.data), contentType, headers });
        this.tracker.outcome(r);
      }
    } catch (e) {
      clearInterval(keepAlive);
      this.tracker.failure(e);
      this.naks++;
      m.nak(c.nakDelayMs);
      if (isIntakeError(e) && e.retriable) this.sinkBackoffUntil = Date.now() + c.nakDelayMs;
      else this.ctx.logger.error('grid-worker submission failed unexpectedly; nak', { error: e instanceof Error ? e.message : String(e) });
      return;
    }
    clearInterval(keepAlive);
    await this.ack(m);
  }

  /** Acks with a server confirmation; a lost ack only means a redelivery, which dedup absorbs. */
  private async ack(m: JsMsg): Promise<void> {
    try {
      await m.ackAck({ timeout: Math.min(5000, this.config.ackWaitMs) });
    } catch {
      this.ctx.logger.debug('ack not confirmed; the message may be redelivered (deduplicated)', { seq: m.seq });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private wakeAll(): void {
    const w = this.wakers;
    this.wakers = new Set();
    for (const f of w) f();
  }
}

function isApiError(e: unknown, code: number): boolean {
  return e instanceof JetStreamApiError && e.code === code;
}

function upstream(e: unknown): UpstreamError {
  if (e instanceof UpstreamError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new UpstreamError(`NATS/JetStream: ${msg}`, { cause: e });
}

/**
 * Authentication and TLS options from the config: secrets from files (read here, at connect,
 * never logged), TLS with a CA and optional client certificate (mTLS).
 */
export function natsAuth(c: GridWorkerConfig): Record<string, unknown> {
  const read = (file: string, what: string): string => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new UpstreamError(`cannot read the NATS ${what} file: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  const o: Record<string, unknown> = {};
  const token = c.tokenFile ? read(c.tokenFile, 'token') : c.token;
  if (token) o.token = token;
  if (c.user) o.user = c.user;
  if (c.user) o.pass = c.passFile ? read(c.passFile, 'password') : (c.pass ?? '');
  if (c.credsFile) {
    const creds = readFileSync(c.credsFile);
    o.authenticator = credsAuthenticator(new Uint8Array(creds));
  }
  const t = c.tls;
  if (t && (t.caFile || t.certFile || t.keyFile)) o.tls = { ...(t.caFile ? { caFile: t.caFile } : {}), ...(t.certFile ? { certFile: t.certFile } : {}), ...(t.keyFile ? { keyFile: t.keyFile } : {}) };
  return o;
}
