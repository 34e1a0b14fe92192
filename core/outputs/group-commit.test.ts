import { SinkError } from '../errors';
import { GroupCommitter, recordBytes } from './group-commit';
import type { OutRecord } from './output';

const rec = (i: number, bytes = 10): OutRecord => ({ topic: 't', partition: 0, key: `k${i}`, value: 'x'.repeat(bytes), headers: {} });

describe('GroupCommitter', () => {
  it('writes queued behind an in-flight batch go out together in the next one', async () => {
    const batches: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const gc = new GroupCommitter(async (records) => {
      batches.push(records.length);
      if (batches.length === 1) await gate;
    });
    const first = gc.write([rec(0)]);
    const rest = Array.from({ length: 9 }, (_, i) => gc.write([rec(i + 1)]));
    release();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([1, 9]);
  });

  it('caps a batch by records and by bytes', async () => {
    const batches: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const gc = new GroupCommitter(
      async (records) => {
        batches.push(records.length);
        if (batches.length === 1) await gate;
      },
      { maxBatchRecords: 4, maxBatchBytes: 3 * recordBytes(rec(0, 1000)) },
    );
    const all = [gc.write([rec(0)]), ...Array.from({ length: 10 }, (_, i) => gc.write([rec(i + 1, 1000)]))];
    release();
    await Promise.all(all);
    expect(batches[0]).toBe(1);
    expect(Math.max(...batches.slice(1))).toBeLessThanOrEqual(3);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(11);
  });

  it('writeTimeoutMs bounds the whole wait: a write queued behind a stuck batch is refused at its deadline and never flushed', async () => {
    jest.useFakeTimers();
    try {
      let now = 0;
      const flushed: string[] = [];
      let releaseFirst: (e?: Error) => void = () => undefined;
      const gc = new GroupCommitter(
        async (records, deadline) => {
          flushed.push(...records.map((r) => r.key));
          if (records[0]?.key === 'k0') await new Promise<void>((res, rej) => (releaseFirst = (e) => (e ? rej(e) : res())));
          expect(deadline).toBeGreaterThan(0);
        },
        { timeoutMs: 1000 },
        () => now,
      );
      const a = gc.write([rec(0)]);
      const b = gc.write([rec(1)]);
      const bErr = b.catch((e: unknown) => e);
      now = 1000;
      jest.advanceTimersByTime(1000);
      expect(await bErr).toBeInstanceOf(SinkError);
      expect(gc.queued).toBe(0);
      // the stuck batch itself fails (its flush aborts past the deadline); the queued one never ran
      releaseFirst(new SinkError('aborted at the deadline'));
      await expect(a).rejects.toBeInstanceOf(SinkError);
      expect(flushed).toEqual(['k0']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('hands the flush the earliest deadline of its writes', async () => {
    const deadlines: number[] = [];
    let now = 5000;
    const gc = new GroupCommitter(
      async (_r, deadline) => {
        deadlines.push(deadline);
      },
      { timeoutMs: 300 },
      () => now,
    );
    await gc.write([rec(0)]);
    now = 6000;
    await gc.write([rec(1)]);
    expect(deadlines).toEqual([5300, 6300]);
  });
});
