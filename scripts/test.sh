#!/usr/bin/env bash
# Runs every test: unit and integration tests of all crates (with a real Secret Service keyring
# in a private D-Bus session), the official MCP conformance suite's client scenarios against the
# `latchkey` CLI and its server scenarios against server-everything directly and through the
# gateway, the real Claude Code CLI through the gateway, the window's UI in headless Chromium,
# and the real tray app under Xvfb. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

# Incremental artifacts only help repeated local builds; a clean CI build would carry gigabytes
# of them. Keep them off unless the caller asks (CARGO_INCREMENTAL=1).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
mkdir -p target
free_kb=$(df -Pk target | awk 'NR==2 {print $4}')
if [[ -n "$free_kb" && "$free_kb" -lt $((6 * 1024 * 1024)) ]]; then
  echo "warning: only $((free_kb / 1024)) MB free where target/ lives; a cold build and test run needs about 5 GB." >&2
fi

if cargo fmt --version >/dev/null 2>&1; then
  echo "== format (cargo fmt --check)"
  cargo fmt --all --check
fi

echo "== build"
cargo build --workspace --all-targets --locked

echo "== cargo test (real keychain)"
scripts/with-keychain.sh env LATCHKEY_KEYCHAIN_TESTS=1 cargo test --workspace --locked --no-fail-fast 2>&1 | grep -v 'Failed to set fd limit'

echo "== MCP conformance (client scenarios)"
scripts/with-keychain.sh tests/conformance/run.sh 2>&1 | grep -v 'Failed to set fd limit'

echo "== MCP conformance (server scenarios: server-everything directly vs through the gateway)"
scripts/with-keychain.sh tests/conformance/server.sh 2>&1 | grep -v 'Failed to set fd limit'

echo "== Claude Code CLI (real client) through the gateway"
scripts/with-keychain.sh tests/conformance/claude_code.sh 2>&1 | grep -v 'Failed to set fd limit'

echo "== UI (window, headless Chromium with Tauri's IPC mocked)"
ui/test.sh

echo "== the real tray app under Xvfb (screenshots in target/artifacts/)"
tests/tray/smoke.sh 2>&1 | grep -v 'Failed to set fd limit'
