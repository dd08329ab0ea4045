#!/usr/bin/env bash
# Proves each committed wasm is the one the sources build: the browser core (site/static/wasm,
# scripts/build-wasm.sh) and the core the site build runs with wasmtime (python/tabtwin/host,
# scripts/build-host-wasm.sh):
#  1. the recorded input hash equals the hash of today's sources (fast, exact);
#  2. a rebuild from source gives byte-identical files (the builds are reproducible:
#     paths are remapped, so the clone's location does not matter).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WEB="$ROOT/site/static/wasm"
HOST="$ROOT/python/tabtwin/host"
python3 "$ROOT/scripts/wasm_inputs.py" --check "$WEB/BUILD_INFO.json"
python3 "$ROOT/scripts/wasm_inputs.py" --check "$HOST/BUILD_INFO.json"
FRESH="$(mktemp -d)"
trap 'rm -rf "$FRESH"' EXIT
bash "$ROOT/scripts/build-wasm.sh" "$FRESH/web" >/dev/null
bash "$ROOT/scripts/build-host-wasm.sh" "$FRESH/host" >/dev/null
same() {  # committed dir, fresh dir, script, files...
  local committed="$1" fresh="$2" script="$3"
  shift 3
  for f in "$@"; do
    if ! cmp -s "$committed/$f" "$fresh/$f"; then
      echo "check-wasm: $f rebuilt from source differs from the committed one;" \
           "run $script and commit ${committed#"$ROOT"/}" >&2
      exit 1
    fi
  done
}
same "$WEB" "$FRESH/web" scripts/build-wasm.sh tabtwin_web_bg.wasm tabtwin_web.js
same "$HOST" "$FRESH/host" scripts/build-host-wasm.sh tabtwin_host.wasm
echo "check-wasm: both committed wasm files are byte-identical to a fresh build"
