#!/usr/bin/env bash
# Builds the browser core: wasm/web -> site/static/wasm/{tabtwin_web.js,tabtwin_web_bg.wasm}
# and records a hash of every input in BUILD_INFO.json, so CI can prove that the
# committed wasm is the one these sources build (scripts/check-wasm.sh).
#
#   scripts/build-wasm.sh            build into site/static/wasm
#   scripts/build-wasm.sh OUTDIR     build into OUTDIR (CI's rebuild)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/site/static/wasm}"
CACHE="${TABTWIN_CACHE:-$HOME/.cache/tabtwin}"
export PATH="$CACHE/tools/bin:$PATH"
export CARGO_TARGET_DIR="$CACHE/target-wasm"
mkdir -p "$OUT"

# The sources are built from one fixed place, so neither the bytes nor cargo's
# fingerprints depend on where the clone lives (a clean clone in CI reuses the
# cached build instead of recompiling candle); the path remaps keep local paths
# out of the binary. Debian's rustc (with std sources) builds std for wasm32.
SRC="$CACHE/wasm-src"
mkdir -p "$SRC"
# Copied by content, with fresh times: a checkout older than the cached build (another branch built
# since) must still rebuild what differs; cargo decides by mtime, and rsync -a would keep the old ones.
rsync -a --no-times --checksum --delete --exclude /target "$ROOT/wasm/" "$SRC/"
export RUSTC_BOOTSTRAP=1
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128 --remap-path-prefix=$SRC=/tabtwin/wasm --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
START=$(date +%s)
( cd "$SRC" && /usr/bin/cargo build -q --locked --release -p tabtwin-web \
    --target wasm32-unknown-unknown -Z build-std=std,panic_abort )
wasm-bindgen --target web --no-typescript --out-dir "$OUT" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/tabtwin_web.wasm"
# wasm-opt from scripts/install-toolchain.sh (npm binaryen; Debian's 108 breaks externref tables)
wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$OUT/tabtwin_web_bg.wasm" -o "$OUT/tabtwin_web_bg.wasm"
python3 "$ROOT/scripts/wasm_inputs.py" --write "$OUT/BUILD_INFO.json"
echo "build-wasm: $(du -h "$OUT/tabtwin_web_bg.wasm" | cut -f1) in $(( $(date +%s) - START )) s -> $OUT"
