import { createHmac, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { parse } from 'yaml';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import { TOPICS } from '../../core/outputs/topics';
import type { CanonicalTicket, DeadLetter } from '../../core/schema/types';
import { validateDeadLetter, validateTicket } from '../../core/schema/validators';
import { BROKERS, readTopic } from '../../core/testing/kafka';
import { packageRoot } from '../../core/util/paths';

/** The district-app channel of examples/mapped-webhook.yaml, on the real broker. */
const run = randomUUID().slice(0, 8);
const connectorId = `mw-${run}`;
const dir = join(packageRoot(), 'connectors/mapped-webhook/fixtures');
const yaml = parse(readFileSync(join(packageRoot(), 'examples/mapped-webhook.yaml'), 'utf8')) as { connectors: { id: string; config: Record<string, unknown> }[] };
const config = yaml.connectors.find((c) => c.id === 'district-app')?.config as Record<string, unknown>;
const SECRET = 'district-app-demo-secret-0123456789';

/** Fixture ids are fixed and tickets dedup on (channel, source id) across runs: prefix them per run. */
function body(file: string): Buffer {
  const text = readFileSync(join(dir, file), 'utf8');
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (typeof o === 'object' && o !== null && !Array.isArray(o) && 'id' in o) o.id = `${run}-${String(o.id)}`;
    return Buffer.from(JSON.stringify(o));
  } catch {
    return Buffer.from(text);
  }
}

let hub: Hub;
let base: string;

beforeAll(async () => {
  hub = new Hub(
    validateConfig({
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      output: { type: 'kafka', kafka: { brokers: BROKERS, writeTimeoutMs: 5000, connectionTimeoutMs: 1000 } },
      connectors: [{ id: connectorId, type: 'mapped-webhook', config }],
    }),
    { logger: silentLogger, registry: new Registry() },
  );
  await hub.start();
  base = await hub.listen();
});

afterAll(async () => {
  await hub.stop();
});

it('mapped-webhook: every fixture posted → one schema-valid ticket per source id on tickets.canonical.v1; bad ones dead-lettered', async () => {
  const files = readdirSync(dir).sort();
  const answers = new Map<string, { status: number; json: { ticketId?: string; error?: { deadLetterId: string } } }>();
  for (const f of files) {
    const b = body(f);
    const sig = 'sha256=' + createHmac('sha256', SECRET).update(b).digest('hex');
    const res = await request(`${base}/intake/${connectorId}`, { method: 'POST', body: b, headers: { 'content-type': 'application/json', 'x-ebh-signature': sig } });
    answers.set(f, { status: res.statusCode, json: (await res.body.json()) as never });
  }
  const valid = files.filter((f) => !f.includes('.invalid.'));
  for (const f of valid) expect({ f, ok: [200, 202].includes(answers.get(f)?.status ?? 0) }).toEqual({ f, ok: true });
  for (const f of files.filter((x) => x.includes('.invalid.'))) expect({ f, status: answers.get(f)?.status }).toEqual({ f, status: 400 });

  const tickets = await readTopic<CanonicalTicket>(TOPICS.tickets, (t) => t.source.connectorId === connectorId);
  expect(new Set(tickets.map((t) => t.id))).toEqual(new Set(valid.map((f) => answers.get(f)?.json.ticketId)));
  expect(tickets).toHaveLength(valid.length - 1); // 21-duplicate-delivery-b is a redelivery
  for (const t of tickets) {
    expect(validateTicket(t)).toBe(true);
    expect(t.trace.mappingVersion).toBe('district-app/1');
  }
  const dls = await readTopic<DeadLetter>(TOPICS.dlq, (_d, key) => key === connectorId);
  for (const d of dls) expect(validateDeadLetter(d)).toBe(true);
  expect(dls.map((d) => d.id).sort()).toEqual(files.filter((x) => x.includes('.invalid.')).map((f) => answers.get(f)?.json.error?.deadLetterId).sort());
});
