//! Round-trips against the REAL OS keychain through `KeychainStore`.
//!
//! Runs only with `LATCHKEY_KEYCHAIN_TESTS=1`, because on Linux it needs a session bus with an
//! unlocked Secret Service (see /work/shared/reference/linux-build.md for the recipe); otherwise
//! each test prints that it was skipped and passes. Each run uses a unique service name so it
//! never touches real Latchkey entries and parallel runs cannot collide.

use std::time::{SystemTime, UNIX_EPOCH};

use latchkey_secrets::{KeychainStore, SecretString, TokenStore};

fn enabled(test: &str) -> bool {
    let on = std::env::var("LATCHKEY_KEYCHAIN_TESTS").is_ok_and(|v| v == "1");
    if !on {
        println!("skipped {test}: set LATCHKEY_KEYCHAIN_TESTS=1 (needs a session keychain)");
    }
    on
}

fn unique_service(test: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("latchkey-test-{test}-{}-{nanos}", std::process::id())
}

#[test]
fn round_trip_set_get_overwrite_delete() {
    if !enabled("round_trip_set_get_overwrite_delete") {
        return;
    }
    let store = KeychainStore::new(unique_service("roundtrip"));
    let account = "conn/atlassian/tokens";

    assert!(store.get(account).unwrap().is_none(), "fresh service must be empty");

    store.set(account, &SecretString::from(r#"{"access":"a1","refresh":"r1"}"#)).unwrap();
    assert_eq!(store.get(account).unwrap().unwrap().expose(), r#"{"access":"a1","refresh":"r1"}"#);

    // Overwrite must replace, not add a second matching item (which would be Ambiguous).
    store.set(account, &SecretString::from("v2 with unicode ✓")).unwrap();
    assert_eq!(store.get(account).unwrap().unwrap().expose(), "v2 with unicode ✓");

    // Accounts are independent.
    store.set("conn/other/tokens", &"other".into()).unwrap();
    assert_eq!(store.get(account).unwrap().unwrap().expose(), "v2 with unicode ✓");

    store.delete(account).unwrap();
    assert!(store.get(account).unwrap().is_none());
    store.delete(account).unwrap(); // deleting a missing entry is Ok
    store.delete("conn/other/tokens").unwrap();
    assert!(store.get("conn/other/tokens").unwrap().is_none());
}

#[test]
fn probe_succeeds_and_leaves_nothing_behind() {
    if !enabled("probe_succeeds_and_leaves_nothing_behind") {
        return;
    }
    let store = KeychainStore::new(unique_service("probe"));
    store.probe().unwrap();
    store.probe().unwrap();
    assert!(store.get("latchkey-probe").unwrap().is_none());
    println!("probe ok against {}", store.describe());
}
