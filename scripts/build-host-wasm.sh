#!/usr/bin/env bash
# Builds the core for a wasm host: wasm/host -> python/tabtwin/host/tabtwin_host.wasm, the one reader
# of model files the site build runs (through wasmtime; `python build.py` loads no native code), and
# records a hash of every input in BUILD_INFO.json beside it, so CI can prove the committed module
# is the one these sources build (scripts/check-wasm.sh).
#
#   scripts/build-host-wasm.sh            build into python/tabtwin/host
#   scripts/build-host-wasm.sh OUTDIR     build into OUTDIR (CI's rebuild)
#
# The same toolchain, flags, source copy and target dir as scripts/build-wasm.sh (see there why),
# and the host crate asks for the browser binding's features: the two builds share candle and
# every other compiled dependency, and only tabtwin-core and tabtwin-host compile for each.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/python/tabtwin/host}"
CACHE="${TABTWIN_CACHE:-$HOME/.cache/tabtwin}"
export PATH="$CACHE/tools/bin:$PATH"
export CARGO_TARGET_DIR="$CACHE/target-wasm"
mkdir -p "$OUT"

SRC="$CACHE/wasm-src"
mkdir -p "$SRC"
rsync -a --no-times --checksum --delete --exclude /target "$ROOT/wasm/" "$SRC/"
export RUSTC_BOOTSTRAP=1
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128 --remap-path-prefix=$SRC=/tabtwin/wasm --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
START=$(date +%s)
( cd "$SRC" && /usr/bin/cargo build -q --locked --release -p tabtwin-host \
    --target wasm32-unknown-unknown -Z build-std=std,panic_abort )
wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/tabtwin_host.wasm" -o "$OUT/tabtwin_host.wasm"
python3 "$ROOT/scripts/wasm_inputs.py" --artifact host --write "$OUT/BUILD_INFO.json"
echo "build-host-wasm: $(du -h "$OUT/tabtwin_host.wasm" | cut -f1) in $(( $(date +%s) - START )) s -> $OUT"
