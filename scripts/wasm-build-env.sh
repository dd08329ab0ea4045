# Sourced by scripts/build-wasm.sh and scripts/build-host-wasm.sh: the one toolchain, flags, source
# copy and target dir of both wasm builds, so the two share candle and every other compiled
# dependency (only tabtwin-core and the binding compile for each) and cannot drift apart.
#
#   build_wasm_crate CRATE    cargo build CRATE for wasm32 from the fixed source copy; prints nothing
#   WASM_RELEASE              the folder the .wasm files land in
#   wasm_opt IN OUT [FLAGS]   binaryen's wasm-opt -O3 with the features both builds use
CACHE="${TABTWIN_CACHE:-$HOME/.cache/tabtwin}"
export PATH="$CACHE/tools/bin:$PATH"
export CARGO_TARGET_DIR="$CACHE/target-wasm"
WASM_RELEASE="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release"

# The sources are built from one fixed place, so neither the bytes nor cargo's fingerprints depend
# on where the clone lives (a clean clone in CI reuses the cached build instead of recompiling
# candle); the path remaps keep local paths out of the binary. Debian's rustc (with std sources)
# builds std for wasm32.
WASM_SRC="$CACHE/wasm-src"
export RUSTC_BOOTSTRAP=1
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128 --remap-path-prefix=$WASM_SRC=/tabtwin/wasm --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"

build_wasm_crate() {
  mkdir -p "$WASM_SRC"
  # Copied by content, with fresh times: a checkout older than the cached build (another branch
  # built since) must still rebuild what differs; cargo decides by mtime, and rsync -a would keep
  # the old ones.
  rsync -a --no-times --checksum --delete --exclude /target "$ROOT/wasm/" "$WASM_SRC/"
  ( cd "$WASM_SRC" && /usr/bin/cargo build -q --locked --release -p "$1" \
      --target wasm32-unknown-unknown -Z build-std=std,panic_abort )
}

# wasm-opt from scripts/install-toolchain.sh (npm binaryen; Debian's 108 breaks externref tables)
wasm_opt() {
  local in="$1" out="$2"
  shift 2
  wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-multivalue "$@" "$in" -o "$out"
}
