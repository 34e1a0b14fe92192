import CircuitBreaker from 'opossum';
import { Agent, request } from 'undici';
import { CircuitOpenError, IntakeError, UpstreamError } from '../errors';
import type { OutRecord } from '../outputs/output';
import type { ConnectorContext, ConnectorHealth, ConnectorSpec, RawInput, SourceSession, SubmitResult } from './connector';
import { HealthTracker } from './health';
import { ConnectorRunner, type StepControl, type TransportLoop } from './runner';
import { registerWebhook, type WebhookOptions } from './webhook';

/**
 * The polling transport shared by pull connectors (hotline-12345, message-board, city-management).
 *
 * Listing protocol (every simulated upstream and every documented native API follows it):
 *   GET <listing url>?since=<time>&page=<n>&size=<k>
 * returns the items whose cursor time is >= `since` (inclusive), ordered by (time, id) ascending
 * (`compareCursor`), page `n` (1-based) of size `k`. A page shorter than `k` is the end.
 *
 * Single owner: a poller polls only while this instance holds its source's lease (the hub calls
 * `acquire` / `release` as the poller lease group moves leases; see core/kafka/leases.ts). Acquiring
 * opens a fenced source session (`ctx.openSource()`), which cuts off any earlier owner, and reads
 * the cursor back from it.
 *
 * Cursor: the pair (time, id) of the last item of the page. Each page's reports (and dead letters)
 * and the new cursor are committed in ONE transaction (`session.commit`): after a crash either
 * both are durable or neither is — no loss, no repeat. Items are filtered client-side with
 * `(time, id) > cursor`, so
 *   - a restart re-reads from `since=cursor.time` and skips what it already has;
 *   - items sharing one timestamp across a page boundary are neither lost nor repeated: while a
 *     whole page shares the `since` time, the next request keeps `since` and asks for the next page
 *     (paging inside the tie group); otherwise it moves `since` to the page's last time and page 1.
 *
 * When the commit fails (the output is down) the session is closed and reopened before the next
 * poll (reading back what really is durable), and the poller backs off exponentially with jitter;
 * when the upstream fails (5xx, timeouts, oversized body, undecodable page) the
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

export const BREAKER_GAUGE: Record<NonNullable<ConnectorHealth['breaker']>, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The polling transport of a pull connector, run by the connector runner (`core/sdk/runner.ts`):
 * one `step` is one poll — pages from the cursor until a short page, `maxPagesPerPoll` or stop —
 * each page committed with its cursor in one transaction on the fenced source session. The runner
 * owns the loop, the lease, pause/resume and the jittered backoff after a failed poll; the breaker,
 * the bounded fetcher and the cursor live here.
 */
export class Poller implements TransportLoop {
  private fetcher: BoundedFetcher;
  private breaker: CircuitBreaker<[string, AbortController], Fetched> | null = null;
  private cursor: CursorKey | null = null;
  private startedAt: number | null = null;
  private caughtUpAt: number | null = null;
  private newestItemAt: number | null = null;
  private readonly checkpointName: string;
  private session: SourceSession | null = null;
  private health: HealthTracker | null = null;
  private ctl: StepControl = { stopping: () => false };

  constructor(
    private readonly ctx: ConnectorContext,
    private readonly source: ListingSource,
    private readonly o: PollerOptions,
  ) {
    this.fetcher = new BoundedFetcher(o.http, o.headers);
    this.checkpointName = o.checkpointName ?? 'cursor';
  }

  get idleMs(): number {
    return this.o.pollIntervalMs;
  }

  /** The cursor of the last durable page (null before the first). */
  get position(): CursorKey | null {
    return this.cursor;
  }

  /** Upstream time of the newest item seen, epoch ms (null before the first). */
  get newestItemTime(): number | null {
    return this.newestItemAt;
  }

  attach(h: HealthTracker): void {
    this.health = h;
    h.breaker = 'closed';
  }

  /** A fresh fetcher, breaker and (unopened) fenced session: on start, resume, lease acquisition. */
  async open(): Promise<void> {
    this.session = this.ctx.openSource();
    this.startedAt = this.ctx.clock.now();
    this.caughtUpAt = null;
    this.fetcher = new BoundedFetcher(this.o.http, this.o.headers);
    this.breaker?.shutdown();
    this.breaker = this.makeBreaker();
    this.setBreaker('closed');
  }

  abort(): void {
    this.fetcher.abortAll();
  }

  async close(): Promise<void> {
    this.fetcher.abortAll();
    this.breaker?.shutdown();
    this.breaker = null;
    await this.fetcher.close(); // idle keep-alive sockets too: a stopped poller holds no connection
    await this.session?.close();
    this.session = null;
    this.startedAt = null;
  }

  async step(ctl: StepControl): Promise<'more' | 'idle'> {
    this.ctl = ctl;
    await this.pollOnce();
    return 'idle';
  }

  retryDelayMs(err: IntakeError, computed: number): number {
    // an open breaker fails fast until its reset timeout: retry when it half-opens
    return err instanceof CircuitOpenError ? Math.min(computed, this.o.breaker.resetTimeoutMs) : computed;
  }

  contribute(h: HealthTracker): void {
    h.pollLagMs = this.lagMs();
  }

  /** Current poll lag in ms (see the module comment); null while not polling. */
  lagMs(): number | null {
    if (this.startedAt === null) return null;
    return Math.max(0, this.ctx.clock.now() - (this.caughtUpAt ?? this.startedAt));
  }

  /** Opens the fenced session and reads the cursor back, when it is not open (first poll, after a failed commit). */
  private async ensureSession(): Promise<SourceSession> {
    const s = this.session;
    if (!s) throw new StoppedError();
    if (s.isOpen) return s;
    await s.open([this.checkpointName]);
    const stored = s.get(this.checkpointName);
    this.cursor = decodeCursor(stored);
    if (stored !== null && this.cursor === null) this.ctx.logger.warn('unreadable poll checkpoint ignored: polling from the beginning', { checkpoint: stored.slice(0, 200) });
    return s;
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
    if (this.health && this.health.breaker !== s && s !== 'closed') this.ctx.logger.warn('upstream circuit breaker state changed', { breaker: s });
    if (this.health) this.health.breaker = s;
    this.ctx.metrics.breakerState.set({ connector: this.ctx.id }, BREAKER_GAUGE[s]);
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
    const session = await this.ensureSession();
    const pollStarted = this.ctx.clock.now();
    let since = this.cursor?.t ?? null;
    let page = 1;
    for (let n = 0; n < this.o.maxPagesPerPoll && !this.ctl.stopping(); n++) {
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
      let next = before;
      for (const it of items) {
        if (it.key && (next === null || compareCursor(it.key, next) > 0)) next = it.key;
        if (it.key && (this.newestItemAt === null || it.key.t > this.newestItemAt)) this.newestItemAt = it.key.t;
      }
      if (next && (before === null || compareCursor(next, before) > 0)) {
        // rows without a readable key are submitted (and dead-lettered by normalize) only with a page that advances
        await this.commitPage(session, keyedFresh ? fresh : [], next);
        this.cursor = next;
      }
      this.health?.success();
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

  /** One transaction: the page's reports and dead letters, and the cursor after it. */
  private async commitPage(session: SourceSession, items: ListedItem[], cursor: CursorKey): Promise<void> {
    const records: OutRecord[] = [];
    const results: SubmitResult[] = [];
    for (const it of items) {
      if (this.ctl.stopping()) throw new StoppedError();
      this.health?.received();
      const p = this.ctx.prepare({ ...it.raw, receivedAt: it.raw.receivedAt ?? this.ctx.clock.now() });
      records.push(...p.records);
      results.push(p.result);
    }
    await session.commit(records, { [this.checkpointName]: encodeCursor(cursor) });
    for (const r of results) this.health?.outcome(r);
  }
}

/** JSON-schema fragments for poller config, shared by the pull connectors' config schemas. */
export const POLLER_CONFIG_PROPERTIES: Record<string, Record<string, unknown>> = {
  pollIntervalMs: { type: 'integer', minimum: 1000, maximum: 3600000, default: 15000, description: 'Pause between two polls once the listing is read to its end.' },
  pageSize: { type: 'integer', minimum: 1, maximum: 500, default: 50, description: 'Records asked for per listing page (size=).' },
  maxPagesPerPoll: { type: 'integer', minimum: 1, maximum: 1000, default: 20, description: 'Pages read in one poll before sleeping, while catching up.' },
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
    http: { connectTimeoutMs: c.timeouts.connectMs, headersTimeoutMs: c.timeouts.headersMs, bodyTimeoutMs: c.timeouts.bodyMs, requestTimeoutMs: c.timeouts.requestMs, maxBodyBytes: c.maxBodyBytes },
    breaker: c.breaker,
    backoff: c.backoff,
    headers,
  };
}

/**
 * A pull connector: the connector runner with a polling transport (leased: one owner at a time)
 * and an optional signed webhook route (push) of the same connector. The push route is served as
 * soon as the connector runs, on every instance; the poller polls only while this instance holds
 * the source's lease (`standby` otherwise). Upstream failures make it `degraded` (pushes are still
 * accepted) and the breaker state shows in health.
 */
export class PullConnector extends ConnectorRunner {
  private readonly poller: Poller | null;

  constructor(
    spec: ConnectorSpec<never>,
    ctx: ConnectorContext,
    parts: { poll?: { source: ListingSource; options: PollerOptions } | null; push?: WebhookOptions | null },
  ) {
    const poller = parts.poll ? new Poller(ctx, parts.poll.source, parts.poll.options) : null;
    super(spec, ctx, { kind: parts.poll ? 'poller' : 'webhook', loop: poller, leased: poller !== null, ...(parts.poll ? { backoff: parts.poll.options.backoff } : {}) });
    this.poller = poller;
    if (!poller) this.tracker.breaker = null;
    if (parts.push) registerWebhook(ctx, parts.push, this.tracker, this.accepting);
  }

  /** The poller, when the connector pulls (tests read its cursor). */
  get pull(): Poller | null {
    return this.poller;
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
