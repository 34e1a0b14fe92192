import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import { TOPICS } from '../../core/outputs/topics';
import type { CanonicalTicket, DeadLetter } from '../../core/schema/types';
import { validateDeadLetter, validateTicket } from '../../core/schema/validators';
import { parseXml } from '../../core/sdk/xml';
import { BROKERS, readTopic } from '../../core/testing/kafka';
import { signedHeaders, TEST_SECRET } from '../../core/testing/signed';
import { packageRoot } from '../../core/util/paths';

/** Every fixture, posted over real HTTP to a hub writing to the real broker, read back with a consumer. */
const run = randomUUID().slice(0, 8);
const connectorId = `p110-${run}`;
const dir = join(packageRoot(), 'connectors/police-110/fixtures');
const files = readdirSync(dir).sort();

/** Fixture ids are fixed; tickets dedup on (channel, 警情编号) across runs, so each run renames them. */
function body(file: string): Buffer {
  const text = readFileSync(join(dir, file)).toString('latin1');
  return Buffer.from(text.replace(/<JQBH>([^<]*)<\/JQBH>/g, `<JQBH>R${run}-$1</JQBH>`), 'latin1');
}

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
    output: { type: 'kafka', kafka: { brokers: BROKERS, writeTimeoutMs: 5000, connectionTimeoutMs: 1000 } },
    connectors: [{ id: connectorId, type: 'police-110', config: { secrets: [TEST_SECRET], maxBodyBytes: 262144 } }],
  });
  hub = new Hub(config, { logger: silentLogger, registry: new Registry() });
  await hub.start();
  base = await hub.listen();
});

afterAll(async () => {
  await hub.stop();
});

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
    // the duplicated delivery got the same hub ticket id
    expect(receipts.get('21-duplicate-delivery-b.xml')?.receipt).toMatchObject({ CF: '1', GDBH: receipts.get('21-duplicate-delivery-a.xml')?.receipt.GDBH });

    const tickets = await readTopic<CanonicalTicket>(TOPICS.tickets, (t) => t.source.connectorId === connectorId);
    const expectedIds = new Set(valid.map((f) => receipts.get(f)?.receipt.GDBH));
    expect(tickets).toHaveLength(expectedIds.size);
    expect(new Set(tickets.map((t) => t.id))).toEqual(expectedIds);
    for (const t of tickets) {
      expect(validateTicket(t)).toBe(true);
      expect(t.source.channel).toBe('police-110');
      expect(t.channelCategory?.scheme).toBe('police-110');
    }
    // PII is masked on the topic
    expect(JSON.stringify(tickets)).not.toContain('13800000001');

    const dls = await readTopic<DeadLetter>(TOPICS.dlq, (d, key) => key === connectorId);
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
    const dl = (await readTopic<DeadLetter>(TOPICS.dlq, (d) => d.connectorId === connectorId && d.error.code === 'INTAKE_ERR_PAYLOAD_TOO_LARGE'))[0];
    expect(dl?.error.code).toBe('INTAKE_ERR_PAYLOAD_TOO_LARGE');
    expect(Buffer.from(dl?.raw.body ?? '', 'base64').subarray(0, 12).toString()).toBe('<JQXX><JYQK>');
    const r3 = await post(body('x11-invalid-utf8.invalid.xml'));
    expect([r3.status, r3.receipt.CWDM]).toEqual([400, 'INTAKE_ERR_BAD_ENCODING']);
    // still working
    const ok = await post(Buffer.from(body('19-minimal.xml').toString('latin1').replace('-J340111202611200019', '-after-hostile'), 'latin1'));
    expect(ok.receipt.JG).toBe('QS');
    expect(hub.connector(connectorId)?.health().state).toBe('running');
  });
});
