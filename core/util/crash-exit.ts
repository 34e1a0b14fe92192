import { spawn } from 'node:child_process';

/**
 * Exits the process now with `code` (the crash-only rule's exit), even when a native call holds a
 * libuv pool thread. `process.exit` joins the pool threads (node::DefaultProcessExitHandlerInternal
 * → uv__threadpool_cleanup), and a librdkafka call that ignores its timeout keeps one forever:
 * `rd_kafka_send_offsets_to_transaction` with the group coordinator down (librdkafka issues #5456
 * and #5511, both open; seen in `npm run bench:eos` when a broker was killed: three processors logged
 * their crash-only exit and hung in `process.exit` for minutes). So a detached watchdog process is
 * started first; it sends SIGKILL when this process still exists after `graceMs`. The exit code is
 * `code` when the exit completes, and the signal (137 under a shell or Kubernetes) when the watchdog
 * had to kill: either way the orchestrator restarts the instance.
 */
export function crashExit(code: number, graceMs = 5000): never {
  try {
    const pid = process.pid;
    const w = spawn(process.execPath, ['-e', `setTimeout(() => { try { process.kill(${pid}, 'SIGKILL'); } catch {} }, ${Math.max(0, Math.floor(graceMs))});`], { detached: true, stdio: 'ignore' });
    w.unref();
  } catch {
    // no watchdog (cannot spawn): the plain exit below is still tried
  }
  process.exit(code);
}
