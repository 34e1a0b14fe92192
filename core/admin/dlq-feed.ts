import { EmbeddedLog } from '../outputs/embedded';
import type { RecordLog, StoredRecord } from '../outputs/output';
import { KafkaLog } from '../kafka/log';
import { PartitionReader } from '../kafka/reader';
import type { DeadLetter } from '../schema/types';

/**
 * Feeds the admin plane's dead-letter index with every dead letter written after start, by
 * anyone: this instance's intake, the processors (a stage failure on another instance), other
 * intake instances. On the embedded log it listens to the log's appends; on Kafka it reads the
 * topic's new records every `everyMs` (read_committed) from where it last stopped.
 */
export class DeadLetterFeed {
  private stopFn: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private reader: PartitionReader | null = null;

  constructor(
    private readonly log: RecordLog,
    private readonly topic: string,
    private readonly onDeadLetter: (dl: DeadLetter) => void,
    private readonly everyMs = 3000,
  ) {}

  start(): void {
    const take = (r: StoredRecord): void => {
      if (r.topic !== this.topic || r.value === null) return;
      try {
        this.onDeadLetter(JSON.parse(r.value) as DeadLetter);
      } catch {
        // unreadable: skipped (it stays on the topic)
      }
    };
    if (this.log instanceof EmbeddedLog) {
      const off = this.log.onAppend((records) => records.forEach(take));
      this.stopFn = off;
      return;
    }
    if (!(this.log instanceof KafkaLog)) return;
    const reader = new PartitionReader(this.log.conn, 'dlq-feed');
    this.reader = reader;
    let positions: Map<number, bigint> | null = null;
    const tick = async (): Promise<void> => {
      const marks = await reader.watermarks(this.topic);
      if (positions === null) {
        positions = new Map(marks.map((m) => [m.partition, m.high]));
        return;
      }
      const from = positions;
      await reader.read(
        marks.map((m) => ({ topic: this.topic, partition: m.partition, from: from.get(m.partition) ?? m.low, to: m.high })),
        take,
        this.everyMs * 10,
      );
      for (const m of marks) from.set(m.partition, m.high);
    };
    const loop = (): void => {
      this.running = tick()
        .catch(() => undefined)
        .finally(() => {
          this.running = null;
          if (this.reader) this.timer = setTimeout(loop, this.everyMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopFn?.();
    this.stopFn = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const r = this.reader;
    this.reader = null;
    await this.running;
    await r?.close();
  }
}
