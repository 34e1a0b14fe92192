import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Message } from '@confluentinc/kafka-javascript';
import { KafkaAdmin } from '../../core/kafka/admin';
import type { KafkaConnectionConfig } from '../../core/kafka/client';
import { KafkaLog } from '../../core/kafka/log';
import { PartitionReader } from '../../core/kafka/reader';
import { silentLogger } from '../../core/logger';
import type { OutRecord, StoredRecord } from '../../core/outputs/output';
import { topicsFor } from '../../core/outputs/topics';
import type { CanonicalTicket } from '../../core/schema/types';
import type { ListingSim } from '../../core/sdk/poller-sim';
import { testConnection } from '../../core/testing/kafka';
import type { HotlineRecord } from '../../connectors/hotline-12345/normalize';
import { startHotlineSim } from '../../connectors/hotline-12345/sim';
import { DEMO_CODE_TABLE } from '../../connectors/grid-worker/sim';
import type { KafkaCluster } from './cluster';
import { Fleet, type ExitRecord, type FleetRole } from './fleet';
import { ConcurrentConsumer } from './tail';
import { DISTRICTS, GridPublisher, ReportFactory, WebhookSender, rng } from './traffic';

/** One fault of the schedule, run when `at` of the reports have been issued. */
export type Fault =
  | { at: number; kind: 'kill-processor' }
  | { at: number; kind: 'kill-intake' }
  | { at: number; kind: 'bounce-broker'; node: 1 | 2 | 3; hard: boolean }
  | { at: number; kind: 'scale-processors'; to: number };

export interface EosOptions {
  /** Reports issued in all (webhooks + grid-worker messages + polled work orders). */
  reports: number;
  /** Shares of the channels (the rest of 1 after webhook and grid goes to the polled upstream). */
  webhookShare: number;
  gridShare: number;
  /** Of the webhooks: delivered again to another instance after the first 2xx / sent to both at once. */
  redeliverRatio: number;
  bothRatio: number;
  /** Of the grid-worker reports: published without a Nats-Msg-Id; republished with the same id / without one. */
  gridNoIdRatio: number;
  gridRepeatSameIdRatio: number;
  gridRepeatNoIdRatio: number;
  partitions: number;
  initialProcessors: number;
  /** Most processors the schedule scales to (instance ids p0…). */
  maxProcessors: number;
  faults: Fault[];
  /** Webhook and NATS deliveries in flight. */
  concurrency: number;
  /** Reports issued per second at most (0: as fast as the fleet answers). */
  ratePerSec: number;
  seed: number;
  /** Arguments before `start` to run the CLI (dist build or core/testing/run-ts.js). */
  entry: string[];
  cluster: KafkaCluster;
  natsUrl: string;
  workDir: string;
  hub: { sessionTimeoutMs: number; transactionTimeoutMs: number; callTimeoutMs: number; writeTimeoutMs: number; testAbortRatio: number; natsAckWaitMs: number };
  /** A killed hub is started again (same instance id) after this long; the supervisor waits as long after a crash. */
  restartDelayMs: number;
  /** A hard broker bounce keeps the node down this long (longer than the broker session timeout, 9 s). */
  brokerDownMs: number;
  /** How long to wait for a ticket for every acknowledged report after the last one was sent. */
  drainTimeoutMs: number;
  /** Run the golden single-processor run over the fault run's located topic and compare (byte-identical outputs). */
  golden: boolean;
  /**
   * Also run one processor over the fault run's reports (the dedup stage too) and compare the
   * tickets outside their clustering fields; how many tickets land in another cluster is a figure
   * (clustering depends on the order in which the dedup tasks' records meet on the located topic).
   */
  goldenFromReports: boolean;
  log(line: string): void;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface FaultRecord {
  label: string;
  kind: Fault['kind'];
  /** Share of the reports issued when it ran. */
  progress: number;
  t0: number;
  /** How long the fault action itself took (a broker bounce: until the node is back in every ISR). */
  actionMs: number;
  /** From the fault to the first committed ticket on every ticket partition (null: not within the wait). */
  recoveryMs: number | null;
}

export interface EosResult {
  namespace: string;
  checks: Check[];
  faults: FaultRecord[];
  figures: Record<string, number | string>;
  unplannedExits: ExitRecord[];
  workDir: string;
}

class Semaphore {
  private n: number;
  private readonly waiters: (() => void)[] = [];
  constructor(n: number) {
    this.n = n;
  }
  async take(): Promise<void> {
    if (this.n > 0) {
      this.n--;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  give(): void {
    const w = this.waiters.shift();
    if (w) w();
    else this.n++;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hashOf = (r: StoredRecord): string => createHash('sha1').update(r.key).update('\u0000').update(r.value ?? '\u0001null').digest('hex');
const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] as number;
};
const quantile = (xs: number[], q: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))] as number;
};

/** Per partition, the hash of every record in offset order, plus what the checks need of each ticket. */
interface TopicDigest {
  sequences: Map<number, string[]>;
  records: number;
}

async function digest(conn: KafkaConnectionConfig, topic: string, onRecord?: (r: StoredRecord) => void): Promise<TopicDigest> {
  const reader = new PartitionReader(conn, 'eos-verify');
  const sequences = new Map<number, string[]>();
  let records = 0;
  try {
    await reader.scan(topic, 0, (r) => {
      const seq = sequences.get(r.partition) ?? [];
      seq.push(hashOf(r));
      sequences.set(r.partition, seq);
      records++;
      onRecord?.(r);
    });
  } finally {
    await reader.close();
  }
  return { sequences, records };
}

/** Reads one partition's records of a topic (read_committed, to its high watermark). */
async function readPartition(conn: KafkaConnectionConfig, topic: string, partition: number): Promise<StoredRecord[]> {
  const reader = new PartitionReader(conn, 'eos-copy');
  const out: StoredRecord[] = [];
  try {
    const m = (await reader.watermarks(topic)).find((x) => x.partition === partition);
    if (m) await reader.read([{ topic, partition, from: m.low, to: m.high }], (r) => out.push(r));
  } finally {
    await reader.close();
  }
  return out;
}

/** Compares two digests partition by partition; a readable difference of the first mismatch. */
async function compareDigests(a: TopicDigest, b: TopicDigest, conns: { a: KafkaConnectionConfig; b: KafkaConnectionConfig; topicA: string; topicB: string }): Promise<string | null> {
  const parts = [...new Set([...a.sequences.keys(), ...b.sequences.keys()])].sort((x, y) => x - y);
  for (const p of parts) {
    const sa = a.sequences.get(p) ?? [];
    const sb = b.sequences.get(p) ?? [];
    const n = Math.max(sa.length, sb.length);
    for (let i = 0; i < n; i++) {
      if (sa[i] === sb[i]) continue;
      const ra = (await readPartition(conns.a, conns.topicA, p))[i];
      const rb = (await readPartition(conns.b, conns.topicB, p))[i];
      const fields = (r: StoredRecord | undefined): Record<string, unknown> => (r?.value ? (JSON.parse(r.value) as Record<string, unknown>) : {});
      const fa = fields(ra);
      const fb = fields(rb);
      const differing = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].filter((k) => JSON.stringify(fa[k]) !== JSON.stringify(fb[k]));
      return `partition ${p} record #${i} (of ${sa.length} vs ${sb.length}): key ${ra?.key ?? '∅'} vs ${rb?.key ?? '∅'}, fields differing: ${differing.join(', ') || '(none: headers or key)'}${differing.length ? `; ${differing[0]}: ${JSON.stringify(fa[differing[0] as string]).slice(0, 300)} vs ${JSON.stringify(fb[differing[0] as string]).slice(0, 300)}` : ''}`;
    }
  }
  return null;
}

/**
 * The processor group has consumed every committed record of its inputs: nothing committed lies
 * between the group's committed offset and the last stable offset. (Comparing offsets alone is not
 * enough: transaction markers and aborted records take offsets, and a partition whose last
 * transaction was aborted keeps its committed offset below the LSO for good.)
 */
async function drained(admin: KafkaAdmin, conn: KafkaConnectionConfig, ns: string, inputs: string[]): Promise<boolean> {
  const committed = await admin.committed(`${ns}intake-hub-processor`, inputs, 5000).catch(() => null);
  if (committed === null) return false; // a commit is pending: busy
  const targets: { topic: string; partition: number; from: bigint; to: bigint }[] = [];
  for (const topic of inputs) {
    for (const o of await admin.offsets(topic)) {
      const c = committed.get(`${topic}/${o.partition}`) ?? -1n;
      targets.push({ topic, partition: o.partition, from: c < o.low ? o.low : c, to: o.stable });
    }
  }
  const reader = new PartitionReader(conn, 'eos-drain');
  try {
    let pending = 0;
    await reader.read(targets, () => pending++, 30000);
    return pending === 0;
  } catch {
    return false;
  } finally {
    await reader.close();
  }
}

/**
 * The exactly-once fault run, after Kafka's transactions_test.py and the Streams EOS system tests
 * (../shared/research/kafka-eos.md §5): two intake instances and one to `maxProcessors` processor
 * instances as separate OS processes on a 3-broker cluster (RF 3, min ISR 2), fed by signed
 * webhooks (redeliveries to another instance than the first try), grid-worker messages on NATS
 * JetStream (with and without Nats-Msg-Id, some published twice) and a polled 12345 upstream,
 * while the schedule kills processors and intakes with SIGKILL, bounces brokers and scales the
 * processors. A concurrent read_committed consumer watches the outputs throughout; the final read
 * and a golden single-processor run over the same located input are compared at the end.
 */
export async function runEos(o: EosOptions): Promise<EosResult> {
  const run = randomBytes(3).toString('hex');
  const ns = `eos${run}.`;
  const t = topicsFor(ns);
  const conn = testConnection(ns, o.cluster.brokers);
  const workDir = join(o.workDir, `eos-${run}`);
  mkdirSync(workDir, { recursive: true });
  const log = (s: string): void => o.log(`[eos ${((Date.now() - started) / 1000).toFixed(1)}s] ${s}`);
  const started = Date.now();
  const choose = rng(o.seed ^ 0x5eed);
  const factory = new ReportFactory(run, o.seed);
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const tokenSecret = randomBytes(24).toString('hex');
  const stream = `EOS_${run}`;
  const subject = `eos.${run}.grid`;
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail });
    log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
  };
  const faults: FaultRecord[] = [];
  const figures: Record<string, number | string> = {};

  const sim: ListingSim<HotlineRecord> = await startHotlineSim({ records: [], charset: 'gbk' });
  const grid = await GridPublisher.open(o.natsUrl, stream, subject);
  const hubConfig = (namespace: string) => (m: { id: string; role: FleetRole; port: number; adminPort: number }): Record<string, unknown> => ({
    server: { host: '127.0.0.1', port: m.port, rateLimit: { max: 0 }, maxConnectionsPerClient: 0 },
    admin: { host: '127.0.0.1', port: m.adminPort },
    pii: { tokenSecret },
    output: {
      type: 'kafka',
      kafka: {
        brokers: o.cluster.brokers,
        namespace,
        partitions: o.partitions,
        leasePartitions: 3,
        replicationFactor: 3,
        minInsyncReplicas: 2,
        sessionTimeoutMs: o.hub.sessionTimeoutMs,
        transactionTimeoutMs: o.hub.transactionTimeoutMs,
        callTimeoutMs: o.hub.callTimeoutMs,
        writeTimeoutMs: o.hub.writeTimeoutMs,
      },
    },
    locality: { districts: [...DISTRICTS, '新都区'].map((name) => ({ name })) },
    processor: { testAbortRatio: namespace === ns ? o.hub.testAbortRatio : 0 },
    connectors: [
      { id: 'app', type: 'resident-app', config: { secrets: [secret] } },
      { id: 'gw', type: 'grid-worker', config: { servers: [o.natsUrl], stream, subjects: [subject], durable: `eos-${run}`, createStream: false, codeTable: DEMO_CODE_TABLE, ackWaitMs: o.hub.natsAckWaitMs, nakDelayMs: 1000 } },
      { id: 'hl', type: 'hotline-12345', config: { baseUrl: sim.url, pageSize: 100, maxPagesPerPoll: 20, pollIntervalMs: 1000 } },
    ],
  });
  const fleet = new Fleet({ dir: workDir, entry: o.entry, config: hubConfig(ns), restartDelayMs: o.restartDelayMs, log });
  const intakes = ['i0', 'i1'];
  for (const id of intakes) await fleet.add(id, 'intake');
  for (let k = 0; k < o.maxProcessors; k++) await fleet.add(`p${k}`, 'processor');
  const admin = new KafkaAdmin(conn);
  let tail: ConcurrentConsumer | null = null;
  const sender = new WebhookSender(() => intakes.map((id) => fleet.url(id)), '/intake/app', secret);
  const ticketSource = new Map<string, string>(); // ticket id → connector/sourceId (concurrent consumer)
  const seenSources = new Set<string>();

  try {
    // --- start: the first intake creates the topics; then the other intake and the processors
    log(`namespace ${ns}; starting 2 intakes and ${o.initialProcessors} processor(s) on ${o.cluster.brokers.join(',')}`);
    await fleet.start('i0');
    await Promise.all([fleet.start('i1'), ...Array.from({ length: o.initialProcessors }, (_, k) => fleet.start(`p${k}`))]);
    await admin.connect();
    tail = new ConcurrentConsumer(conn, [t.tickets, t.clusters], (topic, m: Message) => {
      if (topic !== t.tickets) {
        const v = m.value ? (JSON.parse(m.value.toString()) as { id?: string }) : {};
        return v.id ?? '';
      }
      return m.key ? m.key.toString() : '';
    });
    tail.onRecord = (topic, m) => {
      if (topic !== t.tickets || !m.value) return;
      const tk = JSON.parse(m.value.toString()) as CanonicalTicket;
      const src = `${tk.source.connectorId}/${tk.source.sourceId}`;
      ticketSource.set(tk.id, src);
      seenSources.add(src);
    };
    await tail.start();
    figures.startupSeconds = Math.round((Date.now() - started) / 100) / 10;
    log(`fleet ready after ${figures.startupSeconds} s`);

    // --- traffic and, alongside, the fault schedule
    let issued = 0;
    // the next fault not yet started (the previous one still waits for its recovery): past its
    // threshold traffic trickles (5 reports/s) until it has, so every fault happens with the rest of
    // the reports still to come and every partition keeps getting input meanwhile
    const schedule = [...o.faults].sort((a, b) => a.at - b.at);
    let nextFault = 0;
    const hotlineIds: string[] = [];
    const gate = new Semaphore(o.concurrency);
    const inflight = new Set<Promise<void>>();
    const sendStart = Date.now();
    const counts = { webhook: 0, grid: 0, poll: 0 };
    const trafficDone = (async () => {
      let pollBuf: HotlineRecord[] = [];
      for (let i = 0; i < o.reports; i++) {
        if (o.ratePerSec > 0) {
          const due = sendStart + (i * 1000) / o.ratePerSec;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        if (nextFault < schedule.length && i / o.reports >= (schedule[nextFault] as Fault).at) await sleep(200);
        const r = choose();
        issued = i + 1;
        if (r < o.webhookShare) {
          counts.webhook++;
          const w = factory.webhook(i);
          const x = choose();
          const mode = x < o.bothRatio ? 'both' : x < o.bothRatio + o.redeliverRatio ? 'after' : 'none';
          await gate.take();
          const p = sender.deliver(w.sourceId, w.body, i % 2, mode).then(() => undefined).finally(() => gate.give());
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
        } else if (r < o.webhookShare + o.gridShare) {
          counts.grid++;
          const g = factory.grid(i);
          const withId = choose() >= o.gridNoIdRatio;
          const x = choose();
          const repeat = withId && x < o.gridRepeatSameIdRatio ? 'same-id' : x < o.gridRepeatSameIdRatio + o.gridRepeatNoIdRatio ? 'no-id' : 'none';
          await gate.take();
          const p = grid.publish(g.sourceId, g.report, withId, repeat).finally(() => gate.give());
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
        } else {
          counts.poll++;
          const h = factory.hotline(i);
          hotlineIds.push(h.GDBH);
          pollBuf.push(h);
          if (pollBuf.length >= 50) {
            sim.add(...pollBuf);
            pollBuf = [];
          }
        }
        if (i % 5000 === 0 && i > 0) log(`issued ${i}/${o.reports}; webhooks acked ${sender.stats.acked}, grid acked ${grid.stats.acked}; tickets seen ${tail?.views.get(t.tickets)?.records ?? 0}`);
      }
      if (pollBuf.length) sim.add(...pollBuf);
      await Promise.all([...inflight]);
    })();

    const pickRandom = <T>(xs: T[]): T => xs[Math.floor(choose() * xs.length)] as T;
    const faultsDone = (async () => {
      for (const f of schedule) {
        while (issued / o.reports < f.at) await sleep(100);
        nextFault++;
        const progress = issued / o.reports;
        const t0 = Date.now();
        let label: string = f.kind;
        if (f.kind === 'kill-processor') {
          const victim = pickRandom(fleet.live('processor')).id;
          label = `kill -9 processor ${victim}`;
          log(label);
          fleet.kill9(victim, o.restartDelayMs);
          await sleep(o.restartDelayMs);
          await fleet.ready(victim);
        } else if (f.kind === 'kill-intake') {
          const victim = pickRandom(fleet.live('intake')).id;
          label = `kill -9 intake ${victim}`;
          log(label);
          fleet.kill9(victim, o.restartDelayMs);
          await sleep(o.restartDelayMs);
          await fleet.ready(victim);
        } else if (f.kind === 'bounce-broker') {
          label = `${f.hard ? 'kill -9' : 'clean restart of'} broker ${f.node}`;
          log(label);
          if (f.hard) {
            await o.cluster.kill(f.node);
            await sleep(o.brokerDownMs);
          } else await o.cluster.stop(f.node);
          await o.cluster.start(f.node);
          await o.cluster.wait();
        } else {
          const live = fleet.live('processor').length;
          label = `scale processors ${live} → ${f.to}`;
          log(label);
          if (f.to > live) await Promise.all(Array.from({ length: f.to - live }, (_, k) => fleet.start(`p${live + k}`)));
          else for (let k = live - 1; k >= f.to; k--) await fleet.terminate(`p${k}`);
        }
        const actionMs = Date.now() - t0;
        // the next fault waits until every ticket partition committed output again
        const deadline = Date.now() + 180000;
        let rec = tail?.recoveryAfter(t.tickets, t0) ?? { ms: null };
        const allMoved = (): boolean => {
          const v = tail?.views.get(t.tickets);
          return [...(v?.arrivals.values() ?? [])].every((a) => (a[a.length - 1] ?? 0) > t0);
        };
        while (!allMoved() && Date.now() < deadline) await sleep(250);
        rec = tail?.recoveryAfter(t.tickets, t0) ?? { ms: null };
        const recoveryMs = allMoved() ? rec.ms : null;
        faults.push({ label, kind: f.kind, progress: Math.round(progress * 1000) / 1000, t0, actionMs, recoveryMs });
        log(`${label}: action ${actionMs} ms, output on every ticket partition again after ${recoveryMs ?? 'n/a'} ms`);
      }
    })();

    await Promise.all([trafficDone, faultsDone]);
    const sendSeconds = (Date.now() - sendStart) / 1000;
    log(`traffic done in ${sendSeconds.toFixed(1)} s: ${JSON.stringify(counts)}; webhooks ${JSON.stringify({ ...sender.stats, latencies: undefined, rejected: sender.stats.rejected.length, gaveUp: sender.stats.gaveUp.length, idMismatches: sender.stats.idMismatches.length })}; grid ${JSON.stringify(grid.stats)}`);

    // --- drain: a ticket for every acknowledged report, then the processor group at the end of its inputs
    const expected = new Set<string>([...sender.acked.keys()].map((s) => `app/${s}`));
    for (const s of grid.acked) expected.add(`gw/${s}`);
    for (const s of hotlineIds) expected.add(`hl/${s}`);
    const drainDeadline = Date.now() + o.drainTimeoutMs;
    const missing = (): string[] => [...expected].filter((s) => !seenSources.has(s));
    while (missing().length > 0 && Date.now() < drainDeadline) await sleep(500);
    while (!(await drained(admin, conn, ns, [t.reports, t.located])) && Date.now() < drainDeadline) await sleep(1000);
    const lastTicketAt = Math.max(0, ...[...(tail.views.get(t.tickets)?.arrivals.values() ?? [])].map((a) => a[a.length - 1] ?? 0));
    await sleep(3000); // a late duplicate would arrive now
    const ticketsSeen = tail.views.get(t.tickets)?.records ?? 0;
    figures.reports = o.reports;
    figures.webhooks = counts.webhook;
    figures.gridMessages = counts.grid;
    figures.polledWorkOrders = counts.poll;
    figures.webhookRequests = sender.stats.requests;
    figures.webhookRedeliveries = sender.stats.redeliveries;
    figures.webhookFailedAttempts = sender.stats.failures;
    figures.gridPublishes = grid.stats.published;
    figures.sendSeconds = Math.round(sendSeconds * 10) / 10;
    figures.intakeReportsPerSecond = Math.round(((sender.stats.acked + grid.stats.acked + hotlineIds.length) / sendSeconds) * 10) / 10;
    figures.endToEndSeconds = Math.round((lastTicketAt - sendStart) / 100) / 10;
    figures.endToEndTicketsPerSecond = Math.round((ticketsSeen / ((lastTicketAt - sendStart) / 1000)) * 10) / 10;
    figures.webhookP50Ms = median(sender.stats.latencies) ?? 'n/a';
    figures.webhookP99Ms = quantile(sender.stats.latencies, 0.99) ?? 'n/a';
    const unplanned = fleet.unplannedExits();
    figures.unplannedExits = unplanned.length;
    await tail.stop();
    await fleet.close();

    // --- checks on what the concurrent consumer saw and on the final read
    const stuck = faults.filter((f) => f.recoveryMs === null);
    check('after every fault, every ticket partition committed output again', stuck.length === 0 && faults.length === o.faults.length, `${faults.length} of ${o.faults.length} faults run${stuck.length ? `; no output on some partition within 180 s after: ${stuck.map((f) => f.label).join(', ')}` : ''}`);
    const sent = counts.webhook + counts.grid;
    check('every sent report was acknowledged', sender.stats.gaveUp.length === 0 && sender.stats.rejected.length === 0 && sender.acked.size + grid.acked.size === sent, `${sender.acked.size} webhooks + ${grid.acked.size} grid messages acknowledged of ${sent} sent (+${hotlineIds.length} polled); gave up ${sender.stats.gaveUp.length}, 4xx ${sender.stats.rejected.length}${sender.stats.rejected[0] ? ` e.g. ${JSON.stringify(sender.stats.rejected[0])}` : ''}`);
    check('every answer for one report carried the same ticket id', sender.stats.idMismatches.length === 0, `${sender.stats.idMismatches.length} mismatches${sender.stats.idMismatches[0] ? `, e.g. ${sender.stats.idMismatches[0]}` : ''}`);
    const tv = tail.views.get(t.tickets);
    const cv = tail.views.get(t.clusters);
    check('concurrent consumer: no ticket record twice', (tv?.duplicates.length ?? 0) === 0, `${tv?.records ?? 0} ticket records, ${tv?.duplicates.length ?? 0} duplicates${tv?.duplicates[0] ? `, e.g. ${tv.duplicates[0]}` : ''}`);
    check('concurrent consumer: no cluster event twice', (cv?.duplicates.length ?? 0) === 0, `${cv?.records ?? 0} cluster events, ${cv?.duplicates.length ?? 0} duplicates${cv?.duplicates[0] ? `, e.g. ${cv.duplicates[0]}` : ''}`);

    const finalTickets = new Map<string, string>(); // id → source
    const perSource = new Map<string, number>();
    const ticketDigest = await digest(conn, t.tickets, (r) => {
      if (!r.value) return;
      const tk = JSON.parse(r.value) as CanonicalTicket;
      const src = `${tk.source.connectorId}/${tk.source.sourceId}`;
      finalTickets.set(tk.id, finalTickets.has(tk.id) ? `${finalTickets.get(tk.id)} DUP` : src);
      perSource.set(src, (perSource.get(src) ?? 0) + 1);
    });
    const clusterIds = new Map<string, number>();
    const clusterDigest = await digest(conn, t.clusters, (r) => {
      if (!r.value) return;
      const id = (JSON.parse(r.value) as { id: string }).id;
      clusterIds.set(id, (clusterIds.get(id) ?? 0) + 1);
    });
    const dupIds = ticketDigest.records - finalTickets.size;
    check('final read: no ticket record twice (same ticket id)', dupIds === 0, `${ticketDigest.records} ticket records, ${finalTickets.size} distinct ids`);
    const multi = [...perSource].filter(([, n]) => n > 1);
    check('final read: exactly one ticket per report', multi.length === 0, `${perSource.size} reports with tickets, ${multi.length} with more than one${multi[0] ? `, e.g. ${multi[0][0]} ×${multi[0][1]}` : ''}`);
    const finalSources = new Set(perSource.keys());
    const lost = [...expected].filter((s) => !finalSources.has(s));
    const extra = [...finalSources].filter((s) => !expected.has(s));
    check('final read: the tickets are exactly the acknowledged reports', lost.length === 0 && extra.length === 0, `${expected.size} acknowledged, ${finalSources.size} with tickets; missing ${lost.length}${lost[0] ? ` (e.g. ${lost.slice(0, 3).join(', ')})` : ''}, unexpected ${extra.length}${extra[0] ? ` (e.g. ${extra.slice(0, 3).join(', ')})` : ''}`);
    const concurrentIds = new Set(tv?.counts.keys() ?? []);
    const sameSets = concurrentIds.size === finalTickets.size && [...finalTickets.keys()].every((id) => concurrentIds.has(id));
    check('the concurrent consumer saw the same tickets as the final read', sameSets, `${concurrentIds.size} vs ${finalTickets.size}`);
    const wrongId = [...sender.acked].filter(([s, id]) => {
      const src = ticketSource.get(id);
      return src !== `app/${s}`;
    });
    check('every webhook answer names the ticket that was published', wrongId.length === 0, `${wrongId.length} answered ids without their ticket${wrongId[0] ? `, e.g. ${wrongId[0][0]} → ${wrongId[0][1]}` : ''}`);
    const clusterDups = [...clusterIds].filter(([, n]) => n > 1);
    check('final read: no cluster event twice', clusterDups.length === 0, `${clusterDigest.records} cluster events, ${clusterDups.length} ids twice`);
    const locatedKeys = new Map<string, number>();
    await digest(conn, t.located, (r) => {
      if (!r.value) return;
      const k = (JSON.parse(r.value) as { ticket: CanonicalTicket }).ticket.dedup.key;
      locatedKeys.set(k, (locatedKeys.get(k) ?? 0) + 1);
    });
    const locatedTwice = [...locatedKeys].filter(([, n]) => n > 1);
    check('the dedup stage forwarded each report once', locatedTwice.length === 0 && locatedKeys.size === expected.size, `${locatedKeys.size} dedup keys on the located topic (expected ${expected.size}), ${locatedTwice.length} twice`);
    const dlq = await digest(conn, t.dlq);
    check('no dead letter (every input is valid)', dlq.records === 0, `${dlq.records} dead letters`);
    const open: string[] = [];
    for (const topic of Object.values(t)) {
      for (const p of await admin.offsets(topic)) if (p.high !== p.stable) open.push(`${topic}[${p.partition}] HW ${p.high} LSO ${p.stable}`);
    }
    check('HW = LSO on every partition of every topic (no transaction left open)', open.length === 0, open.length === 0 ? `${Object.keys(t).length} topics` : open.slice(0, 5).join('; '));
    figures.tickets = finalTickets.size;
    figures.clusterEvents = clusterDigest.records;

    /** One processor, no faults, in a fresh namespace, over a copy (per partition, in order) of one input topic of the fault run. */
    const goldenRun = async (suffix: string, input: 'located' | 'reports'): Promise<{ gns: string; gt: ReturnType<typeof topicsFor>; gconn: KafkaConnectionConfig }> => {
      const gns = `eos${run}${suffix}.`;
      const gt = topicsFor(gns);
      const gconn = testConnection(gns, o.cluster.brokers);
      const copyStart = Date.now();
      const copier = new KafkaLog(
        gconn,
        gt,
        { partitions: o.partitions, leasePartitions: 3, replicationFactor: 3, minInsyncReplicas: 2, compression: 'lz4', rawRetentionMs: 30 * 86400_000, ticketRetentionMs: 31 * 86400_000, dedupWindowMs: 30 * 86400_000, clusterHorizonMs: 60 * 86400_000 },
        { instanceId: `eos-golden-copy-${suffix}`, writeTimeoutMs: 60000, transactionTimeoutMs: 60000, callTimeoutMs: 60000, maxBatchRecords: 1000, maxBatchBytes: 8 << 20 },
        silentLogger,
      );
      await copier.start();
      let copied = 0;
      for (let p = 0; p < o.partitions; p++) {
        const recs = await readPartition(conn, t[input], p);
        for (let i = 0; i < recs.length; i += 1000) {
          const chunk: OutRecord[] = recs.slice(i, i + 1000).map((r) => ({ topic: gt[input], partition: p, key: r.key, value: r.value, headers: r.headers }));
          await copier.write(chunk);
          copied += chunk.length;
        }
      }
      await copier.stop();
      log(`golden (${input}): copied ${copied} records in ${Date.now() - copyStart} ms; one processor, no faults`);
      const golden = new Fleet({ dir: workDir, entry: o.entry, config: hubConfig(gns), restartDelayMs: o.restartDelayMs, log });
      await golden.add(`golden-${suffix}`, 'processor');
      const gStart = Date.now();
      const gadmin = new KafkaAdmin(gconn);
      try {
        await golden.start(`golden-${suffix}`);
        await gadmin.connect();
        const deadline = Date.now() + o.drainTimeoutMs;
        while (!(await drained(gadmin, gconn, gns, input === 'located' ? [gt.located] : [gt.reports, gt.located])) && Date.now() < deadline) await sleep(1000);
        figures[`golden_${input}_seconds`] = Math.round((Date.now() - gStart) / 100) / 10;
        figures[`golden_${input}_unplannedExits`] = golden.unplannedExits().length;
      } finally {
        await golden.close();
        await gadmin.disconnect();
      }
      return { gns, gt, gconn };
    };

    // --- golden over the same located input: tickets and cluster events byte-identical, per partition, in order
    if (o.golden) {
      const { gns, gt, gconn } = await goldenRun('g', 'located');
      const gTickets = await digest(gconn, gt.tickets);
      const gClusters = await digest(gconn, gt.clusters);
      const dt = await compareDigests(ticketDigest, gTickets, { a: conn, b: gconn, topicA: t.tickets, topicB: gt.tickets });
      check('tickets byte-identical to the golden single-processor run (per partition, in order)', dt === null, dt ?? `${gTickets.records} tickets`);
      const dc = await compareDigests(clusterDigest, gClusters, { a: conn, b: gconn, topicA: t.clusters, topicB: gt.clusters });
      check('cluster events byte-identical to the golden run (per partition, in order)', dc === null, dc ?? `${gClusters.records} cluster events`);
      figures.goldenNamespace = gns;
    }

    // --- golden over the same reports (dedup stage included): the same tickets but for what the
    // clustering decides, which depends on how the dedup tasks' records interleave on the located topic
    if (o.goldenFromReports) {
      const { gconn, gt } = await goldenRun('r', 'reports');
      const strip = (tk: CanonicalTicket): string => JSON.stringify({ ...tk, cluster: null, dedup: { key: tk.dedup.key }, trace: { ...tk.trace, stages: [] } });
      const byId = async (c: KafkaConnectionConfig, topic: string): Promise<Map<string, { h: string; cluster: string | null }>> => {
        const m = new Map<string, { h: string; cluster: string | null }>();
        await digest(c, topic, (r) => {
          if (!r.value) return;
          const tk = JSON.parse(r.value) as CanonicalTicket;
          m.set(tk.id, { h: createHash('sha1').update(strip(tk)).digest('hex'), cluster: tk.cluster.id });
        });
        return m;
      };
      const a = await byId(conn, t.tickets);
      const b = await byId(gconn, gt.tickets);
      const onlyOne = [...a.keys()].filter((id) => !b.has(id)).length + [...b.keys()].filter((id) => !a.has(id)).length;
      const differ = [...a].filter(([id, v]) => b.get(id)?.h !== v.h).length;
      check('the golden run over the same reports made the same tickets (clustering fields aside)', onlyOne === 0 && differ === 0, `${a.size} vs ${b.size} tickets, ${onlyOne} in one run only, ${differ} differing outside the clustering fields`);
      // the same partition of tickets into clusters? (cluster ids are the primaries' ids)
      const members = (m: Map<string, { cluster: string | null }>): Map<string, string> => {
        const byCluster = new Map<string, string[]>();
        for (const [id, v] of m) byCluster.set(v.cluster ?? id, [...(byCluster.get(v.cluster ?? id) ?? []), id]);
        const out = new Map<string, string>();
        for (const ids of byCluster.values()) {
          const key = ids.sort().join(',');
          for (const id of ids) out.set(id, key);
        }
        return out;
      };
      const ma = members(a);
      const mb = members(b);
      figures.reportsGoldenTicketsInAnotherCluster = [...ma].filter(([id, k]) => mb.get(id) !== k).length;
    }
    figures.unplannedExitsDetail = unplanned.map((e) => `${e.id} code ${e.code} signal ${e.signal}`).join('; ') || 'none';
    const rec = faults.map((f) => f.recoveryMs).filter((x): x is number => x !== null);
    figures.recoveryMedianMs = median(rec) ?? 'n/a';
    return { namespace: ns, checks, faults, figures, unplannedExits: unplanned, workDir };
  } finally {
    await tail?.stop().catch(() => undefined);
    await fleet.close().catch(() => undefined);
    await sender.close().catch(() => undefined);
    await grid.close(stream).catch(() => undefined);
    await sim.close().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
