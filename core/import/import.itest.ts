import { runTag } from '../testing/run-tag';
import { restartOnFatal } from '../testing/fatal';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { importCommand } from '../cli/commands/import';
import { loadConfigFile } from '../config/config';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import { topicsFor } from '../outputs/topics';
import type { IntakeReport } from '../fleet/records';
import type { CanonicalTicket } from '../schema/types';
import { validateTicket } from '../schema/validators';
import { BROKERS, dropNamespace, readTopic, testConnection, testNamespace } from '../testing/kafka';
import { until } from '../testing/wait';

/**
 * `intake-hub import` against the real Kafka broker: the import is an intake client; a processor
 * instance (role processor) turns the reports into tickets. A JSONL file imported twice → exactly N.
 */
const run = runTag();
const ns = testNamespace('imp');
const conn = testConnection(ns);
let processor: Hub;
const connectorId = `imp-${run}`;
const N = 120;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'import-it-'));
  writeFileSync(
    join(dir, 'hub.yaml'),
    [
      'output:',
      '  type: kafka',
      '  kafka:',
      `    brokers: [${BROKERS.map((b) => JSON.stringify(b)).join(', ')}]`,
      `    namespace: "${ns}"`,
      '    partitions: 3',
      '    leasePartitions: 3',
      '    replicationFactor: 1',
      '    minInsyncReplicas: 1',
      '    sessionTimeoutMs: 6000',
      'connectors:',
      `  - id: ${connectorId}`,
      '    type: grid-worker',
      '    config:',
      '      servers: ["nats://127.0.0.1:1"]',
      '',
    ].join('\n'),
  );
  const lines = Array.from({ length: N }, (_, i) =>
    JSON.stringify({ reportId: `${run}-H-${i}`, workerId: 'WGY-IMP-1', gridCode: '510114001001003', itemCode: 'C06', text: `历史工单 ${i}：供水管漏水`, reportedAt: '2025-03-01T10:00:00+08:00' }),
  );
  writeFileSync(join(dir, 'hist.jsonl'), lines.join('\n') + '\n');
});

afterAll(async () => {
  await processor?.stop();
  rmSync(dir, { recursive: true, force: true });
  await dropNamespace(ns, conn);
});

const ours = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(topicsFor(ns).tickets, (t) => t.source.connectorId === connectorId, conn);
/** Report records the import wrote on intake.reports.v1 (what the intake side submitted). */
const submitted = async (): Promise<number> => (await readTopic<IntakeReport>(topicsFor(ns).reports, (r) => r.ticket.source.connectorId === connectorId, conn)).length;

describe('intake-hub import on the real Kafka broker', () => {
  it('imports N records; the same file again (resumed, then --restart) adds no ticket', async () => {
    const args = ['--connector', connectorId, '--config', join(dir, 'hub.yaml'), '--concurrency', '16', join(dir, 'hist.jsonl')];
    expect(await importCommand(args)).toBe(0);
    processor = new Hub(loadConfigFile(join(dir, 'hub.yaml'), {}), { role: 'processor', instanceId: `imp-proc-${run}`, logger: silentLogger, registry: new Registry(), onFatal: restartOnFatal });
    await processor.start();
    await until(`${N} tickets`, async () => (await ours()).length >= N, 120000, 500);
    let tickets = await ours();
    expect(tickets).toHaveLength(N);
    for (const t of tickets) expect(validateTicket(t)).toBe(true);
    expect(tickets.every((t) => t.reporter.role === 'grid-worker')).toBe(true);

    expect(await submitted()).toBe(N);
    expect(await importCommand(args)).toBe(0); // checkpoint says done: nothing submitted
    expect(await submitted()).toBe(N);
    expect(await importCommand([...args, '--restart'])).toBe(0); // everything again: the processor drops all as duplicates
    expect(await submitted()).toBe(2 * N);
    const dups = async (): Promise<number> => ((await processor.metrics.registry.getSingleMetric('intake_duplicates_total')?.get())?.values ?? []).reduce((n, v) => n + v.value, 0);
    await until('the re-imported records are dropped as duplicates', async () => (await dups()) >= N, 120000, 500);
    tickets = await ours();
    expect(tickets).toHaveLength(N);
    expect(new Set(tickets.map((t) => t.source.sourceId)).size).toBe(N);
  });
});
