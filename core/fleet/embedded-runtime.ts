import type { Logger } from '../logger';
import type { EmbeddedLog } from '../outputs/embedded';
import type { OutRecord, StoredRecord } from '../outputs/output';
import type { Topics } from '../outputs/topics';
import { partitionFor } from '../kafka/partitioner';
import type { TaskFactory } from '../kafka/processor';
import type { Task } from './tasks';

/** The embedded log's stand-in for `__consumer_offsets`: key `<group>|<topic>|<partition>`, value the next offset. */
export const OFFSETS_TOPIC = '__offsets';

/**
 * The processor on the embedded log: the same tasks as on Kafka, every partition owned by this one
 * process (the log's lock guarantees there is no other). A batch's outputs, changelog records and
 * input offsets are appended in one fsynced line — the embedded log's transaction. On start every
 * task is rebuilt from its changelog and reading resumes at the committed offsets.
 */
export class EmbeddedProcessor {
  private readonly tasks = new Map<string, Task>();
  private readonly committed = new Map<string, number>();
  private queue: StoredRecord[] = [];
  private draining = false;
  private started = false;
  private unsubscribe: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private failed: unknown = null;

  constructor(
    private readonly log: EmbeddedLog,
    private readonly topics: Topics,
    private readonly factory: TaskFactory,
    private readonly logger: Logger,
    private readonly group = 'intake-hub-processor',
    private readonly maxBatchRecords = 500,
  ) {}

  get ok(): boolean {
    return this.started && this.failed === null;
  }

  assigned(): string[] {
    return [...this.tasks.keys()].sort();
  }

  async start(): Promise<void> {
    if (this.started) return;
    const inputs = [this.topics.reports, this.topics.located];
    for (const topic of inputs) for (let p = 0; p < this.log.partitions; p++) this.tasks.set(`${topic}/${p}`, this.factory.create(topic, p));
    const changelogOf = new Map<string, Task[]>();
    for (const t of this.tasks.values()) changelogOf.set(t.changelog, [...(changelogOf.get(t.changelog) ?? []), t]);
    const buffers = new Map<string, StoredRecord[]>();
    await this.log.scanTopics(new Set([OFFSETS_TOPIC, ...changelogOf.keys()]), (r) => {
      if (r.topic === OFFSETS_TOPIC) {
        const [group, topic, partition] = r.key.split('|');
        if (group === this.group && r.value !== null) this.committed.set(`${topic}/${partition}`, Number(r.value));
        return;
      }
      const k = `${r.topic}/${r.partition}`;
      const list = buffers.get(k) ?? [];
      list.push(r);
      buffers.set(k, list);
    });
    for (const t of this.tasks.values()) t.restore(buffers.get(`${t.changelog}/${t.partition}`) ?? []);
    // tail: live appends are buffered from now on; the scan below reads everything before
    const live: StoredRecord[] = [];
    let catchingUp = true;
    const inputSet = new Set(inputs);
    this.unsubscribe = this.log.onAppend((records) => {
      for (const r of records) if (inputSet.has(r.topic)) (catchingUp ? live : this.queue).push(r);
      if (!catchingUp) this.kick();
    });
    await this.log.scanTopics(inputSet, (r) => {
      if (Number(r.offset) >= (this.committed.get(`${r.topic}/${r.partition}`) ?? 0)) this.queue.push(r);
    });
    catchingUp = false;
    this.queue.push(...live);
    this.started = true;
    this.kick();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    while (this.draining) await new Promise<void>((r) => this.idleWaiters.push(r));
    this.queue = [];
    this.tasks.clear();
    this.committed.clear();
  }

  /** Resolves once every record appended so far has been processed (tests, graceful stop). */
  async idle(): Promise<void> {
    while (this.draining || this.queue.length > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private kick(): void {
    if (this.draining || !this.started) return;
    void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.started && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatchRecords);
        const out: OutRecord[] = [];
        const next = new Map<string, number>();
        for (const r of batch) {
          const k = `${r.topic}/${r.partition}`;
          const off = Number(r.offset);
          if (off < (next.get(k) ?? this.committed.get(k) ?? 0)) continue; // already processed
          this.tasks.get(k)?.process(r, out);
          next.set(k, off + 1);
        }
        if (next.size === 0) continue;
        for (const [k, o] of next) {
          const slash = k.lastIndexOf('/');
          out.push({ topic: OFFSETS_TOPIC, partition: 0, key: `${this.group}|${k.slice(0, slash)}|${k.slice(slash + 1)}`, value: String(o), headers: {} });
        }
        try {
          await this.log.write(out);
        } catch (e) {
          // the tasks' state ran ahead of what is durable: rebuild everything from the log
          this.failed = e;
          this.logger.error('embedded processor: commit failed; rebuilding state from the log', { err: e });
          void this.rebuildLater();
          return;
        }
        for (const [k, o] of next) this.committed.set(k, o);
      }
    } finally {
      this.draining = false;
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  private async rebuildLater(): Promise<void> {
    await new Promise((r) => setTimeout(r, 1000));
    await this.stop();
    this.failed = null;
    try {
      await this.start();
    } catch (e) {
      this.failed = e;
      this.logger.error('embedded processor: rebuild failed', { err: e });
    }
  }
}

/** A poll source's session on the embedded log: one owner by construction (the log's lock). */
export class EmbeddedSourceSession {
  private readonly values = new Map<string, string>();
  private open_ = false;

  constructor(
    private readonly log: EmbeddedLog,
    private readonly topics: Topics,
    private readonly connectorId: string,
  ) {}

  get isOpen(): boolean {
    return this.open_;
  }

  async open(names: string[]): Promise<void> {
    const keys = new Set(names.map((n) => `${this.connectorId}/${n}`));
    await this.log.scan(this.topics.checkpoints, 0, (r) => {
      if (!keys.has(r.key)) return;
      const name = r.key.slice(this.connectorId.length + 1);
      if (r.value === null) this.values.delete(name);
      else this.values.set(name, r.value);
    });
    this.open_ = true;
  }

  get(name: string): string | null {
    return this.values.get(name) ?? null;
  }

  async commit(records: OutRecord[], checkpoints: Record<string, string>): Promise<void> {
    const cps: OutRecord[] = Object.entries(checkpoints).map(([name, value]) => {
      const key = `${this.connectorId}/${name}`;
      return { topic: this.topics.checkpoints, partition: partitionFor(key, this.log.partitions), key, value, headers: { 'intake-connector': this.connectorId } };
    });
    await this.log.write([...records, ...cps]);
    for (const [k, v] of Object.entries(checkpoints)) this.values.set(k, v);
  }

  async close(): Promise<void> {
    this.open_ = false;
  }
}
