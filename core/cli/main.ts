#!/usr/bin/env node
import { ConfigError, isIntakeError } from '../errors';
import { applyEnv, loadConfigFile, validateConfig } from '../config/config';
import { createLogger } from '../logger';
import { Hub } from '../hub';
import { ResidentAppSimulator } from '../sim/resident-app';
import { prepareDemo } from '../sim/demo';
import { defaultStages } from '../stages';
import { configurationDoc, metricsDoc } from '../config/docs';
import { catalogCommand } from './commands/catalog';
import { classifyCommand } from './commands/classify';
import { clusterCommand } from './commands/cluster';
import { importCommand } from './commands/import';

const USAGE = `intake-hub — one intake point for every resident-report channel

usage:
  intake-hub start [--config FILE]        run the hub (embedded log unless KAFKA_BROKERS or the config says kafka)
  intake-hub check-config FILE            validate a hub.yaml; errors name the data path
  intake-hub catalog build|lint [FILE]|stats [--json] [FILE]|train --data FILE...
                                          the 20/828 catalog and the text model (docs/catalog.md)
  intake-hub classify --input FILE.jsonl --output FILE.jsonl
                                          classify messages (id fields copied, category, label_l1…)
  intake-hub cluster --input FILE.jsonl --format tipdm|ticket --output FILE.jsonl
                                          多人一诉 clustering / 一人多诉 through the pipeline's engine
  intake-hub import --connector ID [--config FILE] [--charset gbk] FILE.csv|FILE.jsonl
                                          backfill historical tickets; resumable, deduplicated
  intake-hub docs config|metrics          print the configuration or metrics reference (docs/*.md)
  intake-hub help

environment: HUB_CONFIG (config file), KAFKA_BROKERS, PORT, HUB_TOKEN_SECRET, LOG_LEVEL
`;

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (!v || v.startsWith('--')) throw new ConfigError(`${name} needs a value`);
  return v;
}

async function start(argv: string[]): Promise<number> {
  const file = flag(argv, '--config') ?? process.env.HUB_CONFIG;
  const logger = createLogger();
  // Without a config file the hub runs the demo: embedded log, every channel fed by a simulator.
  const demo = file ? null : await prepareDemo(logger, 1000);
  const config = demo ? validateConfig(applyEnv(demo.config, process.env)) : loadConfigFile(file);
  const shipped = defaultStages(config);
  const hub = new Hub(config, { logger, stages: shipped.stages, catalog: shipped.catalog });
  await hub.start();
  const addr = await hub.listen();
  const local = addr.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  let sim: ResidentAppSimulator | null = null;
  if (config.simulator.enabled) {
    const target = config.connectors.find((c) => c.id === config.simulator.connectorId) ?? config.connectors.find((c) => c.type === 'resident-app');
    if (target) {
      const secrets = (target.config.secrets as string[] | null | undefined) ?? null;
      sim = new ResidentAppSimulator({ baseUrl: local, path: `/intake/${target.id}`, secret: secrets?.[0] ?? null, intervalMs: config.simulator.intervalMs, logger });
      sim.start();
    }
  }
  demo?.startSenders(local);
  const out = config.output.type === 'kafka' ? `Kafka ${config.output.kafka.brokers.join(',')}` : `embedded log in ${config.output.embedded.dir}`;
  process.stdout.write(
    [
      `intake-hub listening on ${local} — output: ${out}`,
      `  readiness   ${local}/readyz`,
      `  metrics     ${local}/metrics   (intake_published_total{channel=…} grows as reports arrive)`,
      `  connectors  ${local}/api/connectors   dead letters ${local}/api/deadletters   catalog ${local}/api/catalog`,
      ...config.connectors.filter((c) => c.enabled).map((c) => `  connector   ${c.id} (${c.type})`),
      ...(demo ? ['demo traffic (no --config given):', ...demo.channels.map((c) => `  · ${c}`)] : []),
      'Ctrl-C to stop.',
      '',
    ].join('\n') + '\n',
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      sim?.stop();
      void hub
        .stop()
        .then(() => demo?.stop())
        .finally(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

function checkConfig(argv: string[]): number {
  const file = argv[0];
  if (!file) throw new ConfigError('usage: intake-hub check-config FILE');
  const cfg = loadConfigFile(file, {});
  process.stdout.write(`${file}: ok (${cfg.connectors.length} connector(s), output ${cfg.output.type})\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'start':
      return start(rest);
    case 'check-config':
      return checkConfig(rest);
    case 'catalog':
      return catalogCommand(rest);
    case 'classify':
      return classifyCommand(rest);
    case 'cluster':
      return clusterCommand(rest);
    case 'import':
      return importCommand(rest);
    case 'docs':
      if (rest[0] === 'config') process.stdout.write(configurationDoc());
      else if (rest[0] === 'metrics') process.stdout.write(await metricsDoc());
      else throw new ConfigError('usage: intake-hub docs config|metrics');
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${cmd}"\n\n${USAGE}`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (isIntakeError(e)) process.stderr.write(`error ${e.code}: ${e.message}\n`);
      else process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
