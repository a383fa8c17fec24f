//! The committed TypeScript bindings are the IPC contract: this fails when they drift from the
//! Rust commands and events. Fix: `cargo run -p latchkey-app --bin export-bindings`.

#[test]
fn committed_bindings_match_the_commands() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(latchkey_app::BINDINGS_PATH);
    let generated = latchkey_app::bindings().expect("the bindings generate");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with the Rust commands/events. Run `cargo run -p latchkey-app --bin export-bindings` and commit the result.",
        path.display()
    );
}

#[test]
fn bindings_name_every_command_and_event() {
    let ts = latchkey_app::bindings().unwrap();
    for name in [
        "status",
        "connect",
        "cancelSignIn",
        "reauth",
        "testConnection",
        "disconnect",
        "apps",
        "setApp",
        "restoreApp",
        "getAutostart",
        "setAutostart",
        "windowState",
    ] {
        assert!(ts.contains(&format!("{name}(")) || ts.contains(&format!("{name}:")), "missing command {name}");
    }
    for event in ["engine-event", "auth-url", "sign-in", "navigate"] {
        assert!(ts.contains(event), "missing event {event}");
    }
}
