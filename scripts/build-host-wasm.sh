#!/usr/bin/env bash
# Builds the core for a wasm host: wasm/host -> python/tabtwin/host/tabtwin_host.wasm, the one reader
# of model files the site build runs (through wasmtime; `python build.py` loads no native code), and
# records a hash of every input in BUILD_INFO.json beside it, so CI can prove the committed module
# is the one these sources build (scripts/check-wasm.sh).
#
#   scripts/build-host-wasm.sh            build into python/tabtwin/host
#   scripts/build-host-wasm.sh OUTDIR     build into OUTDIR (CI's rebuild)
#
# The same toolchain, flags, source copy and target dir as the browser build
# (scripts/wasm-build-env.sh), and the host crate asks for the browser binding's features: the two
# builds share candle and every other compiled dependency.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/python/tabtwin/host}"
# shellcheck source=scripts/wasm-build-env.sh
source "$ROOT/scripts/wasm-build-env.sh"
mkdir -p "$OUT"
START=$(date +%s)
build_wasm_crate tabtwin-host
wasm_opt "$WASM_RELEASE/tabtwin_host.wasm" "$OUT/tabtwin_host.wasm"
python3 "$ROOT/scripts/wasm_inputs.py" --artifact host --write "$OUT/BUILD_INFO.json"
echo "build-host-wasm: $(du -h "$OUT/tabtwin_host.wasm" | cut -f1) in $(( $(date +%s) - START )) s -> $OUT"
