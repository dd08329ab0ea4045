#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs (once; later runs reuse
# ~/.cache/tabtwin), checks style and the house rules, proves the committed wasm is the one the
# sources build, runs the Rust unit tests and pytest (native core, real models, exactness against
# transformers, the site build, Chromium), then walks the newcomer's path (scripts/newcomer.sh).
#
#   bash scripts/test.sh            everything (what CI runs)
#   bash scripts/test.sh --fast     the fast tier: no Chromium, no real model, no torch (minutes)
#   bash scripts/test.sh -- ARGS    everything, with ARGS passed to pytest (e.g. -k budget)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${TABTWIN_CACHE:-$HOME/.cache/tabtwin}"
FAST=0
if [ "${1:-}" = "--fast" ]; then FAST=1; shift; fi
[ "${1:-}" = "--" ] && shift
cd "$ROOT"
step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "toolchain"
if [ "$FAST" = 1 ]; then TABTWIN_NATIVE_ONLY=1 bash scripts/install-toolchain.sh; else bash scripts/install-toolchain.sh; fi

step "python package (native core via maturin) and test dependencies"
export CARGO_TARGET_DIR="$CACHE/target-native"
python3 -m pip install -q -e "python[test]"
unset CARGO_TARGET_DIR

step "style and house rules"
TABTWIN_FAST="$FAST" bash scripts/gates.sh

step "rust unit tests"
# The fuzz tests (GGUF reader, reply parser, detokenizer) run a fixed count in seconds; the full tier
# gives each a minute (test_rng.rs: fuzz_iterations).
FUZZ_SECONDS=60
[ "$FAST" = 1 ] && FUZZ_SECONDS=0
# In a fixed copy of wasm/ (scripts/native-cargo.sh), so a fresh clone reuses the cached build.
TABTWIN_FUZZ_SECONDS="$FUZZ_SECONDS" bash scripts/native-cargo.sh test -q -p tabtwin-core --release

if [ "$FAST" = 1 ]; then
  step "pytest: the fast tier"
  python3 -m pytest -q -m "not (browser or models or torch or slow)" "$@"
  exit 0
fi

step "default models"
python3 -m tabtwin.cli models fetch

step "committed wasm matches the sources"
bash scripts/check-wasm.sh

step "pytest: everything"
python3 -m pytest tests "$@"

step "the newcomer's path: requirements-site.txt in a fresh virtualenv, the Pages workflow, the README's first command"
bash scripts/newcomer.sh
