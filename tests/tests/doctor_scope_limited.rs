//! "Connected but only 2 tools": the doctor names the cause. A grant without any Jira or
//! Confluence scope names the missing scopes and says to re-authenticate and approve them; a
//! grant that has them but still sees two tools points at product access.

#[path = "../src/doctor_support.rs"]
mod doctor_support;
#[path = "../src/support.rs"]
mod support;

use std::sync::Arc;

use doctor_support::*;
use latchkey_core::doctor::{Status, checks};
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_oauth::SystemClock;
use support::*;

#[tokio::test]
async fn a_grant_without_product_scopes_names_the_missing_scopes() {
    let (fake, _env, lk) = signed_in().await;
    // The user signs in again and approves only their profile (no Jira, no Confluence).
    lk.sign_in("atlassian", None, Some("read:me offline_access".into())).await.expect("narrow sign-in");

    let r = doctor(&lk, "atlassian").await;
    expect(&r, checks::CONSENT, Status::Ok, &[]);
    expect(&r, checks::TOKENS, Status::Ok, &[]);
    let f = expect(
        &r,
        checks::TOOLS,
        Status::Warn,
        &["only 2 tools", "no jira or confluence", "read:jira:agent-interface", "read:confluence:agent-interface", "granted: read:me offline_access"],
    );
    let action = f.action.as_deref().unwrap();
    assert!(action.contains("Re-authenticate") && action.contains("approve Jira and Confluence"), "{action}");
    fake.shutdown().await;
}

#[tokio::test]
async fn two_tools_despite_the_scopes_points_at_product_access() {
    let fake = FakeAtlassian::start(FakeOptions { scope_limited: true, ..FakeOptions::default() }).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(atlassian_request(&fake)).await.expect("connect");

    let r = doctor(&lk, "atlassian").await;
    expect(&r, checks::TOOLS, Status::Warn, &["only 2 tools", "getAccessibleAtlassianResources", "product access", "site admin"]);
    assert!(r.passed(), "a warning, not a failure");
    fake.shutdown().await;
}
