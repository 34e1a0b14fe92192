import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CONNECTORS } from '../../connectors';
import { ConfigError } from '../errors';
import { classificationConfigSchema } from '../catalog/classify';
import { routingConfigSchema } from '../routing/router';
import { clusterConfigSchema, resolveClusterConfig, type ClusterConfigInput } from '../cluster/config';
import { configAjv, formatAjvErrors, loadSchema } from '../schema/ajv';

export interface ConnectorInstanceConfig {
  id: string;
  type: string;
  enabled: boolean;
  config: Record<string, unknown>;
}

export interface HubConfig {
  server: { host: string; port: number };
  output: {
    type: 'embedded' | 'kafka';
    embedded: { dir: string };
    kafka: { brokers: string[]; clientId: string; partitions: number; replicationFactor: number; writeTimeoutMs: number; connectionTimeoutMs: number; rawRetentionMs: number };
  };
  pii: { tokenSecret: string; rawKeys: Record<string, string>; rawKeyId: string | null };
  dedup: { windowHours: number };
  simulator: { enabled: boolean; intervalMs: number; connectorId: string | null };
  connectors: ConnectorInstanceConfig[];
  catalog: { classification: Record<string, unknown>; routing: Record<string, unknown> };
  clustering: Record<string, unknown>;
}

const validateHub = configAjv.compile(loadSchema('hub-config.v1.schema.json'));
// the clustering section's own schema; its root default ({}) is applied by the hub schema
const { default: _clusterDefault, ...clusterSectionSchema } = clusterConfigSchema as Record<string, unknown>;
const validateClustering = configAjv.compile(clusterSectionSchema);

/** Applies environment overrides (documented in the config schema) to a parsed document. */
export function applyEnv(doc: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const d = structuredClone(doc);
  const obj = (k: string): Record<string, unknown> => {
    if (typeof d[k] !== 'object' || d[k] === null) d[k] = {};
    return d[k] as Record<string, unknown>;
  };
  if (env.KAFKA_BROKERS) {
    const out = obj('output');
    out.type = 'kafka';
    out.kafka = { ...((out.kafka as object) ?? {}), brokers: env.KAFKA_BROKERS.split(',').map((s) => s.trim()).filter(Boolean) };
  }
  if (env.PORT) {
    const port = Number(env.PORT);
    if (!Number.isInteger(port)) throw new ConfigError(`PORT must be an integer (got "${env.PORT}")`, { dataPath: '/server/port' });
    obj('server').port = port;
  }
  if (env.HUB_TOKEN_SECRET) obj('pii').tokenSecret = env.HUB_TOKEN_SECRET;
  return d;
}

/**
 * Validates a hub config document: the hub schema first, then each connector's config against its
 * type's schema. Errors name the data path: `/connectors/0/config/toleranceSeconds must be >= 1`.
 */
export function validateConfig(doc: unknown): HubConfig {
  const d = (doc ?? {}) as Record<string, unknown>;
  if (typeof d !== 'object' || Array.isArray(d)) throw new ConfigError('config must be a mapping', { dataPath: '/' });
  if (!validateHub(d)) throw new ConfigError(`invalid config: ${formatAjvErrors(validateHub.errors)}`, { dataPath: validateHub.errors?.[0]?.instancePath ?? '/' });
  const cfg = d as unknown as HubConfig;
  const seen = new Set<string>();
  const errors: string[] = [];
  cfg.connectors.forEach((c, i) => {
    if (seen.has(c.id)) errors.push(`/connectors/${i}/id "${c.id}" is used twice`);
    seen.add(c.id);
    const spec = CONNECTORS[c.type];
    if (!spec) {
      errors.push(`/connectors/${i}/type "${c.type}" is not a known connector type (known: ${Object.keys(CONNECTORS).join(', ')})`);
      return;
    }
    const v = configAjv.compile(spec.configSchema);
    if (!v(c.config)) errors.push(formatAjvErrors(v.errors, `/connectors/${i}/config`));
  });
  const parts: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['/catalog/classification', classificationConfigSchema, cfg.catalog.classification],
    ['/catalog/routing', routingConfigSchema, cfg.catalog.routing],
  ];
  for (const [path, schema, value] of parts) {
    const v = configAjv.compile(schema);
    if (!v(value)) errors.push(formatAjvErrors(v.errors, path));
  }
  if (!validateClustering(cfg.clustering)) errors.push(formatAjvErrors(validateClustering.errors, '/clustering'));
  else {
    try {
      resolveClusterConfig(cfg.clustering as ClusterConfigInput);
    } catch (e) {
      errors.push((e as Error).message.replace('cluster config: /', '/clustering/'));
    }
  }
  if (errors.length) throw new ConfigError(`invalid config: ${errors.join('; ')}`, { dataPath: errors[0]?.split(' ')[0] ?? null });
  return cfg;
}

export function loadConfigFile(file: string | undefined, env: NodeJS.ProcessEnv = process.env): HubConfig {
  let doc: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    try {
      doc = (parseYaml(text, { maxAliasCount: 100 }) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${file} is not valid YAML: ${(e as Error).message}`);
    }
  } else {
    doc = defaultConfig();
  }
  return validateConfig(applyEnv(doc, env));
}

/**
 * The config of commands run without a file (`intake-hub import` with no --config): the embedded
 * log and the resident-app connector. `intake-hub start` without a file runs the demo instead
 * (core/sim/demo.ts), which configures every channel.
 */
function defaultConfig(): Record<string, unknown> {
  return {
    connectors: [{ id: 'resident-app', type: 'resident-app', config: { secrets: ['whsec_aW50YWtlLWh1Yi1kZW1vLXNlY3JldC1rZXk='] } }],
  };
}
