import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { validateConfig } from '../../core/config/config';
import { testContext } from '../../core/testing/context';
import { until } from '../../core/testing/wait';
import { gridWorkerSpec, type GridWorkerConfig } from './spec';

/**
 * The grid-worker connector over a secured NATS (issue 11 item 7), against a real nats-server with
 * TLS and a password: it connects with the CA from `tls.caFile` and the password from `passFile`
 * (never from hub.yaml), consumes a report; without the CA, or with a wrong password, it does not
 * connect and says so in its health.
 */
const dir = mkdtempSync(join(tmpdir(), 'nats-tls-'));
const password = randomBytes(12).toString('hex');
let port = 0;
let server: ChildProcess;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function config(extra: Partial<GridWorkerConfig>): GridWorkerConfig {
  const c = validateConfig({
    connectors: [{ id: 'gw', type: 'grid-worker', config: { servers: [`tls://127.0.0.1:${port}`], stream: 'SECURE', subjects: ['secure.>'], durable: 'secure-test', connectTimeoutMs: 2000, reconnectWaitMs: 500, codeTable: { '510114': '新都区' }, ...extra } }],
  });
  return c.connectors[0]?.config as unknown as GridWorkerConfig;
}

beforeAll(async () => {
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=intake-hub test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'san.ext');
  writeFileSync(join(dir, 'pass'), `${password}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'wrong'), 'not-the-password\n', { mode: 0o600 });
  port = await freePort();
  server = spawn(process.env.NATS_SERVER_BIN ?? 'nats-server', ['-a', '127.0.0.1', '-p', String(port), '--tls', '--tlscert', join(dir, 'srv.pem'), '--tlskey', join(dir, 'srv.key'), '--user', 'hub', '--pass', password, '-js', '-sd', join(dir, 'js')], { stdio: 'ignore' });
  await until('nats-server with TLS', async () => {
    try {
      const nc = await connect({ servers: `tls://127.0.0.1:${port}`, tls: { caFile: join(dir, 'ca.pem') }, user: 'hub', pass: password, timeout: 1000 });
      await nc.close();
      return true;
    } catch {
      return false;
    }
  }, 20000, 200);
});

afterAll(async () => {
  const s = server;
  if (s && s.exitCode === null && s.signalCode === null) {
    const exited = new Promise<void>((res) => s.once('exit', () => res()));
    s.kill('SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('grid-worker on a secured NATS (TLS + password file)', () => {
  it('connects with the CA file and the password file and consumes a report', async () => {
    const cfg = config({ tls: { caFile: join(dir, 'ca.pem'), certFile: null, keyFile: null }, user: 'hub', passFile: join(dir, 'pass') });
    const ctx = testContext(gridWorkerSpec as never, cfg, 'gw');
    const c = gridWorkerSpec.create(cfg, ctx);
    await c.start();
    try {
      await until('running', () => c.health().state === 'running', 20000);
      const nc = await connect({ servers: `tls://127.0.0.1:${port}`, tls: { caFile: join(dir, 'ca.pem') }, user: 'hub', pass: password });
      const report = { reportId: 'GW-SEC-1', workerId: 'WGY-1', gridCode: '510114001001003', itemCode: 'D01', text: '垃圾堆积', reportedAt: '2026-11-20T09:00:00+08:00' };
      await jetstream(nc).publish('secure.510114', JSON.stringify(report));
      await nc.close();
      await until('the report is submitted', () => ctx.tickets.some((t) => t.source.sourceId === 'GW-SEC-1'), 20000);
    } finally {
      await c.stop();
      await ctx.http.close();
    }
  });

  it('without the CA it does not connect (the server certificate is not trusted) and its health says why', async () => {
    const cfg = config({ user: 'hub', passFile: join(dir, 'pass') });
    const ctx = testContext(gridWorkerSpec as never, cfg, 'gw-noca');
    const c = gridWorkerSpec.create(cfg, ctx);
    await c.start();
    try {
      await until('an error', () => c.health().lastError !== null, 20000);
      expect(c.health().state).not.toBe('running');
    } finally {
      await c.stop();
      await ctx.http.close();
    }
  });

  it('with a wrong password file it does not connect, and the password is never in its health', async () => {
    const cfg = config({ tls: { caFile: join(dir, 'ca.pem'), certFile: null, keyFile: null }, user: 'hub', passFile: join(dir, 'wrong') });
    const ctx = testContext(gridWorkerSpec as never, cfg, 'gw-wrong');
    const c = gridWorkerSpec.create(cfg, ctx);
    await c.start();
    try {
      await until('an error', () => c.health().lastError !== null, 20000);
      expect(c.health().state).not.toBe('running');
      expect(JSON.stringify(c.health())).not.toContain('not-the-password');
      expect(JSON.stringify(c.health())).not.toContain(password);
    } finally {
      await c.stop();
      await ctx.http.close();
    }
  });
});
