import { runTag } from '../../core/testing/run-tag';
import { restartOnFatal } from '../../core/testing/fatal';
import { Registry } from 'prom-client';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import { topicsFor } from '../../core/outputs/topics';
import { publishedSourceId } from '../../core/pipeline/enrich';
import type { CanonicalTicket } from '../../core/schema/types';
import { validateTicket } from '../../core/schema/validators';
import type { ConnectorHealth } from '../../core/sdk/connector';
import type { ListingSim } from '../../core/sdk/poller-sim';
import { dropNamespace, kafkaOutput, readTopic, testConnection, testNamespace } from '../../core/testing/kafka';
import { FAST_POLLER, until } from '../../core/testing/wait';
import type { BoardPost } from './normalize';
import { boardFixtureRecords, startMessageBoardSim } from './sim';

/**
 * message-board on the real broker: fixtures → tickets (HTML stripped), restart resume, failing
 * upstream (5xx). The hub runs `--role all`: the poller commits each page's reports with its cursor
 * on intake.reports.v1, the processor drops duplicates and writes the tickets asynchronously.
 */
const run = runTag();
const ns = testNamespace('mb');
const conn = testConnection(ns);
const topics = topicsFor(ns);
const connectorId = `mb-${run}`;
let sim: ListingSim<BoardPost>;
let hub: Hub | null = null;

// the fixtures as they are: the namespace keeps this run's topics and dedup state apart
const records = (): BoardPost[] => boardFixtureRecords();
const extra = (i: number): BoardPost => ({ tid: String(90000000 + i), title: `新留言${i}`, content: `<p>第${i}号留言：小区路灯不亮。</p>`, typeName: '投诉', createdAt: Date.UTC(2026, 0, 6, 2, i, 0) });

function makeHub(): Hub {
  return new Hub(
    validateConfig({
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      output: kafkaOutput(ns, { writeTimeoutMs: 5000, connectionTimeoutMs: 1000 }),
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
    // a restart keeps its instance id, as a restarted pod does
    { logger: silentLogger, registry: new Registry(), instanceId: `mb-${run}`, onFatal: restartOnFatal },
  );
}

const health = (h: Hub): ConnectorHealth => h.connector(connectorId)?.health() as ConnectorHealth;
const ours = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(topics.tickets, (t) => t.source.connectorId === connectorId, conn);
/** A message id as tickets publish it: 7–8-digit ids have a landline's shape and are published as keyed tokens. */
const sid = (tid: string): string => publishedSourceId({ sourceId: tid, occurredAt: null }, (hub as Hub).config.pii.tokenSecret);
const duplicates = async (h: Hub): Promise<number> => ((await h.metrics.registry.getSingleMetric('intake_duplicates_total')?.get())?.values ?? []).filter((v) => v.labels.connector === connectorId).reduce((n, v) => n + v.value, 0);

beforeAll(async () => {
  sim = await startMessageBoardSim({ records: records() });
});
afterAll(async () => {
  if (hub) await hub.stop();
  await sim.close();
  await dropNamespace(ns, conn);
});

describe('message-board poller on the real Kafka broker', () => {
  it('fixtures → one schema-valid ticket per message id, HTML stripped', async () => {
    hub = makeHub();
    await hub.start();
    const h = hub;
    const distinct = new Set(records().map((r) => r.tid)).size;
    expect(distinct).toBeLessThan(records().length); // 13-duplicate-b-same-tid repeats 12's message id
    // every listed row is made durable; the processor keeps one ticket per message id
    await until('all cases polled', () => health(h).counters.accepted >= records().length);
    expect(health(h).counters).toMatchObject({ received: records().length, accepted: records().length, rejected: 0 });
    await until('one ticket per message id, the repeats dropped', async () => (await duplicates(h)) >= records().length - distinct && (await ours()).length >= distinct, 60000, 250);
    expect(await duplicates(h)).toBe(records().length - distinct);
    const tickets = await ours();
    expect(tickets).toHaveLength(distinct);
    expect(new Set(tickets.map((t) => t.source.sourceId)).size).toBe(distinct);
    for (const t of tickets) expect(validateTicket(t) ? null : validateTicket.errors).toBeNull();
    const t6 = tickets.find((t) => t.source.sourceId === sid('3100006'));
    expect(t6?.text).toBe('某路段路灯已坏一个月。\n夜间出行不安全。');
    expect(tickets.find((t) => t.source.sourceId === sid('3100004'))?.appealType).toBe('suggestion');
  });

  it('restart resumes from the Kafka checkpoint: no loss, no repeat', async () => {
    await (hub as Hub).stop();
    sim.add(extra(1), extra(2), extra(3));
    hub = makeHub();
    await hub.start();
    const h = hub;
    await until('new cases', () => health(h).counters.accepted >= 3);
    await new Promise((r) => setTimeout(r, 2500));
    // only the three new messages were read past the checkpoint: nothing re-submitted, nothing for the processor to drop
    expect(health(h).counters).toMatchObject({ received: 3, accepted: 3 });
    const distinct = new Set(records().map((r) => r.tid)).size;
    await until('the three new tickets', async () => (await ours()).length >= distinct + 3, 60000, 250);
    expect(await duplicates(h)).toBe(0);
    const ids = (await ours()).map((t) => t.source.sourceId);
    expect(ids).toHaveLength(distinct + 3);
    expect(new Set(ids).size).toBe(ids.length);
    for (const i of [1, 2, 3]) expect(ids).toContain(sid(String(90000000 + i)));
  });

  it('5xx opens the breaker and it recovers when the upstream heals', async () => {
    const h = hub as Hub;
    sim.setFault({ kind: '5xx', status: 502 });
    await until('breaker open', () => health(h).breaker === 'open', 30000);
    expect(health(h).state).toBe('degraded');
    sim.setFault(null);
    sim.add(extra(4));
    await until('recovered', () => health(h).breaker === 'closed' && health(h).counters.accepted >= 4, 60000);
    await until('the ticket polled after recovery', async () => (await ours()).some((t) => t.source.sourceId === sid(String(90000004))), 60000, 250);
  });
});
