import { execFileSync } from 'node:child_process';
import { restartOnFatal } from '../testing/fatal';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { validateConfig } from '../config/config';
import { Hub } from '../hub';
import type { Logger } from '../logger';
import type { CanonicalTicket } from '../schema/types';
import { KafkaAdmin } from './admin';
import type { KafkaConnectionConfig } from './client';
import { readTopic, testNamespace } from '../testing/kafka';
import { residentReport, signedHeaders, TEST_SECRET } from '../testing/signed';
import { until } from '../testing/wait';
import { packageRoot } from '../util/paths';

/**
 * The hub on a secured Kafka (issue 11 item 7), against a real broker started here with a
 * SASL_SSL listener (SCRAM-SHA-512 over TLS) and an SSL listener that requires a client
 * certificate (mTLS), from PEM files made with openssl: a whole hub runs over SCRAM with the
 * password from the environment (never from hub.yaml, never logged); a wrong password or a missing
 * client certificate does not connect.
 */
const dir = mkdtempSync(join(tmpdir(), 'kafka-sec-'));
const password = randomBytes(12).toString('hex');
const ports = { plain: 16592, controller: 16593, saslSsl: 16594, ssl: 16595 };
const env = { ...process.env, KAFKA_PORT: String(ports.plain), KAFKA_CONTROLLER_PORT: String(ports.controller), KAFKA_DATA_DIR: join(dir, 'data'), KAFKA_SECURE_DIR: dir, KAFKA_SASL_SSL_PORT: String(ports.saslSsl), KAFKA_SSL_PORT: String(ports.ssl), KAFKA_SCRAM_USER: 'hub', KAFKA_SCRAM_PASSWORD: password };
const kafkaSh = (...cmd: string[]): void => void execFileSync('bash', [join(packageRoot(), 'deploy', 'local', 'kafka.sh'), ...cmd], { env, stdio: 'inherit', timeout: 240000 });

function conn(protocol: 'sasl_ssl' | 'ssl', o: { passwordEnv?: string; cert?: boolean } = {}, namespace = ''): KafkaConnectionConfig {
  return {
    brokers: [`127.0.0.1:${protocol === 'sasl_ssl' ? ports.saslSsl : ports.ssl}`],
    clientId: 'sec-itest',
    namespace,
    connectionTimeoutMs: 5000,
    security: {
      protocol,
      ssl: { caFile: join(dir, 'ca.pem'), certFile: o.cert ? join(dir, 'client.pem') : null, keyFile: o.cert ? join(dir, 'client.key') : null, keyPasswordFile: null, verifyHostname: true },
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'hub', passwordFile: null, passwordEnv: o.passwordEnv ?? null },
    },
  };
}

async function reachable(c: KafkaConnectionConfig): Promise<boolean> {
  const a = new KafkaAdmin(c);
  try {
    await a.connect();
    await Promise.race([a.listTopics(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 8000))]);
    return true;
  } catch {
    return false;
  } finally {
    await a.disconnect();
  }
}

beforeAll(() => {
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=intake-hub test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.crt', '-days', '2', '-extfile', 'san.ext');
  openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'srv.key', '-out', 'srv.p8');
  writeFileSync(join(dir, 'server.pem'), readFileSync(join(dir, 'srv.p8'), 'utf8') + readFileSync(join(dir, 'srv.crt'), 'utf8'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=intake-hub');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2');
  kafkaSh('fetch', 'start', 'wait');
});

afterAll(() => {
  try {
    kafkaSh('stop');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('the hub on a secured Kafka', () => {
  it('SCRAM-SHA-512 over TLS and mTLS connect; a wrong password or no client certificate does not', async () => {
    process.env.ITEST_KAFKA_PW = password;
    process.env.ITEST_KAFKA_BAD = 'not-the-password';
    expect(await reachable(conn('sasl_ssl', { passwordEnv: 'ITEST_KAFKA_PW' }))).toBe(true);
    expect(await reachable(conn('sasl_ssl', { passwordEnv: 'ITEST_KAFKA_BAD' }))).toBe(false);
    expect(await reachable(conn('ssl', { cert: true }))).toBe(true);
    expect(await reachable(conn('ssl'))).toBe(false);
  });

  it('a whole hub (intake → processor → tickets) runs over SCRAM/TLS with the password from the environment, which never reaches its logs', async () => {
    process.env.ITEST_KAFKA_PW = password;
    const ns = testNamespace('sec');
    const lines: string[] = [];
    const capture: Logger = (() => {
      const make = (base: Record<string, unknown>): Logger => {
        const emit = (level: string, msg: string, f?: Record<string, unknown>): void => void lines.push(JSON.stringify({ level, msg, ...base, ...f }, (_k, v: unknown) => (v instanceof Error ? { message: v.message } : v)));
        return { debug: (m, f) => emit('debug', m, f), info: (m, f) => emit('info', m, f), warn: (m, f) => emit('warn', m, f), error: (m, f) => emit('error', m, f), child: (f) => make({ ...base, ...f }) };
      };
      return make({});
    })();
    const c = conn('sasl_ssl', { passwordEnv: 'ITEST_KAFKA_PW' });
    const config = validateConfig({
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      output: { type: 'kafka', kafka: { brokers: c.brokers, namespace: ns, partitions: 2, leasePartitions: 2, replicationFactor: 1, minInsyncReplicas: 1, sessionTimeoutMs: 6000, security: c.security } },
      connectors: [{ id: 'app', type: 'resident-app', config: { secrets: [TEST_SECRET] } }],
    });
    expect(JSON.stringify(config)).not.toContain(password);
    const hub = new Hub(config, { logger: capture, registry: new Registry(), instanceId: `sec-${ns}`, onFatal: restartOnFatal });
    const base = await hub.listen();
    await hub.start();
    try {
      const body = Buffer.from(JSON.stringify(residentReport(1, { reportId: `RA-SEC-${ns}` })));
      const res = await request(`${base}/intake/app`, { method: 'POST', body, headers: signedHeaders(body) });
      expect(res.statusCode).toBe(202);
      await res.body.dump();
      await until('the ticket over SCRAM/TLS', async () => (await readTopic<CanonicalTicket>(hub.topics.tickets, (t) => t.source.sourceId === `RA-SEC-${ns}`, conn('sasl_ssl', { passwordEnv: 'ITEST_KAFKA_PW' }, ns))).length === 1, 60000, 500);
    } finally {
      await hub.stop();
    }
    expect(lines.join('\n')).not.toContain(password);
  });
});
