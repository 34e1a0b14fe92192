#!/usr/bin/env bash
# What CI can check of the container image without a Docker engine: the Dockerfile's build
# steps (deploy/docker/build.sh) run in a clean copy of the repo with the image's Node version
# (deploy/local/node22.sh), and the result must
#   - hold no dev dependency and every production dependency,
#   - link the native Kafka client (when package.json has it) against the system's libssl/zlib,
#   - answer `--help` and `check-config`,
#   - start as a non-root user on a tree it cannot write, writing only into its data volume,
#     serve /healthz and /readyz, turn a signed report into a ticket in that volume, and stop
#     cleanly on SIGTERM.
# The Dockerfile itself is checked for the steps this script stands in for.
#
#   bash deploy/docker/check.sh        (~1 min; 4-8 min when the dependency layer is rebuilt with
#                                      native modules compiled from source)
# Environment: CHECK_KEEP=1 keeps the temporary directory; CHECK_NO_CACHE=1 rebuilds the
# dependency layer even when package.json, the lock file, build.sh and Node are unchanged.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { echo "[docker-check] $*"; }
fail() { echo "[docker-check] FAILED: $*" >&2; exit 1; }
T0=$(date +%s)

# ------------------------------------------------------------------ the Dockerfile
DF="$REPO_ROOT/Dockerfile"
grep -q '^ARG NODE_VERSION=22\.' "$DF" || fail "Dockerfile: ARG NODE_VERSION is not Node 22"
[[ "$(grep -c '^FROM node:${NODE_VERSION}-' "$DF")" == 2 ]] || fail "Dockerfile: expected two stages on node:\${NODE_VERSION}"
grep -q '^RUN bash deploy/docker/build.sh deps$' "$DF" || fail "Dockerfile: the build stage must run build.sh deps"
grep -q '^RUN bash deploy/docker/build.sh app /out$' "$DF" || fail "Dockerfile: the build stage must run build.sh app /out"
grep -Eq '^USER [1-9][0-9]*:[1-9][0-9]*$' "$DF" || fail "Dockerfile: USER must be a numeric non-root uid:gid (runAsNonRoot needs it)"
grep -q '^VOLUME \["/var/lib/intake-hub"\]$' "$DF" || fail "Dockerfile: the data volume is missing"
if grep -Eq '^RUN .*npm (install|i |ci)' "$DF"; then fail "Dockerfile: npm runs outside build.sh"; fi
for pkg in g++ make python3 libssl-dev zlib1g-dev; do grep -q " $pkg" "$DF" || fail "Dockerfile: build stage lacks $pkg"; done
for pkg in libssl3 zlib1g; do grep -q " $pkg" "$DF" || fail "Dockerfile: runtime stage lacks $pkg"; done

# ------------------------------------------------------------------ a clean build context
TMP="$(mktemp -d)"
cleanup() {
  local rc=$?
  [[ -n "${HUB_PID:-}" ]] && kill "$HUB_PID" 2>/dev/null || true
  if [[ "${CHECK_KEEP:-0}" == "1" ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
SRC="$TMP/src"
OUT="$TMP/app"
VOL="$TMP/volume"
mkdir -p "$SRC"
# The files Docker would send: tracked and untracked-but-not-ignored, minus .dockerignore's list.
(cd "$REPO_ROOT" && git ls-files -co --exclude-standard -z | grep -zv -E '^(node_modules|dist|var|coverage|\.cache|deploy/local/\.cache)/' \
  | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) | tar -xf - -C "$SRC"
[[ ! -e "$SRC/node_modules" ]] || fail "the copy has node_modules"
log "clean copy: $(find "$SRC" -type f | wc -l) files"

NATIVE=0
if node -e 'const p = require(process.argv[1]); process.exit({ ...p.dependencies, ...p.optionalDependencies }["@confluentinc/kafka-javascript"] ? 0 : 1)' "$SRC/package.json"; then
  NATIVE=1
  missing=()
  for pkg in g++ make python3 libssl-dev zlib1g-dev; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if (( ${#missing[@]} )); then
    log "installing the native client's toolchain: ${missing[*]}"
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
  fi
fi

N22=(bash "$REPO_ROOT/deploy/local/node22.sh" run)
NODE_V="$("${N22[@]}" node --version)"
# Like Docker's layer cache: the deps layer depends only on package.json, package-lock.json,
# build.sh and the Node version, so its result is reused while those are unchanged (the native
# modules take minutes to compile). CHECK_NO_CACHE=1 builds it again.
DEPS_KEY="$(cat "$SRC/package.json" "$SRC/package-lock.json" "$SRC/deploy/docker/build.sh" <(echo "$NODE_V") | sha256sum | cut -c1-24)"
DEPS_DIR="${INTAKE_CACHE_DIR:-$HOME/.cache/intake-hub}/docker-deps"
if [[ -f "$DEPS_DIR/$DEPS_KEY.tar" && "${CHECK_NO_CACHE:-0}" != "1" ]]; then
  log "build.sh deps: cached layer $DEPS_KEY (same package.json, lock, build.sh, Node $NODE_V)"
  tar -xf "$DEPS_DIR/$DEPS_KEY.tar" -C "$SRC"
else
  log "build.sh deps (Node $NODE_V)"
  (cd "$SRC" && "${N22[@]}" bash deploy/docker/build.sh deps) >"$TMP/deps.log" 2>&1 || { tail -40 "$TMP/deps.log"; fail "build.sh deps"; }
  rm -rf "$DEPS_DIR"
  mkdir -p "$DEPS_DIR"
  tar -cf "$DEPS_DIR/$DEPS_KEY.tar.part" -C "$SRC" node_modules && mv "$DEPS_DIR/$DEPS_KEY.tar.part" "$DEPS_DIR/$DEPS_KEY.tar"
fi
log "build.sh app"
(cd "$SRC" && "${N22[@]}" bash deploy/docker/build.sh app "$OUT") >"$TMP/app.log" 2>&1 || { tail -40 "$TMP/app.log"; fail "build.sh app"; }
log "built in $(( $(date +%s) - T0 ))s: $(du -sh "$OUT" | cut -f1) ($(du -sh "$OUT/node_modules" | cut -f1) node_modules)"

# ------------------------------------------------------------------ what the image holds
node -e '
  const fs = require("node:fs"), path = require("node:path");
  const out = process.argv[1], pkg = require(path.join(out, "package.json"));
  const bad = [];
  for (const d of Object.keys(pkg.devDependencies ?? {})) if (fs.existsSync(path.join(out, "node_modules", d))) bad.push("dev dependency present: " + d);
  for (const d of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) if (!fs.existsSync(path.join(out, "node_modules", d, "package.json"))) bad.push("dependency missing: " + d);
  for (const f of ["dist/core/cli/main.js", "schemas/hub-config.v1.schema.json", "core/catalog/models/l1-model.json.gz"]) if (!fs.existsSync(path.join(out, f))) bad.push("missing " + f);
  const ts = [];
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) { if (e.name !== "node_modules") walk(p); } else if (/\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name)) ts.push(p); } };
  walk(out);
  if (ts.length) bad.push(ts.length + " TypeScript sources shipped, e.g. " + ts[0]);
  if (bad.length) { console.error(bad.join("\n")); process.exit(1); }
' "$OUT" || fail "image contents"

if (( NATIVE )); then
  mapfile -t nodes < <(find "$OUT/node_modules/@confluentinc/kafka-javascript" -name '*.node' -type f)
  (( ${#nodes[@]} )) || fail "the native Kafka client has no .node binary"
  for n in "${nodes[@]}"; do
    deps="$(ldd "$n")"
    ! grep -q 'not found' <<<"$deps" || { echo "$deps"; fail "$n has unresolved libraries"; }
    grep -q 'libssl\.so\.3' <<<"$deps" || fail "$n is not linked against the system's libssl3"
    grep -q 'libz\.so\.1' <<<"$deps" || fail "$n is not linked against the system's zlib"
  done
  log "native Kafka client: ${#nodes[@]} binary(ies) linked against libssl3 and zlib"
fi
# Every native module must load on the image's Node (ABI built for it, libraries resolved).
mapfile -t natives < <(find "$OUT/node_modules" -name '*.node' -type f -path '*/build/Release/*' -printf '%P\n' | sed 's#/build/Release/.*##' | sort -u)
for m in "${natives[@]}"; do
  (cd "$OUT" && "${N22[@]}" node -e 'require(process.argv[1])' "$m") || fail "native module $m does not load under Node 22"
done
(( ${#natives[@]} == 0 )) || log "native modules load under Node 22: ${natives[*]}"


# ------------------------------------------------------------------ it runs, read-only, non-root
# As in the image: code owned by root and not writable by the hub's user, `var` pointing into the
# volume, the volume owned by the hub's user. nobody (65534) stands in for uid 1000.
chown -R 0:0 "$OUT"
chmod -R go-w "$OUT"
mkdir -p "$VOL"
chown 65534:65534 "$VOL"
ln -s "$VOL" "$OUT/var"
chmod 755 "$TMP"
# The image's node sits in /usr/local/bin; here a copy outside root's home, first on PATH.
mkdir -p "$TMP/bin"
cp "$(bash "$REPO_ROOT/deploy/local/node22.sh" path)/node" "$TMP/bin/node"
RUN=(setpriv --reuid=65534 --regid=65534 --clear-groups env -i "PATH=$TMP/bin:/usr/bin:/bin" HOME=/nonexistent)

help="$(cd "$OUT" && "${RUN[@]}" node dist/core/cli/main.js --help)" || fail "--help exited non-zero"
{ grep -q '^usage: intake-hub' <<<"$help" && grep -qE '^  start +run the hub' <<<"$help"; } || fail "--help does not print the usage"
[[ "$(cd "$OUT" && "${RUN[@]}" node --version)" == v22.* ]] || fail "not Node 22"

read -r PORT ADMIN_PORT < <(node -e '
  const net = require("node:net"); const ports = [];
  const one = () => new Promise((r) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });
  (async () => { for (let i = 0; i < 2; i++) ports.push(await one()); console.log(ports.join(" ")); })();')
SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
TOKEN_SECRET="$(head -c 32 /dev/urandom | base64)"
CONF="$TMP/hub.yaml"
{
  echo "server: { host: 127.0.0.1, port: $PORT }"
  # the admin listener (issue 11) has its own port; older builds have no admin section
  if node -e 'process.exit(require(process.argv[1]).properties.admin ? 0 : 1)' "$OUT/schemas/hub-config.v1.schema.json"; then
    echo "admin: { host: 127.0.0.1, port: $ADMIN_PORT }"
  fi
  echo "output: { type: embedded }"
  echo "connectors:"
  echo "  - { id: app, type: resident-app, config: { secrets: ['$SECRET'] } }"
} >"$CONF"
chmod 644 "$CONF"
(cd "$OUT" && "${RUN[@]}" "HUB_TOKEN_SECRET=$TOKEN_SECRET" node dist/core/cli/main.js check-config "$CONF") || fail "check-config"

MARK="$TMP/mark"
touch "$MARK"
sleep 1
(cd "$OUT" && exec "${RUN[@]}" "HUB_TOKEN_SECRET=$TOKEN_SECRET" LOG_LEVEL=warn node dist/core/cli/main.js start --config "$CONF") >"$TMP/hub.log" 2>&1 &
HUB_PID=$!
ready=0
for _ in $(seq 1 150); do
  if ! kill -0 "$HUB_PID" 2>/dev/null; then cat "$TMP/hub.log"; fail "the hub exited during start"; fi
  if curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.2
done
(( ready )) || { cat "$TMP/hub.log"; fail "/readyz not 200 within 30 s"; }
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || fail "/healthz"

# One signed report (Standard Webhooks) must become a ticket in the volume.
status="$(node -e '
  const crypto = require("node:crypto");
  const [port, secret] = process.argv.slice(1);
  const body = JSON.stringify({ reportId: "IMG-CHECK-1", openid: "o-check", text: "小区门口井盖破损，请尽快处理", submittedAt: new Date().toISOString() });
  const id = "msg_check_1", ts = Math.floor(Date.now() / 1000).toString();
  const sig = crypto.createHmac("sha256", Buffer.from(secret.slice(6), "base64")).update(`${id}.${ts}.${body}`).digest("base64");
  fetch(`http://127.0.0.1:${port}/intake/app`, { method: "POST", body, headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${sig}` } })
    .then(async (r) => console.log(r.status, await r.text()), (e) => { console.log("error", e.message); });
' "$PORT" "$SECRET")"
[[ "$status" == 202* ]] || { cat "$TMP/hub.log"; fail "signed report answered: $status"; }
grep -rq 'IMG-CHECK-1' "$VOL" || fail "the ticket is not in the data volume"

kill -TERM "$HUB_PID"
rc=0
for _ in $(seq 1 100); do kill -0 "$HUB_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$HUB_PID" 2>/dev/null; then fail "the hub did not stop within 10 s of SIGTERM"; fi
wait "$HUB_PID" || rc=$?
HUB_PID=
(( rc == 0 )) || { cat "$TMP/hub.log"; fail "the hub exited $rc after SIGTERM"; }
written="$(find "$OUT" -xdev -newer "$MARK" ! -path "$OUT/var" | head -5)"
[[ -z "$written" ]] || fail "the hub wrote outside its volume: $written"
log "OK in $(( $(date +%s) - T0 ))s: built on Node 22, no dev dependencies, started as uid 65534 on a read-only tree, 1 ticket in the volume, clean stop"
