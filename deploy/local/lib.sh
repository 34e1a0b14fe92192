# Shared helpers of deploy/local/kafka.sh and nats.sh (sourced, not run). Callers define log().

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1
}

# Prints the pid in pid file $1 if that process is alive and its command line matches $2.
pid_from_file() {
  local file="$1" pattern="$2" pid
  [[ -f "$file" ]] || return 0
  pid="$(tr -dc '0-9' <"$file")"
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$pattern"; then
    echo "$pid"
  fi
}

# Stops process $1 (named $3 in messages): SIGTERM, then SIGKILL after $2 seconds.
# Prints the seconds it took.
stop_pid() {
  local pid="$1" timeout="$2" name="$3" waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= timeout * 10 )); then
      log "$name still alive after ${timeout}s -- sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  STOPPED_AFTER_S=$((waited / 10))
}
