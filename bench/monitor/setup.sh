#!/usr/bin/env bash
# Sources for the dereference benchmark, from projects the default model was not trained on
# (tools/model/corpus.py: Python stdlib + a few npm packages): rxjs 7 (TypeScript sources with
# their tsconfig) from npm, and click (Python) from Debian's python3-click.
# Everything goes to .cache/monitor-bench (ignored by git).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$root/.cache/monitor-bench"
mkdir -p "$work/ts" "$work/py"
if [ ! -d "$work/ts/node_modules/rxjs/src" ]; then
  echo '{"name":"monitor-bench-ts","private":true}' > "$work/ts/package.json"
  (cd "$work/ts" && npm install --ignore-scripts --no-audit --no-fund --save-exact rxjs@7.8.2)
fi
if [ ! -d /usr/lib/python3/dist-packages/click ]; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends python3-click; else echo "install python3-click (apt-get install python3-click)" >&2; exit 1; fi
fi
rm -rf "$work/py/click"
cp -r /usr/lib/python3/dist-packages/click "$work/py/click"
find "$work/py/click" -name '__pycache__' -prune -exec rm -rf {} +
echo '{ "typeCheckingMode": "basic" }' > "$work/py/pyrightconfig.json"
echo "monitor bench sources ready in $work"
