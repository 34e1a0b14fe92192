import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CONNECTORS } from '../../connectors';
import { ConfigError } from '../errors';
import { classificationConfigSchema } from '../catalog/classify';
import { routingConfigSchema } from '../routing/router';
import { clusterConfigSchema, resolveClusterConfig, type ClusterConfigInput } from '../cluster/config';
import { configAjv, formatAjvErrors, loadSchema } from '../schema/ajv';
import { parseTokenList, type TokenEntry } from '../admin/auth';
import type { KafkaConnectionConfig } from '../kafka/client';
import type { LocalityConfig } from '../fleet/locality';
import type { StoreConfig } from '../store/config';

export interface ConnectorInstanceConfig {
  id: string;
  type: string;
  enabled: boolean;
  /** Namespace of the connector's source ids in the dedup key; the id when absent. */
  dedupScope?: string;
  config: Record<string, unknown>;
}

export interface ListenerTls {
  certFile: string;
  keyFile: string;
}

export interface RateLimitConfig {
  max: number;
  windowMs: number;
  allowList: string[];
}

export interface KafkaOutputSettings extends KafkaConnectionConfig {
  partitions: number;
  leasePartitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  writeTimeoutMs: number;
  transactionTimeoutMs: number;
  callTimeoutMs: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4';
  rawRetentionMs: number;
  ticketRetentionMs: number;
  sessionTimeoutMs: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
}

export interface HubConfig {
  server: {
    host: string;
    port: number;
    tls: ListenerTls | null;
    maxConnections: number;
    maxConnectionsPerClient: number;
    rateLimit: RateLimitConfig;
    unauthenticated: { keepBytes: number; perClientPerMinute: number; totalPerMinute: number };
  };
  admin: {
    host: string;
    port: number;
    tls: ListenerTls | null;
    tokens: TokenEntry[];
    tokensFile: string | null;
    maxConnections: number;
    maxConnectionsPerClient: number;
    rateLimit: RateLimitConfig;
    deadLetterIndexMax: number;
  };
  health: { maxEventLoopDelayMs: number };
  output: {
    type: 'embedded' | 'kafka';
    embedded: { dir: string; partitions: number };
    kafka: KafkaOutputSettings;
  };
  store: StoreConfig;
  pii: { tokenSecret: string; rawKeys: Record<string, string>; rawKeyId: string | null };
  dedup: { windowHours: number };
  locality: LocalityConfig;
  processor: { testAbortRatio: number };
  simulator: { enabled: boolean; intervalMs: number; connectorId: string | null };
  connectors: ConnectorInstanceConfig[];
  catalog: { classification: Record<string, unknown>; routing: Record<string, unknown> };
  clustering: Record<string, unknown>;
}

// configuration is trusted: its errors may name the keys an operator mistyped
const TRUSTED = { echoNames: true };
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
  if (env.STORE_PG_URL) {
    const store = obj('store');
    store.type = 'postgres';
    store.postgres = { ...((store.postgres as object) ?? {}), url: env.STORE_PG_URL };
  }
  if (env.ADMIN_PORT) {
    const port = Number(env.ADMIN_PORT);
    if (!Number.isInteger(port)) throw new ConfigError(`ADMIN_PORT must be an integer (got "${env.ADMIN_PORT}")`, { dataPath: '/admin/port' });
    obj('admin').port = port;
  }
  if (env.HUB_ADMIN_TOKENS) {
    const admin = obj('admin');
    admin.tokens = [...(Array.isArray(admin.tokens) ? (admin.tokens as unknown[]) : []), ...parseTokenList(env.HUB_ADMIN_TOKENS, 'HUB_ADMIN_TOKENS')];
  }
  if (env.HUB_ADMIN_TOKENS_FILE) obj('admin').tokensFile = env.HUB_ADMIN_TOKENS_FILE;
  return d;
}

/**
 * Validates a hub config document: the hub schema first, then each connector's config against its
 * type's schema. Errors name the data path: `/connectors/0/config/toleranceSeconds must be >= 1`.
 */
export function validateConfig(doc: unknown): HubConfig {
  const d = (doc ?? {}) as Record<string, unknown>;
  if (typeof d !== 'object' || Array.isArray(d)) throw new ConfigError('config must be a mapping', { dataPath: '/' });
  if (!validateHub(d)) throw new ConfigError(`invalid config: ${formatAjvErrors(validateHub.errors, '', TRUSTED)}`, { dataPath: validateHub.errors?.[0]?.instancePath ?? '/' });
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
    if (!v(c.config)) errors.push(formatAjvErrors(v.errors, `/connectors/${i}/config`, TRUSTED));
  });
  const parts: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['/catalog/classification', classificationConfigSchema, cfg.catalog.classification],
    ['/catalog/routing', routingConfigSchema, cfg.catalog.routing],
  ];
  for (const [path, schema, value] of parts) {
    const v = configAjv.compile(schema);
    if (!v(value)) errors.push(formatAjvErrors(v.errors, path, TRUSTED));
  }
  if (cfg.store.type === 'postgres' && !cfg.store.postgres.url) errors.push('/store/postgres/url is required when /store/type is postgres (or set STORE_PG_URL)');
  if (cfg.output.kafka.ticketRetentionMs < cfg.dedup.windowHours * 3600_000) {
    errors.push(`/output/kafka/ticketRetentionMs (${cfg.output.kafka.ticketRetentionMs}) must be at least dedup.windowHours (${cfg.dedup.windowHours} h = ${cfg.dedup.windowHours * 3600_000} ms): consumers reading tickets back must see every ticket dedup still remembers`);
  }
  if (cfg.output.kafka.minInsyncReplicas > cfg.output.kafka.replicationFactor) {
    errors.push(`/output/kafka/minInsyncReplicas (${cfg.output.kafka.minInsyncReplicas}) must not exceed replicationFactor (${cfg.output.kafka.replicationFactor}): no write could ever be acknowledged`);
  }
  if (!validateClustering(cfg.clustering)) errors.push(formatAjvErrors(validateClustering.errors, '/clustering', TRUSTED));
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
