import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { Registry } from 'prom-client';
import { validateConfig } from '../config/config';
import { Hub } from '../hub';
import { silentLogger } from '../logger';
import { TOPICS } from '../outputs/topics';
import type { CanonicalTicket, DeadLetter } from '../schema/types';
import { validateTicket } from '../schema/validators';
import { formatSummary } from '../cli/commands/import';
import { parseMapping, rowToObject, runImport } from './import';

/** Backfill import through a real hub on the embedded log (a temp dir), grid-worker channel. */
let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'import-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function makeHub(): Hub {
  const config = validateConfig({
    output: { type: 'embedded', embedded: { dir: join(dir, 'log') } },
    // the transport never starts during an import: the NATS address is never dialled
    connectors: [{ id: 'gw', type: 'grid-worker', enabled: false, config: { servers: ['nats://127.0.0.1:1'], codeTable: { '510114': '新都区' } } }],
  });
  return new Hub(config, { logger: silentLogger, registry: new Registry() });
}

function report(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { reportId: `HIST-${String(i).padStart(5, '0')}`, workerId: 'WGY-H-1', workerPhone: '13800000007', gridCode: '510114001001003', itemCode: 'D01', text: `历史记录${i}：垃圾堆积`, reportedAt: '2025-06-01T09:00:00+08:00', ...extra };
}

async function values<T>(hub: Hub, topic: string): Promise<T[]> {
  await hub.settled();
  const out: T[] = [];
  await hub.log.scan(topic, 0, (r) => {
    if (r.value !== null) out.push(JSON.parse(r.value) as T);
  });
  return out;
}

const tickets = (hub: Hub): Promise<CanonicalTicket[]> => values<CanonicalTicket>(hub, TOPICS.tickets);
const deadLetters = (hub: Hub): Promise<DeadLetter[]> => values<DeadLetter>(hub, TOPICS.dlq);

/** Deliveries the processor dropped as duplicates (intake_duplicates_total). */
async function duplicates(hub: Hub): Promise<number> {
  await hub.settled();
  const m = (await hub.metrics.registry.getSingleMetric('intake_duplicates_total')?.get())?.values ?? [];
  return m.reduce((n, v) => n + v.value, 0);
}

describe('backfill import (embedded log)', () => {
  it('JSONL: every record → one ticket; bad lines are dead-lettered; re-importing makes no new ticket', async () => {
    const file = join(dir, 'hist.jsonl');
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify(report(i)));
    lines.splice(10, 0, '{"reportId": "HIST-BROKEN", ');
    lines.splice(20, 0, JSON.stringify(report(999, { gridCode: '123' })));
    writeFileSync(file, lines.join('\n') + '\n');

    const hub = makeHub();
    await hub.start();
    const a = await runImport({ hub, connectorId: 'gw', file, format: 'jsonl', charset: 'utf-8', concurrency: 4 });
    expect(a).toMatchObject({ total: 32, skipped: 0, accepted: 30, rejected: 2, interrupted: false });
    expect(a.deadLetters.map((d) => d.line).sort((x, y) => x - y)).toEqual([11, 21]);
    const ts = await tickets(hub);
    expect(ts).toHaveLength(30);
    for (const t of ts) expect(validateTicket(t)).toBe(true);
    expect(ts[0]?.location.district).toBe('新都区');
    const dls = await deadLetters(hub);
    expect(dls.map((d) => d.id).sort()).toEqual(a.deadLetters.map((d) => d.id).sort());
    expect(dls.every((d) => d.raw.transport === 'import')).toBe(true);
    expect(formatSummary(a)).toContain('rejected   2');

    // the same file again: already complete → nothing to do; --restart → the processor drops all as duplicates
    expect(await duplicates(hub)).toBe(0);
    const b = await runImport({ hub, connectorId: 'gw', file, format: 'jsonl', charset: 'utf-8' });
    expect(b).toMatchObject({ skipped: 32, accepted: 0 });
    const c = await runImport({ hub, connectorId: 'gw', file, format: 'jsonl', charset: 'utf-8', restart: true });
    expect(c).toMatchObject({ accepted: 30, rejected: 2 });
    expect(await tickets(hub)).toHaveLength(30);
    expect(await duplicates(hub)).toBe(30);
    await hub.stop();
  });

  it('resumes after an interruption mid-file: no duplicate ticket, no lost record', async () => {
    const n = 200;
    const file = join(dir, 'big.jsonl');
    writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify(report(i))).join('\n') + '\n');

    const hub1 = makeHub();
    await hub1.start();
    const ac = new AbortController();
    const first = await runImport({ hub: hub1, connectorId: 'gw', file, format: 'jsonl', charset: 'utf-8', concurrency: 8, signal: ac.signal, onOutcome: (i) => i >= 77 && ac.abort() });
    expect(first.interrupted).toBe(true);
    expect(first.accepted).toBeGreaterThanOrEqual(78);
    expect(first.accepted).toBeLessThan(n);
    await hub1.stop();

    // a new process on the same log: dedup and checkpoints are rebuilt from it
    const hub2 = makeHub();
    await hub2.start();
    const second = await runImport({ hub: hub2, connectorId: 'gw', file, format: 'jsonl', charset: 'utf-8', concurrency: 8 });
    expect(second.interrupted).toBe(false);
    expect(second.resumedFrom?.records).toBe(second.skipped);
    expect(second.skipped).toBeGreaterThan(0);
    expect(second.skipped + second.accepted).toBe(n);
    // records in flight or done out of order at the interruption are submitted again (≤ concurrency)
    expect(first.accepted + second.accepted - n).toBeLessThanOrEqual(8);
    expect(await duplicates(hub2)).toBe(first.accepted + second.accepted - n);
    const ts = await tickets(hub2);
    expect(ts).toHaveLength(n);
    expect(new Set(ts.map((t) => t.source.sourceId)).size).toBe(n);
    await hub2.stop();
  });

  it('CSV in GBK with quoted multi-line text, typed columns and a column mapping', async () => {
    const file = join(dir, 'hist.csv');
    const csv = [
      'GDBH,workerId,workerPhone,gridCode,itemCode,text,location.lng:number,location.lat:number,location.coordType,photos:list,anonymous:boolean,reportedAt',
      'H-1,WGY-9,13800000008,510114001001003,B01,"楼道堆物，""消防""隐患\n第二行",104.16,30.82,gcj02,https://img.example.cn/a.jpg|https://img.example.cn/b.jpg,false,2025-06-01T09:00:00+08:00',
      'H-2,WGY-9,,510114001001003,D04,繁體：亂停車,,,,,true,2025-06-02T09:00:00+08:00',
      'H-3,WGY-9,,510114001001003,D04,坐标不是数字,abc,30.8,gcj02,,,2025-06-02T09:00:00+08:00',
    ].join('\r\n');
    writeFileSync(file, iconv.encode(csv, 'gbk'));
    const hub = makeHub();
    await hub.start();
    const s = await runImport({ hub, connectorId: 'gw', file, format: 'csv', charset: 'gbk', mapping: parseMapping(['GDBH=reportId']) });
    expect(s).toMatchObject({ total: 3, accepted: 2, rejected: 1 });
    expect(s.deadLetters[0]?.line).toBe(5);
    const ts = await tickets(hub);
    const t1 = ts.find((t) => t.source.sourceId === 'H-1') as CanonicalTicket;
    expect(t1.text).toBe('楼道堆物，"消防"隐患\n第二行');
    expect(t1.attachments).toHaveLength(2);
    expect(t1.location.point?.sourceCrs).toBe('GCJ-02');
    const t2 = ts.find((t) => t.source.sourceId === 'H-2') as CanonicalTicket;
    expect(t2.reporter.anonymous).toBe(true);
    expect(t2.text).toBe('繁體：亂停車');
    const dl = (await deadLetters(hub))[0] as DeadLetter;
    expect(dl.stage).toBe('decode');
    expect(dl.error.message).toMatch(/^line 5: .*(location.lng|not a number)/);
    await hub.stop();
  });

  it('maps rows: empty cells are absent, dotted paths nest, unsafe paths are refused', () => {
    expect(rowToObject(['a', 'b.c:number', 'd'], ['x', '2', ''], {}, 2)).toEqual({ a: 'x', b: { c: 2 } });
    expect(() => rowToObject(['a'], ['x', 'y'], {}, 3)).toThrow(/2 fields, the header has 1/);
    expect(() => rowToObject(['__proto__.x'], ['1'], {}, 2)).toThrow(/not allowed/);
    expect(() => parseMapping(['nonsense'])).toThrow(/COLUMN=field/);
  });
});
