#!/usr/bin/env bash
# Style and house gates, each failing the suite: ruff (lint + format), rustfmt, clippy with warnings as
# errors, repeated code (pylint's similarity checker over the Python package and tests), and the CLI
# reference in docs/cli.md matching `--help` (scripts/cli_docs.py), and the page's JS type check
# (scripts/typecheck/check.sh: tsc with checkJs, against the message types and the models.json types
# that scripts/schema_types.py generates from site/schema/, --checked here).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
python3 -m ruff check python tests scripts build.py
python3 -m ruff format --check python tests scripts build.py
( cd wasm && cargo fmt --all --check )
bash scripts/native-cargo.sh clippy -q --workspace --all-targets -- -D warnings
# the slowest gate (~1.5 min): the fast tier (TABTWIN_FAST=1) leaves it to the full run
if [ "${TABTWIN_FAST:-0}" != 1 ]; then
  python3 -m pylint --disable=all --enable=duplicate-code --min-similarity-lines=8 \
    --ignore-imports=yes --ignore-signatures=yes python/tabtwin tests scripts
fi
python3 scripts/cli_docs.py --check
python3 scripts/schema_types.py --check
bash scripts/typecheck/check.sh
echo "gates: ok"
