#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a fresh, unlocked gnome-keyring, so tests
# exercise the real Secret Service without touching the user's own keyring.
# Usage: scripts/with-keychain.sh <command> [args...]
set -euo pipefail
if [ "${LATCHKEY_IN_KEYCHAIN_SESSION:-}" = 1 ]; then exec "$@"; fi
export LATCHKEY_IN_KEYCHAIN_SESSION=1
XDG_DATA_HOME="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-keyring.XXXXXX")"
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
dbus-run-session -- bash -c '
  eval "$(printf latchkey-test | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  exec "$@"' bash "$@"
