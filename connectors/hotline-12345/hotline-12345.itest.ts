import { runTag } from '../../core/testing/run-tag';
import { restartOnFatal } from '../../core/testing/fatal';
import { Registry } from 'prom-client';
import { bearer, TEST_TOKEN_ENTRIES } from '../../core/testing/admin';
import { request } from 'undici';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import type { CanonicalTicket } from '../../core/schema/types';
import { validateTicket } from '../../core/schema/validators';
import { encodeText } from '../../core/sdk/charset';
import type { ConnectorHealth } from '../../core/sdk/connector';
import type { ListingSim } from '../../core/sdk/poller-sim';
import { dropNamespace, kafkaOutput, readTopic, testConnection, testNamespace } from '../../core/testing/kafka';
import { FAST_POLLER, until } from '../../core/testing/wait';
import { signedHeaders, TEST_SECRET } from '../../core/testing/signed';
import { formatBeijingTime, type HotlineRecord } from './normalize';
import { hotlineFixtureRecords, startHotlineSim } from './sim';

/**
 * hotline-12345 on the real broker, `--role all`: the simulated legacy system (GBK listing) →
 * intake.reports.v1 (each page with its cursor in one transaction, on the lease owner's fenced
 * source session) → the processor → tickets on tickets.canonical.v1; a restarted hub resumes from
 * the checkpoint read back from intake.checkpoints.v1; a failing upstream opens the breaker, its
 * requests are really aborted, and the connector recovers when the upstream heals.
 */
const run = runTag();
const ns = testNamespace('hl');
const conn = testConnection(ns);
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
    output: kafkaOutput(ns, { writeTimeoutMs: 5000, connectionTimeoutMs: 1000 }),
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
  // the same instance id on every start: a restart of one instance, as a StatefulSet would do
  return new Hub(config, { logger: silentLogger, registry: new Registry(), instanceId: `hl-${run}`, onFatal: restartOnFatal });
}

async function health(h: Hub): Promise<ConnectorHealth> {
  return h.connector(connectorId)?.health() as ConnectorHealth;
}

const ours = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>((hub as Hub).topics.tickets, (t) => t.source.connectorId === connectorId, conn);

/** Deliveries of this connector the processor dropped as exact duplicates (counted by this hub). */
async function duplicates(h: Hub): Promise<number> {
  const values = (await h.metrics.registry.getSingleMetric('intake_duplicates_total')?.get())?.values ?? [];
  return values.filter((v) => v.labels.connector === connectorId).reduce((n, v) => n + v.value, 0);
}

beforeAll(async () => {
  sim = await startHotlineSim({ records: records(), charset: 'gbk' });
});

afterAll(async () => {
  if (hub) await hub.stop();
  await sim.close();
  await dropNamespace(ns, conn);
});

describe('hotline-12345 poller on the real Kafka broker', () => {
  it('serves the GBK fixtures → one schema-valid ticket per GDBH (the processor drops the duplicated delivery); a signed push is accepted too', async () => {
    hub = makeHub();
    await hub.start();
    const base = await hub.listen();
    const h = hub;
    const distinct = new Set(records().map((r) => r.GDBH)).size;
    // every listed row is durable on intake.reports.v1 (accepted), the second delivery of a GDBH
    // included; the processor drops that one as a duplicate and makes no ticket of it
    await until('all fixtures polled', async () => (await health(h)).counters.accepted >= records().length);
    const c = (await health(h)).counters;
    expect(c).toMatchObject({ accepted: records().length, rejected: 0 });
    await until('the processor drops the duplicated delivery', async () => (await duplicates(h)) >= records().length - distinct);

    // a push of one work order, GBK-encoded and signed, on the same connector
    const pushed = encodeText(JSON.stringify({ ...extra(900, formatBeijingTime(Date.UTC(2026, 0, 5, 0, 0))), SQNR: '市民通过网站推送：门口积水。' }), 'gbk');
    const headers = signedHeaders(pushed, { contentType: 'application/json; charset=GBK' });
    const res = await request(`${base}/intake/${connectorId}`, { method: 'POST', body: pushed, headers });
    expect(res.statusCode).toBe(202);
    await res.body.dump();

    await until('a ticket per GDBH and for the push', async () => (await ours()).length >= distinct + 1);
    await new Promise((r) => setTimeout(r, 1000)); // a ticket of the duplicated delivery would show up now
    expect(await duplicates(h)).toBe(records().length - distinct);
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
    const added = [1, 2, 3, 4, 5].map((i) => `GDX${String(i).padStart(4, '0')}-${run}`);
    await until('tickets of the new work orders', async () => {
      const have = new Set((await ours()).map((t) => t.source.sourceId));
      return added.every((id) => have.has(id));
    });
    await new Promise((r) => setTimeout(r, 2500)); // a couple more polls: nothing may be re-submitted
    const c = (await health(h)).counters;
    // only the 5 new rows were read past the cursor; nothing re-submitted reached the processor
    expect(c).toMatchObject({ received: 5, accepted: 5, rejected: 0 });
    expect(await duplicates(h)).toBe(0);
    const tickets = await ours();
    const ids = tickets.map((t) => t.source.sourceId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of added) expect(ids).toContain(id);
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
    await until('tickets of the work orders listed after the recovery', async () => {
      const have = new Set((await ours()).map((t) => t.source.sourceId));
      return have.has(`GDX0006-${run}`) && have.has(`GDX0007-${run}`);
    });
    const ids = (await ours()).map((t) => t.source.sourceId);
    expect(ids).toContain(`GDX0006-${run}`);
    expect(ids).toContain(`GDX0007-${run}`);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
