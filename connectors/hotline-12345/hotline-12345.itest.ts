import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { bearer, TEST_TOKEN_ENTRIES } from '../../core/testing/admin';
import { request } from 'undici';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import { TOPICS } from '../../core/outputs/topics';
import type { CanonicalTicket } from '../../core/schema/types';
import { validateTicket } from '../../core/schema/validators';
import { encodeText } from '../../core/sdk/charset';
import type { ConnectorHealth } from '../../core/sdk/connector';
import type { ListingSim } from '../../core/sdk/poller-sim';
import { BROKERS, readTopic } from '../../core/testing/kafka';
import { FAST_POLLER, until } from '../../core/testing/wait';
import { signedHeaders, TEST_SECRET } from '../../core/testing/signed';
import { formatBeijingTime, type HotlineRecord } from './normalize';
import { hotlineFixtureRecords, startHotlineSim } from './sim';

/**
 * hotline-12345 on the real broker: the simulated legacy system (GBK listing) → tickets on
 * tickets.canonical.v1; a restarted hub resumes from the checkpoint read back from
 * intake.checkpoints.v1; a failing upstream opens the breaker, its requests are really aborted,
 * and the connector recovers when the upstream heals.
 */
const run = randomUUID().slice(0, 8);
const connectorId = `hl-${run}`;
let sim: ListingSim<HotlineRecord>;
let hub: Hub | null = null;

/** Fixtures with run-unique GDBH (topics are shared across runs). */
function records(): HotlineRecord[] {
  return hotlineFixtureRecords().map((r) => ({ ...r, GDBH: `${r.GDBH}-${run}` }));
}

function extra(i: number, gxsj: string): HotlineRecord {
  return { GDBH: `GDX${String(i).padStart(4, '0')}-${run}`, LDSJ: '2026-01-06 10:00:00', GXSJ: gxsj, LDHM: `1380000${String(i).padStart(4, '0')}`, LDRXM: '测某', SQNR: `市民来电反映第${i}号问题：小区路灯不亮。`, SQLX: '投诉', JJCD: '一般' };
}

function makeHub(): Hub {
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0, tokens: TEST_TOKEN_ENTRIES },
    output: { type: 'kafka', kafka: { brokers: BROKERS, writeTimeoutMs: 5000, connectionTimeoutMs: 1000 } },
    connectors: [
      {
        id: connectorId,
        type: 'hotline-12345',
        config: {
          baseUrl: sim.url,
          pageSize: 5,
          ...FAST_POLLER,
          maxBodyBytes: 256 * 1024,
          push: { enabled: true, secrets: [TEST_SECRET] },
        },
      },
    ],
  });
  return new Hub(config, { logger: silentLogger, registry: new Registry() });
}

async function health(h: Hub): Promise<ConnectorHealth> {
  return h.connector(connectorId)?.health() as ConnectorHealth;
}

const ours = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(TOPICS.tickets, (t) => t.source.connectorId === connectorId);

beforeAll(async () => {
  sim = await startHotlineSim({ records: records(), charset: 'gbk' });
});

afterAll(async () => {
  if (hub) await hub.stop();
  await sim.close();
});

describe('hotline-12345 poller on the real Kafka broker', () => {
  it('serves the GBK fixtures → one schema-valid ticket per GDBH (the duplicated delivery makes none); a signed push is accepted too', async () => {
    hub = makeHub();
    await hub.start();
    const base = await hub.listen();
    const h = hub;
    const distinct = new Set(records().map((r) => r.GDBH)).size;
    await until('all fixtures polled', async () => {
      const c = (await health(h)).counters;
      return c.accepted + c.duplicates >= records().length;
    });
    const c = (await health(h)).counters;
    expect(c.accepted).toBe(distinct);
    expect(c.duplicates).toBe(records().length - distinct);

    // a push of one work order, GBK-encoded and signed, on the same connector
    const pushed = encodeText(JSON.stringify({ ...extra(900, formatBeijingTime(Date.UTC(2026, 0, 5, 0, 0))), SQNR: '市民通过网站推送：门口积水。' }), 'gbk');
    const headers = signedHeaders(pushed, { contentType: 'application/json; charset=GBK' });
    const res = await request(`${base}/intake/${connectorId}`, { method: 'POST', body: pushed, headers });
    expect(res.statusCode).toBe(202);
    await res.body.dump();

    const tickets = await ours();
    expect(tickets).toHaveLength(distinct + 1);
    for (const t of tickets) expect(validateTicket(t) ? null : validateTicket.errors).toBeNull();
    expect(new Set(tickets.map((t) => t.source.sourceId)).size).toBe(distinct + 1);
    const gbk = tickets.find((t) => t.source.sourceId === `GD202601050023-${run}`);
    expect(gbk?.text).toBe('市民来电反映：小区门口占道经营，影响通行，请城管部门处理。');
    expect(tickets.find((t) => t.source.sourceId === `GDX0900-${run}`)?.text).toBe('市民通过网站推送：门口积水。');
    const dup = tickets.filter((t) => t.source.sourceId === `GD202601050012-${run}`);
    expect(dup).toHaveLength(1);
  });

  it('a restarted hub resumes from the checkpoint on intake.checkpoints.v1: no loss, no repeat', async () => {
    await (hub as Hub).stop();
    hub = null;
    sim.add(...[1, 2, 3, 4, 5].map((i) => extra(i, `2026-01-06 10:0${i}:00`)));
    hub = makeHub();
    await hub.start();
    await hub.listen();
    const h = hub;
    await until('new work orders polled', async () => (await health(h)).counters.accepted >= 5);
    await new Promise((r) => setTimeout(r, 2500)); // a couple more polls: nothing may be re-submitted
    const c = (await health(h)).counters;
    expect(c).toMatchObject({ received: 5, accepted: 5, duplicates: 0, rejected: 0 });
    const tickets = await ours();
    const ids = tickets.map((t) => t.source.sourceId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const i of [1, 2, 3, 4, 5]) expect(ids).toContain(`GDX${String(i).padStart(4, '0')}-${run}`);
  });

  it('5xx opens the breaker; hanging and oversized answers are aborted (the upstream sees the close); it recovers when healed', async () => {
    const h = hub as Hub;
    sim.setFault({ kind: '5xx', status: 503 });
    await until('breaker open', async () => (await health(h)).breaker === 'open', 30000);
    const admin = h.adminAddress as string;
    const hs = (await (await request(`${admin}/api/connectors/${connectorId}`, { headers: bearer('viewer') })).body.json()) as ConnectorHealth;
    expect(hs.breaker).toBe('open');
    expect(hs.state).toBe('degraded');
    expect(hs.lastError?.code).toMatch(/INTAKE_ERR_(UPSTREAM|CIRCUIT_OPEN)/);
    const metrics = await (await request(`${admin}/metrics`, { headers: bearer('viewer') })).body.text();
    expect(metrics).toContain(`intake_connector_breaker_state{connector="${connectorId}"} 2`);
    expect(metrics).toMatch(new RegExp(`intake_poll_lag_seconds\\{connector="${connectorId}"\\} [0-9.]+`));

    const aborts0 = sim.stats.clientAborts;
    sim.setFault({ kind: 'hang' });
    await sim.waitForAborts(aborts0 + 1, 30000); // the half-open probe hangs → aborted at headersTimeout
    await until('breaker re-opened after the hanging probe', async () => (await health(h)).breaker === 'open', 30000);

    const aborts1 = sim.stats.clientAborts;
    sim.setFault({ kind: 'oversized', bytes: 8 * 1024 * 1024 });
    await sim.waitForAborts(aborts1 + 1, 30000);
    expect((await health(h)).lastError?.message).toMatch(/exceeds the limit|upstream/);

    sim.setFault(null);
    sim.add(extra(6, '2026-01-06 11:00:00'), extra(7, '2026-01-06 11:00:00'));
    // the state turns back to running when the poll that accepted them completes, a moment after
    // the counters move: wait for the poll to finish before asserting the state
    await until('breaker closed, new work orders accepted, poll completed', async () => {
      const x = await health(h);
      return x.breaker === 'closed' && x.counters.accepted >= 7 && x.state !== 'degraded';
    }, 60000);
    expect((await health(h)).state).toBe('running');
    const ids = (await ours()).map((t) => t.source.sourceId);
    expect(ids).toContain(`GDX0006-${run}`);
    expect(ids).toContain(`GDX0007-${run}`);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
