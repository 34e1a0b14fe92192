import { ulid } from '../ids';
import type { OutRecord, RecordLog, StoredRecord } from '../outputs/output';
import { TOPICS } from '../outputs/topics';
import type { DeadLetter } from '../schema/types';
import { isReplayable, MemoryDeadLetterIndex, replayInput } from './deadletters';

function dl(at: number, stage: DeadLetter['stage'], connectorId = 'app', body = 'eyJ4IjoxfQ=='): DeadLetter {
  return {
    schemaVersion: 'dead-letter/v1',
    id: ulid(at),
    at: new Date(at).toISOString(),
    connectorId,
    channel: 'resident-app',
    stage,
    error: { code: 'INTAKE_ERR_PAYLOAD_INVALID', message: 'x'.repeat(900), dataPath: null, httpStatus: 400 },
    raw: { schemaVersion: 'raw/v1', id: ulid(at), connectorId, channel: 'resident-app', transport: 'webhook', sourceId: null, receivedAt: new Date(at).toISOString(), contentType: 'application/json', headers: { 'webhook-id': 'm1' }, body, sha256: '0'.repeat(64) },
    replayOf: null,
  };
}

/** An output holding dead letters; `scan` can be made slow to hold reads in flight. */
class FakeOutput implements RecordLog {
  readonly kind = 'embedded' as const;
  readonly partitions = 1;
  records: StoredRecord[] = [];
  scans = 0;
  delayMs = 0;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  ready(): boolean {
    return true;
  }
  async write(records: OutRecord[]): Promise<void> {
    for (const r of records) this.records.push({ ...r, partition: 0, offset: String(this.records.length), timestamp: Date.now() });
  }
  async scan(topic: string, sinceMs: number, onRecord: (r: StoredRecord) => void): Promise<number> {
    this.scans++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    let n = 0;
    for (const r of this.records) {
      if (r.topic !== topic || r.timestamp < sinceMs) continue;
      onRecord(r);
      n++;
    }
    return n;
  }
  put(d: DeadLetter): void {
    this.records.push({ topic: TOPICS.dlq, key: d.connectorId, value: JSON.stringify(d), headers: {}, partition: 0, offset: String(this.records.length), timestamp: Date.parse(d.at) });
  }
}

const T0 = Date.UTC(2026, 10, 20);

describe('dead-letter index', () => {
  it('replayable = passed authentication: normalize, validate, enrich, pipeline', () => {
    expect((['transport', 'auth', 'decode', 'normalize', 'validate', 'enrich', 'pipeline'] as const).filter((stage) => isReplayable({ stage }))).toEqual(['normalize', 'validate', 'enrich', 'pipeline']);
  });

  it('lists newest first with connector, since and before filters; summaries carry no raw bytes', async () => {
    const out = new FakeOutput();
    for (let i = 0; i < 10; i++) out.put(dl(T0 + i * 1000, i % 2 ? 'auth' : 'normalize', i % 3 ? 'app' : 'board'));
    const idx = new MemoryDeadLetterIndex(out, TOPICS.dlq);
    expect(await idx.load(0)).toBe(10);
    const all = idx.list({ sinceMs: 0, limit: 100 });
    expect(all.map((s) => s.at)).toEqual([...all.map((s) => s.at)].sort().reverse());
    expect(idx.list({ sinceMs: 0, limit: 100, connector: 'board' })).toHaveLength(4);
    expect(idx.list({ sinceMs: T0 + 5000, limit: 100 })).toHaveLength(5);
    const page = idx.list({ sinceMs: 0, limit: 3 });
    expect(idx.list({ sinceMs: 0, limit: 3, before: page[2]?.id })[0]?.id).toBe(all[3]?.id);
    expect(all[0]).not.toHaveProperty('raw');
    expect(all[0]?.error.message).toHaveLength(500);
    expect(all.map((s) => s.replayable)).toEqual(all.map((s) => s.stage === 'normalize'));
  });

  it('keeps the newest `max` summaries', () => {
    const idx = new MemoryDeadLetterIndex(new FakeOutput(), TOPICS.dlq, { max: 100 });
    for (let i = 0; i < 1000; i++) idx.add(dl(T0 + i, 'normalize'));
    expect(idx.size).toBeLessThanOrEqual(110);
    expect(idx.list({ sinceMs: 0, limit: 1000 }).at(-1)?.at).toBe(new Date(T0 + 1000 - idx.size).toISOString());
  });

  it('replays recent records from memory within cacheBytes, older ones by one read each, at most maxPendingReads queued', async () => {
    const out = new FakeOutput();
    const idx = new MemoryDeadLetterIndex(out, TOPICS.dlq, { cacheBytes: 3 * (2048 + 1000), maxPendingReads: 2 });
    const all = Array.from({ length: 6 }, (_, i) => dl(T0 + i * 1000, 'normalize', 'app', 'A'.repeat(1000)));
    for (const d of all) {
      out.put(d);
      idx.add(d);
    }
    expect(await idx.fetch(all[5]?.id as string)).toBe(all[5]);
    expect(out.scans).toBe(0);
    expect(await idx.fetch(all[0]?.id as string)).toEqual(all[0]);
    expect(out.scans).toBe(1);
    out.delayMs = 50;
    const reads = [idx.fetch(all[0]?.id as string), idx.fetch(all[1]?.id as string)];
    await expect(idx.fetch(all[2]?.id as string)).rejects.toMatchObject({ code: 'INTAKE_ERR_SINK_UNAVAILABLE', retriable: true });
    expect((await Promise.all(reads)).map((d) => d?.id)).toEqual([all[0]?.id, all[1]?.id]);
    expect(await idx.fetch(ulid(T0))).toBeNull();
  });

  it('replay input: the archived bytes and headers; a sealed record without a key is a 409', () => {
    const d = dl(T0, 'normalize');
    expect(replayInput(d, null)).toMatchObject({ transport: 'replay', body: Buffer.from('{"x":1}'), headers: { 'webhook-id': 'm1' } });
    const sealed = { ...d, raw: { ...d.raw, bodyEncryption: { alg: 'A256GCM', keyId: 'k1', iv: 'AAAAAAAAAAAAAAAA', tag: 'AAAAAAAAAAAAAAAAAAAAAA==' } } } as DeadLetter;
    expect(() => replayInput(sealed, null)).toThrow(expect.objectContaining({ httpStatus: 409 }));
  });
});
