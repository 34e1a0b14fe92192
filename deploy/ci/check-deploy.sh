#!/usr/bin/env bash
# Every check of what intake-hub deploys and monitors with, in one script:
#   rules      promtool check + unit tests of deploy/prometheus (Debian's prometheus package)
#   dashboard  every dashboard query through Prometheus' own parser (promtool), and the jest test
#              deploy/monitoring.test.ts: rules and dashboard name only series and labels the
#              hub's registry exports, runbook sections exist, every alert fires in a test
#   helm       helm lint --strict and helm template of helm/intake-hub for each of
#              deploy/ci/values/*.yaml; each render validated offline against the Kubernetes and
#              prometheus-operator API types (deploy/ci/kubevalidate, strict decoding + the
#              chart's security policy), its PrometheusRule through promtool, its hub.yaml
#              through `intake-hub check-config`; values that must be refused are refused
#   docker     deploy/docker/check.sh: the Dockerfile's build steps in a clean copy on Node 22
#
#   bash deploy/ci/check-deploy.sh [rules|dashboard|helm|docker]...   (default: all, in order)
#
# Tools are installed on first use: promtool with apt-get, helm and kubevalidate built with the
# Go toolchain from the Go module proxy into ~/.cache/intake-hub/bin (INTAKE_CACHE_DIR).
# Every step runs; the script exits non-zero when one failed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"
CACHE="${INTAKE_CACHE_DIR:-$HOME/.cache/intake-hub}"
BIN="$CACHE/bin"
HELM_VERSION=v3.22.0
KUBE_VERSION=1.30.0
export PATH="$PATH:/usr/local/go/bin"
mkdir -p "$BIN"
log() { echo "[check-deploy] $*"; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# ------------------------------------------------------------------ tools
need_promtool() {
  command -v promtool >/dev/null && return
  log "installing promtool (Debian package prometheus)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends prometheus >/dev/null; }
  # the package enables a Prometheus server; where systemd really runs, keep it from starting
  if [[ -d /run/systemd/system ]]; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  command -v promtool >/dev/null
}

need_helm() {
  HELM="$BIN/helm"
  if [[ -x "$HELM" && "$(cat "$BIN/.helm-version" 2>/dev/null)" == "$HELM_VERSION" ]]; then return; fi
  log "building helm $HELM_VERSION from the Go module proxy (first time: a few minutes)"
  GOBIN="$BIN" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$HELM_VERSION" >"$BIN/.helm-version"
}

need_kubevalidate() {
  local src="$REPO_ROOT/deploy/ci/kubevalidate" sum
  sum="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
  KUBEVALIDATE="$BIN/kubevalidate-$sum"
  [[ -x "$KUBEVALIDATE" ]] && return
  log "building deploy/ci/kubevalidate"
  (cd "$src" && GOFLAGS=-mod=readonly go build -o "$KUBEVALIDATE" .)
}

# ------------------------------------------------------------------ steps
step_rules() {
  need_promtool
  promtool check rules deploy/prometheus/intake-hub.rules.yaml
  promtool test rules deploy/prometheus/*.test.yaml
}

step_dashboard() {
  need_promtool
  # Dashboard queries as recording rules: promtool parses them with Prometheus' own parser.
  node -e '
    const d = JSON.parse(require("node:fs").readFileSync("deploy/grafana/intake-hub.dashboard.json", "utf8"));
    const panels = (l) => l.flatMap((p) => [p, ...panels(p.panels ?? [])]);
    const rules = [];
    for (const p of panels(d.panels)) for (const t of p.targets ?? []) {
      const expr = t.expr.replace(/\$\{?(__rate_interval|__interval|__range)\}?/g, "5m");
      rules.push({ record: `dashboard:panel_${p.id}_${t.refId}`, expr });
    }
    process.stdout.write(JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
  ' >"$WORK/dashboard.rules.json"
  promtool check rules "$WORK/dashboard.rules.json"
  npx jest deploy/monitoring.test.ts --selectProjects unit
}

# render NAME [helm args...]: helm template into $WORK/NAME.yaml
render() {
  local name="$1"
  shift
  "$HELM" template t helm/intake-hub --namespace city --kube-version "$KUBE_VERSION" "$@" >"$WORK/$name.yaml"
}

# refuse "expected message" [helm args...]: the render must fail and say so
refuse() {
  local expect="$1" out
  shift
  if out="$("$HELM" template t helm/intake-hub --kube-version "$KUBE_VERSION" "$@" 2>&1)"; then
    log "FAILED: rendered although it must be refused: $*"
    return 1
  fi
  grep -qF -- "$expect" <<<"$out" || { log "FAILED: refused without \"$expect\": $out"; return 1; }
  log "refused as expected: $*"
}

step_helm() {
  need_helm
  need_kubevalidate
  need_promtool
  local base=(--set 'kafka.brokers={kafka:9092}' --set secrets.tokenSecret.name=hub)
  [[ -f dist/core/cli/main.js && -z "$(find core connectors schemas -newer dist/core/cli/main.js -print -quit)" ]] || npm run build >/dev/null
  "$HELM" lint --strict --kube-version "$KUBE_VERSION" helm/intake-hub "${base[@]}"
  # every value set and every refusal is checked; the step fails at the end if one did
  local f name verdict bad=0
  for f in deploy/ci/values/*.yaml; do
    name="$(basename "$f" .yaml)"
    "$HELM" lint --strict --kube-version "$KUBE_VERSION" helm/intake-hub -f "$f" >/dev/null || { bad=1; continue; }
    render "$name" -f "$f" || { bad=1; continue; }
    # (not inside log's argument: its status would be lost)
    if verdict="$("$KUBEVALIDATE" -policy "$WORK/$name.yaml")"; then log "$name: $verdict"; else log "FAILED: $name: kubevalidate"; bad=1; fi
    # the rendered PrometheusRule and hub.yaml, checked by the tools that will read them
    node -e '
      const fs = require("node:fs"), { parseAllDocuments, stringify } = require("yaml");
      const [file, dir, name] = process.argv.slice(1);
      for (const doc of parseAllDocuments(fs.readFileSync(file, "utf8"))) {
        const o = doc.toJS();
        if (o?.kind === "PrometheusRule") fs.writeFileSync(`${dir}/${name}.rules.yaml`, stringify(o.spec));
        if (o?.kind === "ConfigMap" && o.data?.["hub.yaml"]) fs.writeFileSync(`${dir}/${name}.hub.yaml`, o.data["hub.yaml"]);
      }' "$WORK/$name.yaml" "$WORK" "$name"
    if [[ -f "$WORK/$name.rules.yaml" ]]; then
      promtool check rules "$WORK/$name.rules.yaml" >/dev/null || { log "FAILED: $name: promtool on the rendered PrometheusRule"; bad=1; }
      cmp -s <(node -e 'const y=require("yaml");const fs=require("node:fs");console.log(JSON.stringify(y.parse(fs.readFileSync(process.argv[1],"utf8"))))' "$WORK/$name.rules.yaml") \
        <(node -e 'const y=require("yaml");const fs=require("node:fs");console.log(JSON.stringify(y.parse(fs.readFileSync(process.argv[1],"utf8"))))' deploy/prometheus/intake-hub.rules.yaml) \
        || { log "FAILED: $name: the rendered PrometheusRule differs from deploy/prometheus/intake-hub.rules.yaml"; bad=1; }
      log "$name: PrometheusRule = deploy/prometheus/intake-hub.rules.yaml, promtool check ok"
    fi
    if [[ -f "$WORK/$name.hub.yaml" ]]; then
      # The TLS files exist only in the pod (mounted Secrets): point them at a throw-away pair.
      if grep -q '/etc/intake-hub/tls/' "$WORK/$name.hub.yaml"; then
        for l in intake admin; do
          mkdir -p "$WORK/tls/$l"
          [[ -f "$WORK/tls/$l/tls.key" ]] || openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=intake-hub-$l" \
            -keyout "$WORK/tls/$l/tls.key" -out "$WORK/tls/$l/tls.crt" >/dev/null 2>&1
        done
        sed -i "s#/etc/intake-hub/tls/#$WORK/tls/#g" "$WORK/$name.hub.yaml"
      fi
      HUB_TOKEN_SECRET="$(head -c 24 /dev/urandom | base64)" node dist/core/cli/main.js check-config "$WORK/$name.hub.yaml" \
        || { log "FAILED: $name: the rendered hub.yaml fails check-config"; bad=1; }
    fi
  done
  # values that must not render
  refuse "mode fleet needs kafka.brokers" --set secrets.tokenSecret.name=hub || bad=1
  refuse "secrets.tokenSecret.name is required" --set 'kafka.brokers={kafka:9092}' || bad=1
  refuse "processor.replicas (13) > kafka.partitions (12)" "${base[@]}" --set processor.replicas=13 || bad=1
  refuse "processor.autoscaling.maxReplicas (16) > kafka.partitions (12)" "${base[@]}" --set processor.autoscaling.enabled=true --set processor.autoscaling.maxReplicas=16 || bad=1
  refuse "intake.pdb.minAvailable (2) must be below the intake replicas (2)" "${base[@]}" --set intake.pdb.minAvailable=2 || bad=1
  refuse "demo.enabled runs the simulated channels in one pod" "${base[@]}" --set demo.enabled=true || bad=1
  refuse "demo.enabled never runs against Kafka" --set mode=single --set demo.enabled=true --set 'kafka.brokers={kafka:9092}' || bad=1
  refuse 'connector "app": signing secrets in values' "${base[@]}" --set 'connectors[0].id=app' --set 'connectors[0].type=resident-app' --set 'connectors[0].config.secrets[0]=whsec_x' || bad=1
  refuse "config.pii.tokenSecret" "${base[@]}" --set config.pii.tokenSecret=intake-hub-dev-secret-change-me || bad=1
  refuse "metrics.serviceMonitor needs bearerTokenSecret.name" "${base[@]}" --set metrics.serviceMonitor.enabled=true || bad=1
  refuse "at '/securityContext/readOnlyRootFilesystem'" "${base[@]}" --set securityContext.readOnlyRootFilesystem=false || bad=1
  refuse "at '/podSecurityContext/runAsNonRoot'" "${base[@]}" --set podSecurityContext.runAsNonRoot=false || bad=1
  refuse "additional properties 'replicaz' not allowed" "${base[@]}" --set intake.replicaz=3 || bad=1
  refuse "at '/processor/probePort'" "${base[@]}" --set processor.probePort=intake || bad=1
  return "$bad"
}

step_docker() {
  bash deploy/docker/check.sh
}

# ------------------------------------------------------------------ run
STEPS=("$@")
(( ${#STEPS[@]} )) || STEPS=(rules dashboard helm docker)
FAILED=()
for s in "${STEPS[@]}"; do
  declare -F "step_$s" >/dev/null || { echo "unknown step $s (rules|dashboard|helm|docker)" >&2; exit 2; }
  echo
  log "== $s"
  t0=$(date +%s)
  # a subshell outside any if/&&/||, so that errexit stays on inside the step
  set +e
  ( set -euo pipefail; "step_$s" )
  rc=$?
  set -e
  if (( rc == 0 )); then
    log "$s OK ($(( $(date +%s) - t0 ))s)"
  else
    log "$s FAILED ($(( $(date +%s) - t0 ))s)"
    FAILED+=("$s")
  fi
done
echo
if (( ${#FAILED[@]} )); then
  log "FAILED: ${FAILED[*]}"
  exit 1
fi
log "all OK: ${STEPS[*]}"
