import type { CheckpointStore } from '../sdk/connector';
import type { Output } from './output';
import { HEADER, TOPICS } from './topics';

/**
 * Checkpoints (poll cursors) kept on the output itself: a compacted Kafka topic in Kafka mode,
 * the embedded log otherwise. `put` resolves once durable; `load` rebuilds the latest values.
 */
export class OutputCheckpoints {
  private readonly values = new Map<string, string>();

  constructor(private readonly output: Output) {}

  async load(): Promise<number> {
    return this.output.scan(TOPICS.checkpoints, 0, (r) => {
      this.values.set(r.key, r.value);
    });
  }

  forConnector(connectorId: string): CheckpointStore {
    return {
      get: async (name) => this.values.get(`${connectorId}/${name}`) ?? null,
      put: async (name, value) => {
        const key = `${connectorId}/${name}`;
        await this.output.write([{ topic: TOPICS.checkpoints, key, value, headers: { [HEADER.connector]: connectorId } }]);
        this.values.set(key, value);
      },
    };
  }
}
