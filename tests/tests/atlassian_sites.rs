//! Atlassian Cloud end to end against the fake: the granted site and account are learned after
//! connecting and shown in status; a second site is a second connection beside the first; the
//! gateway adds the pinned cloudId to calls that omit it; API tokens name their site, and an
//! organisation without API-token access gets a plain explanation; `/v1` connections move to
//! `/v2/mcp`.

#[path = "../src/support.rs"]
mod support;

use std::sync::Arc;

use latchkey_core::{ApiToken, ConnectRequest};
use latchkey_e2e::{FakeAtlassian, FakeOptions, FakeSite};
use latchkey_oauth::SystemClock;
use support::{Env, HeadlessBrowser, atlassian_request, engine};

fn two_sites() -> Vec<FakeSite> {
    vec![
        FakeSite { cloud_id: "11111111-1111-1111-1111-111111111111".into(), name: "acme".into(), url: "https://acme.atlassian.net".into() },
        FakeSite { cloud_id: "22222222-2222-2222-2222-222222222222".into(), name: "beta".into(), url: "https://beta.atlassian.net".into() },
    ]
}

#[tokio::test]
async fn sites_and_account_are_learned_and_a_second_site_is_a_second_connection() {
    let fake = FakeAtlassian::start(FakeOptions { sites: two_sites(), ..Default::default() }).await.unwrap();
    let env = Env::new();
    let engine = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let report = engine.connect(atlassian_request(&fake)).await.unwrap();
    assert_eq!(report.site.as_deref(), Some("acme.atlassian.net"));
    assert_eq!(report.account.as_deref(), Some("Jane Doe"));
    let conn = engine.connection("atlassian").unwrap();
    assert_eq!(conn.pinned_cloud_id.as_deref(), Some("11111111-1111-1111-1111-111111111111"), "a single-site grant is pinned");
    assert!(conn.cloud_id_tools.iter().any(|t| t == "getJiraIssue"));

    // The second site: the user picks it on the consent screen.
    fake.set_options(|o| o.consent_site = Some("22222222-2222-2222-2222-222222222222".into()));
    let second = engine.connect(ConnectRequest { name: Some("beta".into()), ..atlassian_request(&fake) }).await.unwrap();
    assert_eq!(second.site.as_deref(), Some("beta.atlassian.net"));
    let views = engine.status().unwrap();
    let sites: Vec<_> = views.iter().map(|v| (v.name.as_str(), v.site.as_deref(), v.state)).collect();
    assert_eq!(sites, [("atlassian", Some("acme.atlassian.net"), "connected"), ("beta", Some("beta.atlassian.net"), "connected")]);
    assert_eq!(fake.counters().authorizations, 2, "each site has its own grant");

    // Picking the same site again is pointed out.
    fake.set_options(|o| o.consent_site = None);
    let again = engine.connect(ConnectRequest { name: Some("acme-again".into()), ..atlassian_request(&fake) }).await.unwrap();
    assert!(again.notes.iter().any(|n| n.contains("already reaches this site")), "{:?}", again.notes);
    fake.shutdown().await;
}

#[tokio::test]
async fn the_gateway_adds_the_pinned_cloud_id() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let engine = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    engine.connect(atlassian_request(&fake)).await.unwrap();
    let gw = latchkey_gateway::Gateway::start(engine.clone(), env.config_dir(), latchkey_gateway::Config::on_port(0)).await.unwrap();
    let (_, key) = engine.issue_local_key("atlassian", "test").unwrap();
    let url = format!("http://{}/mcp/atlassian", gw.addr);
    let client = reqwest::Client::new();
    let call = |body: serde_json::Value| {
        client.post(&url).header("x-latchkey-key", key.expose().as_str()).header("accept", "application/json, text/event-stream").json(&body).send()
    };
    let init = serde_json::json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let sid = call(init).await.unwrap().headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_owned());
    let tool = serde_json::json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"getJiraIssue","arguments":{"issueIdOrKey":"ACME-1"}}});
    let mut req = client.post(&url).header("x-latchkey-key", key.expose().as_str()).header("accept", "application/json, text/event-stream").json(&tool);
    if let Some(s) = &sid {
        req = req.header("mcp-session-id", s);
    }
    let answer: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
    let text = answer.pointer("/result/content/0/text").and_then(|t| t.as_str()).unwrap_or_default().to_owned();
    assert!(text.contains("11111111-1111-1111-1111-111111111111"), "the call reached the pinned site: {answer}");

    engine.set_pinned_site("atlassian", false).unwrap();
    let mut req = client.post(&url).header("x-latchkey-key", key.expose().as_str()).header("accept", "application/json, text/event-stream").json(&tool);
    if let Some(s) = &sid {
        req = req.header("mcp-session-id", s);
    }
    let answer: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
    assert!(answer.get("error").is_some(), "without the pin the server asks for cloudId: {answer}");
    gw.shutdown(std::time::Duration::from_secs(2)).await;
    fake.shutdown().await;
}

#[tokio::test]
async fn api_tokens_name_their_site_and_a_disabled_org_is_explained() {
    let opts =
        FakeOptions { sites: two_sites(), api_token_basic: Some(("jane@acme.test".into(), "tok-123".into())), api_tokens_enabled: false, ..Default::default() };
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let env = Env::new();
    let engine = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let req = ConnectRequest {
        api_token: Some(ApiToken::Personal { email: "jane@acme.test".into(), token: "tok-123".into() }),
        site: Some("beta.atlassian.net".into()),
        ..atlassian_request(&fake)
    };
    let err = engine.connect(req.clone()).await.unwrap_err();
    assert_eq!(err.kind(), "api_tokens_disabled", "{err}");
    assert!(err.to_string().contains("admin"), "{err}");
    assert!(!err.to_string().contains('\n'));
    assert_eq!(engine.status().unwrap()[0].state, "needs_reauth");
    assert_eq!(fake.counters().authorizations, 0, "no browser for API tokens");

    fake.set_options(|o| o.api_tokens_enabled = true);
    let report = engine.connect(req).await.unwrap();
    assert_eq!(report.site.as_deref(), Some("beta.atlassian.net"), "the named site is kept");
    assert_eq!(engine.connection("atlassian").unwrap().pinned_cloud_id.as_deref(), Some("22222222-2222-2222-2222-222222222222"));
    fake.shutdown().await;
}

#[tokio::test]
async fn retired_endpoints_warn_and_move_to_v2() {
    let env = Env::new();
    let engine = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let opts = latchkey_core::ClientOptions::default();
    engine.resolve("https://mcp.atlassian.com/v1/sse", Some("old"), None, &opts).unwrap();
    let moved = engine.migrate_atlassian_endpoint("old").unwrap();
    assert_eq!(moved, "https://mcp.atlassian.com/v2/mcp");
    let view = engine.status().unwrap().into_iter().find(|v| v.name == "old").unwrap();
    assert_eq!(view.state, "needs_reauth");
    assert!(engine.migrate_atlassian_endpoint("old").is_err(), "nothing left to move");
    let warning = latchkey_oauth::providers::atlassian::endpoint_warning(&url::Url::parse("https://mcp.atlassian.com/v1/sse").unwrap()).unwrap();
    assert!(warning.contains("no longer supports"));
}
