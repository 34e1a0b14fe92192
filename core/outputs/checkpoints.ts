import { partitionFor } from '../kafka/partitioner';
import type { RecordLog } from './output';
import { HEADER, type Topics } from './topics';

/** Durable small state of one connector (the backfill import's progress). */
export interface CheckpointStore {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
}

/**
 * Checkpoints kept on the log itself (`intake.checkpoints.v1`, compacted). Used by the backfill
 * import, whose checkpoint trails its durable records (records re-submitted after a crash are
 * exact duplicates the processor drops). Pollers do not use this: their cursor is written in the
 * same transaction as their records (`SourceSession`). `load` rebuilds the latest values.
 */
export class OutputCheckpoints {
  private readonly values = new Map<string, string>();

  constructor(
    private readonly log: RecordLog,
    private readonly topics: Topics,
  ) {}

  async load(): Promise<number> {
    return this.log.scan(this.topics.checkpoints, 0, (r) => {
      if (r.value === null) this.values.delete(r.key);
      else this.values.set(r.key, r.value);
    });
  }

  forConnector(connectorId: string): CheckpointStore {
    return {
      get: async (name) => this.values.get(`${connectorId}/${name}`) ?? null,
      put: async (name, value) => {
        const key = `${connectorId}/${name}`;
        await this.log.write([{ topic: this.topics.checkpoints, partition: partitionFor(key, this.log.partitions), key, value, headers: { [HEADER.connector]: connectorId } }]);
        this.values.set(key, value);
      },
    };
  }
}
