/**
 * Fleet benchmarks (issue 10), one run on one broker, every figure from this run:
 *
 *   A. intake tier alone: signed resident-app webhooks (unique real texts, 64 in flight, the Go load
 *      generator in bench/loadgen) → `--role intake` hub → durable record on intake.reports.v1;
 *      against the peer: the same client's raw transactional producer with the same group-commit
 *      batching, writing the same record bytes (`KafkaLog.write` without HTTP, signature,
 *      normalisation or masking).
 *   B. processor tier: N reports preloaded by A's intake, then K = 1, 2, 3 `--role processor`
 *      instances (fresh group each) until every report is a ticket: reports/s in all and per
 *      partition.
 *   C. end to end: one `--role all` hub; p50/p99 of the HTTP answer and of report → ticket visible
 *      (read_committed) at 100/s and at saturation.
 *
 * Prints a JSON line per figure and a summary table. Needs a broker (KAFKA_BROKERS, default
 * 127.0.0.1:9092) and Go (the load generator is built on first use into a temp dir).
 *
 *   npm run build && node dist/bench/fleet/bench.js [--n 20000] [--partitions 6] [--concurrency 64] [--sections ABC] [--intakes 1] [--processors 1,2,3]
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { KafkaAdmin } from '../../core/kafka/admin';
import { KafkaLog } from '../../core/kafka/log';
import { PartitionReader } from '../../core/kafka/reader';
import { ConcurrentConsumer } from '../eos/tail';
import { silentLogger } from '../../core/logger';
import { topicsFor } from '../../core/outputs/topics';
import type { OutRecord } from '../../core/outputs/output';
import { packageRoot } from '../../core/util/paths';
import { sharedDataFile } from '../../core/util/shared-data';
import { testConnection } from '../../core/testing/kafka';
import { bearer, TEST_TOKEN_ENTRIES } from '../../core/testing/admin';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('--n', 20000);
/** Which parts to run (`--sections C`: end to end only); B needs A's records, so B runs A too. */
const SECTIONS = (() => {
  const i = process.argv.indexOf('--sections');
  return i >= 0 ? String(process.argv[i + 1]).toUpperCase() : 'ABC';
})();
const P = arg('--partitions', 6);
const C = arg('--concurrency', 64);
/** Processor counts of part B (`--processors 1`: one instance only, e.g. for an A/B of two builds). */
const PROCESSORS = (() => {
  const i = process.argv.indexOf('--processors');
  return (i >= 0 ? String(process.argv[i + 1]) : '1,2,3').split(',').map(Number);
})();
/** Intake instances in part A (separate processes on this machine, the load generator round-robins). */
const INTAKES = arg('--intakes', 1);
/** Extra Node flags for the hub processes, e.g. `BENCH_HUB_NODE_ARGS='--cpu-prof --cpu-prof-dir=prof'` to profile them. */
const HUB_NODE_ARGS = (process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const TOKEN_SECRET = randomBytes(24).toString('hex');
const root = packageRoot();
const dir = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
/** The hub under test; `BENCH_HUB_CLI=<other build>/core/cli/main.js` measures another build (A/B in one session). */
const cli = process.env.BENCH_HUB_CLI ?? join(root, 'dist', 'core', 'cli', 'main.js');
const out: Record<string, unknown>[] = [];
const execFileAsync = promisify(execFile);
const emit = (o: Record<string, unknown>): void => {
  out.push(o);
  process.stdout.write(JSON.stringify(o) + '\n');
};

/** Unique real texts: TipDM messages (never the holdout), one resident-app report each. */
async function bodies(n: number): Promise<string> {
  const texts: { title: string; text: string }[] = [];
  for (const f of ['messages_with_votes.jsonl', 'train.jsonl', 'unlabeled.jsonl', 'messages_with_replies.jsonl']) {
    const rl = createInterface({ input: createReadStream(sharedDataFile('tipdm2020c', f)) });
    for await (const line of rl) {
      if (!line.trim()) continue;
      const m = JSON.parse(line) as { title?: string; detail?: string; text?: string };
      const text = (m.detail ?? m.text ?? '').trim();
      if (text.length > 5) texts.push({ title: (m.title ?? '').slice(0, 100), text: text.slice(0, 4000) });
    }
  }
  const file = join(dir, 'bodies.jsonl');
  const lines: string[] = [];
  const stamp = Date.now().toString(36);
  for (let i = 0; i < n; i++) {
    const t = texts[i % texts.length] as { title: string; text: string };
    // unique per report even when texts repeat past the corpus size: a numbered suffix
    const text = i < texts.length ? t.text : `${t.text}（第${Math.floor(i / texts.length)}次反映）`;
    lines.push(JSON.stringify({ reportId: `B-${stamp}-${i}`, openid: `oBench${i % 5000}`, phone: `139${String(10000000 + (i % 90000000)).slice(-8)}`, appealType: '投诉', text, title: t.title || null, location: { lng: 117.2 + (i % 100) * 1e-3, lat: 31.8 + (i % 37) * 1e-3, coordType: 'gcj02', district: ['包河区', '蜀山区', '庐阳区', '瑶海区', '政务区', '滨湖区'][i % 6] }, submittedAt: '2026-11-20T08:00:00+08:00' }));
  }
  writeFileSync(file, lines.join('\n') + '\n');
  emit({ figure: 'corpus', reports: n, distinctTexts: Math.min(n, texts.length), avgChars: Math.round(lines.reduce((s, l) => s + l.length, 0) / n) });
  return file;
}

function loadgen(): string {
  const bin = join(dir, 'loadgen');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: join(root, 'bench', 'loadgen'), env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' }, stdio: 'inherit' });
  return bin;
}

function config(ns: string, port: number, adminPort: number): string {
  const file = join(dir, `hub-${ns}${port}.yaml`);
  writeFileSync(
    file,
    JSON.stringify({
      server: { host: '127.0.0.1', port, rateLimit: { max: 0 }, maxConnectionsPerClient: 0 },
      admin: { host: '127.0.0.1', port: adminPort, tokens: TEST_TOKEN_ENTRIES },
      pii: { tokenSecret: TOKEN_SECRET },
      output: { type: 'kafka', kafka: { brokers: BROKERS, namespace: ns, partitions: P, leasePartitions: 3, replicationFactor: 1, minInsyncReplicas: 1, sessionTimeoutMs: 6000 } },
      connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [SECRET] } }],
    }),
  );
  return file;
}

function startHub(cfg: string, role: string, id: string): ChildProcess {
  const p = spawn(process.execPath, [...HUB_NODE_ARGS, cli, 'start', '--config', cfg, '--role', role, '--instance-id', id], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  p.stderr?.on('data', () => undefined);
  return p;
}

async function ready(port: number, ms = 120000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if ((await request(`http://127.0.0.1:${port}/readyz`)).statusCode === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`hub on ${port} not ready`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * Runs the load generator to its end. Asynchronously: a synchronous child would block this process's
 * event loop, and the ticket tail of part C would only see the tickets when the load ended (the
 * first version did, and reported the run's length as the latency).
 */
async function runLoad(bin: string, url: string, file: string, extra: string[]): Promise<Record<string, number | Record<string, number>>> {
  const { stdout } = await execFileAsync(bin, ['-url', url, '-secret', SECRET, '-bodies', file, '-concurrency', String(C), ...extra], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, number | Record<string, number>>;
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  p.kill('SIGTERM');
  await new Promise((r) => p.once('exit', r));
}

/** Waits until the processor group has consumed every report and located record (committed ≥ LSO − 1). */
async function drained(ns: string, admin: KafkaAdmin): Promise<void> {
  const t = topicsFor(ns);
  for (;;) {
    const committed = await admin.committed(`${ns}intake-hub-processor`, [t.reports, t.located]).catch(() => new Map<string, bigint>());
    let done = true;
    for (const topic of [t.reports, t.located]) {
      for (const o of await admin.offsets(topic)) {
        const c = committed.get(`${topic}/${o.partition}`) ?? -1n;
        if (o.stable > 0n && c < o.stable - 1n) done = false;
      }
    }
    if (done) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const file = await bodies(N);
  const bin = loadgen();
  const admin = new KafkaAdmin(testConnection(''));
  await admin.connect();

  if (/[AB]/.test(SECTIONS)) await tiersAB(file, bin, admin);
  if (SECTIONS.includes('C')) await endToEnd(file, bin);
  await admin.disconnect();
  process.stdout.write('\n' + out.map((o) => `${String(o.figure).padEnd(60)} ${JSON.stringify(Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'figure')))}`).join('\n') + '\n');
}

/** A (intake tier and its raw-producer peer) and B (1, 2, 3 processors over A's reports). */
async function tiersAB(file: string, bin: string, admin: KafkaAdmin): Promise<void> {
  // A. intake tier alone, and the raw producer with the same batching
  // K intake instances (--intakes, default 1) behind the load generator's round robin
  const nsA = `bench${Date.now().toString(36)}a.`;
  const intakes = Array.from({ length: INTAKES }, (_, k) => startHub(config(nsA, 18181 + k, 18191 + k), 'intake', `bench-intake-${k}`));
  await Promise.all(intakes.map((_, k) => ready(18181 + k)));
  const cpu0 = intakes.map((p) => cpuSeconds(p.pid as number));
  const a = await runLoad(bin, intakes.map((_, k) => `http://127.0.0.1:${18181 + k}/intake/app`).join(','), file, ['-n', String(N)]);
  const hubCpu = intakes.reduce((sum, p, k) => sum + cpuSeconds(p.pid as number) - (cpu0[k] as number), 0);
  // the group committers' own view: records per transaction and time per transaction (begin → commit)
  const batch = await metricMeans(18191, ['intake_output_batch_records', 'intake_output_write_duration_seconds']);
  emit({ figure: `A intake tier (${INTAKES} instance${INTAKES > 1 ? 's' : ''})`, ...a, hub_cpu_us_per_report: Math.round((hubCpu / N) * 1e6), records_per_transaction: batch.intake_output_batch_records, transaction_ms: batch.intake_output_write_duration_seconds === undefined ? undefined : Number((batch.intake_output_write_duration_seconds * 1000).toFixed(1)) });
  for (const p of intakes) await stop(p);

  const reader = new PartitionReader(testConnection(nsA), 'bench');
  const records: OutRecord[] = [];
  const tA = topicsFor(nsA);
  await reader.scan(tA.reports, 0, (r) => records.push({ topic: '', partition: r.partition, key: r.key, value: r.value, headers: r.headers }));
  await reader.close();
  const nsPeer = `bench${Date.now().toString(36)}p.`;
  const peerLog = new KafkaLog(testConnection(nsPeer), topicsFor(nsPeer), { partitions: P, leasePartitions: 3, replicationFactor: 1, minInsyncReplicas: 1, compression: 'lz4', rawRetentionMs: 3600_000 * 24, ticketRetentionMs: 3600_000 * 24 * 31, dedupWindowMs: 3600_000 * 24 * 30, clusterHorizonMs: 3600_000 * 24 * 60 }, { instanceId: 'bench-peer', writeTimeoutMs: 10000, transactionTimeoutMs: 30000, callTimeoutMs: 30000, maxBatchRecords: 500, maxBatchBytes: 8 << 20 }, silentLogger);
  await peerLog.start();
  const peerTopic = topicsFor(nsPeer).reports;
  const lat: number[] = [];
  let next = 0;
  const pc0 = process.cpuUsage();
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      for (let i = next++; i < records.length; i = next++) {
        const s = Date.now();
        await peerLog.write([{ ...(records[i] as OutRecord), topic: peerTopic }]);
        lat.push(Date.now() - s);
      }
    }),
  );
  const secs = (Date.now() - t0) / 1000;
  const pc = process.cpuUsage(pc0);
  lat.sort((x, y) => x - y);
  emit({ figure: 'A peer: raw transactional producer, same batching, same bytes', sent: records.length, ok_per_second: records.length / secs, p50_ms: lat[Math.floor(lat.length / 2)], p99_ms: lat[Math.floor(lat.length * 0.99)], cpu_us_per_record: Math.round(((pc.user + pc.system) / records.length)) });
  await peerLog.stop();

  if (!SECTIONS.includes('B')) return;
  // B. processors: the reports of A, consumed by 1, 2, 3 instances (a fresh namespace each: copied input)
  for (const k of PROCESSORS) {
    const ns = `bench${Date.now().toString(36)}k${k}.`;
    const copy = new KafkaLog(testConnection(ns), topicsFor(ns), { partitions: P, leasePartitions: 3, replicationFactor: 1, minInsyncReplicas: 1, compression: 'lz4', rawRetentionMs: 3600_000 * 24, ticketRetentionMs: 3600_000 * 24 * 31, dedupWindowMs: 3600_000 * 24 * 30, clusterHorizonMs: 3600_000 * 24 * 60 }, { instanceId: `bench-copy-${k}`, writeTimeoutMs: 30000, transactionTimeoutMs: 30000, callTimeoutMs: 30000, maxBatchRecords: 2000, maxBatchBytes: 8 << 20 }, silentLogger);
    await copy.start();
    const t = topicsFor(ns).reports;
    for (let i = 0; i < records.length; i += 2000) await copy.write(records.slice(i, i + 2000).map((r) => ({ ...r, topic: t })));
    await copy.stop();
    const procs = Array.from({ length: k }, (_, j) => startHub(config(ns, 18200 + j, 18210 + j), 'processor', `bench-proc-${j}`));
    const s = Date.now();
    const cpuStart = procs.map(() => 0);
    await Promise.all(procs.map((_, j) => ready(18200 + j)));
    await drained(ns, admin);
    const secsK = (Date.now() - s) / 1000;
    const cpu = procs.reduce((sum, p, j) => sum + cpuSeconds(p.pid as number) - (cpuStart[j] as number), 0);
    const stages = await stageHistogram(procs.map((_, j) => 18210 + j));
    emit({ figure: `B processors x${k}`, reports: records.length, seconds: secsK, reports_per_second: records.length / secsK, per_partition_per_second: records.length / secsK / P, cpu_us_per_report: Math.round((cpu / records.length) * 1e6), stages_us: stages, note: 'includes start-up and restore (empty)' });
    for (const p of procs) await stop(p);
  }
}

/** Mean of each named histogram (sum / count over all its label sets) on one admin port's /metrics. */
async function metricMeans(adminPort: number, names: string[]): Promise<Record<string, number>> {
  const text = await (await request(`http://127.0.0.1:${adminPort}/metrics`, { headers: bearer('viewer') })).body.text();
  const out: Record<string, number> = {};
  for (const name of names) {
    let sum = 0;
    let count = 0;
    for (const line of text.split('\n')) {
      const m = new RegExp(`^${name}_(sum|count)(?:\\{[^}]*\\})? (\\S+)$`).exec(line);
      if (m?.[1] === 'sum') sum += Number(m[2]);
      else if (m?.[1] === 'count') count += Number(m[2]);
    }
    if (count > 0) out[name] = Number((sum / count).toPrecision(4));
  }
  return out;
}

/**
 * The processors' own stage histograms (`intake_stage_duration_seconds`, summed over the
 * instances on the admin ports): per stage the mean and the median, interpolated linearly inside
 * the bucket that holds it (the buckets are coarse: 50, 100, 250, 500 µs, 1 ms…), in µs.
 */
async function stageHistogram(adminPorts: number[]): Promise<Record<string, { count: number; meanUs: number; medianUs: number }>> {
  const by = new Map<string, { sum: number; count: number; buckets: Map<number, number> }>();
  for (const port of adminPorts) {
    const text = await (await request(`http://127.0.0.1:${port}/metrics`, { headers: bearer('viewer') })).body.text();
    for (const line of text.split('\n')) {
      const m = /^intake_stage_duration_seconds_(bucket|sum|count)\{([^}]*)\} (\S+)$/.exec(line);
      if (!m) continue;
      const labels = Object.fromEntries([...(m[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      const stage = labels.stage as string;
      const e = by.get(stage) ?? { sum: 0, count: 0, buckets: new Map<number, number>() };
      by.set(stage, e);
      const v = Number(m[3]);
      if (m[1] === 'sum') e.sum += v;
      else if (m[1] === 'count') e.count += v;
      else if (labels.le !== '+Inf') e.buckets.set(Number(labels.le), (e.buckets.get(Number(labels.le)) ?? 0) + v);
    }
  }
  const out: Record<string, { count: number; meanUs: number; medianUs: number }> = {};
  for (const [stage, e] of by) {
    if (e.count === 0) continue;
    let lo = 0;
    let below = 0;
    let median = Number.NaN;
    for (const [le, cum] of [...e.buckets].sort((a, b) => a[0] - b[0])) {
      if (cum >= e.count / 2) {
        median = lo + ((le - lo) * (e.count / 2 - below)) / Math.max(1, cum - below);
        break;
      }
      lo = le;
      below = cum;
    }
    out[stage] = { count: e.count, meanUs: Math.round((e.sum / e.count) * 1e6), medianUs: Math.round(median * 1e6) };
  }
  return out;
}

/** C: end to end on one --role all hub, at 100/s and at saturation. */
async function endToEnd(file: string, bin: string): Promise<void> {
  const warm = warmBodies(file, 200);
  for (const [name, extra] of [
    ['C e2e at 100/s', ['-rate', '100', '-n', String(Math.min(N, 3000))]],
    ['C e2e at saturation', ['-n', String(N)]],
  ] as const) {
    const ns = `bench${Date.now().toString(36)}e.`;
    const hub = startHub(config(ns, 18300, 18310), 'all', 'bench-all');
    await ready(18300);
    const tailer = await tailTickets(ns);
    // warm-up: /readyz does not wait for the processor's first assignment; 200 reports at 50/s and
    // their tickets, so that the measured run starts with partitions assigned and models loaded
    await runLoad(bin, 'http://127.0.0.1:18300/intake/app', warm, ['-rate', '50', '-n', '200']);
    await tailer.until(200);
    tailer.reset();
    const cpuS = cpuSeconds(hub.pid as number);
    const r = await runLoad(bin, 'http://127.0.0.1:18300/intake/app', file, [...extra]);
    const sent = Number((r.statuses as Record<string, number>)['202'] ?? 0);
    await tailer.until(sent);
    const hubCpu2 = cpuSeconds(hub.pid as number) - cpuS;
    const inOrder = tailer.latencies();
    // the median of each tenth of the tickets, in arrival order: flat when the hub keeps up, rising when a backlog builds
    const tenths = Array.from({ length: 10 }, (_, k) => {
      const part = inOrder.slice(Math.floor((k * inOrder.length) / 10), Math.floor(((k + 1) * inOrder.length) / 10)).sort((x, y) => x - y);
      return part[Math.floor(part.length / 2)] ?? null;
    });
    const e2e = [...inOrder].sort((x, y) => x - y);
    emit({ figure: name, ...r, ticket_p50_ms: e2e[Math.floor(e2e.length / 2)], ticket_p99_ms: e2e[Math.floor(e2e.length * 0.99)], ticket_p50_ms_by_tenth: tenths, hub_cpu_us_per_ticket: Math.round((hubCpu2 / Math.max(1, sent)) * 1e6) });
    await tailer.stop();
    await stop(hub);
  }
}

/**
 * A read_committed tail of the tickets topic: report → ticket visible latency (arrival − the
 * ticket's receivedAt), by the streaming consumer of bench/eos/tail.ts.
 */
async function tailTickets(ns: string): Promise<{ until(n: number): Promise<void>; latencies(): number[]; reset(): void; stop(): Promise<void> }> {
  const topic = topicsFor(ns).tickets;
  const tail = new ConcurrentConsumer(testConnection(ns), [topic]);
  let lat: number[] = [];
  let seen = 0;
  tail.onRecord = (_t, m, at) => {
    if (!m.value) return;
    const t = JSON.parse(m.value.toString()) as { source: { receivedAt: string } };
    lat.push(at - Date.parse(t.source.receivedAt));
    seen++;
  };
  await tail.start();
  return {
    async until(n: number) {
      while (seen < n) await new Promise((r) => setTimeout(r, 100));
    },
    latencies: () => lat,
    reset() {
      lat = [];
      seen = 0;
    },
    stop: () => tail.stop(),
  };
}

/** `n` more bodies for a warm-up: the first ones of `file`, with their own report ids and texts. */
function warmBodies(file: string, n: number): string {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).slice(0, n);
  const out = join(dir, 'warm.jsonl');
  writeFileSync(out, lines.map((l, i) => { const b = JSON.parse(l) as { reportId: string; text: string }; return JSON.stringify({ ...b, reportId: `W-${b.reportId}-${i}`, text: `${b.text}（预热${i}）` }); }).join('\n') + '\n');
  return out;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
