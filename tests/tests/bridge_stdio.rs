//! The stdio bridge (`latchkey bridge <connection>`), against the fake Atlassian connection
//! made by the headless connect flow.
//!
//! In-memory (`bridge::run` over a `tokio::io::duplex` pair as stdin/stdout):
//! - `initialize`, `notifications/initialized`, `tools/list` and `tools/call` come back as one
//!   JSON line per request, each with the right id, and a notification gets no line;
//! - a line that is not JSON gives a `-32700` error line (id null) and the bridge keeps going;
//! - with no gateway running it works in-process (the engine handing it in records the
//!   traffic, and the temporary key it minted is revoked when stdin closes);
//! - with a gateway running in the same config dir (`Gateway::start`) and a key, it goes over
//!   HTTP: the gateway's engine records the traffic, the bridge's own engine handles nothing.
//!
//! With the real binaries, gated on `LATCHKEY_KEYCHAIN_TESTS=1` (real OS keychain):
//! `latchkey bridge <name>`; the small `latchkey-bridge <name>` with no gateway (it hands over
//! to `latchkey bridge`, same process) and with `latchkey serve` running and a key (it relays
//! over loopback, staying itself). Without a keychain: `latchkey-bridge` refuses a bad name or
//! missing argument on stderr, with nothing on stdout.
//!
//! ```sh
//! cargo build -p latchkey-cli -p latchkey-bridge
//! scripts/with-keychain.sh env LATCHKEY_KEYCHAIN_TESTS=1 cargo test -p latchkey-e2e --test bridge_stdio
//! ```

#[path = "../src/support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use latchkey_core::Latchkey;
use latchkey_e2e::paths::{debug_bin, workspace_root};
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_gateway::{Config, Gateway};
use latchkey_oauth::SystemClock;
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader, Lines};

/// Reads one stdout line (with a hang guard) and parses it.
async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut Lines<R>) -> Value {
    let line =
        tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.expect("a line arrives").expect("stdout readable").expect("stdout still open");
    assert!(!line.contains('\n'));
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout carries only JSON-RPC ({e}): {line}"))
}

async fn send_line<W: AsyncWrite + Unpin>(w: &mut W, line: &str) {
    w.write_all(line.as_bytes()).await.unwrap();
    w.write_all(b"\n").await.unwrap();
    w.flush().await.unwrap();
}

/// Runs a whole session on the bridge's stdin/stdout and checks every reply.
async fn session<R, W>(stdin: &mut W, lines: &mut Lines<R>)
where
    R: tokio::io::AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    send_line(stdin, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "stdio-e2e", "version": "1"}}}).to_string()).await;
    let v = next_line(lines).await;
    assert_eq!(v["id"], 1, "{v}");
    assert_eq!(v["result"]["protocolVersion"], "2025-06-18", "{v}");
    assert_eq!(v["result"]["serverInfo"]["name"], "fake-atlassian", "{v}");

    // A notification: no line comes back for it (the next line is tools/list's answer).
    send_line(stdin, &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string()).await;
    send_line(stdin, &json!({"jsonrpc": "2.0", "id": "list-2", "method": "tools/list"}).to_string()).await;
    let v = next_line(lines).await;
    assert_eq!(v["id"], "list-2", "{v}");
    let tools: Vec<&str> = v["result"]["tools"].as_array().unwrap_or_else(|| panic!("{v}")).iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(tools.contains(&"atlassianUserInfo"), "{tools:?}");

    // Not JSON: a parse error line, and the bridge keeps going.
    send_line(stdin, "{\"jsonrpc\": \"2.0\", \"id\": 3, \"method\": ").await;
    let v = next_line(lines).await;
    assert_eq!(v["error"]["code"], -32700, "{v}");
    assert_eq!(v["id"], Value::Null, "{v}");

    send_line(stdin, &json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "atlassianUserInfo", "arguments": {}}}).to_string()).await;
    let v = next_line(lines).await;
    assert_eq!(v["id"], 4, "{v}");
    assert_eq!(v["result"]["isError"], false, "{v}");
    assert!(v["result"]["content"][0]["text"].as_str().unwrap().contains("jane@acme.test"), "{v}");

    // Blank lines are ignored; a ping still answers.
    send_line(stdin, "").await;
    send_line(stdin, &json!({"jsonrpc": "2.0", "id": 5, "method": "ping"}).to_string()).await;
    let v = next_line(lines).await;
    assert_eq!(v["id"], 5, "{v}");
    assert!(v.get("result").is_some(), "{v}");
}

async fn connected() -> (FakeAtlassian, Env, Latchkey) {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(atlassian_request(&fake)).await.expect("headless connect");
    (fake, env, lk)
}

/// Runs the bridge over an in-memory pipe: the session, then stdin closes and it must end.
async fn run_bridge(lk: Latchkey, key: Option<String>, dir: &Path) {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (bridge_in, bridge_out) = tokio::io::split(theirs);
    let dir = dir.to_path_buf();
    let task = tokio::spawn(async move { latchkey_gateway::bridge::run(lk, "atlassian", key, &dir, bridge_in, bridge_out).await });
    let (our_read, mut our_write) = tokio::io::split(ours);
    let mut lines = BufReader::new(our_read).lines();
    session(&mut our_write, &mut lines).await;
    our_write.shutdown().await.unwrap();
    // Nothing else is written, and stdout closes when the bridge ends.
    let rest = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.expect("stdout closes");
    assert!(matches!(rest, Ok(None)), "no stray output: {rest:?}");
    tokio::time::timeout(Duration::from_secs(30), task).await.expect("the bridge ends when stdin closes").unwrap().expect("the bridge ran cleanly");
}

#[tokio::test]
async fn without_a_gateway_the_bridge_works_in_process() {
    let (fake, env, lk) = connected().await;
    assert!(latchkey_gateway::running_instance(env.config_dir()).is_none());
    let before = fake.counters();

    run_bridge(lk.clone(), None, env.config_dir()).await;

    let after = fake.counters();
    assert!(after.mcp_requests - before.mcp_requests >= 5, "the upstream was reached with the bearer: {after:?}");
    assert_eq!(after.unauthorized_mcp, before.unauthorized_mcp, "{after:?}");
    // This process's engine carried the traffic (in-process router).
    let a = lk.activity_snapshot().remove("atlassian").expect("activity recorded in-process");
    assert!(a.requests >= 5, "{a:?}");
    // The temporary key minted for the run is gone again.
    assert!(lk.local_keys().unwrap().is_empty(), "{:?}", lk.local_keys().unwrap());
    fake.shutdown().await;
}

#[tokio::test]
async fn with_a_running_gateway_and_a_key_the_bridge_goes_over_http() {
    let (fake, env, lk) = connected().await;
    let (_, key) = lk.issue_local_key("atlassian", "claude-desktop").unwrap();
    let gateway = Gateway::start(lk.clone(), env.config_dir(), Config::on_port(0)).await.unwrap();
    assert_eq!(latchkey_gateway::running_instance(env.config_dir()).map(|r| r.port), Some(gateway.addr.port()));
    // The bridge has its own engine (as a separate `latchkey bridge` process would).
    let bridge_engine = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    assert!(lk.activity_snapshot().is_empty());

    run_bridge(bridge_engine, Some(key.expose().clone()), env.config_dir()).await;

    // The gateway's engine saw every request: the bridge spoke HTTP to it.
    let a = lk.activity_snapshot().remove("atlassian").expect("the gateway recorded the bridge's traffic");
    assert!(a.requests >= 5, "{a:?}");
    assert_eq!(a.errors, 0, "{a:?}");
    assert_eq!(lk.local_keys().unwrap().len(), 1, "no temporary key was minted");
    gateway.shutdown(Duration::from_secs(2)).await;
    fake.shutdown().await;
}

#[tokio::test]
async fn with_a_running_gateway_a_wrong_key_gets_a_clear_error_line() {
    let (fake, env, lk) = connected().await;
    let gateway = Gateway::start(lk.clone(), env.config_dir(), Config::on_port(0)).await.unwrap();
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (bridge_in, bridge_out) = tokio::io::split(theirs);
    let dir = env.config_dir().to_path_buf();
    let bridge_engine = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let task = tokio::spawn(async move {
        latchkey_gateway::bridge::run(bridge_engine, "atlassian", Some("lk_000000000000_revoked".into()), &dir, bridge_in, bridge_out).await
    });
    let (our_read, mut our_write) = tokio::io::split(ours);
    let mut lines = BufReader::new(our_read).lines();
    send_line(&mut our_write, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}}).to_string()).await;
    let v = next_line(&mut lines).await;
    assert_eq!(v["id"], 1, "{v}");
    let msg = v["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("401") && msg.contains("not valid"), "the gateway's reason reaches the client: {v}");
    // That was the only line: the gateway's own non-JSON-RPC error body never reaches stdout.
    our_write.shutdown().await.unwrap();
    let rest = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.expect("stdout closes");
    assert!(matches!(rest, Ok(None)), "no stray output: {rest:?}");
    tokio::time::timeout(Duration::from_secs(30), task).await.unwrap().unwrap().unwrap();
    assert_eq!(lk.activity_snapshot()["atlassian"].errors, lk.activity_snapshot()["atlassian"].requests, "every request was refused");
    gateway.shutdown(Duration::from_secs(2)).await;
    fake.shutdown().await;
}

fn latchkey_bin() -> PathBuf {
    debug_bin("latchkey", "latchkey-cli")
}

fn latchkey(bin: &Path, config_dir: &Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(args)
        .env("LATCHKEY_CONFIG_DIR", config_dir)
        .env("BROWSER", workspace_root().join("tests/conformance/follow-redirect.sh"))
        .env("LATCHKEY_FLOW_TIMEOUT_SECS", "60")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("LATCHKEY_KEY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    cmd
}

fn show(what: &str, o: &std::process::Output) -> String {
    format!("{what}: {}\n--- stdout\n{}--- stderr\n{}", o.status, String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_binary_bridges_stdio() {
    if std::env::var("LATCHKEY_KEYCHAIN_TESTS").as_deref() != Ok("1") {
        println!("skipped: set LATCHKEY_KEYCHAIN_TESTS=1 and run under scripts/with-keychain.sh");
        return;
    }
    let bin = latchkey_bin();
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("e2e-bridge-{}", std::process::id());
    let out = latchkey(&bin, dir.path(), &["connect", "atlassian", "--url", &fake.mcp_url(), "--name", &name]).output().await.unwrap();
    assert!(out.status.success(), "{}", show("connect", &out));

    let mut child = latchkey(&bin, dir.path(), &["bridge", &name]).stdin(std::process::Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    session(&mut stdin, &mut lines).await;
    drop(stdin);
    let rest = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.expect("stdout closes");
    assert!(matches!(rest, Ok(None)), "no stray output: {rest:?}");
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.expect("the bridge exits when stdin closes").unwrap();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = e.read_to_string(&mut stderr).await;
    }
    assert!(status.success(), "bridge exited with {status}; stderr:\n{stderr}");
    assert!(fake.counters().mcp_requests >= 5);
    // The temporary key of the in-process run was revoked at exit.
    let keys = std::fs::read_to_string(dir.path().join("local-keys.json")).unwrap_or_default();
    assert!(!keys.contains(&name), "{keys}");

    let out = latchkey(&bin, dir.path(), &["logout", &name]).output().await.unwrap();
    assert!(out.status.success(), "{}", show("logout", &out));
    fake.shutdown().await;
}

/// Which executable `pid` is running now (Linux): tells a relay from a hand-over (`exec`).
fn exe_of(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe")).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
}

/// One session through `latchkey-bridge <name>`; returns the executable it ran as.
async fn small_bridge_session(bin: &Path, config_dir: &Path, name: &str, key: Option<&str>) -> String {
    let mut cmd = latchkey(bin, config_dir, &[name]);
    if let Some(k) = key {
        cmd.env("LATCHKEY_KEY", k);
    }
    let mut child = cmd.stdin(std::process::Stdio::piped()).spawn().unwrap();
    let pid = child.id().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    session(&mut stdin, &mut lines).await;
    let exe = exe_of(pid);
    drop(stdin);
    let rest = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.expect("stdout closes");
    assert!(matches!(rest, Ok(None)), "no stray output: {rest:?}");
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.expect("the bridge exits when stdin closes").unwrap();
    assert!(out.status.success(), "{}", show("latchkey-bridge", &out));
    exe
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_small_bridge_hands_over_without_a_gateway_and_relays_with_one() {
    if std::env::var("LATCHKEY_KEYCHAIN_TESTS").as_deref() != Ok("1") {
        println!("skipped: set LATCHKEY_KEYCHAIN_TESTS=1 and run under scripts/with-keychain.sh");
        return;
    }
    let (bin, small) = (latchkey_bin(), debug_bin("latchkey-bridge", "latchkey-bridge"));
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("e2e-small-{}", std::process::id());
    let out = latchkey(&bin, dir.path(), &["connect", "atlassian", "--url", &fake.mcp_url(), "--name", &name]).output().await.unwrap();
    assert!(out.status.success(), "{}", show("connect", &out));
    let out = latchkey(&bin, dir.path(), &["key", "issue", &name, "--label", "claude-desktop"]).output().await.unwrap();
    assert!(out.status.success(), "{}", show("key issue", &out));
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    // No gateway: even with a key, the small bridge becomes `latchkey bridge` (same pid).
    let exe = small_bridge_session(&small, dir.path(), &name, Some(&key)).await;
    assert!(exe.ends_with("/latchkey"), "handed over to latchkey: {exe}");
    let handed = fake.counters().mcp_requests;
    assert!(handed >= 5, "{handed}");

    // With `latchkey serve` running and a key: relayed by the small bridge itself.
    let mut serve = latchkey(&bin, dir.path(), &["serve", "--port", "0"]).spawn().unwrap();
    let started = std::time::Instant::now();
    while latchkey_gateway::running_instance(dir.path()).is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "latchkey serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exe = small_bridge_session(&small, dir.path(), &name, Some(&key)).await;
    assert!(exe.ends_with("/latchkey-bridge"), "relayed by the small bridge: {exe}");
    assert!(fake.counters().mcp_requests >= handed + 5, "the upstream was reached through the gateway");

    // A revoked key: the session fails with a JSON-RPC error naming the reason, not a hang.
    let mut child = latchkey(&small, dir.path(), &[&name]).env("LATCHKEY_KEY", "lk_000000000000_revoked").stdin(std::process::Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    send_line(&mut stdin, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}}).to_string()).await;
    let v = next_line(&mut lines).await;
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("401"), "{v}");
    drop(stdin);
    let _ = child.wait().await;

    let _ = serve.start_kill();
    let _ = serve.wait().await;
    let out = latchkey(&bin, dir.path(), &["logout", &name]).output().await.unwrap();
    assert!(out.status.success(), "{}", show("logout", &out));
    fake.shutdown().await;
}

#[tokio::test]
async fn the_small_bridge_refuses_bad_arguments_on_stderr_only() {
    let small = debug_bin("latchkey-bridge", "latchkey-bridge");
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["Not A Name"], vec![], vec!["a", "b"]] {
        let out = latchkey(&small, dir.path(), &args).output().await.unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", show("latchkey-bridge", &out));
        assert!(out.stdout.is_empty(), "stdout is for JSON-RPC only: {}", show("latchkey-bridge", &out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("latchkey-bridge: "), "{err}");
    }
    let out = latchkey(&small, dir.path(), &["Not A Name"]).output().await.unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"Not A Name\" is not a connection name"), "{}", show("latchkey-bridge", &out));
}
