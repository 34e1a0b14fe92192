import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors';

/**
 * The Kafka client is `@confluentinc/kafka-javascript` (librdkafka 2.15): the one maintained Node
 * client with every piece exactly-once processing needs (KIP-447 group-metadata fencing,
 * `require_stable` offset fetches, KIP-360 epoch bumps, restarts under one transactional id) — see
 * docs/ARCHITECTURE.md "Kafka client" and ../shared/research/kafka-eos.md for the measurements.
 *
 * It is a native module built from source at install (`CKJS_LINKING=dynamic`, needs g++, make,
 * python3, libssl-dev, zlib1g-dev) and an optional dependency: the embedded default never loads it,
 * so `npm start` works where it could not be built. This is the only place that loads it.
 */
export type Rd = typeof import('@confluentinc/kafka-javascript');

let loaded: Rd | null = null;

export function kafkaModule(): Rd {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('@confluentinc/kafka-javascript') as Rd;
  } catch (e) {
    throw new ConfigError(
      `the Kafka client (@confluentinc/kafka-javascript) is not installed or failed to build: ${(e as Error).message.split('\n')[0]}. ` +
        'Install it with: apt-get install -y g++ make python3 libssl-dev zlib1g-dev && CKJS_LINKING=dynamic npm rebuild @confluentinc/kafka-javascript ' +
        '(or CKJS_LINKING=dynamic npm ci). The embedded output needs no Kafka client.',
    );
  }
  return loaded;
}

/** How the hub connects to Kafka (`output.kafka` in hub.yaml, defaults applied). */
export interface KafkaConnectionConfig {
  brokers: string[];
  clientId: string;
  /** Prefix of every topic, group and transactional id (several hubs or test runs on one cluster). */
  namespace: string;
  connectionTimeoutMs: number;
  security: {
    protocol: 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';
    ssl: { caFile: string | null; certFile: string | null; keyFile: string | null; keyPasswordFile: string | null; verifyHostname: boolean };
    sasl: { mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'PLAIN'; username: string | null; passwordFile: string | null; passwordEnv: string | null };
  };
}

function secretFrom(file: string | null, env: string | null, what: string): string {
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new ConfigError(`cannot read ${what} from ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (env) {
    const v = process.env[env];
    if (v === undefined || v === '') throw new ConfigError(`${what}: environment variable ${env} is not set`);
    return v;
  }
  throw new ConfigError(`${what} is required: set passwordFile or passwordEnv`);
}

/**
 * librdkafka properties shared by every client of the hub: brokers, TLS / SASL-SCRAM / mTLS. Secrets
 * are read from files or the environment here, at start, and never logged (callers must not log
 * the returned object).
 */
export function baseConfig(c: KafkaConnectionConfig, role: string): Record<string, string | number | boolean> {
  const conf: Record<string, string | number | boolean> = {
    'bootstrap.servers': c.brokers.join(','),
    'client.id': `${c.clientId}-${role}`,
    'socket.connection.setup.timeout.ms': Math.max(1000, c.connectionTimeoutMs),
    'reconnect.backoff.ms': 200,
    'reconnect.backoff.max.ms': 5000,
    'log_level': 3,
    'security.protocol': c.security.protocol,
  };
  const tls = c.security.protocol === 'ssl' || c.security.protocol === 'sasl_ssl';
  if (tls) {
    const s = c.security.ssl;
    if (s.caFile) conf['ssl.ca.location'] = s.caFile;
    if (s.certFile) conf['ssl.certificate.location'] = s.certFile;
    if (s.keyFile) conf['ssl.key.location'] = s.keyFile;
    if (s.keyPasswordFile) conf['ssl.key.password'] = secretFrom(s.keyPasswordFile, null, 'output.kafka.security.ssl.keyPasswordFile');
    conf['ssl.endpoint.identification.algorithm'] = s.verifyHostname ? 'https' : 'none';
  }
  if (c.security.protocol === 'sasl_plaintext' || c.security.protocol === 'sasl_ssl') {
    const s = c.security.sasl;
    if (!s.username) throw new ConfigError('output.kafka.security.sasl.username is required for SASL', { dataPath: '/output/kafka/security/sasl/username' });
    conf['sasl.mechanisms'] = s.mechanism;
    conf['sasl.username'] = s.username;
    conf['sasl.password'] = secretFrom(s.passwordFile, s.passwordEnv, 'output.kafka.security.sasl password');
  }
  return conf;
}

/** A promise that rejects after `ms`; the work itself keeps running (callers fence or exit). */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms)) return p;
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what} did not finish within ${Math.max(0, Math.round(ms))} ms`)), Math.max(0, ms));
  });
  p.catch(() => undefined);
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Waits before retry `attempt` (0-based) of a Kafka call: 250 ms doubling up to 5 s, equal jitter (50–100%). */
export function retryPause(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2)));
}

/** A transactional call that exceeded the hub's own deadline: its outcome is uncertain. */
export class DeadlineError extends Error {
  readonly uncertain = true;
}

/** librdkafka error fields on the errors the client raises. */
export interface RdError extends Error {
  code?: number | string;
  isFatal?: boolean;
  isRetriable?: boolean;
  isTxnRequiresAbort?: boolean;
  fatal?: boolean;
  abortable?: boolean;
  retriable?: boolean;
}

export function isFatal(e: unknown): boolean {
  const r = e as RdError;
  return r?.isFatal === true || r?.fatal === true || e instanceof DeadlineError;
}
