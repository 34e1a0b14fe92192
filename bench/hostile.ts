/**
 * Hostile-input figures, the hub in its own process (as in production), the load from this one:
 *
 *   flood   1,000 unsigned 250 KiB posts (32 at a time) with the default unauthenticated budget,
 *           and again with the budget off and 64 KiB kept per rejection (the behaviour before
 *           issue 11): embedded-log bytes written, hub RSS peak, /healthz latency during the flood.
 *   dlq     a ~60 MB embedded log of dead letters: time to ready (index load), then 6 concurrent
 *           GET /api/deadletters?limit=500, 3 rounds: hub RSS peak and /healthz latency; and the
 *           same 6 concurrent listings done as before issue 11 (a full scan of the log per request,
 *           keeping the matching records) in a child process, for its RSS peak and event-loop lag.
 *
 *   npm run build && node dist/bench/hostile.js [flood|dlq]...
 * Ports 19400–19403; data in a temporary folder, removed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { hashToken } from '../core/admin/auth';
import { ulid } from '../core/ids';
import { EmbeddedLog } from '../core/outputs/embedded';
import { TOPICS } from '../core/outputs/topics';
import type { DeadLetter } from '../core/schema/types';
import { TEST_SECRET } from '../core/testing/signed';
import { packageRoot } from '../core/util/paths';

const TOKEN = 'ihk_bench-token-0123456789abcdef0123';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

interface Running {
  child: ChildProcess;
  base: string;
  admin: string;
  readyMs: number;
  stop(): Promise<void>;
}

async function startHub(dir: string, extra: string): Promise<Running> {
  const cfg = join(dir, 'hub.yaml');
  writeFileSync(
    cfg,
    `output: { type: embedded, embedded: { dir: ${join(dir, 'log')} } }\nserver: { host: 127.0.0.1, port: 19400${extra} }\nadmin: { port: 19401, tokens: [{ id: bench, role: admin, sha256: ${hashToken(TOKEN)} }] }\nconnectors:\n  - { id: app, type: resident-app, config: { secrets: ['${TEST_SECRET}'] } }\n`,
  );
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(packageRoot(), 'dist', 'core', 'cli', 'main.js'), 'start', '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  const base = 'http://127.0.0.1:19400';
  for (;;) {
    const r = await request(`${base}/readyz`).catch(() => null);
    if (r) await r.body.dump();
    if (r?.statusCode === 200) break;
    if (child.exitCode !== null) throw new Error('hub exited');
    await sleep(20);
  }
  return {
    child,
    base,
    admin: 'http://127.0.0.1:19401',
    readyMs: Date.now() - t0,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Samples the hub's RSS and /healthz latency until `done` resolves. */
async function watch<T>(hub: Running, done: Promise<T>): Promise<{ result: T; rssPeak: number; health: number[]; healthFailures: number }> {
  let finished = false;
  let rssPeak = rssOf(hub.child.pid as number);
  const health: number[] = [];
  let healthFailures = 0;
  const sampler = (async () => {
    while (!finished) {
      rssPeak = Math.max(rssPeak, rssOf(hub.child.pid as number));
      const t = performance.now();
      const r = await request(`${hub.base}/healthz`, { headersTimeout: 10_000 }).catch(() => null);
      if (r) await r.body.dump();
      if (r?.statusCode === 200) health.push(performance.now() - t);
      else healthFailures++;
      await sleep(25);
    }
  })();
  const result = await done;
  finished = true;
  await sampler;
  return { result, rssPeak, health, healthFailures };
}

async function flood(label: string, extra: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-flood-'));
  const hub = await startHub(dir, extra);
  const log = join(dir, 'log', 'log.jsonl');
  try {
    const before = statSync(log).size;
    const body = Buffer.alloc(250 * 1024, 0x61);
    const agent = new Agent({ connections: 32 });
    const t0 = performance.now();
    let next = 0;
    const codes = new Map<number, number>();
    const w = await watch(
      hub,
      Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < 1000) {
            next++;
            const r = await request(`${hub.base}/intake/app`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
            codes.set(r.statusCode, (codes.get(r.statusCode) ?? 0) + 1);
            await r.body.dump();
          }
        }),
      ),
    );
    const secs = (performance.now() - t0) / 1000;
    await agent.close();
    const written = statSync(log).size - before;
    console.log(
      `flood ${label}: 1000 posts (${mb(250 * 1024 * 1000)}) in ${secs.toFixed(1)} s, answers ${JSON.stringify(Object.fromEntries(codes))}; embedded log +${(written / 1024).toFixed(1)} KiB; hub RSS peak ${mb(w.rssPeak)}; /healthz during the flood: ${w.health.length} probes, p50 ${pct(w.health, 50).toFixed(1)} ms, max ${Math.max(...w.health).toFixed(1)} ms, failures ${w.healthFailures}`,
    );
  } finally {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fills an embedded log with dead letters of ~12 KB each (normalize failures of 8 KiB bodies). */
async function fillDeadLetters(dir: string, n: number): Promise<number> {
  const out = new EmbeddedLog(join(dir, 'log'));
  await out.start();
  const now = Date.now();
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, (_, k) => {
      const at = now - (n - i - k) * 1000;
      const body = Buffer.from(JSON.stringify({ reportId: `RA-${i + k}`, text: '井盖破损'.repeat(680) }));
      const dl: DeadLetter = {
        schemaVersion: 'dead-letter/v1',
        id: ulid(at),
        at: new Date(at).toISOString(),
        connectorId: 'app',
        channel: 'resident-app',
        stage: 'normalize',
        error: { code: 'INTAKE_ERR_PAYLOAD_INVALID', message: '/submittedAt is required', dataPath: '/submittedAt', httpStatus: 400 },
        raw: { schemaVersion: 'raw/v1', id: ulid(at), connectorId: 'app', channel: 'resident-app', transport: 'webhook', sourceId: null, receivedAt: new Date(at).toISOString(), contentType: 'application/json', headers: {}, body: body.toString('base64'), sha256: '0'.repeat(64) },
        replayOf: null,
      };
      return { topic: TOPICS.dlq, partition: 0, key: 'app', value: JSON.stringify(dl), headers: {} };
    });
    await out.write(batch);
  }
  await out.stop();
  return statSync(join(dir, 'log', 'log.jsonl')).size;
}

/** The listing before issue 11: a full scan per request, keeping up to `limit` matching records. */
async function oldScan(dir: string): Promise<void> {
  const out = new EmbeddedLog(dir);
  await out.start();
  let lag = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lag = Math.max(lag, now - last - 10);
    last = now;
  }, 10);
  let rssPeak = process.memoryUsage().rss;
  const rss = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 25);
  const t0 = performance.now();
  for (let round = 0; round < 3; round++) {
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const found: DeadLetter[] = [];
        await out.scan(TOPICS.dlq, 0, (r) => {
          if (r.value === null) return;
          found.push(JSON.parse(r.value) as DeadLetter);
          if (found.length > 500) found.shift();
        });
        JSON.stringify(found.map((d) => ({ id: d.id, error: d.error })));
      }),
    );
  }
  clearInterval(timer);
  clearInterval(rss);
  process.stdout.write(JSON.stringify({ secs: (performance.now() - t0) / 1000, rssPeak, lag }) + '\n');
  await out.stop();
}

async function dlq(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-dlq-'));
  try {
    const size = await fillDeadLetters(dir, 5000);
    const hub = await startHub(dir, '');
    const idle = rssOf(hub.child.pid as number);
    const t0 = performance.now();
    const w = await watch(
      hub,
      (async () => {
        for (let round = 0; round < 3; round++) {
          await Promise.all(
            Array.from({ length: 6 }, async () => {
              const r = await request(`${hub.admin}/api/deadletters?limit=500`, { headers: { authorization: `Bearer ${TOKEN}` } });
              const j = (await r.body.json()) as { deadLetters: unknown[] };
              if (j.deadLetters.length !== 500) throw new Error('short page');
            }),
          );
        }
      })(),
    );
    const secs = (performance.now() - t0) / 1000;
    await hub.stop();
    console.log(
      `dlq index: log ${mb(size)} (5000 dead letters); hub ready in ${hub.readyMs} ms (index load included), RSS idle ${mb(idle)}; 3 rounds of 6 concurrent listings (500 each) in ${secs.toFixed(2)} s; RSS peak ${mb(w.rssPeak)}; /healthz p50 ${pct(w.health, 50).toFixed(1)} ms, max ${Math.max(...w.health).toFixed(1)} ms, failures ${w.healthFailures}`,
    );
    const child = spawn(process.execPath, [__filename, '--old-scan', join(dir, 'log')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
    await new Promise((r) => child.once('exit', r));
    const old = JSON.parse(text) as { secs: number; rssPeak: number; lag: number };
    console.log(`dlq full scan per request (before issue 11): 3 rounds of 6 concurrent listings in ${old.secs.toFixed(2)} s; RSS peak ${mb(old.rssPeak)}; event-loop lag max ${old.lag.toFixed(0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--old-scan');
  if (i >= 0) return oldScan(process.argv[i + 1] as string);
  const modes = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const run = modes.length ? modes : ['flood', 'dlq'];
  if (run.includes('flood')) {
    await flood('with the unauthenticated budget (defaults)', '');
    await flood('budget off, 64 KiB kept (as before issue 11)', ', unauthenticated: { keepBytes: 65536, perClientPerMinute: 100000, totalPerMinute: 1000000 }');
  }
  if (run.includes('dlq')) await dlq();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
