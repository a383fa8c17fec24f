#!/usr/bin/env bash
# Builds and runs Latchkey. Arguments go to the `latchkey` command; with none it shows status.
#   scripts/app.sh connect atlassian     # sign in to Atlassian in your browser
#   scripts/app.sh status
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" >&2
cargo build --release --locked -q -p latchkey-cli --manifest-path "$root/Cargo.toml" >&2
if [ $# -eq 0 ]; then set -- status; fi
exec "$root/target/release/latchkey" "$@"
