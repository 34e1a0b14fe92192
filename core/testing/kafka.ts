import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { retryOnLeaderChange } from '../outputs/kafka';
import { packageRoot } from '../util/paths';

export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

export function kafkaClient(): Kafka {
  return new Kafka({ clientId: 'intake-hub-test', brokers: BROKERS, logLevel: logLevel.NOTHING });
}

/**
 * Reads a topic from the beginning with a real consumer (fresh group) up to its current end, and
 * returns the records that `keep` accepts. Reading up to the end as of the call means "everything
 * acknowledged so far", which is what the durability tests need.
 */
export async function readTopic<T>(topic: string, keep: (value: T, key: string) => boolean): Promise<T[]> {
  const kafka = kafkaClient();
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await retryOnLeaderChange(admin, topic, () => admin.fetchTopicOffsets(topic));
  await admin.disconnect();
  const remaining = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  const out: T[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `itest-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out reading ${topic}`)), 120000);
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          const end = remaining.get(batch.partition);
          for (const m of batch.messages) {
            if (end !== undefined && BigInt(m.offset) >= end) continue;
            const v = JSON.parse(m.value?.toString('utf8') ?? 'null') as T;
            if (keep(v, m.key?.toString('utf8') ?? '')) out.push(v);
          }
          if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) {
            remaining.delete(batch.partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}

/** Controls the local broker started by deploy/local/kafka.sh (stop/start for outage tests). */
export function kafkaCtl(cmd: 'stop' | 'start' | 'wait'): void {
  if (process.env.KAFKA_MANAGED === '0') {
    throw new Error('the broker in use was not started by this checkout (KAFKA_MANAGED=0): deploy/local/kafka.sh cannot stop it, so an outage test would test nothing');
  }
  execFileSync('bash', [join(packageRoot(), 'deploy', 'local', 'kafka.sh'), cmd], { stdio: 'inherit', timeout: 180000 });
}
