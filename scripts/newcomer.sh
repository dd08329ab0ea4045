#!/usr/bin/env bash
# The author's path as a newcomer walks it, on every CI run: a clean copy of the checkout, a brand-new
# virtualenv with only requirements-site.txt (no `-e python`, no extras), and a cache in which only the
# downloaded wheels are reused, so the served models, the composed twins and the Whisper file are made
# again (a missing import on that path fails here, not for a visitor). It runs the `run:` lines of
# .github/workflows/pages.yml (parsed from the YAML, so the workflow cannot drift from what CI runs),
# checks the built site, then runs the README's first command as written and checks what it serves.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${TABTWIN_CACHE:-$HOME/.cache/tabtwin}"
OUTER_PYTHON="$(command -v python3)"  # has the test dependencies (PyYAML, Playwright)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tabtwin-newcomer.XXXXXX")"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -- "-$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf '\n== newcomer: %s (%s)\n' "$1" "$(date +%T)"; }

step "a clean copy of the checkout, a new virtualenv, a cache with only the wheels"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
  | rsync -a --from0 --files-from=- "$ROOT/" "$WORK/repo/"
mkdir -p "$WORK/cache"
[ -d "$CACHE/pypi" ] && ln -s "$CACHE/pypi" "$WORK/cache/pypi"
"$OUTER_PYTHON" -m venv "$WORK/venv"
"$OUTER_PYTHON" "$ROOT/scripts/newcomer_commands.py" workflow "$ROOT/.github/workflows/pages.yml" > "$WORK/pages.sh"
"$OUTER_PYTHON" "$ROOT/scripts/newcomer_commands.py" readme "$ROOT/README.md" > "$WORK/first.sh"
echo "pages workflow:"; sed 's/^/  /' "$WORK/pages.sh"
echo "README's first command:"; sed 's/^/  /' "$WORK/first.sh"

step "the Pages workflow's run: lines"
started=$(date +%s)
(
  cd "$WORK/repo"
  # shellcheck disable=SC1091
  source "$WORK/venv/bin/activate"
  export TABTWIN_CACHE="$WORK/cache"
  bash -euo pipefail "$WORK/pages.sh"
)
echo "newcomer: the Pages build took $(( $(date +%s) - started )) s from an empty model cache"

step "what the workflow would publish"
"$OUTER_PYTHON" "$ROOT/scripts/check_site.py" "$WORK/repo/_site" --registry "$WORK/repo/models.toml"

step "the README's first command, as written"
(
  cd "$WORK/repo"
  # shellcheck disable=SC1091
  source "$WORK/venv/bin/activate"
  export TABTWIN_CACHE="$WORK/cache"
  exec setsid bash -euo pipefail "$WORK/first.sh"
) > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
"$OUTER_PYTHON" "$ROOT/scripts/check_site.py" "$WORK/repo/_site" --registry "$WORK/repo/models.toml" \
  --url http://127.0.0.1:8000/ --wait 900 --server-log "$WORK/serve.log"
sed 's/^/  serve: /' "$WORK/serve.log" | tail -n 20
echo "newcomer: ok"
