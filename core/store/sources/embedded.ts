import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Position } from '../types';
import type { RecordSource, SourceBatch, SourceRecord } from '../materializer';

/** The bookkeeping position of the embedded source: the byte offset after the last applied line. */
export const EMBEDDED_FILE_POSITION = '@embedded-log';

interface Line {
  r: { t: string; p?: number; o: number; v: string | null }[];
}

const tp = (t: string, p: number | undefined): string => `${t}\u0000${p ?? 0}`;
const splitTp = (k: string): { topic: string; partition: number } => {
  const i = k.lastIndexOf('\u0000');
  return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
};

export interface EmbeddedSourceOptions {
  /** The embedded log's folder (output.embedded.dir): the file is `log.jsonl` in it. */
  dir: string;
  topics: readonly string[];
  /** Records per store transaction (batches end at a line boundary, so one may hold more). */
  batchRecords: number;
  pollIntervalMs: number;
}

/**
 * Tails the embedded log (core/outputs/embedded.ts: one JSON line per durable batch, offsets `o`
 * per topic partition `p`) from a stored byte position. Only complete lines are read (a line being written has
 * no newline yet; a torn line left by a crash is truncated by the log's recovery before anything is
 * appended after it). Records below the stored per-topic offsets are skipped, so a byte position
 * that points into an older file still never applies a record twice. A file shorter than the
 * stored position was replaced: reading starts again at its beginning.
 */
export class EmbeddedSource implements RecordSource {
  readonly name = 'embedded' as const;
  private readonly file: string;
  private stopped = false;
  private wake: (() => void) | null = null;
  private pos = 0;
  private size = 0;
  private readonly next = new Map<string, number>();

  constructor(private readonly o: EmbeddedSourceOptions) {
    this.file = join(o.dir, 'log.jsonl');
  }

  async run(from: Position[], onBatch: (b: SourceBatch) => Promise<void>): Promise<void> {
    this.stopped = false;
    this.next.clear();
    this.pos = 0;
    for (const p of from) {
      if (p.topic === EMBEDDED_FILE_POSITION) this.pos = Number(p.next);
      else this.next.set(tp(p.topic, p.partition), Number(p.next));
    }
    while (!this.stopped) {
      const size = existsSync(this.file) ? (await stat(this.file)).size : 0;
      this.size = size;
      if (size < this.pos) this.pos = 0;
      if (size > this.pos) {
        const progressed = await this.readAvailable(size, onBatch);
        if (progressed) continue;
      }
      await this.sleep(this.o.pollIntervalMs);
    }
  }

  /** Reads complete lines between the position and `size`; true when it moved forward. */
  private async readAvailable(size: number, onBatch: (b: SourceBatch) => Promise<void>): Promise<boolean> {
    const fh = await open(this.file, 'r');
    const start = this.pos;
    try {
      let chunk = 1 << 20;
      let carry = Buffer.alloc(0);
      let readAt = this.pos;
      let records: SourceRecord[] = [];
      const moved = new Set<string>();
      const flush = async (endByte: number): Promise<void> => {
        const positions: Position[] = [...moved].map((k) => ({ ...splitTp(k), next: String(this.next.get(k) ?? 0) }));
        positions.push({ topic: EMBEDDED_FILE_POSITION, partition: 0, next: String(endByte) });
        await onBatch({ records, positions });
        this.pos = endByte;
        records = [];
        moved.clear();
      };
      while (readAt < size && !this.stopped) {
        const buf = Buffer.alloc(Math.min(chunk, size - readAt));
        const { bytesRead } = await fh.read(buf, 0, buf.length, readAt);
        if (bytesRead === 0) break;
        readAt += bytesRead;
        const data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        let lineStart = 0;
        let consumed = readAt - data.length; // file offset of data[0]
        for (let nl = data.indexOf(10, lineStart); nl >= 0; nl = data.indexOf(10, lineStart)) {
          const text = data.subarray(lineStart, nl).toString('utf8');
          lineStart = nl + 1;
          let line: Line | null = null;
          try {
            line = JSON.parse(text) as Line;
          } catch {
            line = null; // not expected below a newline; skip it rather than stall
          }
          for (const r of line?.r ?? []) {
            if (!this.o.topics.includes(r.t)) continue;
            const k = tp(r.t, r.p);
            const want = this.next.get(k) ?? 0;
            if (r.o < want) continue;
            this.next.set(k, r.o + 1);
            moved.add(k);
            if (r.v !== null) records.push({ topic: r.t, partition: r.p ?? 0, offset: String(r.o), value: r.v });
          }
          if (records.length >= this.o.batchRecords) await flush(consumed + lineStart);
        }
        consumed += lineStart;
        carry = Buffer.from(data.subarray(lineStart));
        // a line longer than the chunk: read on with a bigger one
        if (lineStart === 0) chunk = Math.min(chunk * 2, 256 << 20);
        if (records.length > 0 || consumed > this.pos) await flush(consumed);
      }
    } finally {
      await fh.close();
    }
    return this.pos > start;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref();
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
  }

  /**
   * End offsets: when the tail has read the whole file they are the offsets it has seen; when it
   * is behind, the last complete lines of the file (up to 1 MiB back) tell each topic's end.
   */
  async ends(): Promise<Position[] | null> {
    const seen = (): Position[] => {
      const out: Position[] = [...this.next].map(([k, n]) => ({ ...splitTp(k), next: String(n) }));
      for (const t of this.o.topics) if (!out.some((p) => p.topic === t)) out.push({ topic: t, partition: 0, next: '0' });
      return out;
    };
    if (!existsSync(this.file)) return seen();
    const size = (await stat(this.file)).size;
    if (size <= this.pos) return seen();
    const window = Math.min(size, 1 << 20);
    const fh = await open(this.file, 'r');
    try {
      const buf = Buffer.alloc(window);
      await fh.read(buf, 0, window, size - window);
      const lines = buf.toString('utf8').split('\n');
      const ends = new Map<string, number>(this.next);
      for (let i = lines.length - 1; i >= 0; i--) {
        let line: Line;
        try {
          line = JSON.parse(lines[i] as string) as Line;
        } catch {
          continue;
        }
        for (const r of line.r) if (this.o.topics.includes(r.t)) ends.set(tp(r.t, r.p), Math.max(ends.get(tp(r.t, r.p)) ?? 0, r.o + 1));
      }
      const out: Position[] = [...ends].map(([k, n]) => ({ ...splitTp(k), next: String(n) }));
      for (const t of this.o.topics) if (!out.some((p) => p.topic === t)) out.push({ topic: t, partition: 0, next: '0' });
      return out;
    } finally {
      await fh.close();
    }
  }

  /** Bytes of the log not read yet (for the status API). */
  get behindBytes(): number {
    return Math.max(0, this.size - this.pos);
  }
}
