import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from './paths';

/** Runs crash-exit.fixture.ts; the test's guard kills it after 12 s. */
function runChild(how: 'crashExit' | 'process.exit', fifo: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const root = packageRoot();
  const t0 = Date.now();
  const p = spawn(process.execPath, [join(root, 'core', 'testing', 'run-ts.js'), join(root, 'core', 'util', 'crash-exit.fixture.ts'), how, fifo], { stdio: 'ignore' });
  return new Promise((resolve) => {
    const guard = setTimeout(() => p.kill('SIGKILL'), 12_000);
    p.once('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, ms: Date.now() - t0 });
    });
  });
}

describe('crashExit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crash-exit-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits with the code when nothing holds the exit', async () => {
    const r = await runChild('crashExit', '-');
    expect(r).toMatchObject({ code: 70, signal: null });
  }, 20_000);

  it('ends a process whose pool thread is blocked, where process.exit hangs', async () => {
    // the control: process.exit joins the blocked pool thread and waits until the guard kills it
    const plain = await runChild('process.exit', fifo);
    expect(plain.signal).toBe('SIGKILL');
    expect(plain.ms).toBeGreaterThanOrEqual(11_500);
    // crashExit's watchdog kills it after its grace (1 s here)
    const r = await runChild('crashExit', fifo);
    expect(r.signal).toBe('SIGKILL');
    expect(r.ms).toBeLessThan(8_000);
  }, 40_000);
});
