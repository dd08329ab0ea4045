#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, test and serve tabtwin.
# Idempotent: every step checks before it installs. Tools we build go to
# $TABTWIN_CACHE/tools (default ~/.cache/tabtwin/tools), never into the repo.
set -euo pipefail
CACHE="${TABTWIN_CACHE:-$HOME/.cache/tabtwin}"
TOOLS="$CACHE/tools"
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' "$(dirname "$0")/../wasm/Cargo.toml")"
mkdir -p "$TOOLS"

# The page's type checker (both tiers: the gates run it, in about a second): TypeScript, pinned by
# scripts/typecheck/package-lock.json, installed with `npm ci` into $TABTWIN_CACHE/npm/typecheck, again
# only when the committed lock changes.
TYPECHECK_SRC="$(dirname "$0")/typecheck"
TYPECHECK="$CACHE/npm/typecheck"
if ! cmp -s "$TYPECHECK_SRC/package-lock.json" "$TYPECHECK/package-lock.json" || \
   [ ! -x "$TYPECHECK/node_modules/.bin/tsc" ]; then
  command -v npm >/dev/null || { echo "install-toolchain: no npm on PATH (apt-get install nodejs npm)" >&2; exit 1; }
  echo "install-toolchain: npm ci (typescript for scripts/typecheck)"
  rm -rf "$TYPECHECK"
  mkdir -p "$TYPECHECK"
  cp "$TYPECHECK_SRC/package.json" "$TYPECHECK_SRC/package-lock.json" "$TYPECHECK/"
  npm ci --silent --no-audit --no-fund --prefix "$TYPECHECK"
fi

# TABTWIN_NATIVE_ONLY=1 (the fast tier): only what the native core needs (rustup's cargo, rustfmt,
# clippy) and the type checker above; no wasm toolchain, no browser, no audio tools.
NATIVE_ONLY="${TABTWIN_NATIVE_ONLY:-0}"
if [ "$NATIVE_ONLY" = 1 ]; then
  command -v cargo >/dev/null || { echo "install-toolchain: no cargo on PATH (install rustup)" >&2; exit 1; }
  echo "install-toolchain: ok (native only: $(cargo --version))"
  exit 0
fi
need_apt=()
# Debian's rustc-web ships std's sources, so -Z build-std can target wasm32 with
# simd128 (rustup here cannot fetch a wasm32 target); lld-22 provides rust-lld.
[ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/src/rust/library ] || need_apt+=(rustc-web cargo-web rust-web-src)
command -v rust-lld >/dev/null || need_apt+=(lld-22)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)
command -v sox >/dev/null || need_apt+=(sox)
command -v rsync >/dev/null || need_apt+=(rsync)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-toolchain: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# wasm-bindgen CLI must equal the crate version exactly.
if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  echo "install-toolchain: building wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install -q wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --root "$TOOLS"
fi
# wasm-opt: Debian's binaryen 108 rewrites wasm-bindgen's externref table into one
# Chromium rejects (Table.set: "function-typed object must be ... a Wasm function");
# the npm build of binaryen (pinned) handles reference types correctly.
BINARYEN_VERSION=132.0.0
if [ ! -x "$TOOLS/binaryen/node_modules/.bin/wasm-opt" ] || \
   ! grep -q "\"version\": \"$BINARYEN_VERSION\"" "$TOOLS/binaryen/node_modules/binaryen/package.json"; then
  echo "install-toolchain: npm install binaryen@$BINARYEN_VERSION"
  mkdir -p "$TOOLS/binaryen"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/binaryen" "binaryen@$BINARYEN_VERSION"
fi
mkdir -p "$TOOLS/bin"
ln -sf "$TOOLS/binaryen/node_modules/.bin/wasm-opt" "$TOOLS/bin/wasm-opt"

echo "install-toolchain: ok (wasm-bindgen $WASM_BINDGEN_VERSION, $(/usr/bin/rustc --version))"
