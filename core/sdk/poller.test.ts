import { SinkError, UpstreamError } from '../errors';
import { testContext, type TestContext } from '../testing/context';
import type { ConnectorSpec, RawInput } from './connector';
import type { TicketDraft } from './draft';
import type { HealthTracker } from './health';
import { ConnectorRunner } from './runner';
import { BoundedFetcher, BREAKER_GAUGE, compareCursor, compareIds, decodeCursor, encodeCursor, Poller, type ListingSource, type PollerOptions } from './poller';
import { startListingSim, type ListingSim } from './poller-sim';

interface Row {
  id: string;
  t: number;
  text: string;
}

function draft(raw: RawInput): TicketDraft {
  const r = JSON.parse(raw.body.toString('utf8')) as Row;
  return {
    sourceId: r.id,
    occurredAt: new Date(r.t).toISOString(),
    reporter: { name: null, phone: null, userId: null, anonymous: true, role: 'resident' },
    title: null,
    text: r.text,
    appealType: 'unknown',
    location: { address: null, point: null, district: null, street: null, community: null, grid: null },
    channelCategory: null,
    urgency: 'normal',
    attachments: [],
    channelFields: {},
    mappingVersion: 'poller-test/1',
  };
}

const spec = { type: 'poller-test', channel: 'hotline-12345', kind: 'poller', normalize: draft } as unknown as ConnectorSpec<never>;

function source(base: string): ListingSource {
  return {
    listUrl: ({ since, page, size }) => `${base}/list?${since === null ? '' : `since=${since}&`}page=${page}&size=${size}`,
    parsePage: (body) => {
      const doc = JSON.parse(body.toString('utf8')) as { rows: Row[] };
      return doc.rows.map((r) => ({ raw: { transport: 'poller', body: Buffer.from(JSON.stringify(r)), contentType: 'application/json', headers: {}, sourceId: r.id }, key: { t: r.t, id: r.id } }));
    },
  };
}

function opts(over: Partial<PollerOptions> = {}): PollerOptions {
  return {
    pollIntervalMs: 50,
    pageSize: 3,
    maxPagesPerPoll: 50,
    http: { connectTimeoutMs: 1000, headersTimeoutMs: 400, bodyTimeoutMs: 400, requestTimeoutMs: 1500, maxBodyBytes: 64 * 1024 },
    breaker: { timeoutMs: 3000, errorThresholdPercentage: 50, resetTimeoutMs: 300, volumeThreshold: 3, rollingWindowMs: 10000 },
    backoff: { initialMs: 20, maxMs: 100 },
    ...over,
  };
}

const T0 = Date.UTC(2026, 0, 5, 1, 0, 0);
function rows(n: number, from = 0, sameTime = false): Row[] {
  return Array.from({ length: n }, (_, i) => ({ id: `R${String(from + i).padStart(4, '0')}`, t: sameTime ? T0 : T0 + Math.floor((from + i) / 2) * 1000, text: `记录${from + i}` }));
}

async function until(cond: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let sims: ListingSim<Row>[] = [];
async function sim(records: Row[]): Promise<ListingSim<Row>> {
  const s = await startListingSim<Row>({
    path: '/list',
    records,
    key: (r) => ({ t: r.t, id: r.id }),
    parseSince: (s) => (/^\d+$/.test(s) ? Number(s) : null),
    envelope: (rs) => ({ rows: rs }),
  });
  sims.push(s);
  return s;
}

let pollers: ConnectorRunner[] = [];
/** A poller run by the connector runner (no lease needed: tests poll directly). */
function poller(ctx: TestContext, base: string, over: Partial<PollerOptions> = {}): { p: ConnectorRunner; h: HealthTracker; loop: Poller } {
  const o = opts(over);
  const loop = new Poller(ctx, source(base), o);
  const p = new ConnectorRunner(spec, ctx, { kind: 'poller', loop, backoff: o.backoff });
  pollers.push(p);
  return { p, h: p.tracker, loop };
}

afterEach(async () => {
  for (const p of pollers) await p.stop();
  for (const s of sims) await s.close();
  pollers = [];
  sims = [];
});

describe('cursor', () => {
  it('orders by time, then id; numeric ids by value', () => {
    expect(compareCursor({ t: 1, id: 'b' }, { t: 2, id: 'a' })).toBe(-1);
    expect(compareCursor({ t: 2, id: 'b' }, { t: 2, id: 'a' })).toBe(1);
    expect(compareIds('9', '10')).toBe(-1);
    expect(compareIds('009', '10')).toBe(-1);
    expect(compareIds('GD2', 'GD10')).toBe(1);
    expect(decodeCursor(encodeCursor({ t: 5, id: 'x' }))).toEqual({ t: 5, id: 'x' });
    expect(decodeCursor('garbage')).toBeNull();
    expect(decodeCursor(null)).toBeNull();
  });
});

describe('Poller', () => {
  it('reads every record across pages once, and checkpoints the last one', async () => {
    const s = await sim(rows(20));
    const ctx = testContext(spec, {}, 'p1');
    const { p } = poller(ctx, s.url);
    await p.start();
    await until(() => ctx.tickets.length === 20 && p.health().pollLagMs !== null);
    expect(ctx.submitted.map((r) => r.sourceId)).toEqual(rows(20).map((r) => r.id));
    expect(decodeCursor(ctx.checkpoints.get('cursor') ?? null)).toEqual({ t: T0 + 9000, id: 'R0019' });
    expect(p.health().breaker).toBe('closed');
    expect(p.health().state).toBe('running');
  });

  it('a tie group larger than a page (same timestamp across page boundaries) is neither lost nor repeated', async () => {
    const s = await sim([...rows(10, 0, true), ...rows(4, 10)]);
    const ctx = testContext(spec, {}, 'p2');
    const { p } = poller(ctx, s.url, { pageSize: 3 });
    await p.start();
    await until(() => ctx.tickets.length === 14);
    await new Promise((r) => setTimeout(r, 200));
    expect(ctx.submitted).toHaveLength(14);
    expect(new Set(ctx.submitted.map((r) => r.sourceId)).size).toBe(14);
  });

  it('a restarted poller resumes from its checkpoint: no loss, no repeat', async () => {
    const s = await sim(rows(7));
    const ctx = testContext(spec, {}, 'p3');
    const a = poller(ctx, s.url);
    await a.p.start();
    await until(() => ctx.tickets.length === 7);
    await a.p.stop();
    expect(a.p.health().state).toBe('stopped');
    s.add(...rows(5, 7));
    const b = poller(ctx, s.url);
    await b.p.start();
    await until(() => ctx.tickets.length === 12);
    await new Promise((r) => setTimeout(r, 200));
    expect(ctx.submitted.map((r) => r.sourceId)).toEqual(rows(12).map((r) => r.id));
  });

  it('keeps the cursor and backs off while the output is down (SinkError), then delivers everything once', async () => {
    const s = await sim(rows(6));
    const ctx = testContext(spec, {}, 'p4');
    ctx.failWith = new SinkError('kafka down');
    const { p } = poller(ctx, s.url);
    await p.start();
    await until(() => p.health().counters.failed >= 3);
    expect(ctx.checkpoints.get('cursor')).toBeUndefined();
    expect(p.health().state).toBe('degraded');
    expect(p.health().lastError?.code).toBe('INTAKE_ERR_SINK_UNAVAILABLE');
    expect(p.health().breaker).toBe('closed'); // the output being down is not the upstream's fault
    ctx.failWith = null;
    await until(() => ctx.tickets.length === 6);
    await until(() => p.health().state === 'running');
    expect(ctx.submitted).toHaveLength(6);
  });

  it('5xx opens the breaker (health + gauge), fails fast, then half-opens and closes when the upstream heals', async () => {
    const s = await sim(rows(4));
    s.setFault({ kind: '5xx', status: 503 });
    const ctx = testContext(spec, {}, 'p5');
    const { p } = poller(ctx, s.url);
    // Every transition, as the breaker reports it to the gauge (a sampling timer missed the short
    // half-open state on a loaded machine). The order of the states is what is checked.
    const seen: string[] = [];
    const names = Object.fromEntries(Object.entries(BREAKER_GAUGE).map(([name, v]) => [v, name]));
    const set = ctx.metrics.breakerState.set.bind(ctx.metrics.breakerState);
    jest.spyOn(ctx.metrics.breakerState, 'set').mockImplementation(((labels: Record<string, string>, v: number) => {
      if (labels.connector === 'p5' && seen[seen.length - 1] !== names[v]) seen.push(names[v] as string);
      set(labels, v);
    }) as never);
    await p.start();
    await until(() => p.health().breaker === 'open');
    const gauge = await ctx.metrics.breakerState.get();
    expect(gauge.values.find((v) => v.labels.connector === 'p5')?.value).toBe(2);
    expect(p.health().lastError?.code).toMatch(/INTAKE_ERR_(UPSTREAM|CIRCUIT_OPEN)/);
    const requestsWhileOpen = s.stats.requests;
    await new Promise((r) => setTimeout(r, 150));
    expect(s.stats.requests).toBe(requestsWhileOpen); // fails fast: no request reaches the upstream
    s.setFault(null);
    await until(() => ctx.tickets.length === 4);
    await until(() => p.health().breaker === 'closed');
    expect(seen).toEqual(expect.arrayContaining(['closed', 'open', 'half-open']));
    expect(seen.indexOf('half-open')).toBeGreaterThan(seen.indexOf('open'));
    expect(seen[seen.length - 1]).toBe('closed');
    expect(p.health().state).toBe('running');
  });

  it('a hanging upstream: the request is aborted on the headers timeout and the upstream sees the socket close', async () => {
    const s = await sim(rows(2));
    s.setFault({ kind: 'hang' });
    const ctx = testContext(spec, {}, 'p6');
    const { p } = poller(ctx, s.url);
    await p.start();
    await s.waitForAborts(1, 5000);
    await until(() => p.health().lastError !== null);
    expect(p.health().lastError?.code).toBe('INTAKE_ERR_UPSTREAM');
    s.setFault(null);
    await until(() => ctx.tickets.length === 2);
  });

  it('stop() cancels an in-flight request on the server side and returns promptly', async () => {
    const s = await sim(rows(2));
    s.setFault({ kind: 'hang' });
    const ctx = testContext(spec, {}, 'p7');
    const { p } = poller(ctx, s.url, { http: { connectTimeoutMs: 1000, headersTimeoutMs: 60000, bodyTimeoutMs: 60000, requestTimeoutMs: 60000, maxBodyBytes: 65536 }, breaker: { timeoutMs: 60000, errorThresholdPercentage: 50, resetTimeoutMs: 1000, volumeThreshold: 3, rollingWindowMs: 10000 } });
    await p.start();
    await until(() => s.stats.requests >= 1);
    const started = Date.now();
    await p.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    await s.waitForAborts(1, 2000);
    expect(p.health().state).toBe('stopped');
    expect(p.health().counters.failed).toBe(0); // a stop is not an upstream failure
  });

  it('an oversized body is aborted mid-stream (UpstreamError) and the upstream sees the close', async () => {
    const s = await sim(rows(2));
    s.setFault({ kind: 'oversized', bytes: 50 * 1024 * 1024 });
    const f = new BoundedFetcher({ connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000, requestTimeoutMs: 5000, maxBodyBytes: 256 * 1024 });
    await expect(f.get(`${s.url}/list`)).rejects.toThrow(/exceeds the limit of 262144 bytes/);
    await s.waitForAborts(1, 3000);
    await f.close();
  });

  it('a slow body hits the body timeout', async () => {
    const s = await sim(rows(2));
    s.setFault({ kind: 'slow', chunkDelayMs: 3000 });
    const f = new BoundedFetcher({ connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 300, requestTimeoutMs: 5000, maxBodyBytes: 65536 });
    const err = await f.get(`${s.url}/list`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toMatch(/UND_ERR_BODY_TIMEOUT|body/i);
    await s.waitForAborts(1, 3000);
    await f.close();
  });

  it('connection refused is an upstream failure', async () => {
    const f = new BoundedFetcher({ connectTimeoutMs: 500, headersTimeoutMs: 500, bodyTimeoutMs: 500, requestTimeoutMs: 2000, maxBodyBytes: 65536 });
    await expect(f.get('http://127.0.0.1:9/list')).rejects.toBeInstanceOf(UpstreamError);
    await f.close();
  });

  it('pause stops polling; resume continues where it left off', async () => {
    const s = await sim(rows(3));
    const ctx = testContext(spec, {}, 'p8');
    const { p } = poller(ctx, s.url);
    await p.start();
    await until(() => ctx.tickets.length === 3);
    await p.pause();
    await p.pause();
    expect(p.health().state).toBe('paused');
    await new Promise((r) => setTimeout(r, 100));
    const before = s.stats.requests;
    s.add(...rows(2, 3));
    await new Promise((r) => setTimeout(r, 200));
    expect(s.stats.requests).toBe(before);
    await p.resume();
    await until(() => ctx.tickets.length === 5);
    // the state turns running when the step that delivered them returns
    await until(() => p.health().state === 'running');
    expect(ctx.tickets.length).toBe(5);
  });
});
