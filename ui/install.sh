#!/usr/bin/env bash
# Installs the UI's npm packages at the versions pinned in package.json and package-lock.json.
# This machine's npm (11, with omit-lockfile-registry-resolved) writes lockfiles without other
# platforms' optional packages (rollup's native builds), and then refuses `npm ci` on them; a
# plain install of the same lockfile, not saved back, installs the same versions.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.latchkey-installed
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ "$stamp" -nt package.json ]; then
  exit 0
fi
echo "ui: installing npm packages"
npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --no-save --loglevel=error
touch "$stamp"
