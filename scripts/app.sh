#!/usr/bin/env bash
# Builds and runs Latchkey: the tray app with no arguments; with arguments, the `latchkey`
# command (for example `scripts/app.sh connect atlassian` or `scripts/app.sh status`).
# Builds with the `app` profile (size-optimised, fat LTO), the one we ship: the tray app, the
# `latchkey` command and the small `latchkey-bridge` end up side by side in target/app/, where
# the app finds them to write into stdio-only apps' configs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh --app >&2
if [ $# -gt 0 ]; then
  cargo build --profile app --locked -q -p latchkey-cli -p latchkey-bridge >&2
  exec target/app/latchkey "$@"
fi
cargo build --profile app --locked -q -p latchkey-cli -p latchkey-bridge -p latchkey-app --features latchkey-app/custom-protocol >&2
exec target/app/latchkey-app
