//! Silent token refresh through the real engine against the fake's rotating refresh tokens:
//! refresh ahead of expiry (FakeClock) with the rotated refresh token replacing the old one in
//! the store; a mid-session 401 (server-side expiry) fixed by exactly one refresh and no new
//! sign-in; and a refused refresh token (`invalid_grant`, after family revocation or explicit
//! revocation) turning the connection into needs_reauth with the refresh token kept, one token
//! request only, and an error that `is_reauth_required()`.

#[path = "../src/support.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use latchkey_core::ConnState;
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_oauth::{Clock, FakeClock};
use support::*;

/// Past the fake's one-hour access tokens (and the engine's refresh margin).
const PAST_EXPIRY: u64 = 3600 + 60;

#[tokio::test]
async fn an_expiring_token_is_refreshed_silently_and_the_rotated_refresh_token_replaces_the_old() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let clock = FakeClock::at(now_unix());
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(clock.clone()));
    lk.connect(atlassian_request(&fake)).await.unwrap();
    let (at0, rt0) = stored_tokens(&env.store, "atlassian").unwrap();
    let rt0 = rt0.expect("refresh token");
    let before = fake.counters();
    assert_eq!(before.refreshes, 0);

    clock.advance(PAST_EXPIRY);
    lk.check("atlassian", &Default::default()).await.expect("check refreshes silently");

    let after = fake.counters();
    assert_eq!(after.refreshes, 1, "{after:?}");
    assert_eq!(after.refresh_failures, 0, "{after:?}");
    assert_eq!(after.authorizations, before.authorizations, "no new sign-in: {after:?}");
    assert_eq!(after.unauthorized_mcp, before.unauthorized_mcp, "refreshed before sending, not after a 401: {after:?}");
    assert_eq!(browser.opened(), 1);

    let (at1, rt1) = stored_tokens(&env.store, "atlassian").unwrap();
    let rt1 = rt1.expect("rotated refresh token stored");
    assert_ne!(at1, at0);
    assert_ne!(rt1, rt0, "the server rotated the refresh token");
    // Only one secret item, and it no longer holds the old refresh token.
    assert_eq!(env.store.len(), 1, "{:?}", env.store);
    let raw = std::fs::read_to_string(env.state_file()).unwrap();
    assert!(!raw.contains(&rt0) && !raw.contains(&rt1) && !raw.contains(&at1));

    let conn = lk.connection("atlassian").unwrap();
    assert_eq!(conn.state, ConnState::Connected);
    assert_eq!(conn.last_refresh_at, Some(clock.now_unix()));
    assert!(conn.expires_at.is_some_and(|e| e > clock.now_unix()));

    // The next check uses the new token as is.
    lk.check("atlassian", &Default::default()).await.unwrap();
    assert_eq!(fake.counters().refreshes, 1);

    fake.shutdown().await;
}

#[tokio::test]
async fn a_mid_session_401_is_fixed_by_exactly_one_refresh() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let clock = FakeClock::at(now_unix());
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(clock.clone()));
    lk.connect(atlassian_request(&fake)).await.unwrap();
    let (at0, _) = stored_tokens(&env.store, "atlassian").unwrap();
    let before = fake.counters();

    // The server expires the tokens although our clock says they are still good.
    fake.expire_all_access_tokens();
    let report = lk.check("atlassian", &Default::default()).await.expect("recovers silently");
    assert!(!report.tools.is_empty());

    let after = fake.counters();
    assert_eq!(after.refreshes, 1, "{after:?}");
    assert_eq!(after.refresh_failures, 0, "{after:?}");
    assert_eq!(after.authorizations, before.authorizations, "no new sign-in: {after:?}");
    assert_eq!(after.unauthorized_mcp, before.unauthorized_mcp + 1, "one 401, then the refreshed token: {after:?}");
    assert_eq!(browser.opened(), 1);
    let (at1, _) = stored_tokens(&env.store, "atlassian").unwrap();
    assert_ne!(at1, at0);
    assert_eq!(lk.connection("atlassian").unwrap().state, ConnState::Connected);

    fake.shutdown().await;
}

/// Checks the outcome of a refused refresh: one token request, needs_reauth, RT kept.
async fn assert_refused(
    lk: &latchkey_core::Latchkey,
    env: &Env,
    fake: &FakeAtlassian,
    kept_rt: &str,
    before: &latchkey_e2e::Counters,
    browser: &HeadlessBrowser,
    opened_before: usize,
) {
    let err = lk.check("atlassian", &Default::default()).await.expect_err("refresh is refused");
    assert!(err.is_reauth_required(), "{err:?}");
    assert_eq!(err.kind(), "reauth_required", "{err}");
    let msg = one_line(&err);
    assert!(msg.contains("latchkey connect atlassian"), "the message says how to fix it: {msg}");

    let after = fake.counters();
    assert_eq!(after.refresh_failures, before.refresh_failures + 1, "exactly one refresh attempt: {after:?}");
    assert_eq!(after.refreshes, before.refreshes, "{after:?}");
    assert_eq!(after.authorizations, before.authorizations, "no browser sign-in by itself: {after:?}");
    assert_eq!(browser.opened(), opened_before);

    let conn = lk.connection("atlassian").unwrap();
    assert!(matches!(conn.state, ConnState::NeedsReauth { .. }), "{:?}", conn.state);
    assert_eq!(lk.status().unwrap()[0].state, "needs_reauth");
    let (_, rt) = stored_tokens(&env.store, "atlassian").expect("tokens kept");
    assert_eq!(rt.as_deref(), Some(kept_rt), "the refresh token is kept");
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_the_family_and_needs_reauth() {
    let fake = FakeAtlassian::start(FakeOptions { refresh_reuse_grace: Duration::ZERO, ..FakeOptions::default() }).await.unwrap();
    let env = Env::new();
    let clock = FakeClock::at(now_unix());
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(clock.clone()));
    lk.connect(atlassian_request(&fake)).await.unwrap();
    let (at0, rt0) = stored_tokens(&env.store, "atlassian").unwrap();
    let rt0 = rt0.unwrap();

    // One good refresh retires rt0.
    clock.advance(PAST_EXPIRY);
    lk.check("atlassian", &Default::default()).await.unwrap();
    assert_eq!(fake.counters().refreshes, 1);

    // A stale copy of the old tokens comes back (say, restored from a backup) and is replayed
    // after the (zero) grace period: the server revokes the whole family.
    put_tokens(&env.store, "atlassian", &at0, Some(&rt0));
    clock.advance(PAST_EXPIRY);
    let before = fake.counters();
    assert_refused(&lk, &env, &fake, &rt0, &before, &browser, 1).await;

    // An explicit connect signs in again and recovers.
    lk.connect(atlassian_request(&fake)).await.expect("re-authentication");
    assert_eq!(fake.counters().authorizations, before.authorizations + 1);
    assert_eq!(lk.connection("atlassian").unwrap().state, ConnState::Connected);
    let (_, rt_new) = stored_tokens(&env.store, "atlassian").unwrap();
    assert_ne!(rt_new.as_deref(), Some(rt0.as_str()));

    fake.shutdown().await;
}

#[tokio::test]
async fn a_revoked_refresh_token_needs_reauth_and_is_kept() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let clock = FakeClock::at(now_unix());
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(clock.clone()));
    lk.connect(atlassian_request(&fake)).await.unwrap();
    let (_, rt0) = stored_tokens(&env.store, "atlassian").unwrap();
    let rt0 = rt0.unwrap();

    // Revoked at the server (an admin, or a sign-out elsewhere).
    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}/oauth/revoke", fake.origin()))
        .form(&[("token", rt0.as_str())])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());

    clock.advance(PAST_EXPIRY);
    let before = fake.counters();
    assert_refused(&lk, &env, &fake, &rt0, &before, &browser, 1).await;

    // Asking again does not loop either: one more attempt per operation, still refused.
    let err = lk.check("atlassian", &Default::default()).await.expect_err("still refused");
    assert!(err.is_reauth_required());
    assert_eq!(fake.counters().refresh_failures, before.refresh_failures + 2);
    assert_eq!(fake.counters().authorizations, before.authorizations);

    fake.shutdown().await;
}
