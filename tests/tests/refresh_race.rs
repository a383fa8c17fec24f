//! Two `latchkey` processes racing to refresh the same connection, with the real CLI binary
//! and the real OS keychain: exactly one refresh reaches the server (the cross-process refresh
//! lock; the loser sees the winner's rotated tokens) and both processes succeed.
//!
//! Runs only with `LATCHKEY_KEYCHAIN_TESTS=1`, inside a throwaway keyring:
//!
//! ```sh
//! cargo build -p latchkey-cli
//! scripts/with-keychain.sh env LATCHKEY_KEYCHAIN_TESTS=1 cargo test -p latchkey-e2e --test refresh_race
//! ```
//!
//! The binary is taken from `target/debug/latchkey` (or `$CARGO_TARGET_DIR/debug/latchkey`);
//! `CARGO_BIN_EXE_*` only exists inside the cli crate, so build it first as above. The
//! connection gets a per-run name (`--name e2e-race-<pid>`) so no real `atlassian` entry in a
//! keychain is ever touched; it is removed again with `latchkey logout` at the end.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use latchkey_e2e::paths::{debug_bin, workspace_root};
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use tokio::process::Command;

fn latchkey_bin() -> PathBuf {
    debug_bin("latchkey", "latchkey-cli")
}

fn latchkey(bin: &Path, config_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("LATCHKEY_CONFIG_DIR", config_dir)
        .env("BROWSER", workspace_root().join("tests/conformance/follow-redirect.sh"))
        .env("LATCHKEY_FLOW_TIMEOUT_SECS", "60")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    cmd
}

fn show(what: &str, o: &Output) -> String {
    format!("{what}: {}\n--- stdout\n{}--- stderr\n{}", o.status, String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_refresh_once() {
    if std::env::var("LATCHKEY_KEYCHAIN_TESTS").as_deref() != Ok("1") {
        println!("skipped: set LATCHKEY_KEYCHAIN_TESTS=1 and run under scripts/with-keychain.sh");
        return;
    }
    let bin = latchkey_bin();
    let fake = FakeAtlassian::start(FakeOptions { token_latency: Duration::from_millis(300), ..FakeOptions::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("e2e-race-{}", std::process::id());
    let mcp_url = fake.mcp_url();

    // Sign in once, through the real browser hand-off ($BROWSER follows the redirects).
    let out = latchkey(&bin, dir.path(), &["connect", "atlassian", "--url", &mcp_url, "--name", &name]).output().await.unwrap();
    assert!(out.status.success(), "{}", show("connect", &out));
    let c = fake.counters();
    assert_eq!((c.registrations, c.authorizations, c.code_exchanges, c.refreshes), (1, 1, 1, 0), "{c:?}");

    // Time passes: the access token is now expired as far as Latchkey knows.
    let state_path = dir.path().join("connections.json");
    let mut state: serde_json::Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    let conn = state["connections"].as_array_mut().unwrap().iter_mut().find(|c| c["name"] == name.as_str()).expect("connection saved");
    assert_eq!(conn["state"]["state"], "connected", "{conn}");
    assert_eq!(conn["has_refresh_token"], true, "{conn}");
    conn["expires_at"] = 1_000_000_000u64.into();
    std::fs::write(&state_path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();

    // Two processes need the token at the same moment.
    let a = latchkey(&bin, dir.path(), &["check", &name]).spawn().unwrap();
    let b = latchkey(&bin, dir.path(), &["check", &name]).spawn().unwrap();
    let (a, b) = tokio::join!(a.wait_with_output(), b.wait_with_output());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.status.success(), "{}", show("first check", &a));
    assert!(b.status.success(), "{}", show("second check", &b));

    let c = fake.counters();
    assert_eq!(c.refreshes, 1, "exactly one refresh across both processes: {c:?}");
    assert_eq!(c.refresh_failures, 0, "{c:?}");
    assert_eq!(c.authorizations, 1, "no new sign-in: {c:?}");

    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    let conn = state["connections"].as_array().unwrap().iter().find(|c| c["name"] == name.as_str()).unwrap();
    assert_eq!(conn["state"]["state"], "connected", "{conn}");
    assert!(conn["expires_at"].as_u64().unwrap() > 1_000_000_000, "the refreshed expiry was saved: {conn}");

    // Clean the keychain up again (and the server revokes the grant).
    let out = latchkey(&bin, dir.path(), &["logout", &name]).output().await.unwrap();
    assert!(out.status.success(), "{}", show("logout", &out));
    assert_eq!(fake.counters().revocations, 1);

    fake.shutdown().await;
}
