import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { FakeClock } from './clock';
import { validateConfig } from './config/config';
import { Hub } from './hub';
import { silentLogger } from './logger';
import { TOPICS } from './outputs/topics';
import type { CanonicalTicket, DeadLetter, RawEnvelope } from './schema/types';
import type { IntakeReport } from './fleet/records';
import { validateDeadLetter, validateRawEnvelope, validateTicket } from './schema/validators';
import { createRawSealer } from './pii/raw-seal';
import { residentReport, signedHeaders, TEST_SECRET } from './testing/signed';
import { bearer, TEST_TOKEN_ENTRIES } from './testing/admin';

function makeHub(dir: string, clock = new FakeClock(Date.now())): Hub {
  const config = validateConfig({
    output: { type: 'embedded', embedded: { dir } },
    admin: { tokens: TEST_TOKEN_ENTRIES },
    connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET], maxBodyBytes: 4096 } }],
  });
  return new Hub(config, { clock, logger: silentLogger, registry: new Registry() });
}

/** Every record of a topic, once the embedded processor has processed everything written so far. */
async function records<T>(hub: Hub, topic: string): Promise<T[]> {
  await hub.settled();
  const out: T[] = [];
  await hub.log.scan(topic, 0, (r) => {
    if (r.value !== null) out.push(JSON.parse(r.value) as T);
  });
  return out;
}

describe('resident-app webhook → pipeline → embedded log', () => {
  let dir: string;
  let hub: Hub;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hub-'));
    hub = makeHub(dir);
    await hub.start();
  });
  afterEach(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: Buffer, headers: Record<string, string>) => hub.app.inject({ method: 'POST', url: '/intake/app', payload: body, headers });

  it('accepts a signed report with 202 and writes one schema-valid, masked ticket', async () => {
    const body = Buffer.from(JSON.stringify(residentReport(1)));
    const res = await post(body, signedHeaders(body));
    expect(res.statusCode).toBe(202);
    const { ticketId } = res.json() as { ticketId: string };
    const tickets = await records<CanonicalTicket>(hub, TOPICS.tickets);
    expect(tickets).toHaveLength(1);
    const t = tickets[0] as CanonicalTicket;
    expect(validateTicket(t)).toBe(true);
    expect(t.id).toBe(ticketId);
    expect(t.reporter.phoneMasked).toBe('138****0001');
    expect(t.reporter.nameMasked).toBe('张*');
    expect(t.text).not.toContain('13812345678');
    expect(JSON.stringify(t)).not.toContain('13810000001');
    expect(t.location.point?.sourceCrs).toBe('GCJ-02');
    expect(t.classification.method).toBe('none');
    expect(t.routing.status).toBe('unrouted');
    const reports = await records<IntakeReport>(hub, TOPICS.reports);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.raw.sha256).toBe(t.source.rawRef.sha256);
    expect(t.source.rawRef.topic).toBe(TOPICS.reports);
    expect(t.dedup.key).toBe('app:RA-T-000001');
  });

  it('answers a redelivery with 202 and the same ticket id; the processor keeps one ticket', async () => {
    const body = Buffer.from(JSON.stringify(residentReport(2)));
    const a = await post(body, signedHeaders(body));
    const b = await post(body, signedHeaders(body));
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(202);
    expect(b.json()).toEqual(a.json());
    expect(await records(hub, TOPICS.reports)).toHaveLength(2);
    expect(await records(hub, TOPICS.tickets)).toHaveLength(1);
    expect((await hub.admin.app.inject({ url: '/metrics', headers: bearer('viewer') })).body).toContain('intake_duplicates_total{connector="app",channel="resident-app"} 1');
  });

  it('makes one ticket from concurrent deliveries of the same report', async () => {
    const body = Buffer.from(JSON.stringify(residentReport(3)));
    const res = await Promise.all(Array.from({ length: 10 }, () => post(body, signedHeaders(body))));
    expect(res.map((r) => r.statusCode)).toEqual(Array(10).fill(202));
    expect(new Set(res.map((r) => (r.json() as { ticketId: string }).ticketId)).size).toBe(1);
    expect(await records(hub, TOPICS.tickets)).toHaveLength(1);
  });

  it.each([
    ['malformed JSON', Buffer.from('{"reportId": '), 400, 'INTAKE_ERR_PAYLOAD_INVALID'],
    ['a missing field', Buffer.from(JSON.stringify({ ...residentReport(4), text: undefined })), 400, 'INTAKE_ERR_PAYLOAD_INVALID'],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 400, 'INTAKE_ERR_BAD_ENCODING'],
  ])('rejects %s from an authenticated sender with the right status, the dead-letter id and the raw bytes', async (_name, body, status, code) => {
    const res = await post(body, signedHeaders(body));
    expect(res.statusCode).toBe(status);
    const err = (res.json() as { error: { code: string; message: string; deadLetterId: string } }).error;
    expect(err.code).toBe(code);
    expect(err.message.length).toBeGreaterThan(5);
    const dl = await records<DeadLetter>(hub, TOPICS.dlq);
    expect(dl).toHaveLength(1);
    const d = dl[0] as DeadLetter;
    expect(validateDeadLetter(d)).toBe(true);
    expect(d.id).toBe(err.deadLetterId);
    expect(d.error.code).toBe(code);
    expect(d.error.httpStatus).toBe(status);
    expect(Buffer.from(d.raw.body, 'base64').equals(body)).toBe(true);
    expect(await records(hub, TOPICS.tickets)).toHaveLength(0);
  });

  it.each([
    ['an oversized body', Buffer.from(JSON.stringify(residentReport(5, { text: '很'.repeat(5000) }))), undefined, 413, 'INTAKE_ERR_PAYLOAD_TOO_LARGE'],
    ['a wrong media type', Buffer.from('text=hello'), { contentType: 'application/x-www-form-urlencoded' }, 415, 'INTAKE_ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['a bad signature', Buffer.from(JSON.stringify(residentReport(6))), { secret: 'whsec_' + Buffer.from('another-secret-of-enough-length').toString('base64') }, 401, 'INTAKE_ERR_SIGNATURE'],
    ['a stale timestamp', Buffer.from(JSON.stringify(residentReport(7))), { timestampSec: Math.floor(Date.now() / 1000) - 301 }, 401, 'INTAKE_ERR_STALE'],
    ['a timestamp from the future', Buffer.from(JSON.stringify(residentReport(8))), { timestampSec: Math.floor(Date.now() / 1000) + 400 }, 401, 'INTAKE_ERR_STALE'],
  ])('rejects %s before authentication: right status, no internal id in the answer, first bytes and a hash kept', async (_name, body, opts, status, code) => {
    const res = await post(body, signedHeaders(body, opts ?? {}));
    expect(res.statusCode).toBe(status);
    const err = (res.json() as { error: Record<string, unknown> }).error;
    expect(err.code).toBe(code);
    expect(err).not.toHaveProperty('deadLetterId');
    const dl = await records<DeadLetter>(hub, TOPICS.dlq);
    expect(dl).toHaveLength(1);
    const d = dl[0] as DeadLetter;
    expect(validateDeadLetter(d)).toBe(true);
    expect(res.body).not.toContain(d.id);
    expect(d.error.code).toBe(code);
    expect(d.error.httpStatus).toBe(status);
    const kept = Buffer.from(d.raw.body, 'base64');
    expect(kept.equals(body.subarray(0, kept.length))).toBe(true);
    expect(kept.length).toBe(Math.min(body.length, 512));
    expect(d.raw.sha256).toBe(createHash('sha256').update(body.subarray(0, 4096)).digest('hex'));
    expect(await records(hub, TOPICS.tickets)).toHaveLength(0);
  });

  it('a body far past the limit (10 MB against 4 KiB) is refused unread with 413 and still dead-lettered', async () => {
    const body = Buffer.concat([Buffer.from('{"text":"'), Buffer.alloc(10 * 1024 * 1024, 0x61), Buffer.from('"}')]);
    const res = await post(body, signedHeaders(body));
    expect(res.statusCode).toBe(413);
    expect(res.headers.connection).toBe('close');
    const err = (res.json() as { error: { code: string } }).error;
    expect(err.code).toBe('INTAKE_ERR_PAYLOAD_TOO_LARGE');
    const dl = await records<DeadLetter>(hub, TOPICS.dlq);
    expect(dl).toHaveLength(1);
    expect(Buffer.from(dl[0]?.raw.body ?? '', 'base64').equals(body.subarray(0, 512))).toBe(true);
    // and the connector keeps working
    const ok = Buffer.from(JSON.stringify(residentReport(90)));
    expect((await post(ok, signedHeaders(ok))).statusCode).toBe(202);
  });

  it('names the data path of an invalid field', async () => {
    const body = Buffer.from(JSON.stringify(residentReport(9, { location: { lng: 500, lat: 31 } })));
    const res = await post(body, signedHeaders(body));
    expect(res.statusCode).toBe(400);
    const err = (res.json() as { error: { dataPath: string } }).error;
    expect(err.dataPath).toBe('/location/lng');
  });

  it('rejects missing signature headers with 401', async () => {
    const body = Buffer.from(JSON.stringify(residentReport(10)));
    const res = await post(body, { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(401);
    expect((res.json() as { error: { message: string } }).error.message).toContain('webhook-signature');
  });

  it('refuses with 503 while the connector is paused and accepts again after resume', async () => {
    expect((await hub.admin.app.inject({ method: 'POST', url: '/api/connectors/app/pause', headers: bearer('operator') })).statusCode).toBe(200);
    const body = Buffer.from(JSON.stringify(residentReport(11)));
    const paused = await post(body, signedHeaders(body));
    expect(paused.statusCode).toBe(503);
    expect(paused.headers['retry-after']).toBe('5');
    await hub.admin.app.inject({ method: 'POST', url: '/api/connectors/app/resume', headers: bearer('operator') });
    expect((await post(body, signedHeaders(body))).statusCode).toBe(202);
  });

  it('serves health, readiness and the required metrics', async () => {
    const body = Buffer.from(JSON.stringify(residentReport(12)));
    await post(body, signedHeaders(body));
    await post(Buffer.from('{'), signedHeaders(Buffer.from('{')));
    expect((await hub.app.inject('/healthz')).statusCode).toBe(200);
    expect((await hub.app.inject('/readyz')).statusCode).toBe(200);
    expect((await hub.app.inject('/metrics')).statusCode).toBe(404); // admin listener only
    const m = (await hub.admin.app.inject({ url: '/metrics', headers: bearer('viewer') })).body;
    expect(m).toContain('intake_received_total{connector="app",channel="resident-app"} 2');
    await hub.settled();
    expect((await hub.admin.app.inject({ url: '/metrics', headers: bearer('viewer') })).body).toContain('intake_published_total{connector="app",channel="resident-app"} 1');
    expect(m).toContain('intake_rejected_total{connector="app",reason="INTAKE_ERR_PAYLOAD_INVALID"} 1');
    expect(m).toMatch(/intake_stage_duration_seconds_bucket\{le="[^"]+",stage="normalize"\}/);
    const conn = (await hub.admin.app.inject({ url: '/api/connectors', headers: bearer('viewer') })).json() as { connectors: { counters: { accepted: number; rejected: number } }[] };
    expect(conn.connectors[0]?.counters).toMatchObject({ accepted: 1, rejected: 1 });
  });

  it('rebuilds the dedup state from its changelog after a restart', async () => {
    const body = Buffer.from(JSON.stringify(residentReport(13)));
    const first = await post(body, signedHeaders(body));
    await hub.settled();
    await hub.stop();
    hub = makeHub(dir);
    await hub.start();
    expect(await records(hub, TOPICS.dedupChangelog)).toHaveLength(1);
    const again = await post(body, signedHeaders(body));
    expect(again.statusCode).toBe(202);
    expect((again.json() as { ticketId: string }).ticketId).toBe((first.json() as { ticketId: string }).ticketId);
    expect(await records(hub, TOPICS.tickets)).toHaveLength(1);
  });

  it('a second hub on the same embedded log refuses to start, naming the setting', async () => {
    const other = makeHub(dir);
    await expect(other.start()).rejects.toThrow(/in use by another hub.*output\.embedded\.dir/);
  });

  it('a lock held by another live process refuses the start; one left by a dead process is taken over', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'hub-'));
    const child = spawn('sleep', ['30']);
    try {
      writeFileSync(join(d2, 'LOCK'), JSON.stringify({ pid: child.pid, host: hostname(), at: 'then' }));
      await expect(makeHub(d2).start()).rejects.toThrow(new RegExp(`in use by another hub \\(pid ${child.pid}`));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const h = makeHub(d2);
      await h.start();
      expect(JSON.parse(readFileSync(join(d2, 'LOCK'), 'utf8')).pid).toBe(process.pid);
      await h.stop();
      expect(existsSync(join(d2, 'LOCK'))).toBe(false);
    } finally {
      child.kill('SIGKILL');
      rmSync(d2, { recursive: true, force: true });
    }
  });
});

describe('dedup keys', () => {
  it('are scoped by connector: equal source ids of two channels make two tickets; numeric ids stay exact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-'));
    const config = validateConfig({
      output: { type: 'embedded', embedded: { dir } },
      connectors: [
        { id: 'app-a', type: 'resident-app', config: { secrets: [TEST_SECRET] } },
        { id: 'app-b', type: 'resident-app', config: { secrets: [TEST_SECRET] } },
      ],
    });
    const hub = new Hub(config, { logger: silentLogger, registry: new Registry() });
    await hub.start();
    try {
      const body = Buffer.from(JSON.stringify(residentReport(1)));
      for (const c of ['app-a', 'app-b']) expect((await hub.app.inject({ method: 'POST', url: `/intake/${c}`, payload: body, headers: signedHeaders(body) })).statusCode).toBe(202);
      const tickets = await records<CanonicalTicket>(hub, TOPICS.tickets);
      expect(tickets.map((t) => t.dedup.key).sort()).toEqual(['app-a:RA-T-000001', 'app-b:RA-T-000001']);
      expect(new Set(tickets.map((t) => t.id)).size).toBe(2);
    } finally {
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an explicit dedupScope shared by two connectors (a migration) makes them one report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-'));
    const config = validateConfig({
      output: { type: 'embedded', embedded: { dir } },
      connectors: [
        { id: 'app-old', type: 'resident-app', config: { secrets: [TEST_SECRET] } },
        { id: 'app-new', type: 'resident-app', dedupScope: 'app-old', config: { secrets: [TEST_SECRET] } },
      ],
    });
    const hub = new Hub(config, { logger: silentLogger, registry: new Registry() });
    await hub.start();
    try {
      const body = Buffer.from(JSON.stringify(residentReport(1)));
      for (const c of ['app-old', 'app-new']) expect((await hub.app.inject({ method: 'POST', url: `/intake/${c}`, payload: body, headers: signedHeaders(body) })).statusCode).toBe(202);
      expect((await records<CanonicalTicket>(hub, TOPICS.tickets)).map((t) => t.source.connectorId)).toEqual(['app-old']);
    } finally {
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a failing stage', () => {
  it('dead-letters the report with stage "pipeline" (the sender got 202: it is durable); a replay after the fix makes the ticket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-'));
    const config = validateConfig({ output: { type: 'embedded', embedded: { dir } }, admin: { tokens: TEST_TOKEN_ENTRIES }, connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET] } }] });
    let fail = true;
    const hub = new Hub(config, {
      logger: silentLogger,
      registry: new Registry(),
      stages: () => [{ name: 'classify', run: (t) => { if (fail) throw new Error('model file corrupt'); return t; } }],
    });
    await hub.start();
    try {
      const body = Buffer.from(JSON.stringify(residentReport(1)));
      const res = await hub.app.inject({ method: 'POST', url: '/intake/app', payload: body, headers: signedHeaders(body) });
      expect(res.statusCode).toBe(202);
      const dl = await records<DeadLetter>(hub, TOPICS.dlq);
      expect(dl.map((d) => [d.stage, d.error.code])).toEqual([['pipeline', 'INTAKE_ERR_INTERNAL']]);
      expect(await records(hub, TOPICS.tickets)).toHaveLength(0);
      fail = false;
      // a redelivery is a duplicate of a report already seen; the dead letter's replay goes through
      await hub.app.inject({ method: 'POST', url: '/intake/app', payload: body, headers: signedHeaders(body) });
      expect(await records(hub, TOPICS.tickets)).toHaveLength(0);
      const replay = await hub.admin.app.inject({ method: 'POST', url: `/api/deadletters/${dl[0]?.id}/replay`, headers: bearer('operator') });
      expect(replay.statusCode).toBe(200);
      const tickets = await records<CanonicalTicket>(hub, TOPICS.tickets);
      expect(tickets).toHaveLength(1);
      expect(tickets[0]?.id).toBe((res.json() as { ticketId: string }).ticketId);
      expect(tickets[0]?.trace.stages).toEqual(['normalize', 'enrich', 'validate', 'dedup', 'classify', 'publish']);
      // replaying it again is a duplicate of a published ticket
      await hub.admin.app.inject({ method: 'POST', url: `/api/deadletters/${dl[0]?.id}/replay`, headers: bearer('operator') });
      expect(await records(hub, TOPICS.tickets)).toHaveLength(1);
    } finally {
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('raw bodies sealed at rest', () => {
  it('with pii.rawKeyId the raw archive and dead letters hold only AES-GCM ciphertext, which opens to the exact bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-'));
    const key = Buffer.alloc(32, 9).toString('base64');
    const config = validateConfig({
      output: { type: 'embedded', embedded: { dir } },
      pii: { rawKeys: { k1: key }, rawKeyId: 'k1' },
      connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET] } }],
    });
    const hub = new Hub(config, { logger: silentLogger, registry: new Registry() });
    await hub.start();
    try {
      const body = Buffer.from(JSON.stringify(residentReport(1)));
      expect((await hub.app.inject({ method: 'POST', url: '/intake/app', payload: body, headers: signedHeaders(body) })).statusCode).toBe(202);
      const bad = Buffer.from('{"phone":"13812345678",');
      expect((await hub.app.inject({ method: 'POST', url: '/intake/app', payload: bad, headers: signedHeaders(bad) })).statusCode).toBe(400);
      const raws = (await records<IntakeReport>(hub, TOPICS.reports)).map((r) => r.raw);
      const dls = await records<DeadLetter>(hub, TOPICS.dlq);
      const sealer = createRawSealer({ k1: key }, 'k1');
      expect(raws[0]?.bodyEncryption?.keyId).toBe('k1');
      expect(validateRawEnvelope(raws[0])).toBe(true);
      expect(sealer?.open(raws[0] as RawEnvelope).equals(body)).toBe(true);
      expect(sealer?.open((dls[0] as DeadLetter).raw).equals(bad)).toBe(true);
      const log = readFileSync(join(dir, 'log.jsonl'), 'utf8');
      expect(log).not.toContain(Buffer.from('13812345678').toString('base64').slice(0, 12));
      expect(log).not.toContain('13812345678');
    } finally {
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('dead-letter API', () => {
  it('browses rejections and replays one: an accepted replay makes the ticket, a failing one names the original', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-'));
    const config = validateConfig({ output: { type: 'embedded', embedded: { dir } }, admin: { tokens: TEST_TOKEN_ENTRIES }, connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET] } }] });
    let fail = true;
    const hub = new Hub(config, {
      logger: silentLogger,
      registry: new Registry(),
      stages: () => [{ name: 'classify', run: (t) => { if (fail) throw new Error('catalog bug'); return t; } }],
    });
    const admin = (method: 'GET' | 'POST', url: string) => hub.admin.app.inject({ method, url, headers: bearer('operator') });
    await hub.start();
    try {
      const body = Buffer.from(JSON.stringify(residentReport(1)));
      await hub.app.inject({ method: 'POST', url: '/intake/app', payload: body, headers: signedHeaders(body) });
      await hub.settled();
      const bad = Buffer.from('not json');
      await hub.app.inject({ method: 'POST', url: '/intake/app', payload: bad, headers: signedHeaders(bad) });
      await hub.settled();
      const list = (await admin('GET', '/api/deadletters?connector=app')).json() as { deadLetters: { id: string; stage: string; error: { code: string } }[] };
      expect(list.deadLetters.map((d) => d.error.code)).toEqual(['INTAKE_ERR_PAYLOAD_INVALID', 'INTAKE_ERR_INTERNAL']);
      const [badDl, bugDl] = list.deadLetters;
      const again = await admin('POST', `/api/deadletters/${badDl?.id}/replay`);
      expect(again.statusCode).toBe(422);
      const dls = await records<DeadLetter>(hub, TOPICS.dlq);
      expect(dls.at(-1)?.replayOf).toBe(badDl?.id);
      fail = false;
      const ok = await admin('POST', `/api/deadletters/${bugDl?.id}/replay`);
      expect(ok.statusCode).toBe(200);
      expect((ok.json() as { outcome: string }).outcome).toBe('accepted');
      const tickets = await records<CanonicalTicket>(hub, TOPICS.tickets);
      expect(tickets.map((t) => t.source.sourceId)).toEqual(['RA-T-000001']);
      expect((await admin('POST', '/api/deadletters/01JC0000000000000000000000/replay')).statusCode).toBe(404);
    } finally {
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
