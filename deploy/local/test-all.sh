#!/usr/bin/env bash
# Full test run for intake-hub (`npm run test:all`, and CI via .ci/run):
#   1. npm ci when node_modules is missing or older than package-lock.json, with the native Kafka
#      client (@confluentinc/kafka-javascript, librdkafka) built from source offline
#      (CKJS_LINKING=dynamic; apt-installs g++, make, python3, libssl-dev, zlib1g-dev when missing)
#   2. a real Kafka 4.x broker (deploy/local/kafka.sh) unless KAFKA_BROKERS points elsewhere
#   3. a real NATS server with JetStream (deploy/local/nats.sh) unless NATS_URL points elsewhere
#   4. lint, typecheck, unit tests, integration tests (serially)
# Servers this script started are stopped again on exit; servers that were already
# running (e.g. started by hand with kafka.sh/nats.sh) are left alone.
#
# Environment:
#   KAFKA_BROKERS        use this external broker list instead of starting Kafka
#   NATS_URL             use this external NATS server instead of starting nats-server
#   KAFKA_PORT, NATS_PORT  ports for the local servers (defaults 9092 / 4222)
#   TEST_ALL_FAIL_FAST=1 stop at the first failing step instead of running all of them
#   TEST_ALL_KEEP_SERVERS=1  do not stop the servers this script started
# Exported to the tests: KAFKA_BROKERS, NATS_URL, and KAFKA_MANAGED / NATS_MANAGED
# (1 when deploy/local/kafka.sh|nats.sh stop/start control the server in use, else 0).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
cd "$REPO_ROOT"

KAFKA_PORT="${KAFKA_PORT:-9092}"
NATS_PORT="${NATS_PORT:-4222}"
export KAFKA_PORT NATS_PORT

section() {
  echo
  echo "==================================================================="
  echo "== [test-all] $*"
  echo "==================================================================="
}
log() { echo "[test-all] $*"; }

# shellcheck source=deploy/local/lib.sh
source "$SCRIPT_DIR/lib.sh"

STARTED_KAFKA=0
STARTED_NATS=0
STARTED_PG=0
cleanup() {
  local rc=$?
  set +e
  if [[ "${TEST_ALL_KEEP_SERVERS:-0}" == "1" ]]; then
    (( STARTED_KAFKA || STARTED_NATS || STARTED_PG )) && log "TEST_ALL_KEEP_SERVERS=1: leaving the servers started by this run running"
    exit "$rc"
  fi
  if (( STARTED_KAFKA )); then
    section "stopping the Kafka broker started by this run"
    bash "$SCRIPT_DIR/kafka.sh" stop
  fi
  if (( STARTED_PG )); then
    section "stopping the PostgreSQL server started by this run"
    bash "$SCRIPT_DIR/postgres.sh" stop
  fi
  if (( STARTED_NATS )); then
    section "stopping the NATS server started by this run"
    bash "$SCRIPT_DIR/nats.sh" stop
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- dependencies
section "dependencies (npm ci)"
# The Kafka client is a native module built from source: its prebuilt binary comes from GitHub and
# its default build downloads OpenSSL/zlib/zstd, neither reachable here; CKJS_LINKING=dynamic
# builds the bundled librdkafka against the system's libssl and zlib (../shared/research/kafka-eos.md).
export CKJS_LINKING=dynamic
missing_build_deps=()
for bin in g++ make python3; do command -v "$bin" >/dev/null || missing_build_deps+=("$bin"); done
for hdr in /usr/include/openssl/ssl.h /usr/include/zlib.h; do [[ -f "$hdr" ]] || missing_build_deps+=("$hdr"); done
if (( ${#missing_build_deps[@]} > 0 )); then
  log "installing the native build toolchain (missing: ${missing_build_deps[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends g++ make python3 libssl-dev zlib1g-dev >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends g++ make python3 libssl-dev zlib1g-dev >/dev/null; }
fi
if [[ ! -d node_modules ]] || [[ ! -f node_modules/.package-lock.json ]] \
    || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "node_modules missing or older than package-lock.json -- running npm ci (builds librdkafka: ~2 min)"
  npm ci --no-audit --no-fund
else
  log "node_modules up to date with package-lock.json"
fi
if ! node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1; then
  log "the native Kafka client is missing or did not build -- building it (CKJS_LINKING=dynamic)"
  if [[ -d node_modules/@confluentinc/kafka-javascript ]]; then
    npm rebuild @confluentinc/kafka-javascript
  else
    npm install --no-save --no-audit --no-fund "@confluentinc/kafka-javascript@$(node -p "require('./package.json').optionalDependencies['@confluentinc/kafka-javascript']")"
  fi
  node -e "require('@confluentinc/kafka-javascript')" || { log "the Kafka client still does not load"; exit 1; }
fi

# ---------------------------------------------------------------- Kafka
if [[ -n "${KAFKA_BROKERS:-}" ]]; then
  section "Kafka: using external broker(s) KAFKA_BROKERS=$KAFKA_BROKERS"
else
  section "Kafka: local broker on 127.0.0.1:$KAFKA_PORT"
  bash "$SCRIPT_DIR/kafka.sh" fetch
  if port_open "$KAFKA_PORT"; then
    log "a broker already listens on 127.0.0.1:$KAFKA_PORT -- using it and leaving it running afterwards"
  else
    STARTED_KAFKA=1
    bash "$SCRIPT_DIR/kafka.sh" start
  fi
  bash "$SCRIPT_DIR/kafka.sh" wait
  export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
  # Tells tests whether `deploy/local/kafka.sh stop|start` controls this broker
  # (false when it was started from another checkout or by other means).
  if bash "$SCRIPT_DIR/kafka.sh" owned; then
    export KAFKA_MANAGED=1
  else
    export KAFKA_MANAGED=0
    log "WARNING: the broker on 127.0.0.1:$KAFKA_PORT was not started by this checkout's kafka.sh;"
    log "         'kafka.sh stop/start' here cannot stop it (KAFKA_MANAGED=0 for the tests)"
  fi
fi

# ---------------------------------------------------------------- NATS
if [[ -n "${NATS_URL:-}" ]]; then
  section "NATS: using external server NATS_URL=$NATS_URL"
else
  section "NATS: local server with JetStream on 127.0.0.1:$NATS_PORT"
  if port_open "$NATS_PORT"; then
    log "a server already listens on 127.0.0.1:$NATS_PORT -- using it and leaving it running afterwards"
    bash "$SCRIPT_DIR/nats.sh" start   # checks that it really has JetStream
  else
    bash "$SCRIPT_DIR/nats.sh" install
    STARTED_NATS=1
    bash "$SCRIPT_DIR/nats.sh" start
  fi
  bash "$SCRIPT_DIR/nats.sh" wait
  export NATS_URL="nats://127.0.0.1:$NATS_PORT"
  if bash "$SCRIPT_DIR/nats.sh" owned; then export NATS_MANAGED=1; else export NATS_MANAGED=0; fi
fi

# ---------------------------------------------------------------- PostgreSQL (the ticket store)
if [[ -n "${PG_URL:-}" ]]; then
  section "PostgreSQL: using external server PG_URL"
else
  section "PostgreSQL: local server for the ticket store tests"
  if ! bash "$SCRIPT_DIR/postgres.sh" owned >/dev/null 2>&1; then
    bash "$SCRIPT_DIR/postgres.sh" install start
    STARTED_PG=1
  fi
  bash "$SCRIPT_DIR/postgres.sh" wait
  eval "$(bash "$SCRIPT_DIR/postgres.sh" env)"
  export PG_URL
fi

# ---------------------------------------------------------------- Chromium (the console test)
section "Chromium for the console's browser test"
bash "$SCRIPT_DIR/chromium.sh" install

log "KAFKA_BROKERS=$KAFKA_BROKERS NATS_URL=$NATS_URL KAFKA_MANAGED=${KAFKA_MANAGED:-0} NATS_MANAGED=${NATS_MANAGED:-0}"

# ---------------------------------------------------------------- checks & tests
FAILED=()
PASSED=()
# Every step has a time limit (TEST_STEP_TIMEOUT_S, default 1500 s; the slowest step, the
# integration tests, takes about 7 minutes here), so a hung step fails the run with its name
# instead of running into CI's overall limit.
STEP_TIMEOUT_S="${TEST_STEP_TIMEOUT_S:-1500}"
run_step() {
  local name="$1"
  shift
  section "$name: $*"
  local t0 rc=0
  t0=$(date +%s)
  timeout --kill-after=30 "$STEP_TIMEOUT_S" "$@" || rc=$?
  if (( rc == 124 || rc == 137 )); then
    log "$name did not finish within ${STEP_TIMEOUT_S}s (TEST_STEP_TIMEOUT_S)"
  fi
  if (( rc == 0 )); then
    PASSED+=("$name")
    log "$name OK ($(( $(date +%s) - t0 ))s)"
  else
    FAILED+=("$name")
    log "$name FAILED with exit code $rc ($(( $(date +%s) - t0 ))s)"
    if [[ "${TEST_ALL_FAIL_FAST:-0}" == "1" ]]; then
      log "TEST_ALL_FAIL_FAST=1: stopping here"
      exit 1
    fi
  fi
}

run_step lint npm run lint
run_step typecheck npm run typecheck
run_step "unit tests" npx jest --selectProjects unit
# --forceExit: a handle a test leaves open must not keep the run alive after the last file;
# .ci/jest.integration.teardown.js prints what was still open so the leak can be fixed.
run_step "integration tests" npx jest --selectProjects integration --runInBand --forceExit
run_step "deploy checks" bash deploy/ci/check-deploy.sh
run_step "unit tests (Node 22)" bash deploy/local/node22.sh test

section "summary"
for s in "${PASSED[@]}"; do log "  ok      $s"; done
for s in "${FAILED[@]+"${FAILED[@]}"}"; do log "  FAILED  $s"; done
if (( ${#FAILED[@]} > 0 )); then
  log "test-all FAILED (${#FAILED[@]} of $(( ${#FAILED[@]} + ${#PASSED[@]} )) steps)"
  exit 1
fi
log "test-all OK"
