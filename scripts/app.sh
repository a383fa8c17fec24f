#!/usr/bin/env bash
# Builds and runs Latchkey: the tray app with no arguments; with arguments, the `latchkey`
# command (for example `scripts/app.sh connect atlassian` or `scripts/app.sh status`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh --app >&2
if [ $# -gt 0 ]; then
  cargo build --release --locked -q -p latchkey-cli -p latchkey-bridge >&2
  exec target/release/latchkey "$@"
fi
cargo build --release --locked -q -p latchkey-cli -p latchkey-bridge -p latchkey-app --features latchkey-app/custom-protocol >&2
exec target/release/latchkey-app
