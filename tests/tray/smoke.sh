#!/usr/bin/env bash
# Smoke test of the real tray app (src-tauri) under Xvfb, with a tray panel (trayer), a private
# D-Bus session and an unlocked gnome-keyring.
#
#   tests/tray/smoke.sh                       (packages: scripts/setup.sh --app)
#   APP_PROFILE=release tests/tray/smoke.sh   the release build (measures its RSS and size)
#   APP_PROFILE=app tests/tray/smoke.sh       the shipped build (`--profile app`, as scripts/app.sh)
#   LATCHKEY_APP_BIN=<path> tests/tray/smoke.sh   an already built binary
#
# 1. Builds latchkey-app, the latchkey CLI and fake-atlassian.
# 2. Signs in to fake-atlassian with the CLI (headless browser) and issues a local key, in a
#    throw-away HOME / LATCHKEY_CONFIG_DIR.
# 3. Marks the connection "needs sign-in again", starts the app; checks the tray is built and
#    broken, a notification is sent, a deep link (`xdg-open latchkey://reauth/atlassian`) reaches
#    the running instance and signs in again (the tray turns ok from core's event), the
#    gateway it runs answers an MCP initialize with the key, and a second launch focuses the
#    first (window shown).
# 4. Screenshots the window and the tray menu into target/artifacts/ (a CI artifact).
# 5. Measures launch -> tray ready, RSS with the window hidden, idle CPU over 10 s.
# 6. SIGTERM: the app stops the gateway and the keeper cleanly.
# Exits non-zero on any failure; the last line is "N passed, M failed".
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
ART="$ROOT/target/artifacts"
mkdir -p "$ART"

if [[ "${LATCHKEY_SMOKE_INNER:-}" != 1 ]]; then
  echo "== build (latchkey-app, latchkey, fake-atlassian)"
  # Tauri embeds ui/dist (git-ignored): build the window first when it is missing.
  if [[ ! -f ui/dist/index.html ]]; then
    (ui/install.sh && cd ui && npm run build) >/dev/null 2>&1 \
      || { echo "could not build ui/ (npm run build)"; echo "0 passed, 1 failed"; exit 1; }
  fi
  if [[ ${APP_PROFILE:-debug} != debug ]]; then
    cargo build -p latchkey-app --bin latchkey-app --profile "$APP_PROFILE" --features custom-protocol 2>&1 | tail -1
  else
    cargo build -p latchkey-app --bin latchkey-app 2>&1 | tail -1
  fi
  cargo build -p latchkey-cli --bin latchkey -p latchkey-e2e --bin fake-atlassian 2>&1 | tail -1
  [[ -x ${LATCHKEY_APP_BIN:-target/${APP_PROFILE:-debug}/latchkey-app} && -x target/debug/latchkey && -x target/debug/fake-atlassian ]] || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-smoke.XXXXXX")"
  mkdir -p "$WORK/home" "$WORK/runtime" "$WORK/config" "$WORK/data"
  chmod 700 "$WORK/runtime"
  export LATCHKEY_SMOKE_INNER=1 WORK HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK/runtime" \
    XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/home/.config" LATCHKEY_CONFIG_DIR="$WORK/config"
  xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" dbus-run-session -- "$0"
  rc=$?
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
  exit $rc
fi

# ---------------------------------------------------------------- inside Xvfb + D-Bus session
eval "$(printf latchkey-smoke | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
export GNOME_KEYRING_CONTROL
PASS=0 FAIL=0 PIDS=()
verdict() { if [[ $1 == 0 ]]; then PASS=$((PASS + 1)); echo "PASS  $2"; else FAIL=$((FAIL + 1)); echo "FAIL  $2"; fi; }
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
finish() { echo "$PASS passed, $FAIL failed"; [[ $FAIL == 0 ]]; exit $?; }
wait_for() { # wait_for <seconds> <command...>
  local n=$(($1 * 10)); shift
  for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
LOG="$ART/tray-app.log"
BIN="$ROOT/target/debug"
APP_BIN="${LATCHKEY_APP_BIN:-$ROOT/target/${APP_PROFILE:-debug}/latchkey-app}"

# --- a connection to fake-atlassian, made with the CLI -------------------------------------------
"$BIN/fake-atlassian" >"$WORK/fake.out" 2>"$WORK/fake.err" &
PIDS+=($!)
wait_for 20 grep -q MCP_URL= "$WORK/fake.out"
MCP_URL="$(sed -n 's/^MCP_URL=//p' "$WORK/fake.out")"
export BROWSER="$ROOT/tests/conformance/follow-redirect.sh" LATCHKEY_FLOW_TIMEOUT_SECS=30
"$BIN/latchkey" connect atlassian --url "$MCP_URL" >"$WORK/connect.log" 2>&1
verdict $? "latchkey connect atlassian (fake-atlassian, headless browser)"
KEY="$("$BIN/latchkey" key issue atlassian --label smoke 2>/dev/null)"
# Remember a free gateway port (latchkey serve saves the port it ran on).
PORT="$(free_port)"
"$BIN/latchkey" serve --port "$PORT" >"$WORK/serve.log" 2>&1 &
SERVE=$!
wait_for 10 test -f "$LATCHKEY_CONFIG_DIR/gateway.json"
kill -TERM "$SERVE"; wait "$SERVE" 2>/dev/null

# The server refused the refresh token (as core records it): the app must start "broken".
python3 - "$LATCHKEY_CONFIG_DIR/connections.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
d["connections"][0]["state"] = {"state": "needs_reauth", "reason": "the server refused the saved sign-in"}
json.dump(d, open(p, "w"), indent=2)
PY

# --- a tray host, then the app --------------------------------------------------------------------
trayer --edge top --align right --widthtype pixel --width 32 --heighttype pixel --height 32 --transparent false --tint 0xdddddd --SetDockType true --expand false >/dev/null 2>&1 &
PIDS+=($!)
sleep 1
# Notifications are D-Bus calls to org.freedesktop.Notifications: watch for ours.
dbus-monitor "interface='org.freedesktop.Notifications',member='Notify'" >"$WORK/notify.log" 2>&1 &
PIDS+=($!)
rm -f "$LOG"
T0=$(date +%s%N)
LATCHKEY_LOG=info "$APP_BIN" >"$LOG" 2>&1 &
APP=$!
PIDS+=($APP)
wait_for 30 grep -q "tray ready" "$LOG"
verdict $? "the tray is built"
T1=$(date +%s%N)
TRAY_MS="$(sed -n 's/.*tray ready \([0-9]*\) ms after process start.*/\1/p' "$LOG" | head -1)"
echo "      launch -> tray ready: ${TRAY_MS:-?} ms (in-process, from /proc start time); seen by this script after $(((T1 - T0) / 1000000)) ms"
wait_for 20 grep -q "tray: Broken: Latchkey: atlassian needs you to sign in again" "$LOG"
verdict $? "the tray shows \"broken\" for a connection that needs sign-in again"
wait_for 10 grep -q "atlassian needs you to sign in again" "$WORK/notify.log"
verdict $? "... and sends a desktop notification (Notify seen on the session bus)"
wait_for 20 grep -q "gateway listening" "$LOG"

# --- hidden at start (a connection exists); idle measurements -----------------------------------------
visible() { xdotool search --onlyvisible --name '^Latchkey$' >/dev/null 2>&1; }
! visible
verdict $? "the window starts hidden when a connection exists"
tree_pids() { echo "$APP"; pgrep -P "$APP"; for c in $(pgrep -P "$APP"); do pgrep -P "$c"; done; }
rss_kb() { local t=0; for p in $(tree_pids | sort -u); do r=$(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null); t=$((t + ${r:-0})); done; echo $t; }
ticks() { local t=0; for p in $(tree_pids | sort -u); do r=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null); t=$((t + ${r:-0})); done; echo $t; }
sleep 2
MAIN_RSS=$(awk '/VmRSS/{print $2}' "/proc/$APP/status")
grep -E "^(Rss|Anonymous|Shared_Clean|Private_Clean)" "/proc/$APP/smaps_rollup" 2>/dev/null | tr -s " " | sed "s/^/      smaps: /"
TOTAL_RSS=$(rss_kb)
C0=$(ticks); S0=$(date +%s%N); sleep 10; C1=$(ticks); S1=$(date +%s%N)
CPU=$(awk -v c=$((C1 - C0)) -v ns=$((S1 - S0)) 'BEGIN { printf "%.2f", c / 100 / (ns / 1e9) * 100 }')
echo "      RSS, window hidden: $((MAIN_RSS / 1024)) MB (main process), $((TOTAL_RSS / 1024)) MB (with WebKit's helper processes: $(tree_pids | sort -u | wc -l) processes)"
echo "      idle CPU over 10 s: ${CPU}% of one core (app + WebKit helpers)"

# --- the tray menu ----------------------------------------------------------------------------------------
tray_menu() { # tray_menu <file>: clicks the tray icon, screenshots the menu (top right of the screen)
  local panel; panel="$(xdotool search --class trayer 2>/dev/null | tail -1)"
  [[ -n $panel ]] || return 1
  eval "$(xdotool getwindowgeometry --shell "$panel")"
  xdotool mousemove $((X + WIDTH / 2)) $((Y + HEIGHT / 2)) click 1
  sleep 2
  import -window root "$WORK/screen.png"
  convert "$WORK/screen.png" -crop 640x300+640+0 +repage "$1"
  xdotool key Escape
  sleep 0.5
  test -s "$1"
}
tray_menu "$ART/tray-menu-broken.png"
verdict $? "screenshot of the tray menu (broken): target/artifacts/tray-menu-broken.png"

# --- a deep link reaches the running instance and re-authenticates -------------------------------------------
# As on GNOME (xdg-open hands the link to `gio open`). Debian 12's generic xdg-open cannot run the
# quoted Exec= line the deep-link plugin writes, so the generic mode is not used here.
XDG_CURRENT_DESKTOP=GNOME xdg-open "latchkey://reauth/atlassian" >"$WORK/xdg-open.log" 2>&1
wait_for 30 grep -q "sign-in done: atlassian" "$LOG"
verdict $? "xdg-open latchkey://reauth/atlassian: the running app signs in again (browser flow)"
grep -q "deep link: latchkey://reauth/atlassian" "$LOG"
verdict $? "... through the deep link handler of the first instance"
[[ $(pgrep -fc "$APP_BIN") -le 1 ]]
verdict $? "... with no second instance left running"
wait_for 10 grep -q "tray: Ok: Latchkey: all good, 1 connection working" "$LOG"
verdict $? "... and the tray turns \"all good\" from core's event (no polling)"

# --- the gateway it runs answers, with the app's key ------------------------------------------------
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"tray-smoke","version":"0"}}}'
BODY="$(curl -s --noproxy '*' -X POST "http://127.0.0.1:$PORT/mcp/atlassian" -H "X-Latchkey-Key: $KEY" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d "$INIT")"
echo "$BODY" | grep -q '"serverInfo"'
verdict $? "initialize through the app's gateway http://127.0.0.1:$PORT/mcp/atlassian"

# --- a second launch focuses the first ----------------------------------------------------------------
timeout 20 "$APP_BIN" >"$WORK/second.log" 2>&1
verdict $? "a second launch exits (single instance)"
wait_for 10 visible
verdict $? "... and the first instance shows its window"
sleep 3
WIN="$(xdotool search --onlyvisible --name '^Latchkey$' | head -1)"
import -window "$WIN" "$ART/real-window.png" 2>/dev/null || import -window root "$ART/real-window.png"
test -s "$ART/real-window.png"
verdict $? "screenshot of the real window: target/artifacts/real-window.png"
tray_menu "$ART/tray-menu.png"
verdict $? "screenshot of the tray menu (all good): target/artifacts/tray-menu.png"

# --- SIGTERM stops the services cleanly --------------------------------------------------------------------------
kill -TERM "$APP"
for _ in $(seq 100); do kill -0 "$APP" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$APP" 2>/dev/null && grep -q "stopped the gateway and the keeper" "$LOG" && [[ ! -f "$LATCHKEY_CONFIG_DIR/gateway.json" ]]
verdict $? "SIGTERM: gateway and keeper stopped, app exited"

echo "      app binary: $(du -m "$APP_BIN" | cut -f1) MB ($APP_BIN)"
grep -E "WARN|ERROR" "$LOG" | grep -v "Failed to set fd limit" | sed 's/^/      log: /' | head -10
finish
