/**
 * The exactly-once fault run (issue 10's acceptance test), full size: `npm run bench:eos`.
 *
 * Starts a fresh 3-broker KRaft cluster (deploy/local/kafka-cluster.sh, ports 19092-19094, RF 3,
 * min ISR 2), runs 2 intake and 1 → 3 → 2 processor instances as separate processes on it, sends
 * the reports (signed webhooks with redeliveries to the other intake, grid-worker messages on NATS
 * with and without Nats-Msg-Id, a polled 12345 upstream) while the schedule kills processors and
 * intakes with SIGKILL three times each, bounces every broker in turn and scales the processors;
 * then checks the outputs (bench/eos/scenario.ts) and prints the checks, the recovery time of each
 * fault and the throughput. Exit code 1 when a check fails. NATS: NATS_URL (default
 * nats://127.0.0.1:4222, JetStream). The cluster is stopped at the end (`--keep-cluster` keeps it).
 *
 *   npm run bench:eos [-- --reports 100000 --concurrency 24 --rate 0 --abort-ratio 0 --seed 1]
 *   node dist/bench/eos/run.js --profile ci      # the schedule of core/fleet/eos.itest.ts
 *   … --faults none | --no-golden | --keep-cluster
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../core/util/paths';
import { KafkaCluster } from './cluster';
import { runEos, type EosOptions, type Fault } from './scenario';

/** Three kill -9 of a processor, three of an intake, every broker bounced in turn, 1 → 3 → 2 processors. */
export const FULL_FAULTS: Fault[] = [
  { at: 0.08, kind: 'scale-processors', to: 3 },
  { at: 0.16, kind: 'kill-processor' },
  { at: 0.24, kind: 'bounce-broker', node: 1, hard: true },
  { at: 0.32, kind: 'kill-intake' },
  { at: 0.4, kind: 'kill-processor' },
  { at: 0.48, kind: 'bounce-broker', node: 2, hard: false },
  { at: 0.56, kind: 'kill-intake' },
  { at: 0.64, kind: 'kill-processor' },
  { at: 0.72, kind: 'bounce-broker', node: 3, hard: true },
  { at: 0.8, kind: 'kill-intake' },
  { at: 0.86, kind: 'scale-processors', to: 2 },
];

/** The CI-scaled schedule: scale 1 → 2, one broker bounce, one processor and one intake kill -9. */
export const CI_FAULTS: Fault[] = [
  { at: 0.12, kind: 'scale-processors', to: 2 },
  { at: 0.3, kind: 'bounce-broker', node: 2, hard: true },
  { at: 0.55, kind: 'kill-processor' },
  { at: 0.75, kind: 'kill-intake' },
];

/** Options shared by the full run and the CI test; sizes and schedule differ. */
export function baseOptions(cluster: KafkaCluster, entry: string[], log: (s: string) => void): Omit<EosOptions, 'reports' | 'faults' | 'maxProcessors'> {
  return {
    webhookShare: 0.7,
    gridShare: 0.2,
    redeliverRatio: 0.2,
    bothRatio: 0.05,
    gridNoIdRatio: 0.25,
    gridRepeatSameIdRatio: 0.05,
    gridRepeatNoIdRatio: 0.05,
    partitions: 6,
    initialProcessors: 1,
    concurrency: 24,
    ratePerSec: 0,
    seed: 1,
    entry,
    cluster,
    natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    workDir: mkdtempSync(join(tmpdir(), 'eos-')),
    hub: { sessionTimeoutMs: 10000, transactionTimeoutMs: 30000, callTimeoutMs: 30000, writeTimeoutMs: 10000, testAbortRatio: 0, natsAckWaitMs: 15000 },
    restartDelayMs: 2000,
    brokerDownMs: 12000,
    drainTimeoutMs: 900000,
    golden: true,
    goldenFromReports: false,
    log,
  };
}

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

/** Runs the profile named by `--profile` (full | ci); resolves to the exit code. */
export async function main(): Promise<number> {
  const profile = arg('--profile') ?? 'full';
  const root = packageRoot();
  // compiled (dist/bench/eos/run.js): the built CLI; run through core/testing/run-ts.js: no build
  const entry = __filename.endsWith('.js') ? [join(root, 'dist', 'core', 'cli', 'main.js')] : [join(root, 'core', 'testing', 'run-ts.js'), 'core/cli/main.ts'];
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  const cluster = new KafkaCluster({}, (l) => log(l));
  const base = baseOptions(cluster, entry, log);
  const full = profile === 'full';
  const opts: EosOptions = {
    ...base,
    reports: Number(arg('--reports') ?? (full ? 100000 : 20000)),
    faults: arg('--faults') === 'none' ? [] : full ? FULL_FAULTS : CI_FAULTS,
    maxProcessors: full ? 3 : 2,
    concurrency: Number(arg('--concurrency') ?? base.concurrency),
    ratePerSec: Number(arg('--rate') ?? base.ratePerSec),
    seed: Number(arg('--seed') ?? base.seed),
    hub: { ...base.hub, testAbortRatio: Number(arg('--abort-ratio') ?? 0) },
    golden: !process.argv.includes('--no-golden'),
    goldenFromReports: full && !process.argv.includes('--no-golden'),
  };
  // Ctrl-C: exit, so that the fleet's exit hook kills the hub processes (the cluster keeps running: kafka-cluster.sh stop)
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  const load0 = (await import('node:os')).loadavg();
  await cluster.reset();
  await cluster.start();
  await cluster.wait();
  let failed = true;
  try {
    const r = await runEos(opts);
    const load1 = (await import('node:os')).loadavg();
    log('\n== checks');
    for (const c of r.checks) log(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name} — ${c.detail}`);
    log('\n== faults (recovery: from the fault to committed output on every ticket partition)');
    for (const f of r.faults) log(`${String(Math.round(f.progress * 100)).padStart(3)} %  ${f.label.padEnd(34)} action ${String(f.actionMs).padStart(6)} ms   recovery ${f.recoveryMs === null ? 'n/a' : `${f.recoveryMs} ms`}`);
    log('\n== figures');
    for (const [k, v] of Object.entries(r.figures)) log(`${k.padEnd(28)} ${v}`);
    log(`${'loadAverage1m'.padEnd(28)} before ${load0[0]?.toFixed(2)}, after ${load1[0]?.toFixed(2)} (2 cores, shared)`);
    log(`${'workDir'.padEnd(28)} ${r.workDir} (hub logs)`);
    log(JSON.stringify({ profile, reports: opts.reports, checks: r.checks.map((c) => [c.name, c.ok]), faults: r.faults, figures: r.figures }));
    failed = r.checks.some((c) => !c.ok);
  } finally {
    if (!process.argv.includes('--keep-cluster')) await cluster.stop().catch(() => undefined);
  }
  return failed ? 1 : 0;
}

// compiled: run it (through core/testing/run-ts.js, that runner calls `main`)
if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
