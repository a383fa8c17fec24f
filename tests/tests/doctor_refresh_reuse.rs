//! An expired access token whose refresh token was already used (rotation, then an old copy
//! comes back after the reuse grace): the doctor tries one refresh, the server refuses it and
//! revokes the family, and the tokens check fails with "sign in again".

#[path = "../src/doctor_support.rs"]
mod doctor_support;
#[path = "../src/support.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use doctor_support::*;
use latchkey_core::ConnState;
use latchkey_core::doctor::{Status, checks};
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_oauth::FakeClock;
use support::*;

const PAST_EXPIRY: u64 = 3600 + 60;

#[tokio::test]
async fn a_reused_refresh_token_means_sign_in_again() {
    let fake = FakeAtlassian::start(FakeOptions { refresh_reuse_grace: Duration::ZERO, ..FakeOptions::default() }).await.unwrap();
    let env = Env::new();
    let clock = FakeClock::at(now_unix());
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(clock.clone()));
    lk.connect(atlassian_request(&fake)).await.expect("connect");
    let (at0, rt0) = stored_tokens(&env.store, "atlassian").unwrap();

    // A healthy expiry first: the doctor renews it and says so.
    clock.advance(PAST_EXPIRY);
    let r = doctor(&lk, "atlassian").await;
    expect(&r, checks::TOKENS, Status::Ok, &["had expired", "renewed"]);
    assert_eq!(fake.counters().refreshes, 1);

    // An old copy of the tokens comes back (say, restored by another install), then expires.
    put_tokens(&env.store, "atlassian", &at0, rt0.as_deref());
    clock.advance(PAST_EXPIRY);
    let r = doctor(&lk, "atlassian").await;
    let f = expect(&r, checks::TOKENS, Status::Fail, &["refused the refresh token", "already used", "sign in again", "latchkey connect atlassian"]);
    assert!(!f.summary.contains(rt0.as_deref().unwrap()), "{f:?}");
    skipped(&r, &[checks::TOOLS]);
    assert!(!r.passed());
    assert_eq!(fake.counters().refresh_failures, 1, "one refresh attempt only");
    assert!(matches!(lk.connection("atlassian").unwrap().state, ConnState::NeedsReauth { .. }));

    // Run again: the connection is known to need a sign-in; no more token requests.
    let r = doctor(&lk, "atlassian").await;
    expect(&r, checks::TOKENS, Status::Fail, &["sign in again"]);
    assert_eq!(fake.counters().refresh_failures, 1);
    fake.shutdown().await;
}
