#!/usr/bin/env bash
# Builds the browser core: wasm/web -> site/static/wasm/{tabtwin_web.js,tabtwin_web_bg.wasm}
# and records a hash of every input in BUILD_INFO.json, so CI can prove that the
# committed wasm is the one these sources build (scripts/check-wasm.sh). The toolchain and flags
# are scripts/wasm-build-env.sh's, shared with the host build.
#
#   scripts/build-wasm.sh            build into site/static/wasm
#   scripts/build-wasm.sh OUTDIR     build into OUTDIR (CI's rebuild)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/site/static/wasm}"
# shellcheck source=scripts/wasm-build-env.sh
source "$ROOT/scripts/wasm-build-env.sh"
mkdir -p "$OUT"
START=$(date +%s)
build_wasm_crate tabtwin-web
wasm-bindgen --target web --no-typescript --out-dir "$OUT" "$WASM_RELEASE/tabtwin_web.wasm"
wasm_opt "$OUT/tabtwin_web_bg.wasm" "$OUT/tabtwin_web_bg.wasm" --enable-reference-types
python3 "$ROOT/scripts/wasm_inputs.py" --write "$OUT/BUILD_INFO.json"
echo "build-wasm: $(du -h "$OUT/tabtwin_web_bg.wasm" | cut -f1) in $(( $(date +%s) - START )) s -> $OUT"
