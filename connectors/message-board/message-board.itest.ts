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
import type { BoardPost } from './normalize';
import { boardFixtureRecords, startMessageBoardSim } from './sim';

/** message-board on the real broker: fixtures → tickets (HTML stripped), restart resume, failing upstream (5xx). */
const run = randomUUID().slice(0, 8);
const connectorId = `mb-${run}`;
let sim: ListingSim<BoardPost>;
let hub: Hub | null = null;

// run-unique numeric ids above any earlier run's (topics are shared): run number × 10^6 + the fixture id
const runNo = BigInt(Date.now() % 10_000_000_000) * 100_000_000n;
const rid = (tid: string): string => String(runNo + BigInt(tid));
const records = (): BoardPost[] => boardFixtureRecords().map((p) => ({ ...p, tid: rid(p.tid) }));
const extra = (i: number): BoardPost => ({ tid: rid(String(90000000 + i)), title: `新留言${i}`, content: `<p>第${i}号留言：小区路灯不亮。</p>`, typeName: '投诉', createdAt: Date.UTC(2026, 0, 6, 2, i, 0) });

function makeHub(): Hub {
  return new Hub(
    validateConfig({
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      output: { type: 'kafka', kafka: { brokers: BROKERS, writeTimeoutMs: 5000, connectionTimeoutMs: 1000 } },
      connectors: [
        {
          id: connectorId,
          type: 'message-board',
          config: {
            baseUrl: sim.url,
            pageSize: 4,
            ...FAST_POLLER,
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
  sim = await startMessageBoardSim({ records: records() });
});
afterAll(async () => {
  if (hub) await hub.stop();
  await sim.close();
});

describe('message-board poller on the real Kafka broker', () => {
  it('fixtures → one schema-valid ticket per message id, HTML stripped', async () => {
    hub = makeHub();
    await hub.start();
    const h = hub;
    const distinct = new Set(records().map((r) => r.tid)).size;
    await until('all cases polled', () => health(h).counters.accepted + health(h).counters.duplicates >= records().length);
    const tickets = await ours();
    expect(tickets).toHaveLength(distinct);
    for (const t of tickets) expect(validateTicket(t) ? null : validateTicket.errors).toBeNull();
    const t6 = tickets.find((t) => t.source.sourceId === rid('3100006'));
    expect(t6?.text).toBe('某路段路灯已坏一个月。\n夜间出行不安全。');
    expect(tickets.find((t) => t.source.sourceId === rid('3100004'))?.appealType).toBe('suggestion');
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

  it('5xx opens the breaker and it recovers when the upstream heals', async () => {
    const h = hub as Hub;
    sim.setFault({ kind: '5xx', status: 502 });
    await until('breaker open', () => health(h).breaker === 'open', 30000);
    expect(health(h).state).toBe('degraded');
    sim.setFault(null);
    sim.add(extra(4));
    await until('recovered', () => health(h).breaker === 'closed' && health(h).counters.accepted >= 4, 60000);
    expect((await ours()).map((t) => t.source.sourceId)).toContain(rid(String(90000004)));
  });
});
