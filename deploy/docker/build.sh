#!/usr/bin/env bash
# The image's build steps, shared by the Dockerfile (stage `build`) and deploy/docker/check.sh.
# Run from the root of a clean copy of the repo.
#
#   build.sh deps       npm ci with dev dependencies (the TypeScript build needs them); the
#                       native Kafka client, when package.json has it, is built here
#   build.sh app OUT    compile, drop dev dependencies, assemble the runtime tree in OUT:
#                       package.json, node_modules (production only), dist, schemas, examples and
#                       the non-TypeScript assets under core/ and connectors/ (catalog model,
#                       connector fixtures for the demo, console files)
set -euo pipefail
# @confluentinc/kafka-javascript: build librdkafka against the system's libssl and zlib instead
# of downloading a prebuilt binary (nothing can be downloaded outside the registries here).
export CKJS_LINKING=dynamic

case "${1:-}" in
  deps)
    npm ci --no-audit --no-fund
    # npm skips an optional dependency whose build fails; the image must not ship without it
    node -e '
      const pkg = require("./package.json");
      const missing = Object.keys(pkg.optionalDependencies ?? {}).filter((d) => { try { require.resolve(d + "/package.json"); return false; } catch { return true; } });
      if (missing.length) { console.error("optional dependencies not installed (their build failed?): " + missing.join(", ")); process.exit(1); }'
    ;;
  app)
    out="${2:?usage: build.sh app OUT}"
    npm run build
    npm prune --omit=dev --no-audit --no-fund
    # Native build leftovers: objects, static libraries, debug symbols and the sources of the
    # bundled C libraries (~360 MB with the Kafka client and SQLite; ~50 MB after). The modules
    # load from build/Release/*.node (librdkafka from build/deps, by RUNPATH); check.sh loads
    # every native module of the result under Node 22 to prove it.
    find node_modules -type d \( -path '*/build/Release/obj*' -o -path '*/build/Release/.deps' \) -prune -exec rm -rf {} +
    find node_modules -type f -path '*/build/*' \( -name '*.a' -o -name '*.o' -o -name 'test_extension.node' \) -delete
    rm -rf node_modules/@confluentinc/kafka-javascript/deps/librdkafka node_modules/better-sqlite3/deps node_modules/better-sqlite3/src
    if command -v strip >/dev/null; then
      find node_modules -type f -path '*/build/*' \( -name '*.node' -o -name '*.so' -o -name '*.so.*' \) -exec strip --strip-unneeded {} +
    fi
    rm -rf "$out"
    mkdir -p "$out"
    cp -a package.json package-lock.json node_modules dist schemas examples "$out"/
    find core connectors -type f ! -name '*.ts' ! -name '*.md' -exec cp --parents -a {} "$out"/ \;
    ;;
  *)
    echo "usage: $0 deps | app OUT" >&2
    exit 2
    ;;
esac
