/**
 * Does a second transaction in flight raise the intake tier's ceiling? (issue 10, 2026-12-03)
 *
 * The intake writer commits one group-committed transaction at a time per instance. This measures
 * L = 1, 2, 3 independent transactional writers (`KafkaLog`, one transactional id each) sharing 64
 * concurrent single-record writes round-robin, on one broker, 6 partitions, 1.5 KB values: if the
 * one-transaction-at-a-time cycle were the limit, 2 lanes would approach twice the rate.
 *
 *   npm run build && node dist/bench/fleet/lanes.js [--lanes 1,2,3] [--n 10000] [--rounds 2]
 */
import { KafkaLog } from '../../core/kafka/log';
import { silentLogger } from '../../core/logger';
import { topicsFor } from '../../core/outputs/topics';
import { testConnection } from '../../core/testing/kafka';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? String(process.argv[i + 1]) : def;
};
const LANES = arg('--lanes', '1,2,3').split(',').map(Number);
const N = Number(arg('--n', '10000'));
const ROUNDS = Number(arg('--rounds', '2'));
const P = 6;
const C = 64;
const layout = { partitions: P, leasePartitions: 3, replicationFactor: 1, minInsyncReplicas: 1, compression: 'lz4' as const, rawRetentionMs: 3600_000 * 24, ticketRetentionMs: 3600_000 * 24 * 31, dedupWindowMs: 3600_000 * 24 * 30, clusterHorizonMs: 3600_000 * 24 * 60 };

async function round(lanes: number): Promise<Record<string, number>> {
  const ns = `lanes${Date.now().toString(36)}l${lanes}.`;
  const logs: KafkaLog[] = [];
  for (let k = 0; k < lanes; k++) {
    const l = new KafkaLog(testConnection(ns), topicsFor(ns), layout, { instanceId: `lane-${k}`, writeTimeoutMs: 10000, transactionTimeoutMs: 30000, callTimeoutMs: 30000, maxBatchRecords: 500, maxBatchBytes: 8 << 20 }, silentLogger);
    await l.start();
    logs.push(l);
  }
  const topic = topicsFor(ns).reports;
  const value = 'x'.repeat(1500);
  const lat: number[] = [];
  let next = 0;
  const t0 = Date.now();
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: C }, async () => {
      for (let i = next++; i < N; i = next++) {
        const s = Date.now();
        await (logs[i % lanes] as KafkaLog).write([{ topic, partition: i % P, key: `k${i}`, value: value + i, headers: {} }]);
        lat.push(Date.now() - s);
      }
    }),
  );
  const secs = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  for (const l of logs) await l.stop();
  lat.sort((a, b) => a - b);
  return { lanes, records: N, per_second: Math.round(N / secs), p50_ms: lat[lat.length >> 1] ?? 0, p99_ms: lat[Math.floor(lat.length * 0.99)] ?? 0, client_cpu_us_per_record: Math.round((cpu.user + cpu.system) / N) };
}

async function main(): Promise<void> {
  for (let r = 0; r < ROUNDS; r++) for (const l of LANES) process.stdout.write(JSON.stringify({ figure: 'transaction lanes', round: r + 1, ...(await round(l)) }) + '\n');
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
