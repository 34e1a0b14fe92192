import { createHmac } from 'node:crypto';
import { restartOnFatal } from '../../core/testing/fatal';
import { runTag } from '../../core/testing/run-tag';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { parse } from 'yaml';
import { validateConfig } from '../../core/config/config';
import { Hub } from '../../core/hub';
import { silentLogger } from '../../core/logger';
import type { CanonicalTicket, DeadLetter } from '../../core/schema/types';
import { validateDeadLetter, validateTicket } from '../../core/schema/validators';
import { dropNamespace, kafkaOutput, readTopic, testConnection, testNamespace } from '../../core/testing/kafka';
import { until } from '../../core/testing/wait';
import { packageRoot } from '../../core/util/paths';

/**
 * The district-app channel of examples/mapped-webhook.yaml, on the real broker. The hub runs
 * `--role all`: intake answers 202 once the report is durable on intake.reports.v1, the processor
 * drops redeliveries and writes the tickets asynchronously.
 */
const run = runTag();
const ns = testNamespace('mw');
const conn = testConnection(ns);
const connectorId = `mw-${run}`;
const dir = join(packageRoot(), 'connectors/mapped-webhook/fixtures');
const yaml = parse(readFileSync(join(packageRoot(), 'examples/mapped-webhook.yaml'), 'utf8')) as { connectors: { id: string; config: Record<string, unknown> }[] };
const config = yaml.connectors.find((c) => c.id === 'district-app')?.config as Record<string, unknown>;
const SECRET = 'district-app-demo-secret-0123456789';

/** The fixtures as they are: the namespace keeps this run's dedup state apart from other runs'. */
const body = (file: string): Buffer => readFileSync(join(dir, file));

let hub: Hub;
let base: string;

beforeAll(async () => {
  hub = new Hub(
    validateConfig({
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      output: kafkaOutput(ns, { writeTimeoutMs: 5000, connectionTimeoutMs: 1000 }),
      connectors: [{ id: connectorId, type: 'mapped-webhook', config }],
    }),
    { logger: silentLogger, registry: new Registry(), instanceId: `mw-${run}`, onFatal: restartOnFatal },
  );
  await hub.start();
  base = await hub.listen();
});

afterAll(async () => {
  await hub.stop();
  await dropNamespace(ns, conn);
});

const duplicates = async (): Promise<number> => ((await hub.metrics.registry.getSingleMetric('intake_duplicates_total')?.get())?.values ?? []).filter((v) => v.labels.connector === connectorId).reduce((n, v) => n + v.value, 0);

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
  // every authenticated delivery is answered 202 once durable, the redelivery too (with the same id)
  for (const f of valid) expect({ f, status: answers.get(f)?.status }).toEqual({ f, status: 202 });
  for (const f of files.filter((x) => x.includes('.invalid.'))) expect({ f, status: answers.get(f)?.status }).toEqual({ f, status: 400 });
  expect(answers.get('21-duplicate-delivery-b.json')?.json.ticketId).toBe(answers.get('21-duplicate-delivery-a.json')?.json.ticketId);

  const ours = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(hub.topics.tickets, (t) => t.source.connectorId === connectorId, conn);
  // 21-duplicate-delivery-b is a redelivery: the processor drops it (counted) and keeps one ticket
  await until('the processor writes every ticket and drops the redelivery', async () => (await duplicates()) >= 1 && (await ours()).length >= valid.length - 1, 60000, 250);
  const tickets = await ours();
  expect(await duplicates()).toBe(1);
  expect(new Set(tickets.map((t) => t.id))).toEqual(new Set(valid.map((f) => answers.get(f)?.json.ticketId)));
  expect(tickets).toHaveLength(valid.length - 1);
  for (const t of tickets) {
    expect(validateTicket(t)).toBe(true);
    expect(t.trace.mappingVersion).toBe('district-app/1');
  }
  const dls = await readTopic<DeadLetter>(hub.topics.dlq, (_d, key) => key === connectorId, conn);
  for (const d of dls) expect(validateDeadLetter(d)).toBe(true);
  expect(dls.map((d) => d.id).sort()).toEqual(files.filter((x) => x.includes('.invalid.')).map((f) => answers.get(f)?.json.error?.deadLetterId).sort());
});
