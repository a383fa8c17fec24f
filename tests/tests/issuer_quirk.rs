//! Atlassian's known issuer bug (the tenant's authorization-server metadata names the bare
//! origin as `issuer`): the `atlassian` preset accepts exactly that quirk and connects, while
//! the same server added as a plain URL (Strict RFC 8414 §3.3 policy) is refused with
//! `issuer_mismatch`, before any registration or authorization, and stores nothing.

#[path = "../src/support.rs"]
mod support;

use std::sync::Arc;

use latchkey_core::{ConnState, ConnectRequest};
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_oauth::SystemClock;
use support::*;

fn buggy() -> FakeOptions {
    FakeOptions { issuer_bug: true, ..FakeOptions::default() }
}

#[tokio::test]
async fn the_atlassian_preset_tolerates_the_bare_origin_issuer() {
    let fake = FakeAtlassian::start(buggy()).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));

    let report = lk.connect(atlassian_request(&fake)).await.expect("preset connects despite the issuer bug");
    assert!(!report.tools.is_empty());
    let conn = lk.connection("atlassian").unwrap();
    assert_eq!(conn.state, ConnState::Connected);
    // What was accepted is exactly the bare origin, not anything else.
    let discovered = conn.discovered.expect("discovery saved");
    assert_eq!(discovered.auth_server.issuer, fake.origin());
    assert_ne!(discovered.auth_server.issuer, fake.issuer());
    assert!(stored_tokens(&env.store, "atlassian").is_some());
    let c = fake.counters();
    assert_eq!((c.registrations, c.authorizations, c.code_exchanges), (1, 1, 1), "{c:?}");

    fake.shutdown().await;
}

#[tokio::test]
async fn a_plain_url_is_strict_and_refuses_the_mismatched_issuer() {
    let fake = FakeAtlassian::start(buggy()).await.unwrap();
    let env = Env::new();
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(SystemClock));

    let err = lk.connect(ConnectRequest { target: fake.mcp_url(), ..Default::default() }).await.expect_err("strict policy refuses");
    assert_eq!(err.kind(), "issuer_mismatch", "{err}");
    let msg = one_line(&err);
    assert!(msg.contains(&fake.origin()), "{msg}");

    // Nothing half-done: no secrets, no sign-in attempted, the connection is not connected.
    assert!(env.store.is_empty(), "{:?}", env.store);
    let c = fake.counters();
    assert_eq!((c.registrations, c.authorizations, c.code_exchanges), (0, 0, 0), "{c:?}");
    assert_eq!(browser.opened(), 0);
    for conn in lk.connections().unwrap() {
        assert_ne!(conn.state, ConnState::Connected, "{conn:?}");
        assert!(conn.registration.is_none() && conn.discovered.is_none(), "{conn:?}");
    }
    assert!(lk.status().unwrap().iter().all(|v| v.state != "connected"));

    // Once the server is fixed, the same plain-URL connection works.
    fake.set_options(|o| o.issuer_bug = false);
    lk.connect(ConnectRequest { target: fake.mcp_url(), ..Default::default() }).await.expect("fixed server connects");
    assert_eq!(fake.counters().authorizations, 1);

    fake.shutdown().await;
}
