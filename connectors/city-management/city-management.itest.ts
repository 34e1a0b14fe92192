import { runTag } from '../../core/testing/run-tag';
import { restartOnFatal } from '../../core/testing/fatal';
import { Registry } from 'prom-client';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import type { CanonicalTicket } from '../../core/schema/types';
import { validateTicket } from '../../core/schema/validators';
import type { ConnectorHealth } from '../../core/sdk/connector';
import type { ListingSim } from '../../core/sdk/poller-sim';
import { dropNamespace, kafkaOutput, readTopic, testConnection, testNamespace } from '../../core/testing/kafka';
import { FAST_POLLER, until } from '../../core/testing/wait';
import type { CityCase } from './normalize';
import { cityFixtureRecords, startCityManagementSim } from './sim';

/**
 * city-management (mode pull) on the real broker, `--role all`: fixtures → intake.reports.v1 (page
 * and cursor in one transaction) → the processor → tickets; restart resume; failing upstream.
 */
const run = runTag();
const ns = testNamespace('cm');
const conn = testConnection(ns);
const connectorId = `cm-${run}`;
let sim: ListingSim<CityCase>;
let hub: Hub | null = null;

const records = (): CityCase[] => cityFixtureRecords().map((c) => ({ ...c, caseNo: `${c.caseNo}-${run}` }));
const extra = (i: number): CityCase => ({ caseNo: `CGX${i}-${run}`, reportTime: '2026-01-06T10:00:00+08:00', updateTime: `2026-01-06T10:0${i}:00+08:00`, caseClass: '事项', typeCode: '06042', description: `第${i}号：垃圾站满溢。`, gridCode: '420102001002003', inspectorId: 'JDY-0102' });

function makeHub(): Hub {
  return new Hub(
    validateConfig({
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      output: kafkaOutput(ns, { writeTimeoutMs: 5000, connectionTimeoutMs: 1000 }),
      connectors: [
        {
          id: connectorId,
          type: 'city-management',
          config: {
            mode: 'pull',
            baseUrl: sim.url,
            pageSize: 4,
            ...FAST_POLLER,
            gridDivisions: { districts: { '420102': '江岸区' } },
          },
        },
      ],
    }),
    // the same instance id on every start: a restart of one instance
    { logger: silentLogger, registry: new Registry(), instanceId: `cm-${run}`, onFatal: restartOnFatal },
  );
}

const health = (h: Hub): ConnectorHealth => h.connector(connectorId)?.health() as ConnectorHealth;
const ours = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>((hub as Hub).topics.tickets, (t) => t.source.connectorId === connectorId, conn);

/** Deliveries of this connector the processor dropped as exact duplicates (counted by this hub). */
async function duplicates(h: Hub): Promise<number> {
  const values = (await h.metrics.registry.getSingleMetric('intake_duplicates_total')?.get())?.values ?? [];
  return values.filter((v) => v.labels.connector === connectorId).reduce((n, v) => n + v.value, 0);
}

beforeAll(async () => {
  sim = await startCityManagementSim({ records: records() });
});
afterAll(async () => {
  if (hub) await hub.stop();
  await sim.close();
  await dropNamespace(ns, conn);
});

describe('city-management poller on the real Kafka broker', () => {
  it('fixtures → one schema-valid ticket per case number, grid and district mapped', async () => {
    hub = makeHub();
    await hub.start();
    const h = hub;
    const distinct = new Set(records().map((r) => r.caseNo)).size;
    // every listed case is durable on intake.reports.v1; a repeated case number is dropped by the processor
    await until('all cases polled', () => health(h).counters.accepted >= records().length);
    expect(health(h).counters).toMatchObject({ accepted: records().length, rejected: 0 });
    await until('a ticket per case number', async () => (await ours()).length >= distinct);
    await until('the processor drops the repeated deliveries', async () => (await duplicates(h)) >= records().length - distinct);
    await new Promise((r) => setTimeout(r, 1000)); // a ticket of a repeated delivery would show up now
    expect(await duplicates(h)).toBe(records().length - distinct);
    const tickets = await ours();
    expect(tickets).toHaveLength(distinct);
    for (const t of tickets) expect(validateTicket(t) ? null : validateTicket.errors).toBeNull();
    const t1 = tickets.find((t) => t.source.sourceId === `CG2026010500001-${run}`);
    expect(t1?.location).toMatchObject({ grid: '420102001002003', district: '江岸区' });
    expect(t1?.channelCategory).toMatchObject({ scheme: 'gbt47678.5', code: '01002' });
    expect(t1?.reporter.role).toBe('inspector');
  });

  it('restart resumes from the Kafka checkpoint: no loss, no repeat', async () => {
    await (hub as Hub).stop();
    sim.add(extra(1), extra(2), extra(3));
    hub = makeHub();
    await hub.start();
    const h = hub;
    await until('new cases', () => health(h).counters.accepted >= 3);
    const added = [1, 2, 3].map((i) => `CGX${i}-${run}`);
    await until('tickets of the new cases', async () => {
      const have = new Set((await ours()).map((t) => t.source.sourceId));
      return added.every((id) => have.has(id));
    });
    await new Promise((r) => setTimeout(r, 2500));
    // only the 3 new cases were read past the cursor; nothing re-submitted reached the processor
    expect(health(h).counters).toMatchObject({ received: 3, accepted: 3 });
    expect(await duplicates(h)).toBe(0);
    const ids = (await ours()).map((t) => t.source.sourceId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of added) expect(ids).toContain(id);
  });

  it('a hanging upstream opens the breaker, requests are aborted server-side, and it recovers', async () => {
    const h = hub as Hub;
    const aborts = sim.stats.clientAborts;
    sim.setFault({ kind: 'hang' });
    await until('breaker open', () => health(h).breaker === 'open', 30000);
    expect(sim.stats.clientAborts).toBeGreaterThan(aborts);
    sim.setFault(null);
    sim.add(extra(4));
    await until('recovered', () => health(h).breaker === 'closed' && health(h).counters.accepted >= 4, 60000);
    await until('a ticket of the case listed after the recovery', async () => (await ours()).some((t) => t.source.sourceId === `CGX4-${run}`));
    const ids = (await ours()).map((t) => t.source.sourceId);
    expect(ids).toContain(`CGX4-${run}`);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
