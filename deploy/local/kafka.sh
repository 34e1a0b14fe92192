#!/usr/bin/env bash
# Local single-node Apache Kafka 4.x broker (KRaft, combined broker+controller),
# built from the Maven Central jars -- no Docker, no tarball download.
#
# Usage: bash deploy/local/kafka.sh <subcommand> [<subcommand> ...]
#   fetch    download kafka_2.13:$KAFKA_VERSION + runtime deps into .cache (no-op when cached)
#   start    format storage (first time only) and start the broker in the background
#   wait     block until the broker answers a metadata request (timeout $KAFKA_WAIT_TIMEOUT s)
#   stop     stop the broker started by `start` (SIGTERM, SIGKILL after $KAFKA_STOP_TIMEOUT s)
#   status   print whether the broker is running / answering
#   restart  stop + start + wait
#   reset    stop and delete the data dir (topics, offsets, cluster id)
#   owned    exit 0 iff a broker started by this script (this data dir) is running
# Several subcommands may be given at once, e.g. `kafka.sh fetch start wait`.
#
# Environment (all optional):
#   KAFKA_VERSION           Kafka version to fetch/run              (default 4.4.0)
#   KAFKA_PORT              PLAINTEXT listener port on 127.0.0.1   (default 9092)
#   KAFKA_CONTROLLER_PORT   KRaft CONTROLLER listener port         (default 9093)
#   KAFKA_DATA_DIR          data dir (log dirs, config, logs, pid) (default deploy/local/.cache/kafka-data)
#   KAFKA_HEAP_OPTS         JVM heap flags                         (default -Xmx512m -Xms256m)
#   KAFKA_WAIT_TIMEOUT      seconds `wait` polls before failing    (default 120)
#   KAFKA_STOP_TIMEOUT      seconds `stop` waits after SIGTERM     (default 20)
#   KAFKA_LOG_LEVEL         broker log level in logs/server.log    (default WARN)
#   KAFKA_SECURE_DIR        when set: also a SASL_SSL listener (SCRAM-SHA-512, TLS) on
#                           KAFKA_SASL_SSL_PORT and an SSL listener requiring a client
#                           certificate (mTLS) on KAFKA_SSL_PORT, from PEM files in this dir:
#                           ca.pem, server.pem (key + certificate chain, PKCS#8); the SCRAM user
#                           KAFKA_SCRAM_USER / KAFKA_SCRAM_PASSWORD is created at the first format
#                           (tests of the hub's secured transports: core/kafka/security.itest.ts)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
CACHE_DIR="$SCRIPT_DIR/.cache"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$CACHE_DIR/kafka-data}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
KAFKA_WAIT_TIMEOUT="${KAFKA_WAIT_TIMEOUT:-120}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"
KAFKA_LOG_LEVEL="${KAFKA_LOG_LEVEL:-WARN}"
KAFKA_SECURE_DIR="${KAFKA_SECURE_DIR:-}"
KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-}"
KAFKA_SSL_PORT="${KAFKA_SSL_PORT:-}"
KAFKA_SCRAM_USER="${KAFKA_SCRAM_USER:-hub}"
KAFKA_SCRAM_PASSWORD="${KAFKA_SCRAM_PASSWORD:-}"

# Make a relative KAFKA_DATA_DIR relative to the repo root (not to the caller's cwd).
case "$KAFKA_DATA_DIR" in
  /*) ;;
  *) KAFKA_DATA_DIR="$REPO_ROOT/$KAFKA_DATA_DIR" ;;
esac

KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
LIBS_DIR="$KAFKA_HOME/libs"
FETCH_MARKER="$KAFKA_HOME/.fetch-complete"
POM="$SCRIPT_DIR/kafka-pom.xml"

LOG_DIRS="$KAFKA_DATA_DIR/kraft-logs"
CONFIG_DIR="$KAFKA_DATA_DIR/config"
SERVER_PROPS="$CONFIG_DIR/server.properties"
LOG4J_BROKER="$CONFIG_DIR/log4j2-broker.properties"
LOG4J_TOOLS="$CONFIG_DIR/log4j2-tools.properties"
CLUSTER_ID_FILE="$KAFKA_DATA_DIR/cluster.id"
APP_LOG_DIR="$KAFKA_DATA_DIR/logs"
STDOUT_LOG="$APP_LOG_DIR/kafka.out"
BROKER_LOG="$APP_LOG_DIR/server.log"
PID_FILE="$KAFKA_DATA_DIR/kafka.pid"

log() { echo "[kafka] $*"; }
err() { echo "[kafka] ERROR: $*" >&2; }
die() { err "$*"; exit 1; }

require_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka $KAFKA_VERSION needs Java 17+)"
}

# shellcheck source=deploy/local/lib.sh
source "$SCRIPT_DIR/lib.sh"

# Pid from the pid file if that process is alive and is our broker, else empty.
running_pid() {
  pid_from_file "$PID_FILE" 'kafka\.Kafka'
}

libs_complete() {
  [[ -f "$FETCH_MARKER" ]] && [[ -f "$LIBS_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]]
}

# ---------------------------------------------------------------------------
cmd_fetch() {
  if libs_complete; then
    log "Kafka $KAFKA_VERSION jars already cached in ${LIBS_DIR#"$REPO_ROOT"/} ($(find "$LIBS_DIR" -name "*.jar" | wc -l) jars)"
    return 0
  fi
  require_java
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH (needed once to fetch the Kafka jars; apt-get install -y maven)"
  log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime dependencies from Maven Central ..."
  local tmp="$KAFKA_HOME/libs.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local mvn_log="$KAFKA_HOME/mvn-fetch.log"
  if ! mvn -B -q -f "$POM" \
      "-Dkafka.version=$KAFKA_VERSION" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime \
      "-DoutputDirectory=$tmp" >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2 || true
    rm -rf "$tmp"
    die "mvn could not resolve Kafka $KAFKA_VERSION (full log: $mvn_log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn copy-dependencies"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  date -u +%FT%TZ >"$FETCH_MARKER"
  log "cached $(find "$LIBS_DIR" -name "*.jar" | wc -l) jars in ${LIBS_DIR#"$REPO_ROOT"/}"
}

write_configs() {
  mkdir -p "$CONFIG_DIR" "$LOG_DIRS" "$APP_LOG_DIR"

  # Regenerated on every start so port / path overrides always apply; the
  # cluster id and the formatted log dir are what persist across restarts.
  local listeners="PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT"
  local advertised="PLAINTEXT://127.0.0.1:$KAFKA_PORT"
  local protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [[ -n "$KAFKA_SECURE_DIR" ]]; then
    [[ -n "$KAFKA_SASL_SSL_PORT" && -n "$KAFKA_SSL_PORT" ]] || die "KAFKA_SECURE_DIR needs KAFKA_SASL_SSL_PORT and KAFKA_SSL_PORT"
    listeners="$listeners,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT,SSL://127.0.0.1:$KAFKA_SSL_PORT"
    advertised="$advertised,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT,SSL://127.0.0.1:$KAFKA_SSL_PORT"
    protocols="$protocols,SASL_SSL:SASL_SSL,SSL:SSL"
  fi
  cat >"$SERVER_PROPS" <<EOF
# Generated by deploy/local/kafka.sh -- edits are overwritten on the next start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=$listeners
advertised.listeners=$advertised
listener.security.protocol.map=$protocols
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$LOG_DIRS

num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true

# Single node: every internal topic has replication factor 1. Fewer partitions
# than the defaults (50) so the first consumer group / transaction is fast.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

# Small footprint: this is a throw-away dev/test broker.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=16777216
EOF
  if [[ -n "$KAFKA_SECURE_DIR" ]]; then
    cat >>"$SERVER_PROPS" <<EOF

# Secured listeners (KAFKA_SECURE_DIR): TLS from PEM files, SCRAM-SHA-512 over TLS, and mTLS.
ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_SECURE_DIR/server.pem
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_SECURE_DIR/ca.pem
listener.name.ssl.ssl.client.auth=required
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
  fi

  # Broker logging: WARN and above to a rolling file in the data dir, nothing on stdout.
  cat >"$LOG4J_BROKER" <<EOF
# Generated by deploy/local/kafka.sh
status = warn
name = kafka-local
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.filePattern = \${sys:kafka.logs.dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = $KAFKA_LOG_LEVEL
rootLogger.appenderRef.file.ref = FILE
# One INFO line we rely on: "[KafkaRaftServer nodeId=1] Kafka Server started".
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
EOF

  # CLI tools (storage format, random-uuid): warnings only, to stderr.
  cat >"$LOG4J_TOOLS" <<'EOF'
# Generated by deploy/local/kafka.sh
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = STDERR
EOF
}

run_tool() {
  java -Xmx256m -XX:TieredStopAtLevel=1 \
    "-Dlog4j2.configurationFile=file:$LOG4J_TOOLS" \
    -cp "$LIBS_DIR/*" "$@"
}

format_storage_if_needed() {
  if [[ -f "$LOG_DIRS/meta.properties" ]]; then
    return 0
  fi
  local cluster_id
  if [[ -s "$CLUSTER_ID_FILE" ]]; then
    cluster_id="$(cat "$CLUSTER_ID_FILE")"
  else
    cluster_id="$(run_tool kafka.tools.StorageTool random-uuid | tail -n 1 | tr -d '[:space:]')"
    [[ -n "$cluster_id" ]] || die "could not generate a cluster id with kafka.tools.StorageTool random-uuid"
    echo "$cluster_id" >"$CLUSTER_ID_FILE"
  fi
  log "formatting KRaft storage in ${LOG_DIRS#"$REPO_ROOT"/} (cluster id $cluster_id)"
  # Static quorum (controller.quorum.voters), so no --standalone here.
  local scram=()
  if [[ -n "$KAFKA_SECURE_DIR" ]]; then
    [[ -n "$KAFKA_SCRAM_PASSWORD" ]] || die "KAFKA_SECURE_DIR needs KAFKA_SCRAM_PASSWORD (the SCRAM user's password)"
    scram=(--add-scram "SCRAM-SHA-512=[name=$KAFKA_SCRAM_USER,password=$KAFKA_SCRAM_PASSWORD]")
  fi
  if ! run_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$SERVER_PROPS" --ignore-formatted "${scram[@]}" \
      >"$APP_LOG_DIR/format.log" 2>&1; then
    cat "$APP_LOG_DIR/format.log" >&2
    die "kafka-storage format failed"
  fi
}

cmd_start() {
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    log "broker already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  if port_open "$KAFKA_PORT"; then
    log "something already listens on 127.0.0.1:$KAFKA_PORT -- assuming it is a Kafka broker, not starting another"
    return 0
  fi
  if port_open "$KAFKA_CONTROLLER_PORT"; then
    die "controller port 127.0.0.1:$KAFKA_CONTROLLER_PORT is in use by another process (set KAFKA_CONTROLLER_PORT)"
  fi
  libs_complete || die "Kafka $KAFKA_VERSION jars are not cached yet -- run: bash deploy/local/kafka.sh fetch"
  require_java
  write_configs
  format_storage_if_needed
  rm -f "$PID_FILE"

  log "starting Kafka $KAFKA_VERSION (KRaft broker+controller) on 127.0.0.1:$KAFKA_PORT, controller 127.0.0.1:$KAFKA_CONTROLLER_PORT"
  # setsid: own session/process group, so the broker outlives the calling shell
  # and is not hit by signals sent to the caller's process group. The inner
  # shell writes its own pid and then execs java, so the pid file holds java's pid.
  # shellcheck disable=SC2086,SC2016
  KAFKA_PID_FILE="$PID_FILE" nohup setsid bash -c 'echo $$ >"$KAFKA_PID_FILE"; exec "$@"' kafka-broker \
    java $KAFKA_HEAP_OPTS \
      -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
      "-Dkafka.logs.dir=$APP_LOG_DIR" \
      "-Dlog4j2.configurationFile=file:$LOG4J_BROKER" \
      -cp "$LIBS_DIR/*" kafka.Kafka "$SERVER_PROPS" \
    >"$STDOUT_LOG" 2>&1 </dev/null &

  for _ in $(seq 1 50); do
    [[ -s "$PID_FILE" ]] && break
    sleep 0.1
  done
  pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || die "broker did not write its pid file ($PID_FILE)"
  sleep 0.5
  if ! kill -0 "$pid" 2>/dev/null; then
    err "broker exited immediately; last lines of ${STDOUT_LOG#"$REPO_ROOT"/}:"
    tail -n 30 "$STDOUT_LOG" >&2 || true
    exit 1
  fi
  log "broker started (pid $pid); logs: ${APP_LOG_DIR#"$REPO_ROOT"/}/{server.log,kafka.out}"
}

# Ask the broker for metadata once. Exit 0 when it answers.
probe_broker() {
  if command -v node >/dev/null 2>&1 && [[ -d "$REPO_ROOT/node_modules/kafkajs" ]]; then
    NODE_ROOT="$REPO_ROOT" PROBE_BROKER="127.0.0.1:$KAFKA_PORT" node -e '
      const { Kafka, logLevel } = require(require.resolve("kafkajs", { paths: [process.env.NODE_ROOT] }));
      const kafka = new Kafka({ clientId: "kafka-sh-wait", brokers: [process.env.PROBE_BROKER],
        logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 5000,
        retry: { retries: 0 } });
      const admin = kafka.admin();
      const timer = setTimeout(() => process.exit(2), 8000);
      admin.connect()
        .then(() => admin.describeCluster())
        .then((c) => { if (!c.brokers.length || c.controller == null) throw new Error("no controller yet"); return admin.listTopics(); })
        .then(() => admin.disconnect())
        .then(() => { clearTimeout(timer); process.exit(0); })
        .catch(() => process.exit(1));
    ' >/dev/null 2>&1
  else
    # Fallback without node/kafkajs: port open and the broker logged its start.
    port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$BROKER_LOG" 2>/dev/null
  fi
}

cmd_wait() {
  local start now
  start=$(date +%s)
  log "waiting up to ${KAFKA_WAIT_TIMEOUT}s for the broker on 127.0.0.1:$KAFKA_PORT ..."
  while true; do
    if probe_broker; then
      now=$(date +%s)
      log "broker on 127.0.0.1:$KAFKA_PORT is ready (waited $((now - start))s)"
      return 0
    fi
    now=$(date +%s)
    if (( now - start >= KAFKA_WAIT_TIMEOUT )); then
      err "broker on 127.0.0.1:$KAFKA_PORT did not become ready within ${KAFKA_WAIT_TIMEOUT}s"
      local pid
      pid="$(running_pid)"
      if [[ -n "$pid" ]]; then err "broker process $pid is still running"; else err "no broker process from this script is running"; fi
      if [[ -f "$BROKER_LOG" ]]; then
        err "--- last 40 lines of $BROKER_LOG ---"
        tail -n 40 "$BROKER_LOG" >&2 || true
      fi
      if [[ -s "$STDOUT_LOG" ]]; then
        err "--- last 20 lines of $STDOUT_LOG ---"
        tail -n 20 "$STDOUT_LOG" >&2 || true
      fi
      exit 1
    fi
    # Fail fast when the process we started has died.
    if [[ -f "$PID_FILE" ]] && [[ -z "$(running_pid)" ]] && ! port_open "$KAFKA_PORT"; then
      err "broker process exited during start-up"
      tail -n 40 "$BROKER_LOG" >&2 2>/dev/null || true
      tail -n 20 "$STDOUT_LOG" >&2 2>/dev/null || true
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
    if port_open "$KAFKA_PORT"; then
      echo "[kafka] WARNING: a broker listens on 127.0.0.1:$KAFKA_PORT but was not started by this script (no live pid file in ${KAFKA_DATA_DIR#"$REPO_ROOT"/}) -- NOT stopping it" >&2
    else
      log "broker not running"
    fi
    return 0
  fi
  log "stopping broker (pid $pid) ..."
  stop_pid "$pid" "$KAFKA_STOP_TIMEOUT" broker
  rm -f "$PID_FILE"
  log "broker stopped (after ~${STOPPED_AFTER_S}s)"
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    log "process: running (pid $pid, Kafka $KAFKA_VERSION, data ${KAFKA_DATA_DIR#"$REPO_ROOT"/})"
  else
    log "process: not running (from this script)"
  fi
  if probe_broker; then
    log "broker 127.0.0.1:$KAFKA_PORT: answering"
  elif port_open "$KAFKA_PORT"; then
    log "broker 127.0.0.1:$KAFKA_PORT: port open, not answering metadata requests yet"
  else
    log "broker 127.0.0.1:$KAFKA_PORT: not reachable"
  fi
  if libs_complete; then log "jars: cached (${LIBS_DIR#"$REPO_ROOT"/})"; else log "jars: not fetched"; fi
}

cmd_reset() {
  cmd_stop
  log "deleting data dir ${KAFKA_DATA_DIR#"$REPO_ROOT"/}"
  rm -rf "$KAFKA_DATA_DIR"
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

[[ $# -gt 0 ]] || { usage; exit 2; }
for sub in "$@"; do
  case "$sub" in
    fetch) cmd_fetch ;;
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
