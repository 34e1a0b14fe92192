import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import { TOPICS } from '../../core/outputs/topics';
import type { CanonicalTicket } from '../../core/schema/types';
import { validateTicket } from '../../core/schema/validators';
import type { ConnectorHealth } from '../../core/sdk/connector';
import type { ListingSim } from '../../core/sdk/poller-sim';
import { BROKERS, readTopic } from '../../core/testing/kafka';
import { FAST_POLLER, until } from '../../core/testing/wait';
import type { CityCase } from './normalize';
import { cityFixtureRecords, startCityManagementSim } from './sim';

/** city-management (mode pull) on the real broker: fixtures → tickets, restart resume, failing upstream. */
const run = randomUUID().slice(0, 8);
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
      output: { type: 'kafka', kafka: { brokers: BROKERS, writeTimeoutMs: 5000, connectionTimeoutMs: 1000 } },
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
    { logger: silentLogger, registry: new Registry() },
  );
}

const health = (h: Hub): ConnectorHealth => h.connector(connectorId)?.health() as ConnectorHealth;
const ours = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(TOPICS.tickets, (t) => t.source.connectorId === connectorId);

beforeAll(async () => {
  sim = await startCityManagementSim({ records: records() });
});
afterAll(async () => {
  if (hub) await hub.stop();
  await sim.close();
});

describe('city-management poller on the real Kafka broker', () => {
  it('fixtures → one schema-valid ticket per case number, grid and district mapped', async () => {
    hub = makeHub();
    await hub.start();
    const h = hub;
    const distinct = new Set(records().map((r) => r.caseNo)).size;
    await until('all cases polled', () => health(h).counters.accepted + health(h).counters.duplicates >= records().length);
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
    await new Promise((r) => setTimeout(r, 2500));
    expect(health(h).counters).toMatchObject({ received: 3, accepted: 3, duplicates: 0 });
    const ids = (await ours()).map((t) => t.source.sourceId);
    expect(new Set(ids).size).toBe(ids.length);
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
    expect((await ours()).map((t) => t.source.sourceId)).toContain(`CGX4-${run}`);
  });
});
