import { runTag } from '../../core/testing/run-tag';
import { restartOnFatal } from '../../core/testing/fatal';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type ConsumerInfo, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { validateConfig, type HubConfig } from '../../core/config/config';
import { SinkError } from '../../core/errors';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import type { OutRecord, RecordLog } from '../../core/outputs/output';
import type { CanonicalTicket, DeadLetter } from '../../core/schema/types';
import { validateTicket } from '../../core/schema/validators';
import { dropNamespace, kafkaOutput, readTopic, testConnection, testNamespace } from '../../core/testing/kafka';
import { until } from '../../core/testing/wait';
import { DEMO_CODE_TABLE } from './sim';
import type { GridWorkerHealth } from './subscription';

/**
 * The grid-worker connector on the REAL NATS JetStream server and the REAL Kafka broker, the hub
 * running `--role all`: a message is acked once its report is durable on intake.reports.v1; the
 * processor drops repeated reports (`intake_duplicates_total`) and writes the tickets. Each run
 * uses its own stream (GRIDTEST_<run>, subjects gridtest.<run>.>), durables, connector id and
 * Kafka namespace.
 */
const NATS = (process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',');
const run = runTag();
const connectorId = `gw-${run}`;
const stream = `GRIDTEST_${run}`;
const subject = `gridtest.${run}.510114`;
const durable = `d${run}`;
const ns = testNamespace('gw');
const conn = testConnection(ns);
const fixtures = join(__dirname, 'fixtures');

type NatsConnection = Awaited<ReturnType<typeof connect>>;

/**
 * Around the hub's real Kafka log (the intake writer): a gate to hold writes and a switch to fail
 * the next ones (a broker outage). Every write that passes goes to the broker unchanged.
 */
class WriteGate {
  failNext = 0;
  private gate: Promise<void> | null = null;
  private open_: () => void = () => undefined;
  constructor(log: RecordLog) {
    const write = log.write.bind(log);
    jest.spyOn(log, 'write').mockImplementation(async (records: OutRecord[]) => {
      if (this.gate) await this.gate;
      if (this.failNext > 0) {
        this.failNext--;
        throw new SinkError('simulated broker outage');
      }
      return write(records);
    });
  }
  close(): void {
    this.gate = new Promise<void>((resolve) => (this.open_ = resolve));
  }
  open(): void {
    this.gate = null;
    this.open_();
  }
}

function hubConfig(durableName: string): HubConfig {
  return validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    output: kafkaOutput(ns, { writeTimeoutMs: 5000, connectionTimeoutMs: 1000 }),
    connectors: [
      {
        id: connectorId,
        type: 'grid-worker',
        config: {
          servers: NATS,
          stream,
          subjects: [`gridtest.${run}.>`],
          durable: durableName,
          ackWaitMs: 2000,
          fetchExpiresMs: 1000,
          nakDelayMs: 300,
          reconnectWaitMs: 200,
          batch: 16,
          codeTable: DEMO_CODE_TABLE,
        },
      },
    ],
  });
}

function makeHub(durableName: string): { hub: Hub; out: WriteGate } {
  const hub = new Hub(hubConfig(durableName), { logger: silentLogger, registry: new Registry(), instanceId: `gw-${run}`, onFatal: restartOnFatal });
  return { hub, out: new WriteGate(hub.log) };
}

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let hub: Hub;
let out: WriteGate;

const health = (h: Hub = hub): GridWorkerHealth => h.connector(connectorId)?.health() as GridWorkerHealth;
const info = (name = durable): Promise<ConsumerInfo> => jsm.consumers.info(stream, name);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Everything in the stream delivered to the durable and acked. */
async function allAcked(name = durable): Promise<void> {
  const s = await jsm.streams.info(stream);
  await until(`durable ${name} acked up to ${s.state.last_seq}`, async () => {
    const i = await info(name);
    return i.num_pending === 0 && i.num_ack_pending === 0 && i.ack_floor.stream_seq >= s.state.last_seq;
  });
}

function report(id: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ reportId: id, workerId: 'WGY-IT-001', workerName: '测试某', workerPhone: '13800000009', gridCode: '510114001001003', itemCode: 'D05', text: `井盖破损 ${id}`, reportedAt: '2026-11-20T08:00:00+08:00', ...extra });
}

const ourTickets = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(hub.topics.tickets, (t) => t.source.connectorId === connectorId, conn);

/** Deliveries of this connector the processor dropped as exact duplicates (counted by this hub). */
async function duplicates(h: Hub = hub): Promise<number> {
  const values = (await h.metrics.registry.getSingleMetric('intake_duplicates_total')?.get())?.values ?? [];
  return values.filter((v) => v.labels.connector === connectorId).reduce((n, v) => n + v.value, 0);
}

/** The processor writes tickets after the ack: wait for `n`, then a moment for any extra one to show. */
async function ticketsSettled(n: number): Promise<CanonicalTicket[]> {
  await until(`${n} tickets`, async () => (await ourTickets()).length >= n);
  await sleep(1000);
  return ourTickets();
}

beforeAll(async () => {
  nc = await connect({ servers: NATS });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  ({ hub, out } = makeHub(durable));
  await hub.start();
  await until('connector running', () => health().state === 'running', 20000);
});

afterAll(async () => {
  out?.open();
  await hub?.stop();
  await jsm?.streams.delete(stream).catch(() => undefined);
  await nc?.close();
  await dropNamespace(ns, conn);
});

describe('grid-worker on the real NATS JetStream and Kafka', () => {
  const validIds = new Set<string>();
  let invalid = 0;

  it('creates its stream with the duplicate window and an explicit-ack durable consumer', async () => {
    const s = await jsm.streams.info(stream);
    expect(s.config.subjects).toEqual([`gridtest.${run}.>`]);
    expect(s.config.duplicate_window).toBe(120000 * 1e6);
    const c = await info();
    expect(c.config.ack_policy).toBe('explicit');
    expect(c.config.ack_wait).toBe(2000 * 1e6);
    expect(health().nats.connected).toBe(true);
  });

  it('every fixture published → exactly one schema-valid ticket per report id (the repeated one dropped by the processor); invalid ones dead-lettered and acked', async () => {
    const files = readdirSync(fixtures).filter((f) => f.endsWith('.json')).sort();
    let n = 0;
    for (const f of files) {
      const text = readFileSync(join(fixtures, f), 'utf8');
      let body = text;
      if (f.includes('.invalid.')) invalid++;
      else {
        const o = JSON.parse(text) as { reportId: string };
        o.reportId = `${run}-${o.reportId}`;
        validIds.add(o.reportId);
        body = JSON.stringify(o);
      }
      const ack = await js.publish(subject, body, { msgID: `${run}-fixture-${n++}` });
      expect(ack.duplicate).toBe(false);
    }
    await allAcked();
    const valid = files.length - invalid;
    await until('the processor drops the repeated report', async () => (await duplicates()) >= valid - validIds.size);
    const tickets = await ticketsSettled(validIds.size);
    expect(await duplicates()).toBe(valid - validIds.size);
    expect(valid - validIds.size).toBe(1); // 16-duplicate-delivery-of-01
    expect(tickets).toHaveLength(validIds.size);
    expect(new Set(tickets.map((t) => t.source.sourceId))).toEqual(validIds);
    for (const t of tickets) {
      expect(validateTicket(t)).toBe(true);
      expect(t.reporter.role).toBe('grid-worker');
      expect(t.channelCategory?.scheme).toBe('grid-affairs');
      expect(t.source.channel).toBe('grid-worker');
    }
    const jurisdiction = tickets.find((t) => t.source.sourceId === `${run}-GW-510114-20261120-0001`)?.location;
    expect(jurisdiction).toMatchObject({ district: '新都区', street: '新都街道', community: '桂湖社区', grid: '510114001001003' });
    const dls = await readTopic<DeadLetter>(hub.topics.dlq, (d, key) => key === connectorId, conn);
    expect(dls).toHaveLength(invalid);
    const h = health();
    // accepted = durable on intake.reports.v1 (the repeated report too); every invalid one rejected
    expect(h.counters).toMatchObject({ received: files.length, accepted: valid, rejected: invalid, failed: 0 });
  });

  it('the same Nats-Msg-Id twice is dropped by JetStream; the same report under a new Msg-Id is a hub duplicate', async () => {
    const id = `${run}-DUP-1`;
    const accepted = health().counters.accepted;
    const before = await duplicates();
    const a = await js.publish(subject, report(id), { msgID: `${run}-m1` });
    const b = await js.publish(subject, report(id), { msgID: `${run}-m1` });
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect(b.seq).toBe(a.seq);
    const c = await js.publish(subject, report(id), { msgID: `${run}-m2` });
    expect(c.duplicate).toBe(false);
    await allAcked();
    // two deliveries reached the hub (the JetStream duplicate never did), both durable
    expect(health().counters.accepted).toBe(accepted + 2);
    await until('the processor drops the second delivery', async () => (await duplicates()) >= before + 1);
    validIds.add(id);
    const tickets = await ticketsSettled(validIds.size);
    expect(await duplicates()).toBe(before + 1);
    expect(tickets.filter((t) => t.source.sourceId === id)).toHaveLength(1);
  });

  it('acks only after the Kafka write: a held write keeps the message un-acked (and not redelivered past ack_wait)', async () => {
    const id = `${run}-HELD-1`;
    const accepted = health().counters.accepted;
    out.close();
    let held: ConsumerInfo;
    let pubSeq: number;
    try {
      const pub = await js.publish(subject, report(id), { msgID: `${run}-held` });
      pubSeq = pub.seq;
      await until('delivery of the held message', async () => (await info()).delivered.stream_seq >= pub.seq);
      await sleep(3500); // longer than ackWaitMs: working() must keep the delivery alive
      held = await info();
    } finally {
      out.open();
    }
    expect(held.num_ack_pending).toBe(1);
    expect(held.ack_floor.stream_seq).toBeLessThan(pubSeq);
    expect(held.num_redelivered).toBe(0);
    expect(held.delivered.stream_seq).toBe(pubSeq);
    await allAcked();
    expect(health().counters.accepted).toBe(accepted + 1);
    validIds.add(id);
  });

  it('a failed Kafka write → nak → JetStream redelivers → one ticket', async () => {
    const id = `${run}-NAK-1`;
    const before = health().nats;
    out.failNext = 1;
    await js.publish(subject, report(id), { msgID: `${run}-nak` });
    await allAcked();
    const after = health();
    expect(after.nats.naks).toBe(before.naks + 1);
    expect(after.nats.redelivered).toBeGreaterThan(before.redelivered);
    expect(after.lastError?.code).toBe('INTAKE_ERR_SINK_UNAVAILABLE');
    validIds.add(id);
  });

  it('a delivery taken by an instance that died before acking comes back after ack_wait → one ticket', async () => {
    const id = `${run}-DEAD-1`;
    await hub.connector(connectorId)?.pause();
    await sleep(1500); // let the connector's last pull request expire
    await js.publish(subject, report(id), { msgID: `${run}-dead` });
    const dead = await js.consumers.get(stream, durable);
    const taken = await dead.fetch({ max_messages: 1, expires: 5000 });
    let got = 0;
    for await (const m of taken) {
      expect(JSON.parse(m.string())).toMatchObject({ reportId: id });
      got++; // never acked: the "instance" dies here
    }
    expect(got).toBe(1);
    await hub.connector(connectorId)?.resume();
    await allAcked();
    expect(health().nats.redelivered).toBeGreaterThan(0);
    validIds.add(id);

    const tickets = await ticketsSettled(validIds.size);
    expect(tickets).toHaveLength(validIds.size);
    expect(new Set(tickets.map((t) => t.source.sourceId))).toEqual(validIds);
    expect(new Set(tickets.map((t) => t.id)).size).toBe(validIds.size);
  });

  it('restart with lost acks (a new durable replays the whole stream) → no new ticket', async () => {
    await hub.stop();
    const replayDurable = `r${run}`;
    ({ hub, out } = makeHub(replayDurable));
    await hub.start();
    await until('replaying connector running', () => health().state === 'running', 20000);
    await allAcked(replayDurable);
    const h = health();
    // the whole stream again: every valid message is durable on intake.reports.v1 once more, and
    // the processor (its dedup state restored from intake.dedup-changelog.v1) drops every one
    expect(h.counters.rejected).toBe(invalid);
    expect(h.counters.accepted).toBe(h.counters.received - invalid);
    await until('the processor drops the replayed stream', async () => (await duplicates()) >= h.counters.accepted);
    const tickets = await ticketsSettled(validIds.size);
    expect(await duplicates()).toBe(h.counters.accepted);
    expect(tickets).toHaveLength(validIds.size);
  });

  it('health follows the NATS connection; stop is clean', async () => {
    const h = health();
    expect(h.state).toBe('running');
    expect(h.nats.server).toBeTruthy();
    expect(h.pollLagMs).not.toBeNull();
    await hub.connector(connectorId)?.stop();
    expect(health().state).toBe('stopped');
    expect(health().nats.connected).toBe(false);
  });
});
