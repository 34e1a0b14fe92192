import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { KafkaConnectionConfig } from '../kafka/client';
import { KafkaAdmin } from '../kafka/admin';
import { PartitionReader } from '../kafka/reader';
import type { StoredRecord } from '../outputs/output';
import { packageRoot } from '../util/paths';

export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

/** Connection settings for tests (plaintext, the broker started by the test command). */
export function testConnection(namespace = '', brokers: string[] = BROKERS): KafkaConnectionConfig {
  return {
    brokers,
    clientId: 'intake-hub-test',
    namespace,
    connectionTimeoutMs: 5000,
    security: { protocol: 'plaintext', ssl: { caFile: null, certFile: null, keyFile: null, keyPasswordFile: null, verifyHostname: true }, sasl: { mechanism: 'SCRAM-SHA-512', username: null, passwordFile: null, passwordEnv: null } },
  };
}

/** A fresh namespace, so a test's topics, groups and transactional ids are its own. */
export function testNamespace(prefix: string): string {
  return `t${prefix.replace(/[^a-z0-9]/g, '')}-${randomBytes(3).toString('hex')}.`;
}

/** The `output.kafka` block of a hub config for tests: the test broker, RF 1, a namespace, few partitions. */
export function kafkaOutput(namespace: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'kafka', kafka: { brokers: BROKERS, namespace, partitions: 3, leasePartitions: 3, replicationFactor: 1, minInsyncReplicas: 1, sessionTimeoutMs: 6000, transactionTimeoutMs: 10000, callTimeoutMs: 15000, ...extra } };
}

/** Every committed record of a topic (read_committed, to the high watermark as of the call). */
export async function readRecords(topic: string, conn: KafkaConnectionConfig = testConnection()): Promise<StoredRecord[]> {
  const reader = new PartitionReader(conn, 'test-read');
  const out: StoredRecord[] = [];
  try {
    await reader.scan(topic, 0, (r) => out.push(r));
  } finally {
    await reader.close();
  }
  return out;
}

/**
 * Reads a topic from the beginning up to its end as of the call (read_committed) and returns the
 * values that `keep` accepts. "Everything committed so far" is what the durability tests need.
 */
export async function readTopic<T>(topic: string, keep: (value: T, key: string) => boolean = () => true, conn: KafkaConnectionConfig = testConnection()): Promise<T[]> {
  const out: T[] = [];
  for (const r of await readRecords(topic, conn)) {
    if (r.value === null) continue;
    const v = JSON.parse(r.value) as T;
    if (keep(v, r.key)) out.push(v);
  }
  return out;
}

/** High watermark and last stable offset of every partition of a topic. */
export async function topicOffsets(topic: string, conn: KafkaConnectionConfig = testConnection()): Promise<{ partition: number; low: bigint; high: bigint; stable: bigint }[]> {
  const admin = new KafkaAdmin(conn);
  await admin.connect();
  try {
    return await admin.offsets(topic);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes a test namespace's topics (best effort). */
export async function dropNamespace(namespace: string, conn: KafkaConnectionConfig = testConnection()): Promise<void> {
  const admin = new KafkaAdmin(conn);
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(namespace));
    if (mine.length > 0) await admin.deleteTopics(mine).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** Controls the local broker started by deploy/local/kafka.sh (stop/start for outage tests). */
export function kafkaCtl(cmd: 'stop' | 'start' | 'wait'): void {
  if (process.env.KAFKA_MANAGED === '0') {
    throw new Error('the broker in use was not started by this checkout (KAFKA_MANAGED=0): deploy/local/kafka.sh cannot stop it, so an outage test would test nothing');
  }
  execFileSync('bash', [join(packageRoot(), 'deploy', 'local', 'kafka.sh'), cmd], { stdio: 'inherit', timeout: 180000 });
}
