import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaAdmin } from '../kafka/admin';
import { partitionFor } from '../kafka/partitioner';
import { TxnProducer } from '../kafka/txn-producer';
import { EmbeddedLog } from '../outputs/embedded';
import type { OutRecord } from '../outputs/output';
import { TOPICS, topicsFor } from '../outputs/topics';
import type { ClusterEvent } from '../schema/types';
import { BROKERS, dropNamespace, readRecords, testConnection, testNamespace } from '../testing/kafka';
import { freshDatabase } from '../testing/postgres';
import { clusterEvent, T0, ticketAt } from '../testing/store-contract';
import { until } from '../testing/wait';
import { packageRoot } from '../util/paths';
import { openPostgresStore } from './postgres';
import { openSqliteStore } from './sqlite';
import type { Position, TicketStore } from './types';

/**
 * kill -9 of a materialiser mid-stream, on the real databases and the real log / broker: the
 * stored positions always equal what the store holds (they commit in the same transaction), the
 * restarted materialiser reads only what was not committed, and the final store holds every
 * ticket once, with cluster state equal to the last events.
 */

const N = 20_000;
const CLUSTERS = 200;
const PARTITIONS = 3;
const CONSUMER = 'intake-hub-store';
const dirs: string[] = [];
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  for (const d of drops) await d();
});

/** N unique tickets; every 100th joins cluster c<k>, whose last event says its final size. */
function data(): { tickets: ReturnType<typeof ticketAt>[]; events: ClusterEvent[] } {
  const tickets = Array.from({ length: N }, (_, i) => ticketAt(i, { cluster: { id: `c${i % CLUSTERS}`, role: i < CLUSTERS ? 'primary' : 'member', score: null } }));
  const events: ClusterEvent[] = [];
  for (let i = CLUSTERS; i < N; i++) events.push(clusterEvent(i < 2 * CLUSTERS ? 'created' : 'grew', `c${i % CLUSTERS}`, tickets[i]?.id ?? '', T0 + i * 60_000, Math.floor(i / CLUSTERS) + 1));
  return { tickets, events };
}

/** Tickets keyed by id, events by cluster id (so one cluster's events stay in order), each on its key's partition. */
const ticketRecord = (topic: string, t: ReturnType<typeof ticketAt>): OutRecord => ({ topic, partition: partitionFor(t.id, PARTITIONS), key: t.id, value: JSON.stringify(t), headers: {} });
const eventRecord = (topic: string, e: ClusterEvent): OutRecord => ({ topic, partition: partitionFor(e.clusterId, PARTITIONS), key: e.clusterId, value: JSON.stringify(e), headers: {} });

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['KAFKA_BROKERS', 'STORE_PG_URL', 'HUB_CONFIG', 'PORT']) delete env[k];
  return env;
}

function materialize(configFile: string): { child: ChildProcess; stdout: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(packageRoot(), 'core/testing/run-ts.js'), 'core/cli/main.ts', 'store', 'materialize', '--config', configFile], {
    cwd: packageRoot(),
    // the config file says everything: no environment override (KAFKA_BROKERS would switch the embedded test to Kafka)
    env: { ...childEnv(), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => out, exited };
}

/** Where each record of a topic sits in the log: partition → its offsets, in order. */
type Layout = Map<number, number[]>;

function layoutOf(records: { partition: number; offset: string }[]): Layout {
  const out: Layout = new Map();
  for (const r of records) out.set(r.partition, [...(out.get(r.partition) ?? []), Number(r.offset)]);
  return out;
}

/**
 * How many records of a topic lie below the stored positions. On Kafka the offsets of committed
 * records are not dense (transaction markers take offsets), so the count comes from the records'
 * real offsets, not from the positions' sum.
 */
async function storedBelowPositions(store: TicketStore, topic: string, layout: Layout): Promise<number> {
  const positions: Position[] = (await store.positions(CONSUMER)).filter((p) => p.topic === topic);
  let n = 0;
  for (const p of positions) n += (layout.get(p.partition) ?? []).filter((o) => o < Number(p.next)).length;
  return n;
}

interface Run {
  configFile: string;
  store: TicketStore;
  topics: { tickets: string; clusters: string };
  /** Reads the layout of both topics once everything of the run is written. */
  layouts: () => Promise<{ tickets: Layout; clusters: Layout }>;
  /** Called between the kill and the restart (the Kafka test aborts a transaction there and commits the rest). */
  betweenRuns?: () => Promise<void>;
  eventCount: number;
}

async function killMidStreamAndResume(r: Run): Promise<void> {
  const first = materialize(r.configFile);
  await until('the first batches to commit', async () => (await r.store.count()) > 0, 120_000, 10);
  first.child.kill('SIGKILL');
  await first.exited;
  const atKill = await r.store.count();
  expect(atKill).toBeGreaterThan(0);
  expect(atKill).toBeLessThan(N);
  await r.betweenRuns?.();
  const layouts = await r.layouts();
  // positions and upserts committed together: the stored positions cover exactly what the store holds
  expect(await storedBelowPositions(r.store, r.topics.tickets, layouts.tickets)).toBe(atKill);
  const eventsAtKill = await storedBelowPositions(r.store, r.topics.clusters, layouts.clusters);

  const second = materialize(r.configFile);
  const done = async (): Promise<boolean> => {
    if ((await r.store.count()) !== N) return false;
    for (const k of [0, 57, CLUSTERS - 1]) if ((await r.store.cluster(`c${k}`, 1))?.size !== N / CLUSTERS) return false;
    return (await storedBelowPositions(r.store, r.topics.clusters, layouts.clusters)) === r.eventCount;
  };
  await until('the store to hold every ticket and every cluster event', done, 180_000, 100);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  const report = JSON.parse(second.stdout().trim().split('\n').pop() ?? '{}') as { applied: Record<string, number>; skipped: number };
  // the restart read only what was not committed before the kill
  expect(report.applied[r.topics.tickets]).toBe(N - atKill);
  expect(report.applied[r.topics.clusters] ?? 0).toBe(r.eventCount - eventsAtKill);
  expect(report.skipped).toBe(0);
  expect(await r.store.count()).toBe(N);
  expect(await storedBelowPositions(r.store, r.topics.tickets, layouts.tickets)).toBe(N);
  for (const k of [0, 57, CLUSTERS - 1]) {
    const c = await r.store.cluster(`c${k}`, 1000);
    expect(c?.size).toBe(N / CLUSTERS);
    expect(c?.members).toHaveLength(N / CLUSTERS);
  }
}

test('embedded log (3 partitions) + SQLite: kill -9 mid-stream, resume, every ticket once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mat-kill-'));
  dirs.push(dir);
  const logDir = join(dir, 'log');
  const log = new EmbeddedLog(logDir, PARTITIONS);
  await log.start();
  const { tickets, events } = data();
  const byTicket = new Map(events.map((e) => [e.ticketId, e]));
  for (let i = 0; i < N; i += 50) {
    const recs: OutRecord[] = [];
    for (const t of tickets.slice(i, i + 50)) {
      recs.push(ticketRecord(TOPICS.tickets, t));
      const e = byTicket.get(t.id);
      if (e) recs.push(eventRecord(TOPICS.clusters, e));
    }
    await log.write(recs);
  }
  await log.stop();
  const cfg = join(dir, 'hub.yaml');
  writeFileSync(cfg, `output: { type: embedded, embedded: { dir: ${JSON.stringify(logDir)}, partitions: ${PARTITIONS} } }\nstore: { type: sqlite, sqlite: { path: ${JSON.stringify(join(dir, 'store.db'))} }, materializer: { batchRecords: 100 } }\n`);
  const store = openSqliteStore(join(dir, 'store.db'));
  await store.migrate();
  // the log is closed: its layout is read from the file (the materialiser does not lock it)
  const layouts = async (): Promise<{ tickets: Layout; clusters: Layout }> => {
    const reader = new EmbeddedLog(logDir, PARTITIONS);
    await reader.start();
    const t: { partition: number; offset: string }[] = [];
    const c: { partition: number; offset: string }[] = [];
    await reader.scanTopics(new Set([TOPICS.tickets, TOPICS.clusters]), (r) => (r.topic === TOPICS.tickets ? t : c).push(r));
    await reader.stop();
    return { tickets: layoutOf(t), clusters: layoutOf(c) };
  };
  try {
    await killMidStreamAndResume({ configFile: cfg, store, topics: { tickets: TOPICS.tickets, clusters: TOPICS.clusters }, layouts, eventCount: events.length });
  } finally {
    await store.close();
  }
});

test('Kafka (transactions, read_committed) + PostgreSQL: kill -9 mid-stream, resume, every ticket once, aborted transactions never stored', async () => {
  const db = await freshDatabase('mat');
  drops.push(db.drop);
  const ns = testNamespace('mat');
  const conn = testConnection(ns);
  drops.push(() => dropNamespace(ns, conn));
  const topics = topicsFor(ns);
  const store = openPostgresStore({ url: db.url, poolSize: 2, statementTimeoutMs: 30_000 });
  await store.migrate();
  const admin = new KafkaAdmin(conn);
  await admin.connect();
  await admin.ensureTopics([topics.tickets, topics.clusters].map((topic) => ({ topic, numPartitions: PARTITIONS, config: {} })), 1);
  await admin.disconnect();

  // as the processor writes them: transactions of tickets and their cluster events
  const { tickets, events } = data();
  const producer = new TxnProducer(conn, { transactionalId: `${ns}mat-itest`, transactionTimeoutMs: 30_000, callTimeoutMs: 30_000, compression: 'none', lingerMs: 5 }, 'test');
  await producer.init();
  const commit = async (records: OutRecord[]): Promise<void> => {
    await producer.begin();
    producer.send(records);
    await producer.commit();
  };
  const batch = (i: number): OutRecord[] => [...tickets.slice(i, i + 500).map((t) => ticketRecord(topics.tickets, t)), ...events.slice(i, i + 500).map((e) => eventRecord(topics.clusters, e))];
  // all but the last transaction before the first materialiser starts
  for (let i = 0; i < N - 500; i += 500) await commit(batch(i));

  const dir = mkdtempSync(join(tmpdir(), 'mat-kafka-'));
  dirs.push(dir);
  const cfg = join(dir, 'hub.yaml');
  writeFileSync(cfg, `output: { type: kafka, kafka: { brokers: ${JSON.stringify(BROKERS)}, namespace: ${JSON.stringify(ns)} } }\nstore: { type: postgres, postgres: { url: ${JSON.stringify(db.url)} }, materializer: { batchRecords: 100 } }\n`);
  const aborted = [ticketAt(N + 1), ticketAt(N + 2)];
  try {
    await killMidStreamAndResume({
      configFile: cfg,
      store,
      topics,
      eventCount: events.length,
      // between the runs: an aborted transaction (its records reach the brokers, then the abort
      // marker), then the last committed one behind it — read_committed must skip the first
      betweenRuns: async () => {
        await producer.begin();
        producer.send(aborted.map((t) => ticketRecord(topics.tickets, t)));
        await producer.flush(Date.now() + 30_000);
        await producer.abort();
        await commit(batch(N - 500));
      },
      layouts: async () => ({ tickets: layoutOf(await readRecords(topics.tickets, conn)), clusters: layoutOf(await readRecords(topics.clusters, conn)) }),
    });
    for (const t of aborted) expect(await store.ticket(t.id)).toBeNull();
  } finally {
    await producer.destroy();
    await store.close();
  }
});
