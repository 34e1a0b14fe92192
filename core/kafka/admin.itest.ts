import type { KafkaConsumer as RdConsumer, KafkaJS } from '@confluentinc/kafka-javascript';
import { KafkaAdmin } from './admin';
import { baseConfig, kafkaModule } from './client';
import { TxnProducer } from './txn-producer';
import { dropNamespace, testConnection, testNamespace } from '../testing/kafka';
import { until } from '../testing/wait';

/**
 * `KafkaAdmin.committed` is the processor's first restore step on a new assignment: it must return
 * only once the previous owner's pending transactional offset commit is resolved (KIP-447
 * require_stable), so that the changelog is read after it. Regression: librdkafka's admin
 * ListConsumerGroupOffsets does not retry UNSTABLE_OFFSET_COMMIT (only the consumer's own fetch
 * does), so it answered at once with the pending partition's error.
 */
const ns = testNamespace('admin');
const conn = testConnection(ns);
const topic = `${ns}in`;
const group = `${ns}g`;

afterAll(async () => {
  await dropNamespace(ns, conn);
});

test('committed(requireStable) waits for a pending transactional offset commit, then returns its offset', async () => {
  const admin = new KafkaAdmin(conn);
  await admin.connect();
  const { KafkaJS: K } = kafkaModule();
  const a = new K.Kafka({}).admin({ ...baseConfig(conn, 'admin-itest') } as never);
  await a.connect();
  await a.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
  await a.disconnect();
  const setup = new TxnProducer(conn, { transactionalId: `${ns}setup`, transactionTimeoutMs: 30000, callTimeoutMs: 15000, compression: 'none', lingerMs: 1 }, 'test');
  await setup.init();
  await setup.begin();
  setup.send([0, 1, 2].map((i) => ({ topic, partition: 0, key: `k${i}`, value: `v${i}`, headers: {} })));
  await setup.commit();
  await setup.destroy();

  const producer = new TxnProducer(conn, { transactionalId: `${ns}owner`, transactionTimeoutMs: 60000, callTimeoutMs: 15000, compression: 'none', lingerMs: 1 }, 'test');
  await producer.init();
  const consumer: KafkaJS.Consumer = new K.Kafka({}).consumer({ ...baseConfig(conn, 'admin-itest'), 'group.id': group, 'isolation.level': 'read_committed', 'enable.auto.commit': false, 'auto.offset.reset': 'earliest' } as never);
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  let pending = false;
  let sentOffset = -1n;
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  void consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async (p) => {
      if (pending) return;
      pending = true;
      const last = p.batch.messages[p.batch.messages.length - 1] as KafkaJS.KafkaMessage;
      await producer.begin();
      sentOffset = BigInt(last.offset) + 1n;
      await producer.sendOffsets([{ topic, partition: 0, offset: String(sentOffset) }], (consumer as unknown as { _getInternalClient(): RdConsumer })._getInternalClient());
      await released; // the offset commit stays pending until the test lets it go
      await producer.commit();
    },
  });
  try {
    await until('the offset commit is pending', () => pending, 60000);
    await new Promise((r) => setTimeout(r, 500)); // TxnOffsetCommit reached the group coordinator
    let answeredAt = 0;
    const asked = admin.committed(group, [topic]).then((m) => {
      answeredAt = Date.now();
      return m;
    });
    await new Promise((r) => setTimeout(r, 2500));
    expect(answeredAt).toBe(0); // still waiting: the commit is pending
    const releasedAt = Date.now();
    release();
    const offsets = await asked;
    expect(answeredAt).toBeGreaterThanOrEqual(releasedAt);
    expect(sentOffset).toBeGreaterThan(0n);
    expect(offsets.get(`${topic}/0`)).toBe(sentOffset);
  } finally {
    release();
    await consumer.disconnect().catch(() => undefined);
    await producer.destroy();
    await admin.disconnect();
  }
});
