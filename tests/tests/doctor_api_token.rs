//! API-token connections: when the organization has not enabled API-token access the doctor
//! fails the api_token check with a message for the org admin; when enabled it passes; an
//! unscoped (classic) token that sees only the two account tools is named as the cause.

#[path = "../src/doctor_support.rs"]
mod doctor_support;
#[path = "../src/support.rs"]
mod support;

use std::sync::Arc;

use doctor_support::*;
use latchkey_core::doctor::{Status, checks};
use latchkey_core::{ApiToken, ConnectRequest};
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_oauth::SystemClock;
use support::*;

fn token_request(fake: &FakeAtlassian) -> ConnectRequest {
    ConnectRequest {
        api_token: Some(ApiToken::Personal { email: "jane@acme.test".into(), token: "tok-123".into() }),
        site: Some("acme.atlassian.net".into()),
        ..atlassian_request(fake)
    }
}

#[tokio::test]
async fn an_org_without_api_token_access_gets_an_admin_message() {
    let opts = FakeOptions { api_token_basic: Some(("jane@acme.test".into(), "tok-123".into())), ..FakeOptions::default() };
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(token_request(&fake)).await.expect("token accepted while enabled");

    let r = doctor(&lk, "atlassian").await;
    expect(&r, checks::API_TOKEN, Status::Ok, &["accepts the personal api token"]);
    expect(&r, checks::TOOLS, Status::Ok, &["7 tools"]);
    assert!(r.finding(checks::DISCOVERY).is_none() && r.finding(checks::TOKENS).is_none(), "OAuth checks do not apply:\n{}", show(&r));

    fake.set_options(|o| o.api_tokens_enabled = false);
    let r = doctor(&lk, "atlassian").await;
    let f = expect(&r, checks::API_TOKEN, Status::Fail, &["organization has not enabled api-token access", "organization admin", "latchkey connect atlassian"]);
    let msg = f.admin_message.as_deref().expect("a message for the org admin");
    assert!(msg.contains("enable API-token authentication") && msg.contains("Rovo MCP server"), "{msg}");
    assert!(!msg.contains("tok-123"), "the token never appears");
    skipped(&r, &[checks::TOOLS]);
    assert!(!r.passed());
    fake.shutdown().await;
}

#[tokio::test]
async fn an_unscoped_token_seeing_two_tools_is_named() {
    let opts = FakeOptions { api_token_basic: Some(("jane@acme.test".into(), "tok-123".into())), ..FakeOptions::default() };
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(token_request(&fake)).await.expect("connect");
    fake.set_options(|o| o.scope_limited = true);

    let r = doctor(&lk, "atlassian").await;
    expect(&r, checks::API_TOKEN, Status::Ok, &[]);
    expect(&r, checks::TOOLS, Status::Warn, &["only 2 tools", "unscoped", "scoped api token", "jira and confluence scopes"]);
    fake.shutdown().await;
}
