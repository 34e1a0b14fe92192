import CircuitBreaker from 'opossum';
import { Agent, request } from 'undici';
import { CircuitOpenError, IntakeError, SinkError, UpstreamError, isIntakeError } from '../errors';
import type { Connector, ConnectorContext, ConnectorHealth, ConnectorSpec, RawInput } from './connector';
import { HealthTracker } from './health';
import { registerWebhook, type WebhookOptions } from './webhook';

/**
 * The polling transport shared by pull connectors (hotline-12345, message-board, city-management).
 *
 * Listing protocol (every simulated upstream and every documented native API follows it):
 *   GET <listing url>?since=<time>&page=<n>&size=<k>
 * returns the items whose cursor time is >= `since` (inclusive), ordered by (time, id) ascending
 * (`compareCursor`), page `n` (1-based) of size `k`. A page shorter than `k` is the end.
 *
 * Cursor: the pair (time, id) of the last item made durable, stored with `ctx.checkpoints.put` only
 * after EVERY item of the page was submitted and `submit` resolved (accepted, duplicate or
 * dead-lettered). Items are filtered client-side with `(time, id) > cursor`, so
 *   - a restart re-reads from `since=cursor.time` and skips what it already has: no loss, no repeat;
 *   - items sharing one timestamp across a page boundary are neither lost nor repeated: while a
 *     whole page shares the `since` time, the next request keeps `since` and asks for the next page
 *     (paging inside the tie group); otherwise it moves `since` to the page's last time and page 1.
 * A crash between a submit and the checkpoint re-submits at most one page; the hub's exact dedup
 * (channel + source id) turns those into `duplicate` outcomes, never second tickets.
 *
 * When `submit` rejects (SinkError: the output is down) the cursor is kept and the poller backs off
 * exponentially; when the upstream fails (5xx, timeouts, oversized body, undecodable page) the
 * circuit breaker counts it, opens past its threshold and fails fast until `resetTimeoutMs`, then
 * lets one probe through (half-open). Its state shows in health (`breaker`) and in the gauge
 * `intake_connector_breaker_state{connector}` (0 closed, 1 half-open, 2 open).
 *
 * Every request has an AbortController: it is aborted on the overall request timeout, on the
 * breaker's timeout and on `stop()`, which closes the connection (the upstream sees the socket
 * close). undici's `headersTimeout`, `bodyTimeout` and the Agent's connect timeout bound each phase.
 *
 * Poll lag (`health().pollLagMs`, gauge `intake_poll_lag_seconds`): now − start of the last poll
 * that read the listing to its end (before the first such poll: now − connector start). Healthy and
 * caught up it stays below one poll interval; it grows while the poller is behind (many pages), the
 * upstream fails or the output is down. It does NOT grow when the upstream is merely quiet.
 */
export interface CursorKey {
  /** Epoch ms of the item's cursor time (update time, creation time). */
  t: number;
  /** The item's source id: the tie-breaker inside one timestamp. */
  id: string;
}

/** One record of a listing page, already split out as its own raw input. */
export interface ListedItem {
  raw: RawInput;
  /** Cursor position of the item; null when the row has no readable time/id (it is still submitted and dead-lettered by normalize). */
  key: CursorKey | null;
}

/** How a connector talks to its listing API. */
export interface ListingSource {
  /** Absolute URL of one listing request. `since` is null on the very first poll (no checkpoint). */
  listUrl(q: { since: number | null; page: number; size: number }): string;
  /** Splits a listing response into records; throws (any error) to refuse the page: counted as an upstream failure. */
  parsePage(body: Buffer, contentType: string): ListedItem[];
}

export interface BreakerOptions {
  /** Opossum action timeout (ms): a slower fetch counts as a failure and is aborted. */
  timeoutMs: number;
  /** Failure percentage within the rolling window that opens the breaker. */
  errorThresholdPercentage: number;
  /** Time the breaker stays open before letting one probe through (half-open). */
  resetTimeoutMs: number;
  /** Minimum number of requests in the window before the breaker may open. */
  volumeThreshold: number;
  /** Length of the rolling statistics window. */
  rollingWindowMs: number;
}

export interface HttpLimits {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Overall deadline of one request, headers and body included. */
  requestTimeoutMs: number;
  /** Larger listing bodies are aborted mid-stream (UpstreamError). */
  maxBodyBytes: number;
}

export interface PollerOptions {
  pollIntervalMs: number;
  pageSize: number;
  /** Pages read per poll before sleeping (a bound on one poll's work while catching up). */
  maxPagesPerPoll: number;
  /** Submissions in flight at once within one page. */
  submitConcurrency: number;
  http: HttpLimits;
  breaker: BreakerOptions;
  /** Backoff after a failed poll (output down, upstream failing): initial, doubled up to max. */
  backoff: { initialMs: number; maxMs: number };
  /** Checkpoint name under the connector's namespace. */
  checkpointName?: string;
  /** Extra request headers (e.g. an API token from config; never archived). */
  headers?: Record<string, string>;
}

export const DEFAULT_HTTP: HttpLimits = { connectTimeoutMs: 5000, headersTimeoutMs: 10000, bodyTimeoutMs: 10000, requestTimeoutMs: 20000, maxBodyBytes: 4 * 1024 * 1024 };
export const DEFAULT_BREAKER: BreakerOptions = { timeoutMs: 25000, errorThresholdPercentage: 50, resetTimeoutMs: 30000, volumeThreshold: 5, rollingWindowMs: 60000 };

/** Orders cursor positions: by time, then by id (numeric ids by value, others by code unit). */
export function compareCursor(a: CursorKey, b: CursorKey): number {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  return compareIds(a.id, b.id);
}

const DIGITS = /^[0-9]{1,40}$/;

/** Numeric ids compare by value ("9" < "10"), everything else by UTF-16 code units. */
export function compareIds(a: string, b: string): number {
  if (DIGITS.test(a) && DIGITS.test(b)) {
    const x = a.replace(/^0+(?=.)/, '');
    const y = b.replace(/^0+(?=.)/, '');
    if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function encodeCursor(c: CursorKey): string {
  return JSON.stringify({ v: 1, t: c.t, id: c.id });
}

export function decodeCursor(s: string | null): CursorKey | null {
  if (s === null) return null;
  try {
    const o = JSON.parse(s) as { v?: unknown; t?: unknown; id?: unknown };
    if (o.v === 1 && typeof o.t === 'number' && Number.isFinite(o.t) && typeof o.id === 'string') return { t: o.t, id: o.id };
  } catch {
    // fall through: an unreadable checkpoint is treated as none (logged by the caller)
  }
  return null;
}

/** A fetched listing response. */
export interface Fetched {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Thrown inside the transport when the connector is stopping: never a failure. */
class StoppedError extends Error {
  constructor() {
    super('poller stopped');
  }
}

/**
 * Bounded HTTP GET: connect/headers/body timeouts, an overall deadline, a body size cap enforced
 * while streaming, and cancellation of everything in flight on `abortAll()`.
 */
export class BoundedFetcher {
  private readonly agent: Agent;
  private readonly inflight = new Set<AbortController>();

  constructor(
    private readonly limits: HttpLimits,
    private readonly headers: Record<string, string> = {},
  ) {
    this.agent = new Agent({ connect: { timeout: limits.connectTimeoutMs }, headersTimeout: limits.headersTimeoutMs, bodyTimeout: limits.bodyTimeoutMs, keepAliveTimeout: 4000 });
  }

  /** In-flight requests, for tests and shutdown. */
  get inflightCount(): number {
    return this.inflight.size;
  }

  async get(url: string, ctl: AbortController = new AbortController()): Promise<Fetched> {
    const { limits } = this;
    this.inflight.add(ctl);
    const deadline = setTimeout(() => ctl.abort(new UpstreamError(`request exceeded ${limits.requestTimeoutMs} ms`)), limits.requestTimeoutMs);
    try {
      const res = await request(url, {
        method: 'GET',
        dispatcher: this.agent,
        headers: { accept: 'application/json', ...this.headers },
        headersTimeout: limits.headersTimeoutMs,
        bodyTimeout: limits.bodyTimeoutMs,
        signal: ctl.signal,
      });
      const ct = res.headers['content-type'];
      const contentType = typeof ct === 'string' ? ct : '';
      if (res.statusCode < 200 || res.statusCode >= 300) {
        ctl.abort(new UpstreamError(`upstream answered HTTP ${res.statusCode}`));
        await res.body.dump({ limit: 0 }).catch(() => undefined);
        throw new UpstreamError(`upstream answered HTTP ${res.statusCode}`);
      }
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
        const err = new UpstreamError(`upstream body of ${declared} bytes exceeds the limit of ${limits.maxBodyBytes} bytes`);
        ctl.abort(err);
        throw err;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        size += b.length;
        if (size > limits.maxBodyBytes) {
          const err = new UpstreamError(`upstream body exceeds the limit of ${limits.maxBodyBytes} bytes`);
          ctl.abort(err);
          throw err;
        }
        chunks.push(b);
      }
      return { status: res.statusCode, contentType, body: Buffer.concat(chunks, size) };
    } catch (e) {
      throw toUpstream(e, ctl);
    } finally {
      clearTimeout(deadline);
      this.inflight.delete(ctl);
    }
  }

  /** Aborts every request in flight (connector stop). */
  abortAll(): void {
    for (const c of this.inflight) c.abort(new StoppedError());
  }

  async close(): Promise<void> {
    this.abortAll();
    await this.agent.close().catch(() => undefined);
  }
}

function toUpstream(e: unknown, ctl: AbortController): Error {
  const reason: unknown = ctl.signal.aborted ? ctl.signal.reason : undefined;
  if (reason instanceof StoppedError) return reason;
  if (e instanceof UpstreamError) return e;
  if (reason instanceof IntakeError) return reason;
  const code = (e as { code?: unknown }).code;
  const msg = e instanceof Error ? e.message : String(e);
  return new UpstreamError(`upstream request failed${typeof code === 'string' ? ` (${code})` : ''}: ${msg}`.slice(0, 500), { cause: e });
}

const BREAKER_GAUGE: Record<NonNullable<ConnectorHealth['breaker']>, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The poll loop with its breaker, cursor and lifecycle. A poller connector owns one and delegates
 * start/stop/pause/resume to it; `health` is shared with any push route of the same connector.
 */
export class Poller {
  private fetcher: BoundedFetcher;
  private breaker: CircuitBreaker<[string, AbortController], Fetched> | null = null;
  private loopDone: Promise<void> | null = null;
  private stopping = false;
  private paused = false;
  private wake: (() => void) | null = null;
  private cursor: CursorKey | null = null;
  private failures = 0;
  private startedAt = 0;
  private caughtUpAt: number | null = null;
  private newestItemAt: number | null = null;
  private lastErrorCode: string | null = null;
  private readonly checkpointName: string;

  constructor(
    private readonly ctx: ConnectorContext,
    private readonly health: HealthTracker,
    private readonly source: ListingSource,
    private readonly o: PollerOptions,
  ) {
    this.fetcher = new BoundedFetcher(o.http, o.headers);
    this.checkpointName = o.checkpointName ?? 'cursor';
    this.health.breaker = 'closed';
  }

  /** The cursor of the last durable page (null before the first). */
  get position(): CursorKey | null {
    return this.cursor;
  }

  /** Upstream time of the newest item seen, epoch ms (null before the first). */
  get newestItemTime(): number | null {
    return this.newestItemAt;
  }

  get running(): boolean {
    return this.loopDone !== null;
  }

  async start(): Promise<void> {
    if (this.loopDone) return;
    this.stopping = false;
    this.health.state = 'starting';
    const stored = await this.ctx.checkpoints.get(this.checkpointName);
    this.cursor = decodeCursor(stored);
    if (stored !== null && this.cursor === null) this.ctx.logger.warn('unreadable poll checkpoint ignored: polling from the beginning', { checkpoint: stored.slice(0, 200) });
    this.startedAt = this.ctx.clock.now();
    this.fetcher = new BoundedFetcher(this.o.http, this.o.headers);
    this.breaker = this.makeBreaker();
    this.setBreaker('closed');
    this.health.state = this.paused ? 'paused' : 'running';
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.fetcher.abortAll();
    this.wake?.();
    if (this.loopDone) await this.loopDone;
    this.loopDone = null;
    this.breaker?.shutdown();
    this.breaker = null;
    await this.fetcher.close(); // idle keep-alive sockets too: a stopped poller holds no connection
    this.health.state = 'stopped';
  }

  /** Alias of stop (kept for symmetry with other transports). */
  async close(): Promise<void> {
    await this.stop();
  }

  async pause(): Promise<void> {
    this.paused = true;
    if (this.loopDone) this.health.state = 'paused';
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    this.paused = false;
    if (this.loopDone) this.health.state = this.failures > 0 ? 'degraded' : 'running';
    this.wake?.();
  }

  /** Current poll lag in ms (see the module comment). */
  lagMs(): number | null {
    if (!this.loopDone && this.caughtUpAt === null) return null;
    return Math.max(0, this.ctx.clock.now() - (this.caughtUpAt ?? this.startedAt));
  }

  private makeBreaker(): CircuitBreaker<[string, AbortController], Fetched> {
    const b = this.o.breaker;
    const breaker = new CircuitBreaker<[string, AbortController], Fetched>((url: string, ctl: AbortController) => this.fetcher.get(url, ctl), {
      timeout: b.timeoutMs,
      errorThresholdPercentage: b.errorThresholdPercentage,
      resetTimeout: b.resetTimeoutMs,
      volumeThreshold: b.volumeThreshold,
      rollingCountTimeout: b.rollingWindowMs,
      rollingCountBuckets: 10,
      // a request cancelled because the connector stops is not an upstream failure
      errorFilter: (e: unknown) => e instanceof StoppedError,
    });
    // opossum's own timeout only rejects the promise: abort the request too, so the socket closes
    (breaker as unknown as NodeJS.EventEmitter).on('timeout', (_err: unknown, _latency: unknown, args: unknown) => {
      const ctl = Array.isArray(args) ? (args[1] as unknown) : undefined;
      if (ctl instanceof AbortController) ctl.abort(new UpstreamError(`upstream did not answer within the breaker timeout of ${b.timeoutMs} ms`));
    });
    breaker.on('open', () => this.setBreaker('open'));
    breaker.on('halfOpen', () => this.setBreaker('half-open'));
    breaker.on('close', () => this.setBreaker('closed'));
    return breaker;
  }

  private setBreaker(s: NonNullable<ConnectorHealth['breaker']>): void {
    if (this.health.breaker !== s && s !== 'closed') this.ctx.logger.warn('upstream circuit breaker state changed', { breaker: s });
    this.health.breaker = s;
    this.ctx.metrics.breakerState.set({ connector: this.ctx.id }, BREAKER_GAUGE[s]);
  }

  private updateLag(): void {
    const lag = this.lagMs();
    this.health.pollLagMs = lag;
    if (lag !== null) this.ctx.metrics.pollLag.set({ connector: this.ctx.id }, lag / 1000);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.paused) {
        await this.sleep(null);
        continue;
      }
      let delay = this.o.pollIntervalMs;
      try {
        await this.pollOnce();
        if (this.failures > 0) this.ctx.logger.info('poller recovered', { after: this.failures });
        this.failures = 0;
        this.lastErrorCode = null;
        if (!this.stopping && !this.paused) this.health.state = 'running';
      } catch (e) {
        if (this.stopping || e instanceof StoppedError) break;
        const err = asIntakeError(e);
        this.health.failure(err);
        this.failures++;
        if (!this.paused) this.health.state = 'degraded';
        // log state changes, not every retry
        if (err.code !== this.lastErrorCode) this.ctx.logger.warn('poll failed; backing off', { code: err.code, message: err.message });
        this.lastErrorCode = err.code;
        const { initialMs, maxMs } = this.o.backoff;
        delay = Math.min(maxMs, initialMs * 2 ** Math.min(this.failures - 1, 20));
        if (err instanceof CircuitOpenError) delay = Math.min(delay, this.o.breaker.resetTimeoutMs);
      }
      this.updateLag();
      await this.sleep(delay);
    }
  }

  /** Sleeps `ms` (or until woken when null); stop() and resume() wake it. */
  private sleep(ms: number | null): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      if (ms !== null) timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async fetchPage(url: string): Promise<Fetched> {
    const breaker = this.breaker;
    if (!breaker) throw new StoppedError();
    try {
      return await breaker.fire(url, new AbortController());
    } catch (e) {
      if ((e as { code?: unknown }).code === 'EOPENBREAKER') throw new CircuitOpenError('upstream circuit breaker is open: failing fast until its reset timeout');
      if ((e as { code?: unknown }).code === 'ETIMEDOUT') throw new UpstreamError(`upstream did not answer within ${this.o.breaker.timeoutMs} ms`, { cause: e });
      throw e;
    }
  }

  /** One poll: pages from the cursor until a short page, `maxPagesPerPoll` or stop. */
  async pollOnce(): Promise<void> {
    const pollStarted = this.ctx.clock.now();
    let since = this.cursor?.t ?? null;
    let page = 1;
    for (let n = 0; n < this.o.maxPagesPerPoll && !this.stopping && !this.paused; n++) {
      const size = this.o.pageSize;
      const res = await this.fetchPage(this.source.listUrl({ since, page, size }));
      let items: ListedItem[];
      try {
        items = this.source.parsePage(res.body, res.contentType);
      } catch (e) {
        throw new UpstreamError(`upstream listing page could not be read: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500), { cause: e });
      }
      const before = this.cursor;
      const fresh = items.filter((it) => (it.key === null ? true : before === null || compareCursor(it.key, before) > 0));
      const keyedFresh = fresh.some((it) => it.key !== null);
      // rows without a readable key are submitted (and dead-lettered by normalize) only with a page that advances
      await this.submitAll(keyedFresh ? fresh : []);
      let next = before;
      for (const it of items) {
        if (it.key && (next === null || compareCursor(it.key, next) > 0)) next = it.key;
        if (it.key && (this.newestItemAt === null || it.key.t > this.newestItemAt)) this.newestItemAt = it.key.t;
      }
      if (next && (before === null || compareCursor(next, before) > 0)) {
        await this.ctx.checkpoints.put(this.checkpointName, encodeCursor(next));
        this.cursor = next;
      }
      this.health.success();
      if (items.length < size) {
        this.caughtUpAt = pollStarted;
        return;
      }
      const lastT = items.reduce<number | null>((m, it) => (it.key && (m === null || it.key.t > m) ? it.key.t : m), null);
      if (lastT !== null && since !== null && lastT === since) page++;
      else if (lastT !== null) {
        since = lastT;
        page = 1;
      } else page++;
    }
  }

  private async submitAll(items: ListedItem[]): Promise<void> {
    let next = 0;
    let failed: unknown = null;
    const worker = async (): Promise<void> => {
      while (failed === null && !this.stopping) {
        const i = next++;
        const it = items[i];
        if (!it) return;
        this.health.received();
        try {
          const r = await this.ctx.submit({ ...it.raw, receivedAt: it.raw.receivedAt ?? this.ctx.clock.now() });
          this.health.outcome(r);
        } catch (e) {
          failed ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.o.submitConcurrency, items.length)) }, worker));
    if (failed !== null) throw failed;
    if (this.stopping) throw new StoppedError();
  }
}

function asIntakeError(e: unknown): IntakeError {
  if (isIntakeError(e)) return e;
  if (e instanceof SinkError) return e;
  return new IntakeError('INTAKE_ERR_INTERNAL', e instanceof Error ? e.message : String(e), true, { cause: e });
}

/** JSON-schema fragments for poller config, shared by the pull connectors' config schemas. */
export const POLLER_CONFIG_PROPERTIES: Record<string, Record<string, unknown>> = {
  pollIntervalMs: { type: 'integer', minimum: 1000, maximum: 3600000, default: 15000, description: 'Pause between two polls once the listing is read to its end.' },
  pageSize: { type: 'integer', minimum: 1, maximum: 500, default: 50, description: 'Records asked for per listing page (size=).' },
  maxPagesPerPoll: { type: 'integer', minimum: 1, maximum: 1000, default: 20, description: 'Pages read in one poll before sleeping, while catching up.' },
  submitConcurrency: { type: 'integer', minimum: 1, maximum: 64, default: 8, description: 'Records of one page submitted to the pipeline at once.' },
  timeouts: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: 'HTTP timeouts of one listing request (ms).',
    properties: {
      connectMs: { type: 'integer', minimum: 100, maximum: 60000, default: 5000, description: 'TCP/TLS connect timeout.' },
      headersMs: { type: 'integer', minimum: 100, maximum: 120000, default: 10000, description: 'Time to receive the response headers.' },
      bodyMs: { type: 'integer', minimum: 100, maximum: 120000, default: 10000, description: 'Longest silence between two body chunks.' },
      requestMs: { type: 'integer', minimum: 100, maximum: 300000, default: 20000, description: 'Overall deadline of one request, body included.' },
    },
  },
  maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 67108864, default: 4194304, description: 'Largest accepted listing response; a larger body is aborted mid-stream and counts as an upstream failure.' },
  breaker: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: 'Circuit breaker around listing requests (opossum).',
    properties: {
      timeoutMs: { type: 'integer', minimum: 100, maximum: 300000, default: 25000, description: 'A request slower than this counts as a failure and is aborted.' },
      errorThresholdPercentage: { type: 'integer', minimum: 1, maximum: 100, default: 50, description: 'Failure percentage within the rolling window that opens the breaker.' },
      resetTimeoutMs: { type: 'integer', minimum: 100, maximum: 3600000, default: 30000, description: 'How long the breaker stays open before one probe request (half-open).' },
      volumeThreshold: { type: 'integer', minimum: 1, maximum: 1000, default: 5, description: 'Requests needed in the window before the breaker may open.' },
      rollingWindowMs: { type: 'integer', minimum: 1000, maximum: 3600000, default: 60000, description: 'Length of the rolling statistics window.' },
    },
  },
  backoff: {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: 'Retry delay after a failed poll (output down or upstream failing): doubles from initialMs up to maxMs.',
    properties: {
      initialMs: { type: 'integer', minimum: 10, maximum: 600000, default: 1000, description: 'First retry delay.' },
      maxMs: { type: 'integer', minimum: 10, maximum: 3600000, default: 60000, description: 'Largest retry delay.' },
    },
  },
};

/** The poller part of a pull connector's config, as validated (defaults applied). */
export interface PollerConfig {
  pollIntervalMs: number;
  pageSize: number;
  maxPagesPerPoll: number;
  submitConcurrency: number;
  timeouts: { connectMs: number; headersMs: number; bodyMs: number; requestMs: number };
  maxBodyBytes: number;
  breaker: { timeoutMs: number; errorThresholdPercentage: number; resetTimeoutMs: number; volumeThreshold: number; rollingWindowMs: number };
  backoff: { initialMs: number; maxMs: number };
}

/** Poller options from a validated pull-connector config. */
export function pollerOptions(c: PollerConfig, headers: Record<string, string> = {}): PollerOptions {
  return {
    pollIntervalMs: c.pollIntervalMs,
    pageSize: c.pageSize,
    maxPagesPerPoll: c.maxPagesPerPoll,
    submitConcurrency: c.submitConcurrency,
    http: { connectTimeoutMs: c.timeouts.connectMs, headersTimeoutMs: c.timeouts.headersMs, bodyTimeoutMs: c.timeouts.bodyMs, requestTimeoutMs: c.timeouts.requestMs, maxBodyBytes: c.maxBodyBytes },
    breaker: c.breaker,
    backoff: c.backoff,
    headers,
  };
}

/**
 * The lifecycle shared by pull connectors: one health tracker, an optional poller (pull) and an
 * optional signed webhook route (push), both feeding the same pipeline. A pure push connector
 * (no poller) is running as soon as it starts; with a poller, upstream failures make it
 * `degraded` (pushes are still accepted) and the breaker state shows in health.
 */
export class PullConnector implements Connector {
  readonly spec: ConnectorSpec<never>;
  private readonly tracker: HealthTracker;
  private readonly poller: Poller | null;
  private started = false;

  constructor(
    spec: ConnectorSpec<never>,
    private readonly ctx: ConnectorContext,
    parts: { poll?: { source: ListingSource; options: PollerOptions } | null; push?: WebhookOptions | null },
  ) {
    this.spec = spec;
    this.tracker = new HealthTracker(ctx.id, spec.type, spec.channel, parts.poll ? 'poller' : 'webhook', ctx.clock);
    this.poller = parts.poll ? new Poller(ctx, this.tracker, parts.poll.source, parts.poll.options) : null;
    if (!this.poller) this.tracker.breaker = null;
    if (parts.push) registerWebhook(ctx, parts.push, this.tracker, () => this.tracker.state === 'running' || this.tracker.state === 'degraded');
  }

  get id(): string {
    return this.ctx.id;
  }

  /** The poller, when the connector pulls (tests read its cursor). */
  get pull(): Poller | null {
    return this.poller;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.poller) await this.poller.start();
    else if (this.tracker.state !== 'paused') this.tracker.state = 'running';
  }

  async stop(): Promise<void> {
    if (this.poller) await this.poller.stop();
    this.tracker.state = 'stopped';
    this.started = false;
  }

  async pause(): Promise<void> {
    if (this.poller) await this.poller.pause();
    else if (this.started) this.tracker.state = 'paused';
  }

  async resume(): Promise<void> {
    if (this.poller) await this.poller.resume();
    else if (this.started && this.tracker.state === 'paused') this.tracker.state = 'running';
  }

  health(): ConnectorHealth {
    if (this.poller) this.tracker.pollLagMs = this.poller.lagMs();
    return this.tracker.snapshot();
  }
}

/** Config schema of the push route of a pull connector (`push`), shared by the pull connectors. */
export function pushConfigSchema(enabledByDefault: boolean, what: string): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    default: {},
    description: `Push route: the upstream may also POST ${what} as signed JSON (Standard Webhooks) to /intake/<connector id>.`,
    properties: {
      enabled: { type: 'boolean', default: enabledByDefault, description: 'Accept pushes on the route.' },
      path: { type: 'string', pattern: '^/[A-Za-z0-9/_-]*$', maxLength: 200, description: 'Route path; defaults to /intake/<connector id>.' },
      secrets: {
        description: 'Standard Webhooks signing secrets (whsec_<base64>); several during key rotation. null disables signature checks (testing only).',
        anyOf: [{ type: 'array', minItems: 1, maxItems: 4, items: { type: 'string', minLength: 16, maxLength: 256 } }, { type: 'null' }],
        default: null,
        'x-secret': true,
        examples: [['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']],
      },
      toleranceSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 300, description: 'Accepted clock skew of webhook-timestamp, both ways.' },
      maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 10485760, default: 262144, description: 'Largest accepted push body (413 and dead-lettered above).' },
    },
    // an enabled push route must say how it is authenticated: secrets, or an explicit null
    if: { properties: { enabled: { const: true } }, required: ['enabled'] },
    then: { properties: { secrets: true }, required: ['secrets'] },
  };
}

export interface PushConfig {
  enabled: boolean;
  path?: string;
  secrets: string[] | null;
  toleranceSeconds: number;
  maxBodyBytes: number;
}

/** Webhook options from a validated `push` config, or null when pushes are disabled. */
export function pushOptions(p: PushConfig, connectorId: string): WebhookOptions | null {
  if (!p.enabled) return null;
  return {
    path: p.path ?? `/intake/${connectorId}`,
    maxBodyBytes: p.maxBodyBytes,
    contentTypes: ['application/json'],
    secrets: p.secrets,
    toleranceSeconds: p.toleranceSeconds,
    keepHeaders: ['content-type', 'webhook-id', 'webhook-timestamp', 'user-agent', 'x-request-id'],
  };
}
