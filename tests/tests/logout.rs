//! Logout through the real engine: after a headless connect, `logout` revokes the grant at the
//! server (RFC 7009; the fake then refuses the old refresh token), deletes every secret of the
//! connection from the store, and removes the connection from the state file, leaving other
//! connections alone.

#[path = "../src/support.rs"]
mod support;

use std::sync::Arc;

use latchkey_core::ConnectRequest;
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_oauth::SystemClock;
use support::*;

#[tokio::test]
async fn logout_revokes_at_the_server_and_deletes_everything() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(atlassian_request(&fake)).await.unwrap();
    let conn = lk.connection("atlassian").unwrap();
    let client_id = conn.registration.as_ref().unwrap().client_id.clone();
    let (access, refresh) = stored_tokens(&env.store, "atlassian").unwrap();
    let refresh = refresh.unwrap();
    assert!(!env.store.is_empty());
    assert_eq!(fake.counters().revocations, 0);

    let revoked = lk.logout("atlassian").await.expect("logout");
    assert!(revoked, "the server offers revocation, so logout revoked");
    assert_eq!(fake.counters().revocations, 1);

    // Every secret is gone, and so is the connection.
    assert!(env.store.is_empty(), "{:?}", env.store);
    assert!(lk.connections().unwrap().is_empty());
    assert!(lk.status().unwrap().is_empty());
    let err = lk.connection("atlassian").expect_err("connection removed");
    assert_eq!(err.kind(), "unknown_target");
    let on_disk = std::fs::read_to_string(env.state_file()).unwrap();
    assert!(!on_disk.contains("atlassian") && !on_disk.contains(&client_id), "{on_disk}");

    // The server really revoked the grant: the old refresh token and access token are dead.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let resp = http
        .post(format!("{}/oauth/token", fake.origin()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str()), ("client_id", client_id.as_str()), ("resource", fake.mcp_url().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let resp = http
        .post(fake.mcp_url())
        .bearer_auth(&access)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);

    fake.shutdown().await;
}

#[tokio::test]
async fn logout_leaves_other_connections_alone() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(SystemClock));
    lk.connect(atlassian_request(&fake)).await.unwrap();
    lk.connect(ConnectRequest { name: Some("acme-2".into()), ..atlassian_request(&fake) }).await.unwrap();
    let kept = stored_tokens(&env.store, "acme-2").unwrap();

    assert!(lk.logout("atlassian").await.unwrap());
    assert_eq!(fake.counters().revocations, 1);
    assert!(stored_tokens(&env.store, "atlassian").is_none());
    assert_eq!(stored_tokens(&env.store, "acme-2"), Some(kept));
    let names: Vec<_> = lk.connections().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["acme-2"]);

    // The other grant is a different family: it still works without a new sign-in.
    lk.check("acme-2", &Default::default()).await.expect("other connection unaffected");
    assert_eq!(fake.counters().authorizations, 2);
    assert_eq!(browser.opened(), 2);

    fake.shutdown().await;
}
