import { runTag } from '../testing/run-tag';
import { restartOnFatal } from '../testing/fatal';
import type { IncomingMessage } from 'node:http';
import { Registry } from 'prom-client';
import { Agent, request } from 'undici';
import { validateConfig } from '../config/config';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import type { CanonicalTicket } from '../schema/types';
import type { ListingSim } from '../sdk/poller-sim';
import { dropNamespace, kafkaOutput, readRecords, testConnection, testNamespace, topicOffsets } from '../testing/kafka';
import { residentReport, signedHeaders, TEST_SECRET } from '../testing/signed';
import { FAST_POLLER, until } from '../testing/wait';
import { formatBeijingTime, type HotlineRecord } from '../../connectors/hotline-12345/normalize';
import { startHotlineSim } from '../../connectors/hotline-12345/sim';

/**
 * Two `--role all` hubs on one Kafka and one polled upstream (issue 10): webhook redeliveries
 * alternate between them, the upstream gets new work orders while one hub stops and comes back.
 * Asserted: every acknowledged report has exactly one ticket and no ticket record is written twice;
 * the upstream is polled by one hub at a time (never both within one lease), and the lease moves
 * when its owner stops.
 */
const run = runTag();
const ns = testNamespace('fleet');
const conn = testConnection(ns);
const agent = new Agent({ connections: 32 });
let sim: ListingSim<HotlineRecord>;
const pollers: { at: number; who: string }[] = [];
const hubs: Record<string, Hub | null> = { a: null, b: null };
const bases: Record<string, string> = {};

function workOrder(i: number): HotlineRecord {
  const t = Date.UTC(2026, 0, 5, 0, 0) + i * 1000;
  return { GDBH: `GD-F-${run}-${String(i).padStart(5, '0')}`, LDSJ: formatBeijingTime(t), GXSJ: formatBeijingTime(t), LDHM: `1390000${String(i % 10000).padStart(4, '0')}`, LDRXM: '测某', SQNR: `市民来电反映第${i}号问题：小区${i % 40}栋门口路灯不亮。`, SQLX: '投诉', JJCD: '一般' };
}

function makeHub(who: 'a' | 'b'): Hub {
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    output: kafkaOutput(ns, { writeTimeoutMs: 8000 }),
    connectors: [
      { id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET] } },
      // the same upstream; only the token differs, so the test can tell who polls
      { id: 'hl', type: 'hotline-12345', config: { baseUrl: sim.url, pageSize: 20, ...FAST_POLLER, apiToken: `hub-${who}` } },
    ],
  });
  return new Hub(config, { logger: silentLogger, registry: new Registry(), instanceId: `fleet-${run}-${who}`, onFatal: restartOnFatal });
}

async function startHub(who: 'a' | 'b'): Promise<void> {
  const h = makeHub(who);
  hubs[who] = h;
  bases[who] = await h.listen();
  await h.start();
}

async function post(who: 'a' | 'b', body: Buffer): Promise<number> {
  const base = bases[who];
  if (!base || !hubs[who]) return 0;
  try {
    const res = await request(`${base}/intake/app`, { method: 'POST', body, headers: signedHeaders(body), dispatcher: agent });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0; // the hub is stopping: the sender retries elsewhere
  }
}

beforeAll(async () => {
  sim = await startHotlineSim({ records: Array.from({ length: 120 }, (_, i) => workOrder(i)), charset: 'gbk', onRequest: (req: IncomingMessage) => pollers.push({ at: Date.now(), who: String(req.headers.authorization ?? '?') }) });
  await startHub('a');
  await startHub('b');
});

afterAll(async () => {
  for (const h of Object.values(hubs)) await h?.stop();
  await sim.close();
  await agent.close();
  await dropNamespace(ns, conn);
});

describe('two --role all hubs on one Kafka and one upstream', () => {
  it('no duplicate ticket; redeliveries across instances are one ticket; one poller at a time; the lease moves on stop', async () => {
    const sent = new Map<string, number>(); // source id → 202 count
    const deliver = async (i: number, first: 'a' | 'b'): Promise<void> => {
      const body = Buffer.from(JSON.stringify(residentReport(i, { reportId: `RA-F-${run}-${i}` })));
      const other = first === 'a' ? 'b' : 'a';
      // the first try, a redelivery to the other instance, and sometimes both at once
      const statuses = i % 5 === 0 ? await Promise.all([post(first, body), post(other, body)]) : [await post(first, body), await post(other, body)];
      const ok = statuses.filter((s) => s === 202).length;
      if (ok > 0) sent.set(`RA-F-${run}-${i}`, ok);
    };
    for (let i = 0; i < 150; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => deliver(i + k, (i + k) % 2 === 0 ? 'a' : 'b')));

    // one poller owns the source; then the owner stops, the other takes over, new work orders arrive
    await until('the upstream is polled', () => pollers.length > 0);
    const owner = (): string | null => {
      const own = (['a', 'b'] as const).filter((w) => (hubs[w]?.connector('hl')?.health().state ?? 'standby') !== 'standby');
      return own.length === 1 ? (own[0] as string) : own.length === 0 ? null : 'both';
    };
    await until('one owner', () => owner() === 'a' || owner() === 'b');
    const first = owner() as 'a' | 'b';
    const second = first === 'a' ? 'b' : 'a';
    expect(pollers.every((p) => p.who === `hub-${first}`)).toBe(true);
    const stoppedAt = Date.now();
    await hubs[first]?.stop();
    hubs[first] = null;
    sim.add(...Array.from({ length: 60 }, (_, i) => workOrder(120 + i)));
    for (let i = 150; i < 200; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => deliver(i + k, second)));
    await until('the lease moved to the other hub', () => pollers.some((p) => p.at > stoppedAt && p.who === `hub-${second}`), 60000);
    await startHub(first);
    for (let i = 200; i < 260; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => deliver(i + k, (i + k) % 2 === 0 ? 'a' : 'b')));

    // every acknowledged report and every listed work order → exactly one ticket, once
    const expected = new Set([...sent.keys(), ...Array.from({ length: 180 }, (_, i) => workOrder(i).GDBH)]);
    const tickets = async (): Promise<CanonicalTicket[]> =>
      (await readRecords((hubs[second] as Hub).topics.tickets, conn)).flatMap((r) => (r.value === null ? [] : [JSON.parse(r.value) as CanonicalTicket]));
    await until('a ticket for every acknowledged report', async () => new Set((await tickets()).map((t) => t.source.sourceId)).size >= expected.size, 120000, 1000);
    await new Promise((r) => setTimeout(r, 2000)); // late duplicates would show up now
    const all = await tickets();
    const ids = all.map((t) => t.id);
    expect(ids.length).toBe(new Set(ids).size); // no ticket record twice
    expect(new Set(all.map((t) => t.source.sourceId))).toEqual(expected);

    // polled by one hub at a time: requests of the two tokens never interleave inside one lease
    let switches = 0;
    for (let i = 1; i < pollers.length; i++) if ((pollers[i] as { who: string }).who !== (pollers[i - 1] as { who: string }).who) switches++;
    expect(switches).toBeLessThanOrEqual(3); // a → b when a stopped, maybe b → a after a rejoined
    const lso = await topicOffsets((hubs[second] as Hub).topics.tickets, conn);
    for (const p of lso) expect(p.stable).toBe(p.high); // no transaction left open
  });
});
