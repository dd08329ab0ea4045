#!/usr/bin/env bash
# Runs cargo (ARGS as given) on a fixed copy of wasm/, ~/.cache/tabtwin/native-src, with the native
# target dir: the fast tier's clippy (scripts/gates.sh) and Rust unit tests (scripts/test.sh).
#
#   bash scripts/native-cargo.sh test -q -p tabtwin-core --release
#
# Why a copy: cargo's fingerprints of workspace crates depend on their absolute path, so in place a fresh
# clone recompiles tabtwin-core & co (minutes) even with the shared target dir; from one fixed place it
# rebuilds only what differs. Same scheme as scripts/build-wasm.sh (which uses wasm-src, not this copy).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${TABTWIN_CACHE:-$HOME/.cache/tabtwin}"
SRC="$CACHE/native-src"
mkdir -p "$SRC"
# One run at a time: a second clone's sync must not change the sources under a running build.
exec 9>"$CACHE/native-src.lock"
flock 9
# Copied by content, with fresh times: cargo decides by mtime, and a checkout older than the cached
# build must still rebuild what differs (rsync -a would keep the old times).
rsync -a --no-times --checksum --delete --exclude /target "$ROOT/wasm/" "$SRC/"
# Messages name this checkout's files, not the copy's (cargo mostly prints paths relative to wasm/).
cd "$SRC"
CARGO_TARGET_DIR="$CACHE/target-native" cargo "$@" 2>&1 | sed -u "s|$SRC|$ROOT/wasm|g"
