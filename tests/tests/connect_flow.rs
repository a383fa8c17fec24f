//! Full headless connect against the fake Atlassian through the real engine: discovery, dynamic
//! client registration, authorize (a headless browser follows the redirects to the real
//! loopback callback), code exchange, then an MCP session. Covers: status "connected", a state
//! file without secrets, the tool list, a second site as a second connection with its own grant,
//! token reuse on later checks, and the stable redirect port (same port, no re-registration;
//! an occupied port moves and re-registers).

#[path = "../src/support.rs"]
mod support;

use std::sync::Arc;

use latchkey_core::{AuthKind, ConnState, ConnectRequest};
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_oauth::SystemClock;
use support::*;

#[tokio::test]
async fn headless_connect_stores_tokens_in_the_store_and_nothing_secret_on_disk() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(SystemClock));

    let report = lk.connect(atlassian_request(&fake)).await.expect("connect succeeds");
    assert_eq!(report.name, "atlassian");
    assert_eq!(report.url, fake.mcp_url());
    assert_eq!(report.server.as_deref(), Some("fake-atlassian"));

    let c = fake.counters();
    assert_eq!(c.registrations, 1, "{c:?}");
    assert_eq!(c.authorizations, 1, "{c:?}");
    assert_eq!(c.code_exchanges, 1, "{c:?}");
    assert_eq!(c.refreshes, 0, "{c:?}");
    assert!(c.unauthorized_mcp >= 1, "the first MCP request had no token and was challenged: {c:?}");
    assert!(c.mcp_requests >= 1, "{c:?}");

    // The browser really reached the loopback callback and got the success page.
    let visits = browser.visits();
    assert_eq!(visits.len(), 1, "{visits:?}");
    let v = &visits[0];
    assert!(v.final_url.as_deref().is_some_and(|u| u.starts_with("http://127.0.0.1:") && u.contains("/callback?")), "{v:?}");
    assert_eq!(v.status, Some(200), "{v:?}");
    assert!(v.body.as_deref().unwrap_or_default().contains("signed in"), "{v:?}");

    // Status.
    let views = lk.status().unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].state, "connected");
    assert_eq!(views[0].auth, AuthKind::OAuth);
    assert!(views[0].refreshable);

    // Secrets: in the store, never in the state file.
    let (access, refresh) = stored_tokens(&env.store, "atlassian").expect("tokens stored");
    let refresh = refresh.expect("offline_access gives a refresh token");
    let on_disk = std::fs::read_to_string(env.state_file()).expect("connections.json written");
    assert!(!on_disk.contains(&access), "access token leaked into connections.json");
    assert!(!on_disk.contains(&refresh), "refresh token leaked into connections.json");
    let conn = lk.connection("atlassian").unwrap();
    assert_eq!(conn.state, ConnState::Connected);
    assert!(conn.has_refresh_token);
    assert!(conn.redirect_port.is_some());

    // Tools: exactly what the fake lists.
    let mut expected = fake_tool_names(&fake, &access).await;
    let mut got = report.tools.clone();
    expected.sort();
    got.sort();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);

    fake.shutdown().await;
}

#[tokio::test]
async fn a_second_site_is_a_second_connection_with_its_own_grant() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));

    lk.connect(atlassian_request(&fake)).await.expect("first site");
    let second = lk.connect(ConnectRequest { name: Some("acme-2".into()), ..atlassian_request(&fake) }).await.expect("second site");
    assert_eq!(second.name, "acme-2");

    let c = fake.counters();
    assert_eq!(c.authorizations, 2, "{c:?}");
    assert_eq!(c.code_exchanges, 2, "{c:?}");

    let mut names: Vec<_> = lk.connections().unwrap().into_iter().map(|c| c.name).collect();
    names.sort();
    assert_eq!(names, ["acme-2", "atlassian"]);
    assert!(lk.status().unwrap().iter().all(|v| v.state == "connected"));

    let a = stored_tokens(&env.store, "atlassian").expect("first grant stored");
    let b = stored_tokens(&env.store, "acme-2").expect("second grant stored");
    assert_ne!(a.0, b.0, "each connection has its own access token");
    assert_ne!(a.1, b.1, "each connection has its own refresh token");

    // Both keep working independently, without new sign-ins.
    lk.check("atlassian", &Default::default()).await.expect("first still works");
    lk.check("acme-2", &Default::default()).await.expect("second still works");
    assert_eq!(fake.counters().authorizations, 2);

    fake.shutdown().await;
}

#[tokio::test]
async fn check_reuses_the_stored_tokens() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(SystemClock));
    lk.connect(atlassian_request(&fake)).await.unwrap();
    let before = fake.counters();
    let tokens_before = stored_tokens(&env.store, "atlassian");

    for _ in 0..2 {
        let report = lk.check("atlassian", &Default::default()).await.expect("check");
        assert!(!report.tools.is_empty());
    }

    let after = fake.counters();
    assert_eq!(after.authorizations, before.authorizations, "{after:?}");
    assert_eq!(after.registrations, before.registrations, "{after:?}");
    assert_eq!(after.code_exchanges, before.code_exchanges, "{after:?}");
    assert_eq!(after.refreshes, 0, "{after:?}");
    assert_eq!(after.unauthorized_mcp, before.unauthorized_mcp, "stored token was sent straight away: {after:?}");
    assert!(after.mcp_requests > before.mcp_requests);
    assert_eq!(stored_tokens(&env.store, "atlassian"), tokens_before);
    assert_eq!(browser.opened(), 1, "no browser after the first sign-in");

    fake.shutdown().await;
}

#[tokio::test]
async fn the_redirect_port_is_stable_and_moves_only_when_taken() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(SystemClock));
    lk.connect(atlassian_request(&fake)).await.unwrap();
    let first = lk.connection("atlassian").unwrap();
    let port = first.redirect_port.expect("port saved");
    let reg = first.registration.clone().expect("registration saved");
    assert_eq!(reg.redirect_uri, format!("http://127.0.0.1:{port}/callback"));
    assert_eq!(fake.counters().registrations, 1);

    // Sign in again: same port, same client, no new registration.
    lk.sign_in("atlassian", None, None).await.expect("second sign-in");
    let second = lk.connection("atlassian").unwrap();
    assert_eq!(second.redirect_port, Some(port));
    assert_eq!(second.registration.as_ref().map(|r| &r.client_id), Some(&reg.client_id));
    let c = fake.counters();
    assert_eq!(c.registrations, 1, "same port must reuse the registration: {c:?}");
    assert_eq!(c.authorizations, 2, "{c:?}");
    assert_eq!(c.code_exchanges, 2, "{c:?}");
    let visit = browser.visits().pop().unwrap();
    assert!(visit.final_url.as_deref().unwrap_or_default().starts_with(&format!("http://127.0.0.1:{port}/callback?")), "{visit:?}");

    // Another program holds the port: the flow picks another, registers again, still succeeds.
    let blocker = occupy_port(port);
    lk.sign_in("atlassian", None, None).await.expect("sign-in on a new port");
    let third = lk.connection("atlassian").unwrap();
    let moved = third.redirect_port.expect("port saved");
    assert_ne!(moved, port);
    let new_reg = third.registration.expect("registration saved");
    assert_ne!(new_reg.client_id, reg.client_id);
    assert_eq!(new_reg.redirect_uri, format!("http://127.0.0.1:{moved}/callback"));
    let c = fake.counters();
    assert_eq!(c.registrations, 2, "a moved port means a new registration: {c:?}");
    assert_eq!(c.authorizations, 3, "{c:?}");
    assert_eq!(c.code_exchanges, 3, "{c:?}");
    assert_eq!(third.state, ConnState::Connected);
    drop(blocker);

    // The new tokens work.
    lk.check("atlassian", &Default::default()).await.expect("check after moving");
    assert_eq!(fake.counters().authorizations, 3);

    fake.shutdown().await;
}
