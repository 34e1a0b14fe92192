import type { OutRecord } from './output';

interface Pending {
  records: OutRecord[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: while one durable write is in flight, later writes queue up and go out together in
 * the next one. No artificial linger: a lone write is flushed at once, and under load batches grow
 * by themselves, which is what lets acks=all / fsync keep up with many concurrent requests.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly flush: (records: OutRecord[]) => Promise<void>,
    private readonly maxBatchRecords = 2000,
  ) {}

  write(records: OutRecord[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      if (!this.flushing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch: Pending[] = [];
        let n = 0;
        while (this.queue.length > 0 && (batch.length === 0 || n + (this.queue[0]?.records.length ?? 0) <= this.maxBatchRecords)) {
          const p = this.queue.shift() as Pending;
          batch.push(p);
          n += p.records.length;
        }
        try {
          await this.flush(batch.flatMap((p) => p.records));
          for (const p of batch) p.resolve();
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
