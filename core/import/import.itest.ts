import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCommand } from '../cli/commands/import';
import { TOPICS } from '../outputs/topics';
import type { CanonicalTicket } from '../schema/types';
import { validateTicket } from '../schema/validators';
import { BROKERS, readTopic } from '../testing/kafka';

/** `intake-hub import` against the real Kafka broker: a JSONL file imported twice → exactly N tickets. */
const run = randomUUID().slice(0, 8);
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

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ours = (): Promise<CanonicalTicket[]> => readTopic<CanonicalTicket>(TOPICS.tickets, (t) => t.source.connectorId === connectorId);

describe('intake-hub import on the real Kafka broker', () => {
  it('imports N records; the same file again (resumed, then --restart) adds no ticket', async () => {
    const args = ['--connector', connectorId, '--config', join(dir, 'hub.yaml'), '--concurrency', '16', join(dir, 'hist.jsonl')];
    expect(await importCommand(args)).toBe(0);
    let tickets = await ours();
    expect(tickets).toHaveLength(N);
    for (const t of tickets) expect(validateTicket(t)).toBe(true);
    expect(tickets.every((t) => t.reporter.role === 'grid-worker')).toBe(true);

    expect(await importCommand(args)).toBe(0); // checkpoint says done: nothing submitted
    expect(await importCommand([...args, '--restart'])).toBe(0); // everything again: all duplicates
    tickets = await ours();
    expect(tickets).toHaveLength(N);
    expect(new Set(tickets.map((t) => t.source.sourceId)).size).toBe(N);
  });
});
