import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, SinkError } from '../errors';
import type { HubMetrics } from '../metrics';
import { GroupCommitter } from './group-commit';
import type { OutRecord, RecordLog, StoredRecord } from './output';

interface Line {
  ts: number;
  r: { t: string; p?: number; o: number; k: string; v: string | null; h: Record<string, string> }[];
}

/**
 * The embedded log: every topic in one append-only JSON-lines file, one line per group-committed
 * batch, fdatasync'ed before `write` resolves — so a batch is atomic (a torn last line is dropped
 * on recovery) and durable, the guarantee Kafka's transactions give. Partitions and offsets work
 * as in Kafka (offsets are per topic-partition), so the processor runs the same code on it.
 *
 * One process at a time: `start` takes `<dir>/LOCK` (pid, host) and refuses with a clear error
 * while another live process holds it; a lock left by a killed process is taken over.
 * Meant for one-process use (`npm start`, demos, small sites): it does not compact or roll
 * segments, and recovery reads the whole file.
 */
export class EmbeddedLog implements RecordLog {
  readonly kind = 'embedded' as const;
  private fh: FileHandle | null = null;
  private readonly offsets = new Map<string, number>();
  private readonly file: string;
  private readonly lockFile: string;
  private readonly committer: GroupCommitter;
  private readonly listeners = new Set<(records: StoredRecord[]) => void>();
  private ok = false;
  private locked = false;

  constructor(
    readonly dir: string,
    readonly partitions = 1,
    private readonly metrics?: HubMetrics,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'log.jsonl');
    this.lockFile = join(dir, 'LOCK');
    this.committer = new GroupCommitter((records) => this.append(records));
  }

  async start(): Promise<void> {
    if (this.fh) return;
    this.lock();
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
    this.unlock();
  }

  ready(): boolean {
    return this.ok;
  }

  write(records: OutRecord[]): Promise<void> {
    if (!this.fh) return Promise.reject(new SinkError('embedded log is not open'));
    for (const r of records) {
      if (!Number.isInteger(r.partition) || r.partition < 0 || (r.partition >= this.partitions && !r.topic.startsWith('__'))) {
        return Promise.reject(new RangeError(`partition ${r.partition} of ${r.topic} is outside 0..${this.partitions - 1}`));
      }
    }
    return this.committer.write(records);
  }

  /** Called with every batch once it is durable (the in-process processor tails the log). */
  onAppend(listener: (records: StoredRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Next offset of a topic-partition (its end). */
  endOffset(topic: string, partition: number): number {
    return this.offsets.get(`${topic}\u0000${partition}`) ?? 0;
  }

  private async append(records: OutRecord[]): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new SinkError('embedded log is not open');
    const started = process.hrtime.bigint();
    const ts = this.now();
    const line: Line = { ts, r: [] };
    const next = new Map<string, number>();
    const stored: StoredRecord[] = [];
    for (const rec of records) {
      const tp = `${rec.topic}\u0000${rec.partition}`;
      const o = next.get(tp) ?? this.offsets.get(tp) ?? 0;
      next.set(tp, o + 1);
      line.r.push({ t: rec.topic, p: rec.partition, o, k: rec.key, v: rec.value, h: rec.headers });
      stored.push({ topic: rec.topic, partition: rec.partition, offset: String(o), key: rec.key, value: rec.value, headers: rec.headers, timestamp: ts });
    }
    try {
      await fh.write(JSON.stringify(line) + '\n');
      await fh.datasync();
    } catch (e) {
      this.ok = false;
      this.metrics?.outputUp.set({ output: 'embedded' }, 0);
      throw new SinkError(`embedded log write failed: ${(e as Error).message}`, { cause: e });
    }
    for (const [tp, o] of next) this.offsets.set(tp, o);
    this.metrics?.outputWriteDuration.observe({ output: 'embedded' }, Number(process.hrtime.bigint() - started) / 1e9);
    this.metrics?.outputBatchRecords.observe({ output: 'embedded' }, records.length);
    for (const l of this.listeners) l(stored);
  }

  /** Re-reads the file: drops a torn last line, restores per-partition offsets. */
  private async recover(): Promise<void> {
    if (!existsSync(this.file)) return;
    let good = 0;
    await this.readLines((line, endByte) => {
      for (const r of line.r) this.offsets.set(`${r.t}\u0000${r.p ?? 0}`, r.o + 1);
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
    return this.scanTopics(new Set([topic]), (r) => (r.timestamp >= sinceMs ? onRecord(r) : undefined));
  }

  /**
   * Reads several topics in one pass over the file, up to their end as of the call, in append
   * order (which is offset order within every partition).
   */
  async scanTopics(topics: ReadonlySet<string>, onRecord: (r: StoredRecord) => void): Promise<number> {
    const limits = new Map(this.offsets);
    let n = 0;
    await this.readLines((line) => {
      for (const r of line.r) {
        if (!topics.has(r.t)) continue;
        const p = r.p ?? 0;
        if (r.o >= (limits.get(`${r.t}\u0000${p}`) ?? 0)) continue;
        onRecord({ topic: r.t, partition: p, offset: String(r.o), key: r.k, value: r.v, headers: r.h, timestamp: line.ts });
        n++;
      }
    });
    return n;
  }

  private lock(): void {
    if (this.locked) return;
    const dirKey = resolve(this.dir);
    if (HELD.has(dirKey)) throw new ConfigError(`the embedded log in ${this.dir} is in use by another hub in this process; give this hub another output.embedded.dir`, { dataPath: '/output/embedded/dir' });
    const me = JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.lockFile, 'wx');
        writeSync(fd, me);
        closeSync(fd);
        this.locked = true;
        HELD.add(dirKey);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = readLock(this.lockFile);
      if (holder && holder.host === hostname() && holder.pid !== process.pid && alive(holder.pid)) {
        throw new ConfigError(`the embedded log in ${this.dir} is in use by another hub (pid ${holder.pid}, since ${holder.at}); stop it or give this hub another output.embedded.dir`, { dataPath: '/output/embedded/dir' });
      }
      if (holder && holder.host !== hostname()) {
        throw new ConfigError(`the embedded log in ${this.dir} is locked by a hub on host ${holder.host} (pid ${holder.pid}); the embedded log is for one process on one host — use Kafka for several`, { dataPath: '/output/embedded/dir' });
      }
      // stale (its process is gone): move it aside atomically, then retry the exclusive create
      const aside = `${this.lockFile}.stale-${process.pid}`;
      try {
        renameSync(this.lockFile, aside);
        const moved = readLock(aside);
        if (moved && moved.host === hostname() && moved.pid !== process.pid && alive(moved.pid)) {
          // a concurrent starter replaced the stale lock between our read and our rename: give it back
          renameSync(aside, this.lockFile);
          continue;
        }
        unlinkSync(aside);
      } catch {
        // another starter moved it first; retry
      }
    }
    throw new ConfigError(`could not take the lock ${this.lockFile}`, { dataPath: '/output/embedded/dir' });
  }

  private unlock(): void {
    if (!this.locked) return;
    this.locked = false;
    HELD.delete(resolve(this.dir));
    const holder = readLock(this.lockFile);
    if (holder && holder.pid === process.pid && holder.host === hostname()) {
      try {
        unlinkSync(this.lockFile);
      } catch {
        // already gone
      }
    }
  }
}

/** Embedded log directories locked by this process. */
const HELD = new Set<string>();

function readLock(file: string): { pid: number; host: string; at: string } | null {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; host?: unknown; at?: unknown };
    if (typeof o.pid === 'number' && typeof o.host === 'string') return { pid: o.pid, host: o.host, at: String(o.at ?? '') };
  } catch {
    // unreadable (torn write by a killed process): treat as stale
  }
  return null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
