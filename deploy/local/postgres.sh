#!/usr/bin/env bash
# Local PostgreSQL server for the ticket store's tests, from Debian's `postgresql` package
# (initdb + pg_ctl on its own port and data dir; the package's system cluster is not used).
#
# Usage: bash deploy/local/postgres.sh <subcommand> [<subcommand> ...]
#   install  apt-get install -y postgresql (only when initdb/pg_ctl are not found)
#   start    initdb (first time only: database, role and a generated password) and start
#            the server in the background on 127.0.0.1:$PG_PORT (no-op when it runs)
#   wait     block until the server accepts a login (timeout $PG_WAIT_TIMEOUT s)
#   stop     stop the server started by `start` (fast shutdown, immediate after $PG_STOP_TIMEOUT s)
#   status   print whether the server is running / answering
#   url      print the connection URL (postgres://intake:<password>@127.0.0.1:$PG_PORT/intake)
#   env      print `export PG_URL=...` for eval in a test script
#   reset    stop and delete the data dir
#   owned    exit 0 iff a server started by this script (this data dir) is running
# Several subcommands may be given at once, e.g. `postgres.sh install start wait`.
#
# Environment (all optional):
#   PG_BIN_DIR        directory of initdb/pg_ctl/postgres   (default: newest /usr/lib/postgresql/*/bin)
#   PG_PORT           TCP port on 127.0.0.1                 (default 15432)
#   PG_DATA_DIR       data dir (cluster, log, password)     (default deploy/local/.cache/postgres-$PG_PORT)
#   PG_WAIT_TIMEOUT   seconds `wait` polls before failing   (default 60)
#   PG_STOP_TIMEOUT   seconds `stop` waits before `immediate` (default 20)
#
# PostgreSQL refuses to run as root: when this script runs as root, the server runs as the
# `postgres` system user the Debian package creates, and the data dir is owned by it.
set -euo pipefail
# apt logs of an install go here (shown when it fails)
APT_LOG_DIR="${APT_LOG_DIR:-${TMPDIR:-/tmp}}"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

PG_PORT="${PG_PORT:-15432}"
PG_DATA_DIR="${PG_DATA_DIR:-$SCRIPT_DIR/.cache/postgres-$PG_PORT}"
PG_WAIT_TIMEOUT="${PG_WAIT_TIMEOUT:-60}"
PG_STOP_TIMEOUT="${PG_STOP_TIMEOUT:-20}"
case "$PG_DATA_DIR" in
  /*) ;;
  *) PG_DATA_DIR="$REPO_ROOT/$PG_DATA_DIR" ;;
esac
CLUSTER_DIR="$PG_DATA_DIR/cluster"
LOG_FILE="$PG_DATA_DIR/postgres.log"
PASSWORD_FILE="$PG_DATA_DIR/password"
PG_USER=intake
PG_DB=intake

log() { echo "[postgres] $*"; }
err() { echo "[postgres] ERROR: $*" >&2; }
die() { err "$*"; exit 1; }

# shellcheck source=deploy/local/lib.sh
source "$SCRIPT_DIR/lib.sh"

find_bin_dir() {
  if [[ -n "${PG_BIN_DIR:-}" ]]; then
    echo "$PG_BIN_DIR"
    return
  fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$d" && -x "$d/pg_ctl" ]]; then
    echo "$d"
  elif command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
  fi
}

# Runs a command as the server's user: ourselves, or `postgres` when we are root.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root and there is no 'postgres' user to run the server as"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running_pid() {
  [[ -f "$CLUSTER_DIR/postmaster.pid" ]] || return 0
  local pid
  pid="$(head -n 1 "$CLUSTER_DIR/postmaster.pid" | tr -dc '0-9')"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'postgres'; then
    echo "$pid"
  fi
}

cmd_install() {
  if [[ -n "$(find_bin_dir)" ]]; then
    log "PostgreSQL already installed: $("$(find_bin_dir)/postgres" --version)"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL not found and apt-get is not available -- install PostgreSQL 13+ and set PG_BIN_DIR"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install postgresql"
    sudo="sudo"
  fi
  log "installing postgresql from Debian packages ..."
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q postgresql >"$APT_LOG_DIR/postgres-apt-install.log" 2>&1; then
    log "apt-get install failed; running apt-get update and retrying ..."
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -q >"$APT_LOG_DIR/postgres-apt-update.log" 2>&1 || { tail -n 20 "$APT_LOG_DIR/postgres-apt-update.log" >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q postgresql >"$APT_LOG_DIR/postgres-apt-install.log" 2>&1 || { tail -n 20 "$APT_LOG_DIR/postgres-apt-install.log" >&2; die "apt-get install postgresql failed"; }
  fi
  [[ -n "$(find_bin_dir)" ]] || die "pg_ctl still not found after apt-get install"
  log "installed $("$(find_bin_dir)/postgres" --version)"
}

init_cluster() {
  local bin="$1"
  mkdir -p "$PG_DATA_DIR"
  if [[ ! -s "$PASSWORD_FILE" ]]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$PASSWORD_FILE")
  fi
  [[ $(id -u) -eq 0 ]] && chown -R postgres: "$PG_DATA_DIR"
  chmod 700 "$PG_DATA_DIR"
  log "initdb ${CLUSTER_DIR#"$REPO_ROOT"/} (role $PG_USER, database $PG_DB, scram-sha-256)"
  as_pg "$bin/initdb" -D "$CLUSTER_DIR" -U "$PG_USER" --pwfile="$PASSWORD_FILE" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$PG_DATA_DIR/initdb.log" 2>&1 || { tail -n 20 "$PG_DATA_DIR/initdb.log" >&2; die "initdb failed"; }
  cat >>"$CLUSTER_DIR/postgresql.conf" <<EOF
# deploy/local/postgres.sh: loopback only, no unix socket, small footprint for a shared 2-core box
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
max_connections = 50
shared_buffers = 64MB
fsync = on
EOF
}

# The test database, created once after the first start (initdb makes only `postgres`).
ensure_database() {
  [[ -f "$PG_DATA_DIR/.database-created" ]] && return 0
  PGPASSWORD="$(cat "$PASSWORD_FILE")" "$1/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$PG_DB" \
    || die "createdb $PG_DB failed"
  touch "$PG_DATA_DIR/.database-created"
}

cmd_start() {
  local bin pid
  bin="$(find_bin_dir)"
  [[ -n "$bin" ]] || die "PostgreSQL not installed -- run: bash deploy/local/postgres.sh install"
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    log "postgres already running (pid $pid) on 127.0.0.1:$PG_PORT"
    ensure_database "$bin"
    return 0
  fi
  if port_open "$PG_PORT"; then
    die "127.0.0.1:$PG_PORT is taken by another process; set PG_PORT"
  fi
  [[ -f "$CLUSTER_DIR/PG_VERSION" ]] || init_cluster "$bin"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$PG_DATA_DIR" && touch "$LOG_FILE" && chown postgres: "$LOG_FILE"
  log "starting $("$bin/postgres" --version) on 127.0.0.1:$PG_PORT (data ${PG_DATA_DIR#"$REPO_ROOT"/})"
  as_pg "$bin/pg_ctl" -D "$CLUSTER_DIR" -l "$LOG_FILE" -o "-p $PG_PORT" -w -t "$PG_WAIT_TIMEOUT" start >/dev/null \
    || { tail -n 30 "$LOG_FILE" >&2; die "pg_ctl start failed"; }
  ensure_database "$bin"
  log "postgres started (pid $(running_pid)); log: ${LOG_FILE#"$REPO_ROOT"/}"
}

cmd_wait() {
  local bin start
  bin="$(find_bin_dir)"
  [[ -n "$bin" ]] || die "PostgreSQL not installed"
  start=$(date +%s)
  log "waiting up to ${PG_WAIT_TIMEOUT}s for postgres on 127.0.0.1:$PG_PORT ..."
  while true; do
    if PGPASSWORD="$(cat "$PASSWORD_FILE" 2>/dev/null)" "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -Atqc 'select 1' >/dev/null 2>&1; then
      log "postgres on 127.0.0.1:$PG_PORT accepts logins (waited $(( $(date +%s) - start ))s)"
      return 0
    fi
    if (( $(date +%s) - start >= PG_WAIT_TIMEOUT )); then
      err "postgres on 127.0.0.1:$PG_PORT not ready within ${PG_WAIT_TIMEOUT}s"
      [[ -f "$LOG_FILE" ]] && tail -n 30 "$LOG_FILE" >&2
      exit 1
    fi
    sleep 0.5
  done
}

cmd_stop() {
  local bin pid
  bin="$(find_bin_dir)"
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    log "postgres not running (from this data dir)"
    return 0
  fi
  log "stopping postgres (pid $pid) ..."
  if ! as_pg "$bin/pg_ctl" -D "$CLUSTER_DIR" -m fast -w -t "$PG_STOP_TIMEOUT" stop >/dev/null 2>&1; then
    log "fast shutdown did not finish in ${PG_STOP_TIMEOUT}s -- immediate shutdown"
    as_pg "$bin/pg_ctl" -D "$CLUSTER_DIR" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  log "postgres stopped"
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then log "process: running (pid $pid, data ${PG_DATA_DIR#"$REPO_ROOT"/})"; else log "process: not running (from this data dir)"; fi
  if port_open "$PG_PORT"; then log "127.0.0.1:$PG_PORT: accepting connections"; else log "127.0.0.1:$PG_PORT: not reachable"; fi
  if [[ -n "$(find_bin_dir)" ]]; then log "binaries: $(find_bin_dir)"; else log "binaries: not installed"; fi
}

url() {
  [[ -s "$PASSWORD_FILE" ]] || die "no password file yet -- run: bash deploy/local/postgres.sh start"
  echo "postgres://$PG_USER:$(cat "$PASSWORD_FILE")@127.0.0.1:$PG_PORT/$PG_DB"
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
    url) url ;;
    env) echo "export PG_URL='$(url)'" ;;
    owned) [[ -n "$(running_pid)" ]] ;;
    reset) cmd_stop; log "deleting data dir ${PG_DATA_DIR#"$REPO_ROOT"/}"; rm -rf "$PG_DATA_DIR" ;;
    -h|--help|help) usage ;;
    *) err "unknown subcommand: $sub"; usage >&2; exit 2 ;;
  esac
done
