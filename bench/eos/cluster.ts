import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../core/util/paths';

/**
 * The 3-node KRaft cluster of `deploy/local/kafka-cluster.sh`, driven from the fault harness: start,
 * wait (3 brokers answering, no under-replicated partition), hard kills, clean stops and restarts of
 * one node. Every call runs the script and resolves when it returned.
 */
export class KafkaCluster {
  readonly brokers: string[];
  private readonly script = join(packageRoot(), 'deploy', 'local', 'kafka-cluster.sh');

  constructor(
    private readonly env: { dir?: string; portBase?: number; controllerBase?: number } = {},
    private readonly log: (line: string) => void = () => undefined,
  ) {
    const base = env.portBase ?? 19092;
    this.brokers = [0, 1, 2].map((i) => `127.0.0.1:${base + i}`);
  }

  private run(args: string[], timeoutMs = 240000): Promise<string> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (this.env.dir) env.KAFKA_CLUSTER_DIR = this.env.dir;
    if (this.env.portBase) env.KAFKA_CLUSTER_PORT_BASE = String(this.env.portBase);
    if (this.env.controllerBase) env.KAFKA_CLUSTER_CONTROLLER_BASE = String(this.env.controllerBase);
    return new Promise((resolve, reject) => {
      execFile('bash', [this.script, ...args], { env, timeout: timeoutMs, maxBuffer: 1 << 22 }, (err, stdout, stderr) => {
        for (const l of `${stdout}${stderr}`.split('\n')) if (l.trim()) this.log(l);
        if (err) reject(new Error(`kafka-cluster.sh ${args.join(' ')} failed: ${err.message}\n${stderr.slice(-2000)}`));
        else resolve(stdout);
      });
    });
  }

  /** The Kafka jars from Maven Central (kafka.sh fetch; a no-op when cached). */
  fetch(): Promise<string> {
    return this.run(['fetch'], 600000);
  }

  start(node?: number): Promise<string> {
    return this.run(node ? ['start', String(node)] : ['start']);
  }

  /** Until 3 brokers answer and no partition is under-replicated. */
  wait(): Promise<string> {
    return this.run(['wait']);
  }

  stop(node?: number): Promise<string> {
    return this.run(node ? ['stop', String(node)] : ['stop']);
  }

  /** SIGKILL one node; resolves once its process is gone. */
  kill(node: number): Promise<string> {
    return this.run(['kill', String(node)]);
  }

  status(): Promise<string> {
    return this.run(['status']);
  }

  reset(): Promise<string> {
    return this.run(['reset']);
  }
}
