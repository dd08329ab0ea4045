#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs (once; later
# runs reuse ~/.cache/tabtwin), proves the committed wasm is the one the sources
# build, then runs the Rust unit tests and pytest (native core, real models,
# exactness against transformers, the site build, Chromium).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${TABTWIN_CACHE:-$HOME/.cache/tabtwin}"
cd "$ROOT"
step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "toolchain"
bash scripts/install-toolchain.sh

step "python package (native core via maturin) and test dependencies"
export CARGO_TARGET_DIR="$CACHE/target-native"
python3 -m pip install -q -e "python[test]"
unset CARGO_TARGET_DIR

step "default models"
python3 -m tabtwin.cli models fetch

step "committed wasm matches the sources"
bash scripts/check-wasm.sh

step "rust unit tests"
( cd wasm && CARGO_TARGET_DIR="$CACHE/target-native" cargo test -q -p tabtwin-core --release )

step "pytest"
python3 -m pytest tests "$@"
