import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { packageRoot } from '../../core/util/paths';

export type FleetRole = 'intake' | 'processor';

/** One exit of a hub process: planned (the harness killed or stopped it) or not (a crash). */
export interface ExitRecord {
  id: string;
  at: number;
  code: number | null;
  signal: string | null;
  planned: boolean;
}

export interface Member {
  readonly id: string;
  readonly role: FleetRole;
  readonly port: number;
  readonly adminPort: number;
  /** The harness wants it running: the supervisor restarts it after an unplanned exit. */
  want: boolean;
  proc: ChildProcess | null;
  /** When the last start was asked for / when /readyz first answered 200 after it. */
  startedAt: number;
  readyAt: number | null;
}

export interface FleetOptions {
  /** Where the generated hub.yaml files and the per-instance logs go. */
  dir: string;
  /**
   * How to run the CLI: arguments before `start` (`[dist/core/cli/main.js]` after a build, or
   * `[core/testing/run-ts.js, core/cli/main.ts]` without one).
   */
  entry: string[];
  /** The hub.yaml of an instance (written as JSON, which YAML reads). */
  config(m: { id: string; role: FleetRole; port: number; adminPort: number }): Record<string, unknown>;
  /** How long the supervisor waits before restarting a process that exited unplanned (a StatefulSet / Deployment restart). */
  restartDelayMs: number;
  log(line: string): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Hub processes of one fault run, each `intake-hub start --role intake|processor` in its own OS
 * process with its own hub.yaml, supervised the way a Deployment / StatefulSet would: a process
 * that exits without the harness asking for it (the crash-only rule: `exit 70` on an uncertain
 * transactional outcome) is restarted under the same instance id after `restartDelayMs`, and the
 * exit is recorded. `kill9` is a hard crash (SIGKILL, no shutdown hook), `terminate` a clean stop.
 */
export class Fleet {
  readonly members = new Map<string, Member>();
  readonly exits: ExitRecord[] = [];
  private readonly logs = new Map<string, WriteStream>();
  private readonly planned = new Set<ChildProcess>();
  private closed = false;

  constructor(private readonly o: FleetOptions) {
    // the harness itself dying (a failed assertion, Ctrl-C) must not leave hub processes behind
    process.once('exit', () => {
      for (const m of this.members.values()) m.proc?.kill('SIGKILL');
    });
  }

  async add(id: string, role: FleetRole): Promise<Member> {
    const m: Member = { id, role, port: await freePort(), adminPort: await freePort(), want: false, proc: null, startedAt: 0, readyAt: null };
    this.members.set(id, m);
    writeFileSync(this.configFile(m), JSON.stringify(this.o.config(m), null, 1));
    return m;
  }

  private configFile(m: Member): string {
    return join(this.o.dir, `hub-${m.id}.yaml`);
  }

  get(id: string): Member {
    const m = this.members.get(id);
    if (!m) throw new Error(`no fleet member ${id}`);
    return m;
  }

  /** Members the harness wants running, of a role. */
  live(role: FleetRole): Member[] {
    return [...this.members.values()].filter((m) => m.role === role && m.want);
  }

  url(id: string): string {
    return `http://127.0.0.1:${this.get(id).port}`;
  }

  /** Starts a member's process (no-op when it runs) and waits until its /readyz answers 200. */
  async start(id: string, readyTimeoutMs = 180000): Promise<void> {
    const m = this.get(id);
    m.want = true;
    if (!m.proc) this.spawn(m);
    await this.ready(id, readyTimeoutMs);
  }

  private spawn(m: Member): void {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env.EOS_HUB_LOG_LEVEL ?? 'warn' };
    // the config file says everything: no environment override
    for (const k of ['KAFKA_BROKERS', 'PORT', 'ADMIN_PORT', 'HUB_CONFIG', 'HUB_TOKEN_SECRET', 'HUB_ADMIN_TOKENS', 'HUB_ADMIN_TOKENS_FILE']) delete env[k];
    const args = [...this.o.entry, 'start', '--config', this.configFile(m), '--role', m.role, '--instance-id', m.id];
    const proc = spawn(process.execPath, args, { cwd: packageRoot(), env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = this.logs.get(m.id);
    if (!log) {
      log = createWriteStream(join(this.o.dir, `${m.id}.log`), { flags: 'a' });
      this.logs.set(m.id, log);
    }
    log.write(`--- ${new Date().toISOString()} start pid ${proc.pid}\n`);
    proc.stderr?.pipe(log, { end: false });
    m.proc = proc;
    m.startedAt = Date.now();
    m.readyAt = null;
    proc.once('exit', (code, signal) => {
      const planned = this.planned.delete(proc);
      if (m.proc === proc) m.proc = null;
      this.exits.push({ id: m.id, at: Date.now(), code, signal, planned });
      this.logs.get(m.id)?.write(`--- ${new Date().toISOString()} exit code ${code} signal ${signal}${planned ? ' (planned)' : ''}\n`);
      if (!planned) this.o.log(`${m.id} exited unplanned (code ${code}, signal ${signal})${m.want && !this.closed ? `; restarting in ${this.o.restartDelayMs} ms` : ''}`);
      if (!planned && m.want && !this.closed) {
        setTimeout(() => {
          if (m.want && !m.proc && !this.closed) this.spawn(m);
        }, this.o.restartDelayMs).unref();
      }
    });
  }

  /** Waits until the member's /readyz answers 200 (it is started, its log writable, its processor up). */
  async ready(id: string, timeoutMs = 180000): Promise<void> {
    const m = this.get(id);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const r = await request(`http://127.0.0.1:${m.port}/readyz`, { headersTimeout: 2000, bodyTimeout: 2000 });
        await r.body.dump();
        if (r.statusCode === 200) {
          m.readyAt ??= Date.now();
          return;
        }
      } catch {
        // not listening yet, or being restarted
      }
      if (Date.now() > deadline) throw new Error(`${id} not ready within ${timeoutMs} ms (log: ${join(this.o.dir, `${id}.log`)})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * SIGKILL: no shutdown hook runs, open transactions stay open on the brokers. With
   * `restartAfterMs` the member is started again under the same instance id (its transactional id
   * fences the dead one's open transaction); without, it stays down.
   */
  kill9(id: string, restartAfterMs: number | null): number {
    const m = this.get(id);
    const p = m.proc;
    const at = Date.now();
    if (!p) return at;
    this.planned.add(p);
    p.kill('SIGKILL');
    if (restartAfterMs === null) m.want = false;
    else {
      setTimeout(() => {
        if (m.want && !m.proc && !this.closed) this.spawn(m);
      }, restartAfterMs).unref();
    }
    return at;
  }

  /** A clean stop (SIGTERM: the hub finishes its transaction, leaves the group) and waits for the exit. */
  async terminate(id: string, timeoutMs = 60000): Promise<void> {
    const m = this.get(id);
    m.want = false;
    const p = m.proc;
    if (!p) return;
    this.planned.add(p);
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(t);
  }

  /** Stops every process (SIGTERM, SIGKILL after a minute) and closes the logs. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.members.keys()].map((id) => this.terminate(id)));
    for (const l of this.logs.values()) l.end();
    this.logs.clear();
  }

  /** Exits the harness did not ask for (crash-only exits, start failures). */
  unplannedExits(): ExitRecord[] {
    return this.exits.filter((e) => !e.planned);
  }
}
