import { runTag } from '../../core/testing/run-tag';
import { restartOnFatal } from '../../core/testing/fatal';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import type { CanonicalTicket, DeadLetter } from '../../core/schema/types';
import { validateDeadLetter, validateTicket } from '../../core/schema/validators';
import { parseXml } from '../../core/sdk/xml';
import { dropNamespace, kafkaOutput, readTopic, testConnection, testNamespace } from '../../core/testing/kafka';
import { signedHeaders, TEST_SECRET } from '../../core/testing/signed';
import { until } from '../../core/testing/wait';
import { packageRoot } from '../../core/util/paths';

/**
 * Every fixture, posted over real HTTP to a hub (`--role all`) on the real broker, read back with a
 * read_committed consumer: intake answers 签收 once the report is durable on intake.reports.v1, the
 * processor drops redeliveries and writes the tickets asynchronously.
 */
const run = runTag();
const ns = testNamespace('p110');
const conn = testConnection(ns);
const connectorId = `p110-${run}`;
const dir = join(packageRoot(), 'connectors/police-110/fixtures');
const files = readdirSync(dir).sort();

/** The fixtures as they are: the namespace keeps this run's dedup state apart from other runs'. */
const body = (file: string): Buffer => readFileSync(join(dir, file));

let hub: Hub;
let base: string;

async function post(b: Buffer, headers = signedHeaders(b, { contentType: 'application/xml' })): Promise<{ status: number; receipt: Record<string, string> }> {
  const res = await request(`${base}/intake/${connectorId}`, { method: 'POST', body: b, headers });
  const text = await res.body.text();
  return { status: res.statusCode, receipt: parseXml(Buffer.from(text)).QSHZ as Record<string, string> };
}

beforeAll(async () => {
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    output: kafkaOutput(ns, { writeTimeoutMs: 5000, connectionTimeoutMs: 1000 }),
    connectors: [{ id: connectorId, type: 'police-110', config: { secrets: [TEST_SECRET], maxBodyBytes: 262144 } }],
  });
  hub = new Hub(config, { logger: silentLogger, registry: new Registry(), instanceId: `p110-${run}`, onFatal: restartOnFatal });
  await hub.start();
  base = await hub.listen();
});

afterAll(async () => {
  await hub.stop();
  await dropNamespace(ns, conn);
});

const ours = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(hub.topics.tickets, (t) => t.source.connectorId === connectorId, conn);
const ourDeadLetters = (): Promise<DeadLetter[]> => readTopic<DeadLetter>(hub.topics.dlq, (_d, key) => key === connectorId, conn);
const duplicates = async (): Promise<number> => ((await hub.metrics.registry.getSingleMetric('intake_duplicates_total')?.get())?.values ?? []).filter((v) => v.labels.connector === connectorId).reduce((n, v) => n + v.value, 0);

describe('police-110 hand-over on the real Kafka broker', () => {
  const valid = files.filter((f) => !f.includes('.invalid.') && !f.includes('.bounce.'));
  const bounces = files.filter((f) => f.includes('.bounce.'));
  const invalid = files.filter((f) => f.includes('.invalid.'));

  it('every fixture: 签收 for ticketable ones (one ticket per 警情编号), 退回 for police matters, XML error receipts for bad ones', async () => {
    const receipts = new Map<string, { status: number; receipt: Record<string, string> }>();
    for (const f of files) receipts.set(f, await post(body(f)));

    for (const f of valid) expect({ f, status: receipts.get(f)?.status, jg: receipts.get(f)?.receipt.JG }).toEqual({ f, status: 200, jg: 'QS' });
    for (const f of bounces) expect({ f, status: receipts.get(f)?.status, jg: receipts.get(f)?.receipt.JG, thyy: receipts.get(f)?.receipt.THYY }).toEqual({ f, status: 200, jg: 'TH', thyy: '属于警务事项，退回110' });
    for (const f of invalid) {
      const r = receipts.get(f);
      expect({ f, jg: r?.receipt.JG, client: (r?.status ?? 0) >= 400 && (r?.status ?? 0) < 500 }).toEqual({ f, jg: 'CW', client: true });
    }
    // the duplicated delivery is signed for (签收) with the same hub ticket id; the processor drops it
    expect(receipts.get('21-duplicate-delivery-b.xml')?.receipt.GDBH).toBe(receipts.get('21-duplicate-delivery-a.xml')?.receipt.GDBH);
    const expectedIds = new Set(valid.map((f) => receipts.get(f)?.receipt.GDBH));
    expect(expectedIds.size).toBe(valid.length - 1);

    await until('the processor writes every ticket and drops the redelivery', async () => (await duplicates()) >= 1 && (await ours()).length >= expectedIds.size, 60000, 250);
    const tickets = await ours();
    expect(await duplicates()).toBe(1);
    expect(tickets).toHaveLength(expectedIds.size);
    expect(new Set(tickets.map((t) => t.id))).toEqual(expectedIds);
    for (const t of tickets) {
      expect(validateTicket(t)).toBe(true);
      expect(t.source.channel).toBe('police-110');
      expect(t.channelCategory?.scheme).toBe('police-110');
    }
    // PII is masked on the topic
    expect(JSON.stringify(tickets)).not.toContain('13800000001');

    const dls = await ourDeadLetters();
    for (const d of dls) expect(validateDeadLetter(d)).toBe(true);
    const bounced = dls.filter((d) => d.error.code === 'INTAKE_ERR_BOUNCED');
    expect(bounced.map((d) => d.id).sort()).toEqual(bounces.map((f) => receipts.get(f)?.receipt.JLBH).sort());
    for (const d of bounced) expect(d).toMatchObject({ stage: 'transport', error: { httpStatus: 200, dataPath: '/JQLB' } });
    const rejected = dls.filter((d) => d.error.code !== 'INTAKE_ERR_BOUNCED');
    expect(rejected.map((d) => d.id).sort()).toEqual(invalid.map((f) => receipts.get(f)?.receipt.JLBH).sort());
    // the raw bytes of hostile XML are kept for inspection, byte for byte
    const xxe = rejected.find((d) => d.id === receipts.get('x03-xxe.invalid.xml')?.receipt.JLBH);
    expect(Buffer.from(xxe?.raw.body ?? '', 'base64').equals(body('x03-xxe.invalid.xml'))).toBe(true);
    expect(xxe?.error.message).toMatch(/DOCTYPE/);
  });

  it('hostile XML never crashes the connector: 10,000-deep nesting, a 10 MB body, invalid UTF-8', async () => {
    const deep = Buffer.from('<JQXX>' + '<a>'.repeat(10000) + '</a>'.repeat(10000) + '</JQXX>');
    const r1 = await post(deep);
    expect([r1.status, r1.receipt.JG]).toEqual([400, 'CW']);
    expect(r1.receipt.CWXX).toMatch(/nesting depth/);
    const huge = Buffer.concat([Buffer.from('<JQXX><JYQK>'), Buffer.alloc(10 * 1024 * 1024, 0x61), Buffer.from('</JYQK></JQXX>')]);
    const r2 = await request(`${base}/intake/${connectorId}`, { method: 'POST', body: huge, headers: signedHeaders(huge, { contentType: 'application/xml' }) });
    const r2receipt = await r2.body.text();
    expect(r2.statusCode).toBe(413);
    // refused unread (before the signature check: no record id in the receipt), still dead-lettered with its first bytes
    expect(r2receipt).not.toContain('<JLBH>');
    const tooLarge = (await ourDeadLetters()).filter((d) => d.error.code === 'INTAKE_ERR_PAYLOAD_TOO_LARGE');
    expect(tooLarge).toHaveLength(1);
    // an unauthenticated refusal keeps only the first 512 bytes (server.unauthenticated.keepBytes)
    const kept = Buffer.from(tooLarge[0]?.raw.body ?? '', 'base64');
    expect(kept.length).toBe(512);
    expect(kept.equals(huge.subarray(0, 512))).toBe(true);
    const r3 = await post(body('x11-invalid-utf8.invalid.xml'));
    expect([r3.status, r3.receipt.CWDM]).toEqual([400, 'INTAKE_ERR_BAD_ENCODING']);
    // still working
    const ok = await post(Buffer.from(body('19-minimal.xml').toString('latin1').replace('<JQBH>J340111202611200019</JQBH>', '<JQBH>J340111202611200019-after-hostile</JQBH>'), 'latin1'));
    expect(ok.receipt.JG).toBe('QS');
    await until('the ticket of the report after the hostile ones', async () => (await ours()).some((t) => t.id === ok.receipt.GDBH), 60000, 250);
    expect(hub.connector(connectorId)?.health().state).toBe('running');
  });
});
