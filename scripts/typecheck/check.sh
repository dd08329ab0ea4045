#!/usr/bin/env bash
# The page's type check: TypeScript's tsc (pinned in package.json here, installed into the cache by
# scripts/install-toolchain.sh) over site/static/js with checkJs, twice: the page's modules with the
# DOM's types (tsconfig.page.json) and worker.js with its imports in a worker's scope
# (tsconfig.worker.json). constants.js, which the site build generates, is generated here into a
# temporary folder that tsc reads as if it sat beside the modules (rootDirs); the committed wasm
# binding's declarations are written from its JS (wasm-bindgen's JSDoc) and named "tabtwin-web", the
# name worker.js types the core by. Nothing else is emitted.
#   bash scripts/typecheck/check.sh [JS_DIR]   JS_DIR: another copy of site/static/js (the tests
#                                              check that a broken copy fails)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${TABTWIN_CACHE:-$HOME/.cache/tabtwin}"
TSC="$CACHE/npm/typecheck/node_modules/.bin/tsc"
JS="$(cd "${1:-$ROOT/site/static/js}" && pwd)"
if [ ! -x "$TSC" ]; then
  echo "typecheck: no tsc at $TSC (run scripts/install-toolchain.sh)" >&2
  exit 1
fi
GEN="$(mktemp -d)"
trap 'rm -rf "$GEN"' EXIT
mkdir -p "$GEN/js"
( cd "$ROOT" && PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}" \
  python3 -c "from tabtwin.site.render import constants_js; print(constants_js(), end='')" ) > "$GEN/js/constants.js"
"$TSC" "$ROOT/site/static/wasm/tabtwin_web.js" --allowJs --declaration --emitDeclarationOnly --outDir "$GEN/wasm" \
  --target ES2022 --module ESNext --types ""
status=0
# scope, the modules it checks, the module it leaves to the other scope
for run in "page * worker" "worker worker -"; do
  read -r scope files left <<<"$run"
  cat > "$GEN/tsconfig.$scope.json" <<JSON
{"extends": "$HERE/tsconfig.$scope.json",
 "compilerOptions": {"rootDirs": ["$JS", "$GEN/js"], "paths": {"tabtwin-web": ["$GEN/wasm/tabtwin_web.d.ts"]}},
 "include": ["$JS/$files.js"], "exclude": ["$JS/$left.js"]}
JSON
  "$TSC" -p "$GEN/tsconfig.$scope.json" --pretty false || { status=1; echo; }
done
[ "$status" = 0 ] || { echo "typecheck: failed ($JS)" >&2; exit 1; }
echo "typecheck: ok ($("$TSC" --version), page and worker)"
