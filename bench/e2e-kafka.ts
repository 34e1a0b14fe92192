/**
 * End-to-end throughput (the hub runs in its own process, as in production; the load generator and
 * the peer run in this one): signed resident-app webhook → pipeline → ticket on Kafka (acks=all),
 * against the raw kafkajs producer (idempotent, acks=all) sending the same serialized tickets to
 * the same broker with the same concurrency, in one run. Prints medians of several rounds and the
 * ratio. Needs a broker: KAFKA_BROKERS (default 127.0.0.1:9092), e.g. `bash deploy/local/kafka.sh start`.
 *
 *   npm run build && node dist/bench/e2e-kafka.js [--n 4000] [--concurrency 64] [--rounds 3]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Agent, request } from 'undici';
import { TOPICS } from '../core/outputs/topics';
import { readTopic } from '../core/testing/kafka';
import { sharedDataFile } from '../core/util/shared-data';
import { residentReport, signedHeaders, TEST_SECRET } from '../core/testing/signed';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('--n', 4000);
const C = arg('--concurrency', 64);
const ROUNDS = arg('--rounds', 3);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

async function pool(n: number, c: number, f: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: c }, async () => {
      for (let i = next++; i < n; i = next++) await f(i);
    }),
  );
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const port = arg('--port', 18080);
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const cfgFile = join(dir, 'hub.yaml');
  writeFileSync(
    cfgFile,
    JSON.stringify({
      server: { host: '127.0.0.1', port },
      output: { type: 'kafka', kafka: { brokers: BROKERS } },
      connectors: [{ id: 'bench-app', type: 'resident-app', config: { secrets: [TEST_SECRET] } }],
    }),
  );
  const child = spawn(process.execPath, [join(__dirname, '..', 'core', 'cli', 'main.js'), 'start', '--config', cfgFile], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn', KAFKA_BROKERS: '' } });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const r = await request(`${base}/readyz`);
      await r.body.dump();
      if (r.statusCode === 200) break;
    } catch {
      /* not up yet */
    }
    if (i > 600) throw new Error('hub did not become ready');
    await new Promise((res) => setTimeout(res, 100));
  }
  const agent = new Agent({ connections: C, pipelining: 0 });
  const kafka = new Kafka({ clientId: 'bench-peer', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();

  const texts: string[] = [];
  try {
    for (const line of readFileSync(sharedDataFile('tipdm2020c', 'unlabeled.jsonl'), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const m = JSON.parse(line) as { text?: string; title?: string; detail?: string };
      const t = m.text ?? `${m.title ?? ''}${m.detail ?? ''}`;
      if (t.trim()) texts.push(t);
    }
  } catch (e) {
    process.stderr.write(`(no shared data, using synthetic texts: ${(e as Error).message})\n`);
  }
  const hubRates: number[] = [];
  const peerRates: number[] = [];
  const lat: number[] = [];
  // round 0 warms up the JIT and the connections, and is not counted
  for (let round = 0; round <= ROUNDS; round++) {
    const run = randomUUID().slice(0, 8);
    // real, varied message-board texts (tipdm2020c/unlabeled.jsonl) as the reports' text, so the
    // clustering and classification stages see realistic input rather than one repeated template
    const bodies = Array.from({ length: N }, (_, i) => {
      const text = texts.length ? (texts[i % texts.length] as string) : undefined;
      return Buffer.from(JSON.stringify(residentReport(i, { reportId: `B-${run}-${i}`, ...(text ? { text: text.slice(0, 2000), location: null } : {}) })));
    });
    const tickets: string[] = new Array<string>(N);
    let t0 = process.hrtime.bigint();
    let failed = 0;
    await pool(N, C, async (i) => {
      const b = bodies[i] as Buffer;
      const s = process.hrtime.bigint();
      const res = await request(`${base}/intake/bench-app`, { method: 'POST', body: b, headers: signedHeaders(b), dispatcher: agent });
      await res.body.dump();
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      if (res.statusCode !== 202) failed++;
    });
    const hubSec = Number(process.hrtime.bigint() - t0) / 1e9;
    if (failed) throw new Error(`${failed} posts were not accepted`);
    if (round > 0) hubRates.push(N / hubSec);

    // the same serialized tickets, read back from the topic, sent by the raw producer
    const ours = await readTopic<{ id: string; source: { sourceId: string } }>(TOPICS.tickets, (t) => t.source.sourceId.startsWith(`B-${run}-`));
    if (ours.length !== N) throw new Error(`expected ${N} tickets on the topic, found ${ours.length}`);
    const keys = ours.map((t) => t.id);
    ours.forEach((t, i) => (tickets[i] = JSON.stringify(t)));
    t0 = process.hrtime.bigint();
    await pool(N, C, async (i) => {
      await producer.send({ topic: TOPICS.tickets, acks: -1, messages: [{ key: keys[i] as string, value: tickets[i] as string }] });
    });
    const peerSec = Number(process.hrtime.bigint() - t0) / 1e9;
    if (round > 0) peerRates.push(N / peerSec);
    process.stderr.write(`round ${round}/${ROUNDS}${round === 0 ? ' (warm-up)' : ''}: hub ${(N / hubSec).toFixed(0)}/s, raw kafkajs ${(N / peerSec).toFixed(0)}/s\n`);
  }
  // where the hub's time goes: mean per ticket of each stage, from its own histogram
  const metrics = await (await request(`${base}/metrics`)).body.text();
  const stageMs: Record<string, number> = {};
  for (const m of metrics.matchAll(/^intake_stage_duration_seconds_sum\{stage="([a-z]+)"\} ([0-9.e+-]+)$/gm)) {
    const count = new RegExp(`^intake_stage_duration_seconds_count\\{stage="${m[1]}"\\} ([0-9]+)$`, 'm').exec(metrics);
    if (count && Number(count[1]) > 0) stageMs[m[1] as string] = Number(((Number(m[2]) / Number(count[1])) * 1000).toFixed(3));
  }
  lat.sort((a, b) => a - b);
  const hubMed = median(hubRates);
  const peerMed = median(peerRates);
  const result = {
    bench: 'e2e-webhook-to-kafka',
    n: N,
    concurrency: C,
    rounds: ROUNDS,
    hub_tickets_per_s_median: Math.round(hubMed),
    raw_kafkajs_msgs_per_s_median: Math.round(peerMed),
    ratio_hub_over_raw: Number((hubMed / peerMed).toFixed(2)),
    hub_latency_ms_p50: Number((lat[Math.floor(lat.length * 0.5)] ?? 0).toFixed(2)),
    hub_latency_ms_p99: Number((lat[Math.floor(lat.length * 0.99)] ?? 0).toFixed(2)),
    hub_stage_mean_ms: stageMs,
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  await producer.disconnect();
  await agent.close();
  child.kill('SIGTERM');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
