//! Atlassian's issuer bug as the doctor reports it: with the `atlassian` preset the quirk is
//! accepted and reported as a warning that explains it; with a plain URL (strict issuer
//! checking) discovery fails and the action points at the preset.

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
async fn the_preset_accepts_the_quirk_with_a_warning() {
    let fake = FakeAtlassian::start(FakeOptions { issuer_bug: true, ..FakeOptions::default() }).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(atlassian_request(&fake)).await.expect("the preset connects");

    let r = doctor(&lk, "atlassian").await;
    let f = expect(&r, checks::DISCOVERY, Status::Warn, &["issuer bug", &fake.issuer(), &fake.origin()]);
    assert!(f.action.as_deref().unwrap().contains("Nothing to do"), "{f:?}");
    expect(&r, checks::TOKENS, Status::Ok, &[]);
    expect(&r, checks::TOOLS, Status::Ok, &["7 tools"]);
    assert!(r.passed(), "a warning is not a failure:\n{}", show(&r));
    fake.shutdown().await;
}

#[tokio::test]
async fn a_strict_connection_fails_discovery_and_is_pointed_at_the_preset() {
    let fake = FakeAtlassian::start(FakeOptions { issuer_bug: true, ..FakeOptions::default() }).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let name = lk.resolve(&fake.mcp_url(), None, None, &Default::default()).unwrap();

    let r = doctor(&lk, &name).await;
    expect(&r, checks::NETWORK, Status::Ok, &[]);
    expect(&r, checks::DISCOVERY, Status::Fail, &["issuer mismatch", "known issuer bug", "latchkey connect atlassian --url"]);
    skipped(&r, &[checks::REGISTRATION, checks::REDIRECT, checks::CONSENT, checks::TOKENS, checks::TOOLS]);
    assert!(!r.passed());
    let c = fake.counters();
    assert_eq!((c.registrations, c.authorizations), (0, 0), "{c:?}");
    fake.shutdown().await;
}
