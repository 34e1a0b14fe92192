import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseOptions, CI_FAULTS } from '../../bench/eos/run';
import { KafkaCluster } from '../../bench/eos/cluster';
import { runEos, type EosResult } from '../../bench/eos/scenario';
import { packageRoot } from '../util/paths';

/**
 * Exactly-once under faults, CI-sized (issue 10's acceptance test; the full run — 100,000 reports,
 * three kill -9 of processors and of intakes, every broker bounced, 1 → 3 → 2 processors — is
 * `npm run bench:eos`, bench/eos/run.ts, and docs/BENCHMARKS.md has its figures).
 *
 * This test: REPORTS reports (70 % signed webhooks, a fifth of them delivered again to the other
 * intake and 5 % to both at once; 20 % grid-worker messages on NATS JetStream, a quarter without
 * Nats-Msg-Id, 10 % published twice; 10 % work orders on a polled 12345 upstream) into 2 intake
 * and 1 → 2 processor instances, each its own OS process (`intake-hub start --role …`), on a
 * 3-broker KRaft cluster of its own (deploy/local/kafka-cluster.sh: RF 3, min ISR 2, started here
 * and stopped here), while it scales the processors 1 → 2, kills broker 2 with SIGKILL and brings
 * it back, and kills a processor and an intake with SIGKILL (each started again under its
 * instance id, as a StatefulSet / Deployment would). Asserted (bench/eos/scenario.ts): every
 * report acknowledged has exactly one ticket, no ticket record or cluster event twice (in a
 * concurrent read_committed consumer and in the final read), the tickets are exactly the
 * acknowledged reports, every answer named the published ticket, HW = LSO everywhere at the end,
 * and tickets and cluster events are byte-identical, per partition and in order, to a golden run
 * of one processor without faults over the same located input.
 *
 * REPORTS is 6,000, not the 20,000 the issue suggests: on the 2-core CI machine, shared, the
 * fleet (3 JVMs, 5 hub processes) processes about 40-80 reports/s end to end, and 6,000 keeps the
 * whole test (cluster start, hub start-ups, faults, drain, golden run) near 8 minutes.
 */
const REPORTS = 6000;
const cluster = new KafkaCluster({}, () => undefined);
const lines: string[] = [];

beforeAll(async () => {
  await cluster.fetch(); // the jars of deploy/local/kafka.sh (cached by the test command's first step)
  await cluster.reset(); // a fresh cluster: no topics, groups or transactional ids of an earlier run
  await cluster.start();
  await cluster.wait();
}, 300000);

afterAll(async () => {
  await cluster.stop();
  await cluster.reset();
}, 180000);

test(`${REPORTS} reports through 2 intakes and 1 → 2 processors while a broker, a processor and an intake are killed: one ticket per acknowledged report, no duplicate, HW = LSO, identical to a golden run`, async () => {
  let logFile = '';
  const base = baseOptions(cluster, [join(packageRoot(), 'core', 'testing', 'run-ts.js'), 'core/cli/main.ts'], (s) => {
    lines.push(s);
    appendFileSync(logFile, `${s}\n`);
  });
  logFile = join(base.workDir, 'run.log'); // the run's log, next to the hub logs
  let r: EosResult;
  try {
    r = await runEos({
      ...base,
      reports: REPORTS,
      faults: CI_FAULTS,
      maxProcessors: 2,
      // shorter than production so a dead member's partitions move sooner; the mechanics are the same
      hub: { ...base.hub, sessionTimeoutMs: 6000, transactionTimeoutMs: 15000, callTimeoutMs: 20000 },
      drainTimeoutMs: 600000,
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- run log (last 60 lines):\n${lines.slice(-60).join('\n')}`);
  }
  // every fault of the schedule ran (the hub logs of the run stay in r.workDir)
  expect(r.faults.map((f) => f.kind)).toEqual(CI_FAULTS.map((f) => f.kind));
  expect(r.checks.filter((c) => !c.ok)).toEqual([]);
  expect(r.checks.map((c) => c.name)).toEqual([
    'after every fault, every ticket partition committed output again',
    'every sent report was acknowledged',
    'every answer for one report carried the same ticket id',
    'concurrent consumer: no ticket record twice',
    'concurrent consumer: no cluster event twice',
    'final read: no ticket record twice (same ticket id)',
    'final read: exactly one ticket per report',
    'final read: the tickets are exactly the acknowledged reports',
    'the concurrent consumer saw the same tickets as the final read',
    'every webhook answer names the ticket that was published',
    'final read: no cluster event twice',
    'the dedup stage forwarded each report once',
    'no dead letter (every input is valid)',
    'HW = LSO on every partition of every topic (no transaction left open)',
    'tickets byte-identical to the golden single-processor run (per partition, in order)',
    'cluster events byte-identical to the golden run (per partition, in order)',
  ]);
  expect(r.figures.tickets).toBe(REPORTS);
}, 45 * 60000);
