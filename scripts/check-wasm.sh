#!/usr/bin/env bash
# Proves the committed browser wasm is the one the sources build:
#  1. the recorded input hash equals the hash of today's sources (fast, exact);
#  2. a rebuild from source gives byte-identical .wasm and .js (the build is
#     reproducible: paths are remapped, so the clone's location does not matter).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
COMMITTED="$ROOT/site/static/wasm"
python3 "$ROOT/scripts/wasm_inputs.py" --check "$COMMITTED/BUILD_INFO.json"
FRESH="$(mktemp -d)"
trap 'rm -rf "$FRESH"' EXIT
bash "$ROOT/scripts/build-wasm.sh" "$FRESH" >/dev/null
for f in tabtwin_web_bg.wasm tabtwin_web.js; do
  if ! cmp -s "$COMMITTED/$f" "$FRESH/$f"; then
    echo "check-wasm: $f rebuilt from source differs from the committed one;" \
         "run scripts/build-wasm.sh and commit site/static/wasm" >&2
    exit 1
  fi
done
echo "check-wasm: committed wasm is byte-identical to a fresh build"
