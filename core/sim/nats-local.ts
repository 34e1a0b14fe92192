import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where Debian puts nats-server (/usr/sbin is not on every user's PATH). */
const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

/** The nats-server binary: NATS_SERVER_BIN, then PATH, then Debian's locations; null when none is installed. */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.NATS_SERVER_BIN) return existsSync(env.NATS_SERVER_BIN) ? env.NATS_SERVER_BIN : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** A free TCP port on 127.0.0.1 chosen by the kernel (never the well-known 4222). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.setTimeout(300);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

export interface LocalNats {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts a private nats-server with JetStream for the `npm start` demo: on a free loopback port,
 * with its store in a fresh temporary folder that `stop` deletes. The server is a child of the hub
 * process and is stopped with it (SIGINT/SIGTERM/exit). Resolves null when no nats-server is
 * installed (the demo then runs without the grid-worker channel and says how to get one).
 */
export async function startLocalNats(o: { timeoutMs?: number; bin?: string | null } = {}): Promise<LocalNats | null> {
  const bin = o.bin === undefined ? findNatsServer() : o.bin;
  if (!bin) return null;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'intake-hub-demo-nats-'));
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir, '-n', 'intake-hub-demo'], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  const kill = (): void => {
    if (!exited) child.kill('SIGTERM');
  };
  process.once('exit', kill);
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(exited ? `${bin} exited during start-up` : `${bin} did not accept connections on 127.0.0.1:${port} within ${o.timeoutMs ?? 10_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    async stop(): Promise<void> {
      process.off('exit', kill);
      if (!exited) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        kill();
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (!exited) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
