//! Unit tests for refresh-token rotation, the reuse leeway, family revocation (also under a
//! race between two refreshers), RFC 7009 revocation and `expire_all_access_tokens`.

use std::time::Duration;

use serde_json::json;

use super::tests_auth::{REDIRECT, http, login, mcp_status, refresh, register};
use super::{Counters, FakeAtlassian, FakeOptions};

#[tokio::test]
async fn refresh_rotates_and_allows_reuse_within_grace() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let c = http();
    let (client_id, first) = login(&fake, &c).await;
    let rt1 = first["refresh_token"].as_str().unwrap();

    let (s, second) = refresh(&fake, &c, &client_id, rt1).await;
    assert_eq!(s, 200);
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2);
    assert_ne!(first["access_token"], second["access_token"]);
    assert_eq!(mcp_status(&fake, &c, second["access_token"].as_str().unwrap()).await, 200);

    // Replaying rt1 within the 10-minute leeway still works.
    let (s, third) = refresh(&fake, &c, &client_id, rt1).await;
    assert_eq!(s, 200);
    assert_ne!(third["refresh_token"].as_str().unwrap(), rt2);

    // Another client cannot use the token; an unknown token is invalid_grant.
    let other = register(&fake, &c, REDIRECT).await;
    let (s, body) = refresh(&fake, &c, &other, rt2).await;
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));
    let (s, body) = refresh(&fake, &c, &client_id, "rt_unknown").await;
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));

    let counters = fake.counters();
    assert_eq!((counters.refreshes, counters.refresh_failures), (2, 2));
    fake.shutdown().await;
}

#[tokio::test]
async fn reuse_after_grace_revokes_the_family() {
    let opts = FakeOptions { refresh_reuse_grace: Duration::ZERO, ..FakeOptions::default() };
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let c = http();
    let (client_id, first) = login(&fake, &c).await;
    let rt1 = first["refresh_token"].as_str().unwrap();
    let (_, second) = refresh(&fake, &c, &client_id, rt1).await;
    let rt2 = second["refresh_token"].as_str().unwrap();
    let at2 = second["access_token"].as_str().unwrap();
    assert_eq!(mcp_status(&fake, &c, at2).await, 200);

    let (s, body) = refresh(&fake, &c, &client_id, rt1).await;
    assert_eq!(s, 400);
    assert_eq!(body, json!({"error": "invalid_grant", "error_description": "refresh token was already used"}));
    // The whole family is gone: the newest refresh token and the access token too.
    let (s, body) = refresh(&fake, &c, &client_id, rt2).await;
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(mcp_status(&fake, &c, at2).await, 401);
    fake.shutdown().await;
}

#[tokio::test]
async fn revoke_and_expire_and_latency() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let c = http();
    let (client_id, first) = login(&fake, &c).await;
    let at = first["access_token"].as_str().unwrap();
    assert_eq!(mcp_status(&fake, &c, at).await, 200);
    fake.expire_all_access_tokens();
    assert_eq!(mcp_status(&fake, &c, at).await, 401);
    let (s, second) = refresh(&fake, &c, &client_id, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(mcp_status(&fake, &c, second["access_token"].as_str().unwrap()).await, 200);

    fake.set_options(|o| o.token_latency = Duration::from_millis(200));
    let started = std::time::Instant::now();
    let (s, third) = refresh(&fake, &c, &client_id, second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));

    let resp = c.post(format!("{}/oauth/revoke", fake.origin())).form(&[("token", third["refresh_token"].as_str().unwrap())]).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(mcp_status(&fake, &c, third["access_token"].as_str().unwrap()).await, 401);
    let c2 = fake.counters();
    assert_eq!(
        c2,
        Counters {
            registrations: 1,
            authorizations: 1,
            code_exchanges: 1,
            refreshes: 2,
            refresh_failures: 0,
            revocations: 1,
            mcp_requests: 2,
            unauthorized_mcp: 2
        }
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn racing_refreshers_after_grace_lose_the_family() {
    let opts = FakeOptions { refresh_reuse_grace: Duration::ZERO, token_latency: Duration::from_millis(100), ..FakeOptions::default() };
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let c = http();
    let (client_id, first) = login(&fake, &c).await;
    let rt = first["refresh_token"].as_str().unwrap();
    let (a, b) = tokio::join!(refresh(&fake, &c, &client_id, rt), refresh(&fake, &c, &client_id, rt));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);
    let winner = if a.0 == 200 { a.1 } else { b.1 };
    // The loser's reuse revoked the family, including the winner's fresh tokens.
    assert_eq!(mcp_status(&fake, &c, winner["access_token"].as_str().unwrap()).await, 401);
    let counters = fake.counters();
    assert_eq!((counters.refreshes, counters.refresh_failures), (1, 1));
    fake.shutdown().await;
}
