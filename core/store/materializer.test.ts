import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../logger';
import { EmbeddedLog } from '../outputs/embedded';
import { TOPICS } from '../outputs/topics';
import { until } from '../testing/wait';
import { clusterEvent, T0, ticketAt } from '../testing/store-contract';
import { Materializer, STORE_TOPICS } from './materializer';
import { EmbeddedSource } from './sources/embedded';
import { openSqliteStore } from './sqlite';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mat-'));
  dirs.push(d);
  return d;
}

const rec = (topic: string, key: string, value: unknown) => ({ topic, partition: 0, key, value: JSON.stringify(value), headers: {} });

async function writeTickets(log: EmbeddedLog, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    // the other topics of a batch are skipped, not stored
    await log.write([rec(TOPICS.reports, `k${i}`, { raw: true }), rec(TOPICS.tickets, `t${i}`, ticketAt(i))]);
  }
}

function materializer(dir: string, store: ReturnType<typeof openSqliteStore>, batchRecords = 7): Materializer {
  return new Materializer(store, new EmbeddedSource({ dir, topics: STORE_TOPICS, batchRecords, pollIntervalMs: 20 }), { consumer: 'm', logger: silentLogger, retryMs: 20 });
}

test('the embedded tail materialises every ticket once, resumes from the stored position after a restart, and follows new lines', async () => {
  const dir = tmp();
  const log = new EmbeddedLog(dir);
  await log.start();
  await writeTickets(log, 0, 40);
  const store = openSqliteStore(join(dir, 'store.db'));
  await store.migrate();
  const m = materializer(dir, store);
  m.start();
  await until('the store to catch up', async () => (await store.count()) === 40, 10_000, 20);
  await m.stop();
  const pos = await store.positions('m');
  expect(pos.find((p) => p.topic === TOPICS.tickets)?.next).toBe('40');
  expect(pos.find((p) => p.topic === TOPICS.reports)).toBeUndefined();

  await writeTickets(log, 40, 10);
  const m2 = materializer(dir, store);
  m2.start();
  await until('the store to catch up', async () => (await store.count()) === 50, 10_000, 20);
  // only the 10 new records were read again: the restart resumed from the stored position
  expect(m2.applied.get(TOPICS.tickets)).toBe(10);
  await writeTickets(log, 50, 3);
  await until('the store to catch up', async () => (await store.count()) === 53, 10_000, 20);
  expect(await m2.lag()).toEqual({ [TOPICS.tickets]: 0, [TOPICS.clusters]: 0 });
  await m2.stop();
  await store.close();
  await log.stop();
});

test('cluster events and tickets of one batch land together; an unreadable record is skipped, not retried forever', async () => {
  const dir = tmp();
  const log = new EmbeddedLog(dir);
  await log.start();
  const a = ticketAt(0, { cluster: { id: 'A', role: 'primary', score: null } });
  const b = ticketAt(1, { cluster: { id: 'A', role: 'member', score: { total: 0.9 } } });
  await log.write([rec(TOPICS.tickets, a.id, a)]);
  await log.write([{ topic: TOPICS.tickets, partition: 0, key: 'x', value: '{not json', headers: {} }]);
  await log.write([rec(TOPICS.tickets, b.id, b), rec(TOPICS.clusters, 'A', clusterEvent('created', 'A', b.id, T0 + 60_000, 2))]);
  const store = openSqliteStore(join(dir, 'store.db'));
  await store.migrate();
  const m = materializer(dir, store);
  m.start();
  await until('the store to catch up', async () => (await store.cluster('A', 10))?.size === 2 && (await store.count()) === 2, 10_000, 20);
  expect(m.skipped).toBe(1);
  expect((await store.positions('m')).find((p) => p.topic === TOPICS.tickets)?.next).toBe('3');
  await m.stop();
  await store.close();
  await log.stop();
});

test('a torn last line (crash mid-write) is not read until it is complete; a replaced, shorter log is read from its start without duplicates', async () => {
  const dir = tmp();
  const file = join(dir, 'log.jsonl');
  const line = (o: number, n: number) => JSON.stringify({ ts: T0, r: [{ t: TOPICS.tickets, o, k: 'k', v: JSON.stringify(ticketAt(n)), h: {} }] }) + '\n';
  writeFileSync(file, line(0, 0) + line(1, 1));
  const full = line(2, 2);
  appendFileSync(file, full.slice(0, 50));
  const store = openSqliteStore(join(dir, 'store.db'));
  await store.migrate();
  const m = materializer(dir, store);
  m.start();
  await until('the store to catch up', async () => (await store.count()) === 2, 10_000, 20);
  await new Promise((r) => setTimeout(r, 100));
  expect(await store.count()).toBe(2);
  appendFileSync(file, full.slice(50));
  await until('the store to catch up', async () => (await store.count()) === 3, 10_000, 20);
  await m.stop();
  // the log is replaced by a shorter one holding the same offsets plus one new record
  writeFileSync(file, line(3, 3));
  const m2 = materializer(dir, store);
  m2.start();
  await until('the store to catch up', async () => (await store.count()) === 4, 10_000, 20);
  expect(m2.applied.get(TOPICS.tickets)).toBe(1);
  await m2.stop();
  await store.close();
});
