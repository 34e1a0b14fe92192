import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { validateConfig } from '../config/config';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, HubMetrics } from '../metrics';
import { loadSchema } from '../schema/ajv';
import type { ConnectorHealth } from '../sdk/connector';
import { bearer, TEST_TOKEN_ENTRIES } from '../testing/admin';
import { residentReport, signedHeaders, TEST_SECRET } from '../testing/signed';
import { EventLoopWatch } from './liveness';

const dir = mkdtempSync(join(tmpdir(), 'health-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const busy = (ms: number): void => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // a wedged event loop
  }
};

function config(name: string, extra: Record<string, unknown> = {}) {
  return validateConfig({
    output: { type: 'embedded', embedded: { dir: join(dir, name) } },
    admin: { tokens: TEST_TOKEN_ENTRIES },
    connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET] } }],
    ...extra,
  });
}

describe('liveness', () => {
  it('is false after the event loop was blocked past the limit, and true again after a clean window', async () => {
    const w = new EventLoopWatch(150, 100);
    try {
      await sleep(250);
      expect(w.live()).toBe(true);
      busy(500);
      await sleep(0); // the overdue window tick runs first
      expect(w.lastWindowMaxMs()).toBeGreaterThan(300);
      expect(w.live()).toBe(false);
      await sleep(350);
      expect(w.live()).toBe(true);
    } finally {
      w.stop();
    }
  });

  it('/healthz answers 503 {"status":"down"} when the loop is wedged', async () => {
    const hub = new Hub(config('wedged', { health: { maxEventLoopDelayMs: 150 } }), { logger: silentLogger, registry: new Registry() });
    await hub.start();
    try {
      expect((await hub.app.inject('/healthz')).statusCode).toBe(200);
      busy(1300); // longer than one 1 s window plus the limit
      await sleep(50);
      const res = await hub.app.inject('/healthz');
      expect([res.statusCode, res.json()]).toEqual([503, { status: 'down' }]);
    } finally {
      await hub.stop();
    }
  });
});

describe('honest health', () => {
  it('the probes answer from the first moment: listening before start, /readyz 503 until the state is rebuilt', async () => {
    const hub = new Hub(config('early', { server: { host: '127.0.0.1', port: 19301 }, admin: { tokens: TEST_TOKEN_ENTRIES, port: 19302 } }), { logger: silentLogger, registry: new Registry() });
    try {
      await hub.listen();
      const h = await request('http://127.0.0.1:19301/healthz');
      expect([h.statusCode, await h.body.json()]).toEqual([200, { status: 'ok' }]);
      const r = await request('http://127.0.0.1:19301/readyz');
      expect([r.statusCode, await r.body.json()]).toEqual([503, { status: 'not-ready' }]);
      const body = Buffer.from(JSON.stringify(residentReport(1)));
      const early = await request('http://127.0.0.1:19301/intake/app', { method: 'POST', body, headers: signedHeaders(body) });
      expect([early.statusCode, early.headers['retry-after']]).toEqual([503, '5']); // not running yet: the sender retries
      await early.body.dump();
      await hub.start();
      const r2 = await request('http://127.0.0.1:19301/readyz');
      expect([r2.statusCode, await r2.body.json()]).toEqual([200, { status: 'ready' }]);
    } finally {
      await hub.stop();
    }
  });

  it('a paused connector leaves the instance ready; it shows in /api/connectors and as intake_connector_up 0, paused 1', async () => {
    const hub = new Hub(config('paused'), { logger: silentLogger, registry: new Registry() });
    await hub.start();
    try {
      const metrics = async (): Promise<string> => (await hub.admin.app.inject({ url: '/metrics', headers: bearer('viewer') })).body;
      expect(await metrics()).toContain('intake_connector_up{connector="app",channel="resident-app"} 1');
      await hub.admin.app.inject({ method: 'POST', url: '/api/connectors/app/pause', headers: bearer('operator') });
      expect((await hub.app.inject('/readyz')).statusCode).toBe(200);
      expect((await hub.admin.app.inject({ url: '/api/connectors/app', headers: bearer('viewer') })).json<{ state: string }>().state).toBe('paused');
      const m = await metrics();
      expect(m).toContain('intake_connector_up{connector="app",channel="resident-app"} 0');
      expect(m).toContain('intake_connector_paused{connector="app"} 1');
      await hub.admin.app.inject({ method: 'POST', url: '/api/connectors/app/resume', headers: bearer('operator') });
      expect(await metrics()).toContain('intake_connector_paused{connector="app"} 0');
    } finally {
      await hub.stop();
    }
  });

  it('counters exist at 0 from start, process metrics carry one intake_ prefix, HTTP requests are counted by route pattern and status', async () => {
    const hub = new Hub(config('zero'), { logger: silentLogger });
    await hub.start();
    try {
      const m0 = (await hub.admin.app.inject({ url: '/metrics', headers: bearer('viewer') })).body;
      for (const series of [
        'intake_received_total{connector="app",channel="resident-app"} 0',
        'intake_published_total{connector="app",channel="resident-app"} 0',
        'intake_duplicates_total{connector="app",channel="resident-app"} 0',
        'intake_rejected_total{connector="app",reason="INTAKE_ERR_SIGNATURE"} 0',
        'intake_rejected_total{connector="app",reason="INTAKE_ERR_PAYLOAD_INVALID"} 0',
        'intake_auth_failures_total{listener="admin"} 0',
        'intake_ratelimited_total{listener="intake"} 0',
        'intake_cluster_events_total{type="hot"} 0',
        ...AUDIT_ACTIONS.flatMap((action) => AUDIT_OUTCOMES.map((outcome) => `intake_admin_actions_total{action="${action}",outcome="${outcome}"} 0`)),
      ]) {
        expect(m0).toContain(series);
      }
      const audit = loadSchema('audit.v1.schema.json') as { properties: { action: { enum: string[] }; outcome: { enum: string[] } } };
      expect([...AUDIT_ACTIONS]).toEqual(audit.properties.action.enum);
      expect([...AUDIT_OUTCOMES]).toEqual(audit.properties.outcome.enum);
      expect(m0).toMatch(/^intake_process_cpu_seconds_total /m);
      expect(m0).toMatch(/^intake_nodejs_eventloop_lag_seconds /m);
      expect(m0).not.toContain('intake_process_process_');
      await hub.app.inject({ method: 'POST', url: '/intake/app', payload: '{}', headers: { 'content-type': 'application/json' } });
      await hub.app.inject('/no/such/path?phone=13812345678');
      const m1 = (await hub.admin.app.inject({ url: '/metrics', headers: bearer('viewer') })).body;
      expect(m1).toContain('intake_http_requests_total{listener="intake",route="/intake/app",method="POST",status="401"} 1');
      expect(m1).toContain('intake_http_requests_total{listener="intake",route="unmatched",method="GET",status="404"} 1');
      expect(m1).toMatch(/intake_http_request_duration_seconds_count\{listener="intake",route="\/intake\/app",method="POST"\} 1/);
      expect(m1).toContain('intake_http_requests_total{listener="admin",route="/metrics",method="GET",status="200"} 1');
      expect(m1).not.toContain('13812345678');
    } finally {
      await hub.stop();
    }
  });
});

describe('connector gauges are read at scrape time', () => {
  const health = (over: Partial<ConnectorHealth>): ConnectorHealth => ({
    id: 'poll',
    type: 'hotline-12345',
    channel: 'hotline-12345',
    kind: 'poller',
    state: 'running',
    lastSuccessAt: '2026-11-20T00:00:00.000Z',
    lastError: null,
    breaker: 'closed',
    pollLagMs: 1500,
    counters: { received: 0, accepted: 0, rejected: 0, failed: 0 },
    ...over,
  });

  it('up 0 while the breaker is open, breaker state, poll lag and last success as the connector reports them now', async () => {
    const m = new HubMetrics(new Registry());
    let h = health({});
    m.observeConnectors({ connectors: () => [{ health: () => h }] }, [{ id: 'poll', channel: 'hotline-12345' }]);
    const read = async (): Promise<string> => m.registry.metrics();
    let text = await read();
    expect(text).toContain('intake_connector_up{connector="poll",channel="hotline-12345"} 1');
    expect(text).toContain('intake_poll_lag_seconds{connector="poll"} 1.5');
    expect(text).toContain(`intake_connector_last_success_timestamp_seconds{connector="poll"} ${Date.parse('2026-11-20T00:00:00Z') / 1000}`);
    h = health({ state: 'degraded', breaker: 'open', pollLagMs: 65_000 });
    text = await read();
    expect(text).toContain('intake_connector_up{connector="poll",channel="hotline-12345"} 0');
    expect(text).toContain('intake_connector_breaker_state{connector="poll"} 2');
    expect(text).toContain('intake_poll_lag_seconds{connector="poll"} 65');
    h = health({ state: 'degraded', breaker: 'half-open' });
    text = await read();
    expect(text).toContain('intake_connector_up{connector="poll",channel="hotline-12345"} 1');
    expect(text).toContain('intake_connector_breaker_state{connector="poll"} 1');
  });
});
