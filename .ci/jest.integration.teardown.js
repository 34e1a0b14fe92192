// Global teardown of the integration project. With --runInBand every test file runs in this
// process, so a socket, server, child process or timer a test forgot keeps Node alive after the
// run and Jest waits for it forever (a CI run once hung this way until its time limit).
// test-all.sh runs the integration step with --forceExit so the run always ends; this teardown
// prints what was still open, by kind and address, so the leak can be found and fixed.
'use strict';

function describe(h) {
  const kind = h && h.constructor ? h.constructor.name : typeof h;
  if (kind === 'ChildProcess') {
    // Under Jest a child that has exited (handle closed, exit code or signal set) can still be
    // listed by _getActiveHandles; it keeps nothing alive, so it is not reported.
    if (!h._handle || h.exitCode !== null || h.signalCode !== null) return null;
    return `ChildProcess pid ${h.pid}: ${(h.spawnargs || []).join(' ').slice(0, 200)}`;
  }
  if (kind === 'Socket' || kind === 'TLSSocket') {
    if (h.fd !== undefined && h.fd >= 0 && h.fd <= 2) return null; // the run's own stdio
    if (h.remoteAddress) return `${kind} ${h.localAddress}:${h.localPort} -> ${h.remoteAddress}:${h.remotePort}`;
    const handle = h._handle && h._handle.constructor ? h._handle.constructor.name : '';
    if (handle === 'Pipe') return `${kind} on a pipe (a child process's stdio, or IPC)`;
    return `${kind} (not connected${h.connecting ? ', connecting' : ''})`;
  }
  if (kind === 'Server') {
    if (h.listening === false) return null; // closed: listed by Jest's handle list, holds nothing
    const a = typeof h.address === 'function' ? h.address() : null;
    return `Server listening on ${a && typeof a === 'object' ? `${a.address}:${a.port}` : String(a)}`;
  }
  if (kind === 'WriteStream' || kind === 'ReadStream') {
    if (h.fd !== undefined && h.fd >= 0 && h.fd <= 2) return null;
    return `${kind} ${h.path || `fd ${h.fd}`}`;
  }
  return kind;
}

module.exports = async function teardown() {
  const handles = (process._getActiveHandles ? process._getActiveHandles() : []).map(describe).filter(Boolean);
  const resources = process.getActiveResourcesInfo ? process.getActiveResourcesInfo() : [];
  const timers = resources.filter((r) => r === 'Timeout' || r === 'Immediate').length;
  if (handles.length === 0 && timers === 0) return;
  const lines = [`[integration teardown] still open after the last test file (${handles.length} handles, ${timers} timers):`];
  for (const d of handles) lines.push(`  - ${d}`);
  process.stderr.write(lines.join('\n') + '\n');
};
