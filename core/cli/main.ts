#!/usr/bin/env node
import { hostname } from 'node:os';
import { isIntakeError } from '../errors';
import { applyEnv, loadConfigFile, validateConfig } from '../config/config';
import { refuseInsecure } from '../config/insecure';
import { createLogger } from '../logger';
import { Hub, type HubRole } from '../hub';
import { ResidentAppSimulator } from '../sim/resident-app';
import { prepareDemo } from '../sim/demo';
import { defaultStages } from '../stages';
import { configurationDoc, metricsDoc } from '../config/docs';
import { catalogCommand } from './commands/catalog';
import { classifyCommand } from './commands/classify';
import { clusterCommand } from './commands/cluster';
import { importCommand } from './commands/import';
import { storeCommand } from './commands/store';
import { runCommand, str, UsageError, type CommandSpec, type Parsed } from './args';
import { generateToken, hashToken } from '../admin/auth';
import { preflight } from './preflight';
import { version } from '../version';

const COMMANDS: [string, string][] = [
  ['start', 'run the hub (demo traffic when no config is given)'],
  ['check-config', 'validate a hub.yaml as start would; errors name the data path'],
  ['token', 'make an admin bearer token and its admin.tokens entry'],
  ['import', 'backfill historical tickets; resumable, deduplicated'],
  ['store', 'the ticket store: migrate, materialize (a stand-alone materialiser), status (docs/store.md)'],
  ['catalog', 'the 20/828 catalog and the text model: build, lint, stats, train'],
  ['classify', 'classify messages (JSONL in, JSONL out)'],
  ['cluster', '多人一诉 clustering / 一人多诉 through the pipeline\'s engine'],
  ['docs', 'print the configuration or metrics reference (docs/*.md)'],
  ['help', 'this text, or `help COMMAND` for one command'],
];

const USAGE = `intake-hub — one intake point for every resident-report channel

usage: intake-hub <command> [options]     (intake-hub <command> --help describes each)

commands:
${COMMANDS.map(([c, d]) => `  ${c.padEnd(14)}${d}`).join('\n')}

options: --version, --help
environment: HUB_CONFIG (config file), KAFKA_BROKERS, PORT, ADMIN_PORT, HUB_TOKEN_SECRET, HUB_ADMIN_TOKENS, HUB_ADMIN_TOKENS_FILE, LOG_LEVEL
`;

const ROLES: readonly HubRole[] = ['intake', 'processor', 'all'];

const START: CommandSpec = {
  name: 'start',
  summary: 'run the hub (embedded log unless KAFKA_BROKERS or the config says kafka); without a config, the demo',
  options: {
    config: { type: 'string', value: 'FILE', help: 'hub.yaml (default: HUB_CONFIG; neither: the demo)' },
    role: { type: 'string', value: 'ROLE', choices: ROLES, help: 'what this process runs (default all)' },
    'instance-id': { type: 'string', value: 'ID', help: 'this instance\'s name in the fleet (default: the host name)' },
  },
};

/** What `intake-hub start` was asked for. */
export interface StartOptions {
  configFile: string | undefined;
  role: HubRole;
  instanceId: string | undefined;
}

const CHECK_CONFIG: CommandSpec = {
  name: 'check-config',
  summary: 'validate a hub.yaml as start would (environment overrides, files it names, routes, listeners); errors name the data path, insecure settings are warned about',
  options: {},
  positionals: { names: 'FILE', min: 1, max: 1 },
  details: 'Exit codes: 0 valid, 1 invalid (the reasons on stderr), 2 bad arguments.',
};

const DOCS: CommandSpec = {
  name: 'docs',
  summary: 'print a generated reference: config (docs/configuration.md) or metrics (docs/metrics.md)',
  options: {},
  positionals: { names: 'config|metrics', min: 1, max: 1 },
};


function startOptions(p: Parsed): StartOptions {
  const instanceId = str(p, 'instance-id');
  if (instanceId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(instanceId)) throw new UsageError(`--instance-id must be 1–63 letters, digits, ".", "_" or "-" (got "${instanceId}")`);
  return { configFile: str(p, 'config') ?? process.env.HUB_CONFIG, role: (str(p, 'role') ?? 'all') as HubRole, instanceId: instanceId ?? (hostname().slice(0, 63) || undefined) };
}

async function start(opts: StartOptions): Promise<number> {
  const file = opts.configFile;
  const logger = createLogger();
  // Without a config file the hub runs the demo: embedded log, every channel fed by a simulator.
  const demo = file ? null : await prepareDemo(logger, 1000);
  const config = demo ? validateConfig(applyEnv(demo.config, process.env)) : loadConfigFile(file);
  refuseInsecure(config, { demo: demo !== null });
  const shipped = defaultStages(config);
  // a processor loads its models now (a bad model file fails here); an intake never classifies
  if (opts.role !== 'intake') shipped.load();
  const hub = new Hub(config, { logger, stages: shipped.stages, catalog: shipped.catalog, restoreHorizonMs: shipped.restoreHorizonMs, role: opts.role, ...(opts.instanceId ? { instanceId: opts.instanceId } : {}) });
  // listen first: /healthz answers at once; /readyz says 503 until the log is reachable (start
  // retries with jittered backoff while Kafka is down) and everything has started
  const addr = await hub.listen();
  let stopping = false;
  let sim: ResidentAppSimulator | null = null;
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      sim?.stop();
      void hub
        .stop()
        .then(() => demo?.stop())
        .finally(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await Promise.race([hub.start(), stopped]);
  if (stopping) {
    await stopped;
    return 0;
  }
  const loopback = (a: string): string => a.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  const local = loopback(addr);
  const admin = loopback(hub.adminAddress ?? '');
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
      `intake-hub listening on ${local} (intake) and ${admin} (admin) — role ${hub.role}, instance ${hub.instanceId}, output: ${out}`,
      `  readiness   ${local}/readyz`,
      `  metrics     ${admin}/metrics   (intake_published_total{connector=…,channel=…} grows as reports arrive)`,
      `  connectors  ${admin}/api/connectors   dead letters ${admin}/api/deadletters   catalog ${admin}/api/catalog`,
      demo
        ? `  admin token ${demo.adminToken}   (demo only, role admin: curl -H 'authorization: Bearer ${demo.adminToken}' ${admin}/api/connectors)`
        : `  admin API   needs a bearer token from admin.tokens (${hub.adminTokenCount} configured; docs/SECURITY.md)`,
      // the console and the lookup API are installed on the admin plane only when there is a store
      ...(hub.store ? [`  console     ${admin}/console/   (log in with ${demo ? 'the admin token above' : 'an admin token'}; tickets ${admin}/api/tickets, docs/console.md)`] : []),
      ...config.connectors.filter((c) => c.enabled).map((c) => `  connector   ${c.id} (${c.type})`),
      ...(demo ? ['demo traffic (no --config given):', ...demo.channels.map((c) => `  · ${c}`)] : []),
      'Ctrl-C to stop.',
      '',
    ].join('\n') + '\n',
  );
  await stopped;
  return 0;
}

async function checkConfig(p: Parsed): Promise<number> {
  const file = p.positionals[0] as string;
  let cfg;
  try {
    cfg = loadConfigFile(file, process.env);
  } catch (e) {
    if (!isIntakeError(e)) throw e;
    process.stderr.write(`${file}: ${e.message}\n`);
    return 1;
  }
  const report = await preflight(cfg);
  for (const w of report.warnings) process.stderr.write(`${file}: warning: ${w}\n`);
  for (const e of report.errors) process.stderr.write(`${file}: ${e}\n`);
  if (report.errors.length) return 1;
  process.stdout.write(`${file}: ok (${cfg.connectors.length} connector(s), output ${cfg.output.type}${report.warnings.length ? `, ${report.warnings.length} warning(s)` : ''})\n`);
  return 0;
}

const TOKEN: CommandSpec = {
  name: 'token',
  summary: 'make a new admin bearer token: prints the token (give it to its holder) and the entry for admin.tokens (only its hash)',
  options: {
    id: { type: 'string', value: 'ID', help: 'who holds it, named in audit records (required)' },
    role: { type: 'string', value: 'ROLE', choices: ['viewer', 'operator', 'admin'], help: 'what it may do (default viewer)' },
  },
  details: 'Rotation: add the new entry next to the old one, reload or restart, hand out the new token, then remove the old entry (docs/SECURITY.md).',
};

function token(p: Parsed): number {
  const id = str(p, 'id');
  if (!id) throw new UsageError('--id is required');
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(id)) throw new UsageError(`--id must be 1–64 letters, digits, ".", "_", "@" or "-" (got "${id}")`);
  const role = str(p, 'role') ?? 'viewer';
  const t = generateToken();
  process.stdout.write(`token:  ${t}\n\nadmin:\n  tokens:\n    - { id: ${id}, role: ${role}, sha256: ${hashToken(t)} }\n\nor HUB_ADMIN_TOKENS=${id}:${role}:${hashToken(t)}\n`);
  return 0;
}

async function docs(p: Parsed): Promise<number> {
  const what = p.positionals[0];
  if (what === 'config') process.stdout.write(configurationDoc());
  else if (what === 'metrics') process.stdout.write(await metricsDoc());
  else throw new UsageError(`unknown reference "${what}" (config, metrics)`);
  return 0;
}

/** Runs the CLI; resolves to the process exit code (0 ok, 1 failed, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'start':
      return runCommand(START, rest, (p) => start(startOptions(p)));
    case 'check-config':
      return runCommand(CHECK_CONFIG, rest, checkConfig);
    case 'token':
      return runCommand(TOKEN, rest, token);
    case 'catalog':
      return catalogCommand(rest);
    case 'classify':
      return classifyCommand(rest);
    case 'cluster':
      return clusterCommand(rest);
    case 'import':
      return importCommand(rest);
    case 'store':
      return storeCommand(rest);
    case 'docs':
      return runCommand(DOCS, rest, docs);
    case '--version':
    case '-V':
      process.stdout.write(`intake-hub ${version()}\n`);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      if (rest[0] && rest[0] !== 'help' && COMMANDS.some(([c]) => c === rest[0])) return main([rest[0], '--help']);
      process.stdout.write(USAGE);
      return 0;
    case undefined:
      process.stderr.write(USAGE);
      return 2;
    default:
      process.stderr.write(`intake-hub: unknown command "${cmd}"\n\n${USAGE}`);
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
