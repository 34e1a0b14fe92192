#!/usr/bin/env bash
# Local NATS server with JetStream, from Debian's `nats-server` package (2.9.x).
#
# Usage: bash deploy/local/nats.sh <subcommand> [<subcommand> ...]
#   install  apt-get install -y nats-server (only when nats-server is not on PATH)
#   start    start nats-server -js in the background (no-op if the port is already served)
#   wait     block until the server accepts connections (and, when the node client is
#            installed, until JetStream answers) -- timeout $NATS_WAIT_TIMEOUT s
#   stop     stop the server started by `start` (SIGTERM, SIGKILL after 10 s)
#   status   print whether the server is running / answering
#   restart  stop + start + wait
#   reset    stop and delete the data dir (streams, consumers, KV)
#   owned    exit 0 iff a server started by this script (this data dir) is running
# Several subcommands may be given at once, e.g. `nats.sh install start wait`.
#
# Environment (all optional):
#   NATS_PORT           client port on 127.0.0.1                    (default 4222)
#   NATS_MONITOR_PORT   HTTP monitoring port on 127.0.0.1 (0 = off)  (default 8222)
#   NATS_DATA_DIR       data dir (JetStream store, log, pid)         (default deploy/local/.cache/nats-data)
#   NATS_WAIT_TIMEOUT   seconds `wait` polls before failing          (default 30)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

NATS_PORT="${NATS_PORT:-4222}"
NATS_MONITOR_PORT="${NATS_MONITOR_PORT:-8222}"
NATS_DATA_DIR="${NATS_DATA_DIR:-$SCRIPT_DIR/.cache/nats-data}"
NATS_WAIT_TIMEOUT="${NATS_WAIT_TIMEOUT:-30}"
NATS_STOP_TIMEOUT="${NATS_STOP_TIMEOUT:-10}"
case "$NATS_DATA_DIR" in
  /*) ;;
  *) NATS_DATA_DIR="$REPO_ROOT/$NATS_DATA_DIR" ;;
esac

# nats-server appends "jetstream/" to -sd itself, so the store ends up in $NATS_DATA_DIR/jetstream.
STORE_DIR="$NATS_DATA_DIR"
LOG_FILE="$NATS_DATA_DIR/nats-server.log"
PID_FILE="$NATS_DATA_DIR/nats-server.pid"

log() { echo "[nats] $*"; }
err() { echo "[nats] ERROR: $*" >&2; }
die() { err "$*"; exit 1; }

# shellcheck source=deploy/local/lib.sh
source "$SCRIPT_DIR/lib.sh"

find_nats_server() {
  if command -v nats-server >/dev/null 2>&1; then
    command -v nats-server
  elif [[ -x /usr/sbin/nats-server ]]; then
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    echo /usr/sbin/nats-server
  fi
}

running_pid() {
  pid_from_file "$PID_FILE" 'nats-server'
}

# 0 = JetStream answers, 1 = connected but no JetStream / not ready, 3 = node client not installed.
probe_jetstream() {
  local tn="$REPO_ROOT/node_modules/@nats-io/transport-node" js="$REPO_ROOT/node_modules/@nats-io/jetstream"
  if ! command -v node >/dev/null 2>&1 || [[ ! -d "$tn" || ! -d "$js" ]]; then
    return 3
  fi
  NODE_ROOT="$REPO_ROOT" PROBE_SERVER="127.0.0.1:$NATS_PORT" node -e '
    let connect, jetstreamManager;
    try {
      const paths = [process.env.NODE_ROOT];
      ({ connect } = require(require.resolve("@nats-io/transport-node", { paths })));
      ({ jetstreamManager } = require(require.resolve("@nats-io/jetstream", { paths })));
    } catch (e) { console.error(String(e && e.message || e)); process.exit(3); }
    const timer = setTimeout(() => { console.error("probe timed out"); process.exit(2); }, 5000);
    (async () => {
      const nc = await connect({ servers: process.env.PROBE_SERVER, timeout: 2000, reconnect: false });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.getAccountInfo();
      } finally { await nc.close(); }
    })().then(() => { clearTimeout(timer); process.exit(0); }, (e) => { console.error(String(e && e.message || e)); process.exit(1); });
  ' 2>"$NATS_DATA_DIR/.probe.err"
}

cmd_install() {
  if [[ -n "$(find_nats_server)" ]]; then
    log "nats-server already installed: $("$(find_nats_server)" --version 2>&1)"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "nats-server not found and apt-get is not available -- install nats-server 2.9+ manually"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install nats-server"
    sudo="sudo"
  fi
  log "installing nats-server from Debian packages ..."
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nats-server >/tmp/nats-apt-install.log 2>&1; then
    log "apt-get install failed; running apt-get update and retrying ..."
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -q >/tmp/nats-apt-update.log 2>&1 || { tail -n 20 /tmp/nats-apt-update.log >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nats-server >/tmp/nats-apt-install.log 2>&1 || { tail -n 20 /tmp/nats-apt-install.log >&2; die "apt-get install nats-server failed"; }
  fi
  # The package enables a systemd unit that serves 127.0.0.1:4222 WITHOUT JetStream.
  # On hosts that really run systemd, turn it off so it does not shadow ours.
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    log "disabling the package's systemd nats-server.service (it has no JetStream and would take port 4222)"
    $sudo systemctl disable --now nats-server.service >/dev/null 2>&1 || true
  fi
  [[ -n "$(find_nats_server)" ]] || die "nats-server still not found after apt-get install"
  log "installed $("$(find_nats_server)" --version 2>&1)"
}

cmd_start() {
  local pid bin
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    log "nats-server already running (pid $pid) on 127.0.0.1:$NATS_PORT"
    return 0
  fi
  mkdir -p "$STORE_DIR"
  if port_open "$NATS_PORT"; then
    local rc=0
    probe_jetstream || rc=$?
    case $rc in
      0) log "a NATS server with JetStream already listens on 127.0.0.1:$NATS_PORT -- not starting another" ;;
      3) log "something already listens on 127.0.0.1:$NATS_PORT -- assuming it is a NATS server, not starting another" ;;
      *) die "127.0.0.1:$NATS_PORT is taken by a server without working JetStream ($(cat "$NATS_DATA_DIR/.probe.err" 2>/dev/null)); stop it (Debian's service: systemctl disable --now nats-server) or set NATS_PORT" ;;
    esac
    return 0
  fi
  bin="$(find_nats_server)"
  [[ -n "$bin" ]] || die "nats-server not installed -- run: bash deploy/local/nats.sh install"

  local args=(-js -a 127.0.0.1 -p "$NATS_PORT" -sd "$STORE_DIR" -n intake-hub-local -l "$LOG_FILE")
  if [[ "$NATS_MONITOR_PORT" != "0" ]]; then
    if port_open "$NATS_MONITOR_PORT"; then
      log "monitoring port $NATS_MONITOR_PORT is in use -- starting without HTTP monitoring"
    else
      args+=(-m "$NATS_MONITOR_PORT")
    fi
  fi
  rm -f "$PID_FILE"
  log "starting $("$bin" --version 2>&1) with JetStream on 127.0.0.1:$NATS_PORT (store ${STORE_DIR#"$REPO_ROOT"/}/jetstream)"
  # shellcheck disable=SC2016
  NATS_PID_FILE="$PID_FILE" nohup setsid bash -c 'echo $$ >"$NATS_PID_FILE"; exec "$@"' nats-server-local \
    "$bin" "${args[@]}" >"$NATS_DATA_DIR/nats-server.out" 2>&1 </dev/null &

  for _ in $(seq 1 50); do
    [[ -s "$PID_FILE" ]] && break
    sleep 0.1
  done
  pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || die "nats-server did not write its pid file ($PID_FILE)"
  sleep 0.2
  if ! kill -0 "$pid" 2>/dev/null; then
    err "nats-server exited immediately:"
    tail -n 20 "$LOG_FILE" "$NATS_DATA_DIR/nats-server.out" >&2 2>/dev/null || true
    exit 1
  fi
  log "nats-server started (pid $pid); log: ${LOG_FILE#"$REPO_ROOT"/}"
}

cmd_wait() {
  local start now rc
  start=$(date +%s)
  mkdir -p "$NATS_DATA_DIR"
  log "waiting up to ${NATS_WAIT_TIMEOUT}s for NATS on 127.0.0.1:$NATS_PORT ..."
  while true; do
    if port_open "$NATS_PORT"; then
      rc=0
      probe_jetstream || rc=$?
      if [[ $rc -eq 0 ]]; then
        log "NATS on 127.0.0.1:$NATS_PORT is ready, JetStream enabled (waited $(( $(date +%s) - start ))s)"
        return 0
      elif [[ $rc -eq 3 ]]; then
        log "NATS on 127.0.0.1:$NATS_PORT accepts connections (waited $(( $(date +%s) - start ))s; JetStream not checked: node_modules missing)"
        return 0
      fi
    fi
    now=$(date +%s)
    if (( now - start >= NATS_WAIT_TIMEOUT )); then
      err "NATS on 127.0.0.1:$NATS_PORT not ready within ${NATS_WAIT_TIMEOUT}s"
      [[ -s "$NATS_DATA_DIR/.probe.err" ]] && err "last JetStream probe error: $(cat "$NATS_DATA_DIR/.probe.err")"
      if [[ -f "$LOG_FILE" ]]; then
        err "--- last 30 lines of $LOG_FILE ---"
        tail -n 30 "$LOG_FILE" >&2 || true
      fi
      exit 1
    fi
    if [[ -f "$PID_FILE" ]] && [[ -z "$(running_pid)" ]] && ! port_open "$NATS_PORT"; then
      err "nats-server exited during start-up"
      tail -n 30 "$LOG_FILE" "$NATS_DATA_DIR/nats-server.out" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.5
  done
}

cmd_stop() {
  local pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$PID_FILE"
    if port_open "$NATS_PORT"; then
      log "not started by this script (no live pid file), but something listens on 127.0.0.1:$NATS_PORT -- leaving it alone"
    else
      log "nats-server not running"
    fi
    return 0
  fi
  log "stopping nats-server (pid $pid) ..."
  stop_pid "$pid" "$NATS_STOP_TIMEOUT" nats-server
  rm -f "$PID_FILE"
  log "nats-server stopped"
}

cmd_status() {
  local pid rc=0
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then log "process: running (pid $pid, data ${NATS_DATA_DIR#"$REPO_ROOT"/})"; else log "process: not running (from this script)"; fi
  if port_open "$NATS_PORT"; then
    mkdir -p "$NATS_DATA_DIR"
    probe_jetstream || rc=$?
    case $rc in
      0) log "server 127.0.0.1:$NATS_PORT: answering, JetStream enabled" ;;
      3) log "server 127.0.0.1:$NATS_PORT: port open (JetStream not checked: node_modules missing)" ;;
      *) log "server 127.0.0.1:$NATS_PORT: port open, JetStream NOT answering ($(cat "$NATS_DATA_DIR/.probe.err" 2>/dev/null))" ;;
    esac
  else
    log "server 127.0.0.1:$NATS_PORT: not reachable"
  fi
  if [[ -n "$(find_nats_server)" ]]; then log "binary: $(find_nats_server)"; else log "binary: not installed"; fi
}

cmd_reset() {
  cmd_stop
  log "deleting data dir ${NATS_DATA_DIR#"$REPO_ROOT"/}"
  rm -rf "$NATS_DATA_DIR"
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

[[ $# -gt 0 ]] || { usage; exit 2; }
for sub in "$@"; do
  case "$sub" in
    install) cmd_install ;;
    start) cmd_start ;;
    wait) cmd_wait ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart) cmd_stop; cmd_start; cmd_wait ;;
    owned) [[ -n "$(running_pid)" ]] ;;  # exit 0 iff a server started by this checkout's script is running
    reset) cmd_reset ;;
    -h|--help|help) usage ;;
    *) err "unknown subcommand: $sub"; usage >&2; exit 2 ;;
  esac
done
