import { runTag } from '../testing/run-tag';
import { restartOnFatal } from '../testing/fatal';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { validateConfig } from '../config/config';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import type { IntakeReport } from '../fleet/records';
import type { CanonicalTicket } from '../schema/types';
import { dropNamespace, kafkaCtl, kafkaOutput, readTopic, testConnection, testNamespace } from '../testing/kafka';
import { residentReport, signedHeaders, TEST_SECRET } from '../testing/signed';
import { until } from '../testing/wait';

/**
 * The broker down (issue 10 item 4): a hub started while Kafka is down serves /healthz at once,
 * says 503 on /readyz, keeps retrying instead of exiting, and becomes ready when Kafka comes back;
 * `writeTimeoutMs` bounds the whole wait of a sender, and a write that timed out never lands later.
 */
const run = runTag();
const ns = testNamespace('outage');
const conn = testConnection(ns);
const WRITE_TIMEOUT = 3000;
let hub: Hub | null = null;

function makeHub(): Hub {
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    output: kafkaOutput(ns, { writeTimeoutMs: WRITE_TIMEOUT, connectionTimeoutMs: 1000 }),
    connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET] } }],
  });
  return new Hub(config, { logger: silentLogger, registry: new Registry(), instanceId: `outage-${run}`, onFatal: restartOnFatal });
}

const body = (i: number): Buffer => Buffer.from(JSON.stringify(residentReport(i, { reportId: `RA-O-${run}-${i}` })));

afterAll(async () => {
  await hub?.stop();
  kafkaCtl('start');
  kafkaCtl('wait');
  await dropNamespace(ns, conn);
});

describe('Kafka down', () => {
  it('a hub started while Kafka is down answers /healthz at once, /readyz 503, keeps retrying, and is ready when Kafka returns', async () => {
    kafkaCtl('stop');
    hub = makeHub();
    const base = await hub.listen();
    let started = false;
    let failed: unknown = null;
    const starting = hub.start().then(
      () => (started = true),
      (e: unknown) => (failed = e),
    );
    for (let i = 0; i < 10; i++) {
      expect((await request(`${base}/healthz`)).statusCode).toBe(200);
      expect((await request(`${base}/readyz`)).statusCode).toBe(503);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(started).toBe(false);
    expect(failed).toBeNull();
    const down = await request(`${base}/intake/app`, { method: 'POST', body: body(0), headers: signedHeaders(body(0)) });
    expect(down.statusCode).toBe(503);
    kafkaCtl('start');
    kafkaCtl('wait');
    await starting;
    expect(failed).toBeNull();
    await until('ready', async () => (await request(`${base}/readyz`)).statusCode === 200, 120000, 500);
    const up = await request(`${base}/intake/app`, { method: 'POST', body: body(1), headers: signedHeaders(body(1)) });
    expect(up.statusCode).toBe(202);
    await until('its ticket', async () => (await readTopic<CanonicalTicket>(hub!.topics.tickets, (t) => t.source.sourceId === `RA-O-${run}-1`, conn)).length === 1, 120000, 1000);
  });

  it('with the broker gone, every sender is answered 503 within writeTimeoutMs; none of those writes lands later', async () => {
    const h = hub as Hub;
    const base = `http://${h.app.server.address() && typeof h.app.server.address() === 'object' ? `127.0.0.1:${(h.app.server.address() as { port: number }).port}` : ''}`;
    kafkaCtl('stop');
    const answers = await Promise.all(
      Array.from({ length: 40 }, async (_, k) => {
        const i = 100 + k;
        const t0 = Date.now();
        const res = await request(`${base}/intake/app`, { method: 'POST', body: body(i), headers: signedHeaders(body(i)), headersTimeout: 60000 });
        await res.body.dump();
        return { i, status: res.statusCode, ms: Date.now() - t0 };
      }),
    );
    kafkaCtl('start');
    kafkaCtl('wait');
    expect(answers.every((a) => a.status === 503)).toBe(true);
    // the whole wait, queueing behind an in-flight batch included, stays within the write timeout
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThanOrEqual(WRITE_TIMEOUT + 1500);
    await until('ready again', async () => (await request(`${base}/readyz`)).statusCode === 200, 120000, 500);
    // give any stray transaction every chance to land: it must not (aborted, or fenced)
    await new Promise((r) => setTimeout(r, 12000));
    const landed = await readTopic<IntakeReport>(h.topics.reports, (r) => answers.some((a) => r.ticket.source.sourceId === `RA-O-${run}-${a.i}`), conn);
    expect(landed.map((r) => r.ticket.source.sourceId)).toEqual([]);
  });
});
