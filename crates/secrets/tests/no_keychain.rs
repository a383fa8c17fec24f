//! With no reachable session bus, `KeychainStore::probe()` must fail as "unavailable", not hang
//! or panic, and its message must tell the user how to fix it.
//!
//! The bus address is changed in a child process (this same test binary re-run with
//! `DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent`): mutating the environment in-process needs
//! `unsafe` in edition 2024, which the workspace forbids, and a child cannot disturb other tests.
//! Linux-only, because only the Secret Service backend depends on that variable.

#![cfg(target_os = "linux")]

use std::process::Command;

use latchkey_secrets::KeychainStore;

const CHILD_MARKER: &str = "LATCHKEY_NO_KEYCHAIN_CHILD";
const TEST_NAME: &str = "probe_without_session_bus_is_unavailable";

#[test]
fn probe_without_session_bus_is_unavailable() {
    if std::env::var_os(CHILD_MARKER).is_some() {
        let err = KeychainStore::new("latchkey-test-no-bus").probe().unwrap_err();
        println!("probe error kind={} message={err}", err.kind());
        println!("probe error debug={err:?}");
        assert!(err.is_unavailable(), "expected unavailable, got {err:?}");
        assert_eq!(err.kind(), "keychain_unavailable");
        assert!(err.to_string().contains("gnome-keyring"));
        return;
    }

    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_MARKER, "1")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        // Without DISPLAY libdbus cannot try to autolaunch a bus either.
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(out.status.success(), "child failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("kind=keychain_unavailable"), "child did not run the probe:\n{stdout}");
}
