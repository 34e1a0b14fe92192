import { Registry } from 'prom-client';
import { Agent, request } from 'undici';
import { validateConfig } from '../config/config';
import { Hub } from '../hub';
import { TxnProducer } from '../kafka/txn-producer';
import { silentLogger } from '../logger';
import type { CanonicalTicket } from '../schema/types';
import { dropNamespace, kafkaOutput, readTopic, testConnection, testNamespace } from '../testing/kafka';
import { runTag } from '../testing/run-tag';
import { residentReport, signedHeaders, TEST_SECRET } from '../testing/signed';
import { until } from '../testing/wait';

/**
 * The processor's crash-only rule on the real broker: a zombie with the processor's transactional
 * id fences it, the processor reports the fatal outcome once and writes nothing more, and a
 * restart (`Hub.restartProcessor`, what the restarted process does) turns every acknowledged
 * report into exactly one ticket — those acknowledged before, during and after the fatal.
 */
const run = runTag();
const ns = testNamespace('fatal');
const conn = testConnection(ns);
const agent = new Agent({ connections: 8 });
const instanceId = `fatal-${run}`;
const prefix = `RA-F-${run}-`;
const fatals: string[] = [];
let hub: Hub;
let base: string;
let zombie: TxnProducer | null = null;

async function post(i: number): Promise<number> {
  const b = Buffer.from(JSON.stringify(residentReport(i, { reportId: `${prefix}${i}` })));
  const res = await request(`${base}/intake/app`, { method: 'POST', body: b, headers: signedHeaders(b), dispatcher: agent });
  await res.body.dump();
  return res.statusCode;
}

const ours = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(hub.topics.tickets, (t) => t.source.sourceId.startsWith(prefix), conn);

beforeAll(async () => {
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    output: kafkaOutput(ns, { writeTimeoutMs: 8000 }),
    connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET] } }],
  });
  hub = new Hub(config, { logger: silentLogger, registry: new Registry(), instanceId, onFatal: (reason) => fatals.push(reason) });
  base = await hub.listen();
  await hub.start();
});

afterAll(async () => {
  await zombie?.destroy();
  await hub.stop();
  await agent.close();
  await dropNamespace(ns, conn);
});

describe('processor fatal outcome (crash-only rule)', () => {
  it('a fenced processor reports one fatal and writes nothing more; after the restart every acknowledged report has exactly one ticket', async () => {
    for (let i = 0; i < 10; i++) expect(await post(i)).toBe(202);
    await until('the first 10 tickets', async () => (await ours()).length === 10, 60000, 500);

    // a zombie initialises the processor's transactional id: the processor's next transaction is fenced
    zombie = new TxnProducer(conn, { transactionalId: `${ns}intake-hub-processor-${instanceId}`, transactionTimeoutMs: 10000, callTimeoutMs: 10000, compression: 'none', lingerMs: 1 }, 'test');
    await zombie.init();
    for (let i = 10; i < 20; i++) expect(await post(i)).toBe(202); // intake has its own transactional id
    await until('the fatal outcome', async () => fatals.length > 0, 60000, 200);
    expect(hub.readiness().checks.processor).toBe(false); // the processor is down: no traffic for this instance
    await new Promise((r) => setTimeout(r, 3000));
    expect(fatals).toHaveLength(1); // reported once, however often the batch comes back
    expect((await ours()).length).toBe(10);

    await hub.restartProcessor();
    for (let i = 20; i < 30; i++) expect(await post(i)).toBe(202);
    await until('30 tickets', async () => (await ours()).length >= 30, 90000, 500);
    const tickets = await ours();
    expect(new Set(tickets.map((t) => t.source.sourceId))).toEqual(new Set(Array.from({ length: 30 }, (_, i) => `${prefix}${i}`)));
    expect(tickets).toHaveLength(30);
    expect(new Set(tickets.map((t) => t.id)).size).toBe(30);
    await until('ready again', async () => hub.readiness().ready, 30000, 200);
  }, 240000);
});
