import { createReadStream, existsSync, mkdirSync, statSync, truncateSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SinkError } from '../errors';
import type { HubMetrics } from '../metrics';
import { GroupCommitter } from './group-commit';
import type { OutRecord, Output, StoredRecord } from './output';

interface Line {
  ts: number;
  r: { t: string; o: number; k: string; v: string; h: Record<string, string> }[];
}

/**
 * The embedded log: all topics in one append-only JSON-lines file, one line per group-committed
 * batch, fdatasync'ed before `write` resolves — so a batch is atomic (a torn last line is dropped
 * on recovery) and durable, the same guarantee Kafka acks=all gives. One partition per topic.
 * Meant for one-process use (`npm start`, demos, small sites); it does not compact or roll segments.
 */
export class EmbeddedLog implements Output {
  readonly kind = 'embedded' as const;
  private fh: FileHandle | null = null;
  private readonly offsets = new Map<string, number>();
  private readonly file: string;
  private readonly committer: GroupCommitter;
  private ok = false;

  constructor(
    dir: string,
    private readonly metrics?: HubMetrics,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'log.jsonl');
    this.committer = new GroupCommitter((records) => this.append(records));
  }

  async start(): Promise<void> {
    if (this.fh) return;
    await this.recover();
    this.fh = await open(this.file, 'a');
    this.ok = true;
    this.metrics?.outputUp.set({ output: 'embedded' }, 1);
  }

  async stop(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    this.ok = false;
    await fh?.close();
  }

  ready(): boolean {
    return this.ok;
  }

  write(records: OutRecord[]): Promise<void> {
    if (!this.fh) return Promise.reject(new SinkError('embedded log is not open'));
    return this.committer.write(records);
  }

  private async append(records: OutRecord[]): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new SinkError('embedded log is not open');
    const started = process.hrtime.bigint();
    const ts = this.now();
    const line: Line = { ts, r: [] };
    const next = new Map<string, number>();
    for (const rec of records) {
      const o = next.get(rec.topic) ?? this.offsets.get(rec.topic) ?? 0;
      next.set(rec.topic, o + 1);
      line.r.push({ t: rec.topic, o, k: rec.key, v: rec.value, h: rec.headers });
    }
    try {
      await fh.write(JSON.stringify(line) + '\n');
      await fh.datasync();
    } catch (e) {
      this.ok = false;
      this.metrics?.outputUp.set({ output: 'embedded' }, 0);
      throw new SinkError(`embedded log write failed: ${(e as Error).message}`, { cause: e });
    }
    for (const [t, o] of next) this.offsets.set(t, o);
    this.metrics?.outputWriteDuration.observe({ output: 'embedded' }, Number(process.hrtime.bigint() - started) / 1e9);
    this.metrics?.outputBatchRecords.observe({ output: 'embedded' }, records.length);
  }

  /** Re-reads the file: drops a torn last line, restores per-topic offsets. */
  private async recover(): Promise<void> {
    if (!existsSync(this.file)) return;
    let good = 0;
    await this.readLines((line, endByte) => {
      for (const r of line.r) this.offsets.set(r.t, r.o + 1);
      good = endByte;
    });
    if (statSync(this.file).size !== good) truncateSync(this.file, good);
  }

  private async readLines(onLine: (l: Line, endByte: number) => void): Promise<void> {
    if (!existsSync(this.file)) return;
    const rl = createInterface({ input: createReadStream(this.file), crlfDelay: Infinity });
    let pos = 0;
    for await (const text of rl) {
      const end = pos + Buffer.byteLength(text) + 1;
      let parsed: Line;
      try {
        parsed = JSON.parse(text) as Line;
      } catch {
        break; // torn tail from a crash mid-write
      }
      onLine(parsed, end);
      pos = end;
    }
  }

  async scan(topic: string, sinceMs: number, onRecord: (r: StoredRecord) => void): Promise<number> {
    const limit = this.offsets.get(topic) ?? 0;
    let n = 0;
    await this.readLines((line) => {
      if (line.ts < sinceMs) return;
      for (const r of line.r) {
        if (r.t !== topic || r.o >= limit) continue;
        onRecord({ topic, partition: 0, offset: String(r.o), key: r.k, value: r.v, headers: r.h, timestamp: line.ts });
        n++;
      }
    });
    return n;
  }
}
