import { runTag } from '../../core/testing/run-tag';
import { restartOnFatal } from '../../core/testing/fatal';
import { Registry } from 'prom-client';
import { Agent, request } from 'undici';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import type { CanonicalTicket, DeadLetter } from '../../core/schema/types';
import { validateDeadLetter, validateTicket } from '../../core/schema/validators';
import { dropNamespace, kafkaCtl, kafkaOutput, readTopic, testConnection, testNamespace } from '../../core/testing/kafka';
import { residentReport, signedHeaders, TEST_SECRET } from '../../core/testing/signed';
import { until } from '../../core/testing/wait';

/**
 * The foundation's acceptance tests, against the real broker started by `npm run test:all`:
 * every ticket is read back with a real read_committed consumer. The hub runs `--role all`
 * (intake → intake.reports.v1 → processor → tickets.canonical.v1, exactly-once).
 */
const run = runTag();
const ns = testNamespace('ra');
const conn = testConnection(ns);
const connectorId = `ra-${run}`;
const prefix = `RA-${run}-`;
const agent = new Agent({ connections: 64, pipelining: 0 });

let hub: Hub;
let base: string;

function report(i: number, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify(residentReport(i, { reportId: `${prefix}${String(i).padStart(6, '0')}`, ...extra })));
}

async function post(body: Buffer, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown>; retryAfter: string | undefined }> {
  const res = await request(`${base}/intake/${connectorId}`, { method: 'POST', body, headers, dispatcher: agent, headersTimeout: 60000, bodyTimeout: 60000 });
  const text = await res.body.text();
  const ra = res.headers['retry-after'];
  return { status: res.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, retryAfter: typeof ra === 'string' ? ra : undefined };
}

async function pool<T>(n: number, concurrency: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        out[i] = await f(i);
      }
    }),
  );
  return out;
}

const ourTickets = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(hub.topics.tickets, (t) => t.source.connectorId === connectorId, conn);
const ticketCount = async (): Promise<number> => (await ourTickets()).length;

beforeAll(async () => {
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    output: kafkaOutput(ns, { writeTimeoutMs: 5000, connectionTimeoutMs: 1000 }),
    connectors: [{ id: connectorId, type: 'resident-app', config: { secrets: [TEST_SECRET], maxBodyBytes: 65536 } }],
  });
  hub = new Hub(config, { logger: silentLogger, registry: new Registry(), instanceId: `ra-${run}`, onFatal: restartOnFatal });
  await hub.start();
  base = await hub.listen();
});

afterAll(async () => {
  await hub.stop();
  await agent.close();
  await dropNamespace(ns, conn);
});

describe('resident-app webhook on the real Kafka broker', () => {
  it('1,000 signed posts → exactly 1,000 schema-valid tickets; the same 1,000 again (202, same ids) → still 1,000', async () => {
    const first = await pool(1000, 50, (i) => {
      const b = report(i);
      return post(b, signedHeaders(b));
    });
    expect(first.filter((r) => r.status === 202)).toHaveLength(1000);
    const ids = new Set(first.map((r) => r.json.ticketId as string));
    expect(ids.size).toBe(1000);

    await until('1,000 tickets', async () => (await ticketCount()) >= 1000, 120000, 500);
    const tickets = await ourTickets();
    expect(tickets).toHaveLength(1000);
    for (const t of tickets) expect(validateTicket(t)).toBe(true);
    expect(new Set(tickets.map((t) => t.id))).toEqual(ids);
    expect(new Set(tickets.map((t) => t.source.sourceId)).size).toBe(1000);

    const second = await pool(1000, 50, (i) => {
      const b = report(i);
      return post(b, signedHeaders(b));
    });
    expect(second.filter((r) => r.status === 202)).toHaveLength(1000);
    expect(second.map((r) => r.json.ticketId)).toEqual(first.map((r) => r.json.ticketId));
    const dups = async (): Promise<number> => ((await hub.metrics.registry.getSingleMetric('intake_duplicates_total')?.get())?.values ?? []).reduce((n, v) => n + v.value, 0);
    await until('the processor drops the 1,000 redeliveries', async () => (await dups()) >= 1000, 120000, 500);
    expect(await ourTickets()).toHaveLength(1000);
  });

  it('malformed, oversized, badly signed and stale payloads → the right 4xx and one dead-letter record each', async () => {
    const cases: { name: string; body: Buffer; headers: Record<string, string>; status: number; code: string }[] = [];
    const malformed = Buffer.from('{"reportId": "x", ');
    cases.push({ name: 'malformed', body: malformed, headers: signedHeaders(malformed), status: 400, code: 'INTAKE_ERR_PAYLOAD_INVALID' });
    const big = report(5001, { text: '长'.repeat(30000) });
    cases.push({ name: 'oversized', body: big, headers: signedHeaders(big), status: 413, code: 'INTAKE_ERR_PAYLOAD_TOO_LARGE' });
    const bad = report(5002);
    cases.push({ name: 'bad signature', body: bad, headers: { ...signedHeaders(bad), 'webhook-signature': 'v1,' + Buffer.alloc(32, 7).toString('base64') }, status: 401, code: 'INTAKE_ERR_SIGNATURE' });
    const stale = report(5003);
    cases.push({ name: 'stale', body: stale, headers: signedHeaders(stale, { timestampSec: Math.floor(Date.now() / 1000) - 600 }), status: 401, code: 'INTAKE_ERR_STALE' });
    const media = report(5004);
    cases.push({ name: 'media type', body: media, headers: signedHeaders(media, { contentType: 'text/plain' }), status: 415, code: 'INTAKE_ERR_UNSUPPORTED_MEDIA_TYPE' });

    const ids: (string | undefined)[] = [];
    for (const c of cases) {
      const r = await post(c.body, c.headers);
      expect({ name: c.name, status: r.status }).toEqual({ name: c.name, status: c.status });
      const err = r.json.error as { code: string; deadLetterId?: string };
      expect(err.code).toBe(c.code);
      // refused before the signature check (413, 415, 401): the sender learns no internal id
      if (c.status === 400) expect(err.deadLetterId).toMatch(/^[0-9A-Z]{26}$/);
      else expect(err.deadLetterId).toBeUndefined();
      ids.push(err.deadLetterId);
    }
    const dls = await readTopic<DeadLetter>(hub.topics.dlq, (d, key) => key === connectorId, conn);
    expect(dls.map((d) => d.error.code).sort()).toEqual(cases.map((c) => c.code).sort());
    for (const d of dls) expect(validateDeadLetter(d)).toBe(true);
    const byCode = new Map(dls.map((d) => [d.error.code, d]));
    cases.forEach((c, i) => {
      const d = byCode.get(c.code) as DeadLetter;
      if (ids[i]) expect(d.id).toBe(ids[i]);
      const kept = Buffer.from(d.raw.body, 'base64');
      expect(kept.equals(c.body.subarray(0, kept.length))).toBe(true);
      expect(kept.length).toBe(Math.min(c.body.length, c.status === 400 ? 65536 : 512));
    });
    const tickets = await ourTickets();
    expect(tickets.filter((t) => t.source.sourceId >= `${prefix}005000`)).toHaveLength(0);
  });

  it('broker stopped → 503 with Retry-After, never 2xx; after it returns every 2xx post is on the topic', async () => {
    const acked = new Set<string>();
    const statuses = new Map<number, number>();
    let sawRetryAfter = false;
    let i = 10000;
    let stopFlag = false;
    const loops = Array.from({ length: 8 }, async () => {
      while (!stopFlag) {
        const n = i++;
        const b = report(n);
        let r: Awaited<ReturnType<typeof post>>;
        try {
          r = await post(b, signedHeaders(b));
        } catch {
          continue;
        }
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 202 || r.status === 200) acked.add(`${prefix}${String(n).padStart(6, '0')}`);
        else if (r.status === 503 && r.retryAfter === '5') sawRetryAfter = true;
        if (r.status === 503) await new Promise((res) => setTimeout(res, 100));
      }
    });
    await new Promise((res) => setTimeout(res, 1500));
    kafkaCtl('stop');
    const ackedAtStop = acked.size;
    // at least 8 s down; /readyz must turn 503 while the broker is down (the probe notices within
    // its call timeout and backoff, later on a loaded machine: polled up to 30 s, not read once)
    const downSince = Date.now();
    let readyWhileDown = 0;
    while (Date.now() - downSince < 30000) {
      readyWhileDown = (await request(`${base}/readyz`)).statusCode;
      if (readyWhileDown === 503 && Date.now() - downSince >= 8000) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    kafkaCtl('start');
    kafkaCtl('wait');
    // keep posting until the hub accepts again
    const deadline = Date.now() + 90000;
    const before = acked.size;
    while (acked.size < before + 50 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 250));
    stopFlag = true;
    await Promise.all(loops);

    expect(ackedAtStop).toBeGreaterThan(0);
    expect(sawRetryAfter).toBe(true);
    expect(readyWhileDown).toBe(503);
    expect([...statuses.keys()].sort()).toEqual([202, 503]);
    expect(acked.size).toBeGreaterThanOrEqual(before + 50);
    const missing = async (): Promise<string[]> => {
      const onTopic = new Set((await ourTickets()).map((t) => t.source.sourceId));
      return [...acked].filter((id) => !onTopic.has(id));
    };
    await until('a ticket for every acknowledged post', async () => (await missing()).length === 0, 120000, 1000).catch(() => undefined);
    expect(await missing()).toEqual([]);
    const tickets = await ourTickets();
    expect(tickets.length).toBe(new Set(tickets.map((t) => t.id)).size);
  });
});
