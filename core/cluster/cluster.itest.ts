import { randomUUID } from 'node:crypto';
import { restartOnFatal } from '../testing/fatal';
import { Registry } from 'prom-client';
import { Agent, request } from 'undici';
import { validateConfig, type HubConfig } from '../config/config';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import type { CanonicalTicket, ClusterEvent } from '../schema/types';
import { validateClusterEvent } from '../schema/validators';
import { topicsFor } from '../outputs/topics';
import { defaultStages } from '../stages';
import { dropNamespace, kafkaOutput, readTopic, testConnection, testNamespace } from '../testing/kafka';
import { residentReport, signedHeaders, TEST_SECRET } from '../testing/signed';
import { runTag } from '../testing/run-tag';
import { until } from '../testing/wait';
import { MergeMap } from './tipdm';

/**
 * Cluster events on the real broker (tickets.clusters.v1), written by the processor of a
 * `--role all` hub, and a restart mid-stream: a new hub whose processor rebuilds its clustering
 * state from intake.ticket-changelog.v1 must end with the same clusters as an uninterrupted run.
 *
 * The file has its own namespace, shared by its streams (a restored processor reads every ticket
 * of the namespace in the horizon): each stream gets estate names, a district and coordinates of
 * its own (a fresh random per stream), and phones of its own (a shared contact token would make
 * repeat links into another stream), so no other ticket can join its clusters.
 *
 * Clustering depends on the order in which reports reach their locality's partition, and reports
 * with different dedup keys pass through different intake.reports.v1 partitions: each report is
 * delivered only once the previous one's ticket is published, so the order is the posting order.
 */
const run = runTag();
const ns = testNamespace('cl');
const conn = testConnection(ns);
const agent = new Agent({ connections: 8, pipelining: 0 });
const CHARS = Array.from('金银铜铁春夏秋冬梅兰竹菊松柏桃李');

interface Stream {
  /** Variant: a distinct estate / district / coordinate block per stream of this run. */
  v: string;
  connectorId: string;
  prefix: string;
  reports: Record<string, unknown>[];
}

/**
 * 16 reports, interleaved: 8 residents on one broken street light at estate A (→ created, grew…,
 * and hot at the 5th distinct reporter), 4 on a missing manhole cover at the same estate (another
 * problem: another cluster), 3 on uncollected garbage at estate B 300 m away, and one unrelated
 * report at estate B.
 */
function stream(v: string, variantIndex: number): Stream {
  const connectorId = `cl-${run}-${variantIndex}`;
  const prefix = `CL-${run}-${variantIndex}-`;
  // Names, district, coordinates and phones of this stream only (a fresh random per stream).
  const hex = randomUUID().replace(/-/g, '');
  const tag = Array.from(hex.slice(0, 5), (h) => CHARS[parseInt(h, 16)] as string).join('');
  const estateA = `${tag}苑`;
  const estateB = `${tag}花园`;
  const district = `测${tag}${v}区`;
  const lng = 119 + (parseInt(hex.slice(5, 9), 16) / 65536) * 2;
  const lat = 28 + (parseInt(hex.slice(9, 13), 16) / 65536) * 2;
  const phoneBase = parseInt(hex.slice(13, 20), 16) % 90_000_000;
  const light = [
    `${estateA}门口路灯不亮，晚上一片漆黑`,
    `${estateA}的路灯坏了好几天了，晚上出门很不方便`,
    `${estateA}路灯全灭了，老人晚上散步看不见路`,
    `反映${estateA}门口路灯损坏不亮，存在安全隐患`,
    `${estateA}路灯晚上不亮已经三天`,
    `${estateA}门口的路灯坏了，请派人修一下`,
    `${estateA}路灯不亮，孩子放学回家很黑`,
    `${estateA}路灯一直没修好，晚上漆黑一片`,
  ];
  const manhole = [
    `${estateA}东门井盖丢了，很危险`,
    `${estateA}东门的窨井盖不见了，有人差点掉下去`,
    `${estateA}东门井盖缺失没有任何警示`,
    `${estateA}东门下水道井盖没了`,
  ];
  const garbage = [`${estateB}垃圾好几天没人清运，臭气熏天`, `${estateB}垃圾堆满了没人收`, `${estateB}生活垃圾堆积发臭，没人清理`];
  const other = [`${estateB}广场舞音响声音太大，晚上十点还在跳`];
  const order: [string[], number, number][] = [];
  // interleaving: light ×8, manhole ×4, garbage ×3, other ×1
  const plan = ['L', 'M', 'L', 'G', 'L', 'M', 'L', 'G', 'L', 'O', 'L', 'M', 'L', 'G', 'L', 'M'];
  const next = { L: 0, M: 0, G: 0, O: 0 } as Record<string, number>;
  for (const k of plan) {
    const list = k === 'L' ? light : k === 'M' ? manhole : k === 'G' ? garbage : other;
    const i = next[k] as number;
    next[k] = i + 1;
    order.push([list, i, k === 'G' || k === 'O' ? 0.003 : 0]);
  }
  const t0 = Date.now() - 3_600_000;
  const reports = order.map(([list, i, dLng], n) =>
    residentReport(n, {
      reportId: `${prefix}${String(n).padStart(3, '0')}`,
      openid: `o${run}${v}${n}`,
      phone: `139${String(phoneBase + n).padStart(8, '0')}`,
      nickname: '居民',
      category: '市政设施',
      text: list[i] as string,
      photos: [],
      location: { lng: lng + dLng + n * 1e-5, lat, coordType: 'wgs84', address: null, district },
      submittedAt: new Date(t0 + n * 60_000).toISOString(),
    }),
  );
  return { v, connectorId, prefix, reports };
}

function hubConfig(s: Stream): HubConfig {
  return validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    output: kafkaOutput(ns, { writeTimeoutMs: 5000, connectionTimeoutMs: 1000 }),
    connectors: [{ id: s.connectorId, type: 'resident-app', config: { secrets: [TEST_SECRET] } }],
  });
}

let hubs = 0;

async function startHub(s: Stream): Promise<{ hub: Hub; base: string }> {
  const config = hubConfig(s);
  const hub = new Hub(config, { logger: silentLogger, registry: new Registry(), stages: defaultStages(config).stages, instanceId: `cl-${run}-${hubs++}`, onFatal: restartOnFatal });
  await hub.start();
  return { hub, base: await hub.listen() };
}

async function post(base: string, s: Stream, body: Record<string, unknown>): Promise<string> {
  const b = Buffer.from(JSON.stringify(body));
  const res = await request(`${base}/intake/${s.connectorId}`, { method: 'POST', body: b, headers: signedHeaders(b), dispatcher: agent });
  const json = JSON.parse(await res.body.text()) as Record<string, unknown>;
  if (res.statusCode !== 202) throw new Error(`post ${String(body.reportId)}: ${res.statusCode} ${JSON.stringify(json)}`);
  return json.ticketId as string;
}

/** Posts a report and waits until the processor published its ticket (see the file comment). */
async function deliver(base: string, s: Stream, body: Record<string, unknown>): Promise<void> {
  const id = await post(base, s, body);
  await until(`the ticket of ${String(body.reportId)}`, async () => (await ticketsOf(s)).some((t) => t.id === id), 60_000, 50);
}

async function ticketsOf(s: Stream): Promise<CanonicalTicket[]> {
  const ts = await readTopic<CanonicalTicket>(topicsFor(ns).tickets, (t) => t.source.connectorId === s.connectorId, conn);
  return ts.sort((a, b) => (a.id < b.id ? -1 : 1));
}

async function eventsOf(ids: Set<string>): Promise<ClusterEvent[]> {
  return readTopic<ClusterEvent>(topicsFor(ns).clusters, (e) => e.ticketId !== null && ids.has(e.ticketId), conn);
}

/**
 * The final partition, independent of ticket ids: for each report (by index in the stream), the
 * index of its cluster's primary report, after applying merged events.
 */
function partition(s: Stream, tickets: CanonicalTicket[], events: ClusterEvent[]): number[] {
  const indexOf = new Map(tickets.map((t) => [t.id, Number(t.source.sourceId.slice(s.prefix.length))]));
  const merges = new MergeMap();
  merges.apply(events.filter((e) => e.type === 'merged'));
  const out = new Array<number>(s.reports.length).fill(-1);
  for (const t of tickets) {
    const i = indexOf.get(t.id) as number;
    const cid = merges.resolve(t.cluster.id as string);
    out[i] = indexOf.get(cid.slice(3)) ?? -2;
  }
  return out;
}

afterAll(async () => {
  await agent.close();
  await dropNamespace(ns, conn);
});

describe('clustering on the real Kafka broker', () => {
  it('publishes schema-valid created/grew/hot events consistent with the tickets', async () => {
    const s = stream('甲', 0);
    const { hub, base } = await startHub(s);
    try {
      for (const r of s.reports) await deliver(base, s, r);
    } finally {
      await hub.stop();
    }
    const tickets = await ticketsOf(s);
    expect(tickets).toHaveLength(16);
    const ids = new Set(tickets.map((t) => t.id));
    const events = await eventsOf(ids);
    for (const e of events) expect({ id: e.id, valid: validateClusterEvent(e), errors: validateClusterEvent.errors ?? null }).toEqual({ id: e.id, valid: true, errors: null });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    const byIndex = new Map(tickets.map((t) => [Number(t.source.sourceId.slice(s.prefix.length)), t]));
    const byId = new Map(tickets.map((t) => [t.id, t]));
    const part = partition(s, tickets, events);
    // 4 clusters: light (8), manhole (4), garbage (3), and the unrelated report alone.
    const groups = new Map<number, number[]>();
    part.forEach((p, i) => groups.set(p, [...(groups.get(p) ?? []), i]));
    const sizes = [...groups.values()].map((g) => g.length).sort((a, b) => b - a);
    expect(sizes).toEqual([8, 4, 3, 1]);
    expect(groups.get(0)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);

    // Every link event names a ticket of this run whose published cluster is the event's cluster.
    for (const e of events) {
      const t = byId.get(e.ticketId as string) as CanonicalTicket;
      expect(t.cluster.id).toBe(e.clusterId);
      expect(e.primaryTicketId).toBe(e.clusterId.slice(3));
      if (e.type !== 'hot') {
        expect(t.cluster.role).toBe('member');
        expect(e.link?.from).toBe(t.id);
        if (!ids.has(e.link?.to as string)) throw new Error(`link outside the run: ${JSON.stringify(e)} ticket ${JSON.stringify(t)}`);
        expect(e.link?.score).toMatchObject({ total: t.cluster.score?.total });
      }
    }
    const light = byIndex.get(0) as CanonicalTicket;
    const lightEvents = events.filter((e) => e.clusterId === (light.cluster.id as string));
    expect(lightEvents.filter((e) => e.type === 'created')).toHaveLength(1);
    expect(lightEvents.filter((e) => e.type === 'grew')).toHaveLength(6);
    expect(lightEvents.filter((e) => e.type === 'grew').map((e) => e.size)).toEqual([3, 4, 5, 6, 7, 8]);
    const hot = lightEvents.filter((e) => e.type === 'hot');
    expect(hot).toHaveLength(1);
    expect(hot[0]?.ticketId).toBe(byIndex.get(8)?.id); // the 5th light report: 5 distinct reporters
    expect(hot[0]?.hot).toMatchObject({ reporters: 5, threshold: 5 });
    expect(events.filter((e) => e.type === 'hot')).toHaveLength(1);
    // The unrelated report opened no cluster event.
    expect(events.some((e) => e.ticketId === byIndex.get(9)?.id)).toBe(false);
  }, 600_000);

  it('a hub stopped mid-stream and a new hub restored from intake.ticket-changelog.v1 end with the same clusters as an uninterrupted run', async () => {
    const a = stream('乙', 1);
    const b = stream('丙', 2);
    const h = await startHub(a);
    try {
      for (const r of a.reports) await deliver(h.base, a, r);
    } finally {
      await h.hub.stop();
    }

    const cut = 7;
    const first = await startHub(b);
    try {
      // the first 7 processed (their state is in the changelog) before the hub stops
      for (const r of b.reports.slice(0, cut)) await deliver(first.base, b, r);
    } finally {
      await first.hub.stop();
    }
    const second = await startHub(b); // its processor rebuilds the state from intake.ticket-changelog.v1
    try {
      for (const r of b.reports.slice(cut)) await deliver(second.base, b, r);
    } finally {
      await second.hub.stop();
    }

    const ta = await ticketsOf(a);
    const tb = await ticketsOf(b);
    expect(ta).toHaveLength(16);
    expect(tb).toHaveLength(16);
    const ea = await eventsOf(new Set(ta.map((t) => t.id)));
    const eb = await eventsOf(new Set(tb.map((t) => t.id)));
    const pa = partition(a, ta, ea);
    expect(new Set(pa).size).toBe(4);
    expect(partition(b, tb, eb)).toEqual(pa);
    // The same events, type for type and report for report (no duplicates, none lost).
    const shape = (s: Stream, ts: CanonicalTicket[], es: ClusterEvent[]): string[] => {
      const idx = new Map(ts.map((t) => [t.id, Number(t.source.sourceId.slice(s.prefix.length))]));
      return es.map((e) => `${idx.get(e.ticketId as string)}:${e.type}:${e.size}:${e.reporterCount}`).sort();
    };
    expect(shape(b, tb, eb)).toEqual(shape(a, ta, ea));
    for (const e of eb) expect(validateClusterEvent(e)).toBe(true);
  }, 1_200_000);
});
