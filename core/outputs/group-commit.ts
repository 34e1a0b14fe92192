import { SinkError } from '../errors';
import type { OutRecord } from './output';

interface Pending {
  records: OutRecord[];
  bytes: number;
  deadline: number;
  timer: NodeJS.Timeout | null;
  settled: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitOptions {
  /** Records in one flushed batch at most. */
  maxBatchRecords: number;
  /** Bytes (keys + values + headers) in one flushed batch at most; keep it under the broker's `max.message.bytes` per partition. */
  maxBatchBytes: number;
  /**
   * How long a caller waits in all, queueing behind an in-flight batch included. A write still
   * queued at its deadline is rejected with a retriable `SinkError` and never flushed; a batch in
   * flight is handed the earliest deadline of its writes and must abort when it cannot make it.
   * Infinity: no deadline.
   */
  timeoutMs: number;
}

const DEFAULTS: GroupCommitOptions = { maxBatchRecords: 2000, maxBatchBytes: 4 * 1024 * 1024, timeoutMs: Infinity };

/**
 * Group commit: while one durable write is in flight, later writes queue up and go out together in
 * the next one. No artificial linger: a lone write is flushed at once, and under load batches grow
 * by themselves, which is what lets acks=all / fsync keep up with many concurrent requests.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private flushing = false;
  private readonly o: GroupCommitOptions;

  constructor(
    private readonly flush: (records: OutRecord[], deadline: number) => Promise<void>,
    opts: Partial<GroupCommitOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.o = { ...DEFAULTS, ...opts };
  }

  /** Writes waiting for a flush (not counting the batch in flight). */
  get queued(): number {
    return this.queue.length;
  }

  write(records: OutRecord[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let bytes = 0;
      for (const r of records) bytes += recordBytes(r);
      const p: Pending = { records, bytes, deadline: this.now() + this.o.timeoutMs, timer: null, settled: false, resolve, reject };
      if (Number.isFinite(this.o.timeoutMs)) {
        p.timer = setTimeout(() => this.expire(p), this.o.timeoutMs);
        p.timer.unref?.();
      }
      this.queue.push(p);
      if (!this.flushing) void this.drain();
    });
  }

  private expire(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i < 0) return; // in flight: the flush owns the outcome (it aborts past the deadline)
    this.queue.splice(i, 1);
    settle(p, new SinkError(`write not durable within ${this.o.timeoutMs} ms (queued behind earlier batches)`));
  }

  private async drain(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch: Pending[] = [];
        let n = 0;
        let bytes = 0;
        while (this.queue.length > 0) {
          const next = this.queue[0] as Pending;
          const fits = n + next.records.length <= this.o.maxBatchRecords && bytes + next.bytes <= this.o.maxBatchBytes;
          if (batch.length > 0 && !fits) break;
          this.queue.shift();
          batch.push(next);
          n += next.records.length;
          bytes += next.bytes;
        }
        const deadline = Math.min(...batch.map((p) => p.deadline));
        try {
          await this.flush(
            batch.flatMap((p) => p.records),
            deadline,
          );
          for (const p of batch) settle(p, null);
        } catch (e) {
          for (const p of batch) settle(p, e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

function settle(p: Pending, err: unknown): void {
  if (p.settled) return;
  p.settled = true;
  if (p.timer) clearTimeout(p.timer);
  if (err === null) p.resolve();
  else p.reject(err);
}

/** Serialized size of a record: UTF-8 bytes of key, value and headers plus a per-record overhead. */
export function recordBytes(r: OutRecord): number {
  let n = Buffer.byteLength(r.key) + (r.value === null ? 0 : Buffer.byteLength(r.value)) + 64;
  for (const [k, v] of Object.entries(r.headers)) n += k.length + Buffer.byteLength(v) + 8;
  return n;
}
