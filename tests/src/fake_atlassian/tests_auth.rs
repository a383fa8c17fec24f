//! Unit tests for the OAuth side of the fake: metadata documents, dynamic client registration,
//! `/authorize` validation and the PKCE code exchange. Also holds the helpers shared with
//! `tests_mcp` and `tests_refresh`.

use serde_json::{Value, json};

use super::{FakeAtlassian, FakeOptions, SCOPES_SUPPORTED, TENANT, pkce_s256};

pub(super) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(super) const REDIRECT: &str = "http://127.0.0.1:53682/callback";
pub(super) const SCOPE: &str = "read:me offline_access read:jira:agent-interface";

pub(super) fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub(super) async fn register(fake: &FakeAtlassian, c: &reqwest::Client, redirect: &str) -> String {
    let resp =
        c.post(format!("{}/{TENANT}/dcr/register", fake.origin())).json(&json!({"client_name": "Latchkey", "redirect_uris": [redirect]})).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert_eq!(body["redirect_uris"], json!([redirect]));
    body["client_id"].as_str().unwrap().to_string()
}

/// `GET /authorize` with sane defaults; `extra` overrides/adds query parameters.
pub(super) async fn authorize(fake: &FakeAtlassian, c: &reqwest::Client, client_id: &str, redirect: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let challenge = pkce_s256(VERIFIER);
    let mcp = fake.mcp_url();
    let mut q: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect),
        ("scope", SCOPE),
        ("state", "xyz"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("resource", &mcp),
    ];
    for (k, v) in extra {
        q.retain(|(qk, _)| qk != k);
        q.push((k, v));
    }
    let url = url::Url::parse_with_params(&format!("{}/authorize", fake.origin()), &q).unwrap();
    c.get(url).send().await.unwrap()
}

/// The query parameters of a 302's `Location`.
pub(super) fn location_params(resp: &reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(resp.status(), 302, "expected a redirect");
    let loc = resp.headers()["location"].to_str().unwrap();
    url::Url::parse(loc).unwrap().query_pairs().into_owned().collect()
}

pub(super) fn param(params: &[(String, String)], k: &str) -> Option<String> {
    params.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.clone())
}

pub(super) async fn token(fake: &FakeAtlassian, c: &reqwest::Client, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = c.post(format!("{}/oauth/token", fake.origin())).form(form).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// DCR + authorize + code exchange. Returns (client_id, token response).
pub(super) async fn login(fake: &FakeAtlassian, c: &reqwest::Client) -> (String, Value) {
    let client_id = register(fake, c, REDIRECT).await;
    let resp = authorize(fake, c, &client_id, REDIRECT, &[]).await;
    let code = param(&location_params(&resp), "code").unwrap();
    let mcp = fake.mcp_url();
    let (status, body) = token(
        fake,
        c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("resource", &mcp),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (client_id, body)
}

pub(super) async fn refresh(fake: &FakeAtlassian, c: &reqwest::Client, client_id: &str, rt: &str) -> (u16, Value) {
    token(fake, c, &[("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", client_id)]).await
}

pub(super) async fn mcp_status(fake: &FakeAtlassian, c: &reqwest::Client, at: &str) -> u16 {
    c.post(fake.mcp_url()).bearer_auth(at).json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn metadata_documents_have_atlassian_shape() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let c = http();
    assert!(fake.origin().starts_with("http://127.0.0.1:"));
    assert_eq!(fake.issuer(), format!("{}/{TENANT}", fake.origin()));

    let prm: Value = c.get(format!("{}/.well-known/oauth-protected-resource/v2/mcp", fake.origin())).send().await.unwrap().json().await.unwrap();
    assert_eq!(prm["resource"], fake.mcp_url());
    assert_eq!(prm["authorization_servers"], json!([fake.issuer()]));
    assert_eq!(prm["scopes_supported"], json!(SCOPES_SUPPORTED));
    assert_eq!(prm["bearer_methods_supported"], json!(["header"]));

    let as_url = format!("{}/.well-known/oauth-authorization-server/{TENANT}", fake.origin());
    let asm: Value = c.get(&as_url).send().await.unwrap().json().await.unwrap();
    let o = fake.origin();
    assert_eq!(asm["issuer"], fake.issuer());
    assert_eq!(asm["authorization_endpoint"], format!("{o}/authorize"));
    assert_eq!(asm["token_endpoint"], format!("{o}/oauth/token"));
    assert_eq!(asm["registration_endpoint"], format!("{o}/{TENANT}/dcr/register"));
    assert_eq!(asm["revocation_endpoint"], format!("{o}/oauth/revoke"));
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(asm["grant_types_supported"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(asm["client_id_metadata_document_supported"], true);
    assert!(asm["token_endpoint_auth_methods_supported"].as_array().unwrap().contains(&json!("none")));

    fake.set_options(|o| o.issuer_bug = true);
    let asm: Value = c.get(&as_url).send().await.unwrap().json().await.unwrap();
    assert_eq!(asm["issuer"], fake.origin());

    for path in [
        "/.well-known/openid-configuration",
        &format!("/.well-known/openid-configuration/{TENANT}"),
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource",
    ] {
        let s = c.get(format!("{o}{path}")).send().await.unwrap().status();
        assert_eq!(s, 404, "{path}");
    }
    fake.shutdown().await;
}

#[tokio::test]
async fn registration_validates_redirect_uris() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let c = http();
    let url = format!("{}/{TENANT}/dcr/register", fake.origin());
    for body in [json!({}), json!({"redirect_uris": []}), json!([1])] {
        let resp = c.post(&url).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"], "invalid_client_metadata");
        assert!(v["error_description"].is_string());
    }
    let resp = c.post(&url).body("not json").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    for bad in ["latchkey://callback", "https://example.com/cb", "http://127.0.0.1/cb"] {
        let resp = c.post(&url).json(&json!({"redirect_uris": [bad]})).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
    }
    register(&fake, &c, "http://localhost:8765/callback").await;
    assert_eq!(fake.counters().registrations, 1);
    fake.shutdown().await;
}

#[tokio::test]
async fn authorize_rejects_unregistered_port_and_client() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let c = http();
    let client_id = register(&fake, &c, REDIRECT).await;

    let resp = authorize(&fake, &c, &client_id, "http://127.0.0.1:53683/callback", &[]).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("redirect_uri is not registered for client"));

    // localhost and 127.0.0.1 are different hosts.
    let resp = authorize(&fake, &c, &client_id, "http://localhost:53682/callback", &[]).await;
    assert_eq!(resp.status(), 400);

    let resp = authorize(&fake, &c, "nope", REDIRECT, &[]).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("invalid client"));

    let p = location_params(&authorize(&fake, &c, &client_id, REDIRECT, &[("resource", "https://mcp.atlassian.com/v2/mcp")]).await);
    assert_eq!(param(&p, "error").as_deref(), Some("invalid_target"));
    assert_eq!(param(&p, "state").as_deref(), Some("xyz"));
    let p = location_params(&authorize(&fake, &c, &client_id, REDIRECT, &[("code_challenge_method", "plain")]).await);
    assert_eq!(param(&p, "error").as_deref(), Some("invalid_request"));

    fake.set_options(|o| o.deny_consent = true);
    let p = location_params(&authorize(&fake, &c, &client_id, REDIRECT, &[]).await);
    assert_eq!(param(&p, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&p, "iss"), Some(fake.issuer()));
    assert_eq!(fake.counters().authorizations, 6);
    fake.shutdown().await;
}

#[tokio::test]
async fn code_exchange_with_pkce() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let c = http();
    let client_id = register(&fake, &c, REDIRECT).await;
    let p = location_params(&authorize(&fake, &c, &client_id, REDIRECT, &[]).await);
    assert_eq!(param(&p, "state").as_deref(), Some("xyz"));
    assert_eq!(param(&p, "iss"), Some(fake.issuer()));
    let code = param(&p, "code").unwrap();
    let mcp = fake.mcp_url();
    let form = |verifier: &'static str| {
        [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("resource", mcp.as_str()),
        ]
    };
    // Wrong verifier: rejected, and the code is burnt (single use).
    let (s, body) = token(&fake, &c, &form("wrong-verifier-wrong-verifier-wrong-verifier")).await;
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));
    let (s, _) = token(&fake, &c, &form(VERIFIER)).await;
    assert_eq!(s, 400);

    let (_, body) = login(&fake, &c).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], SCOPE);
    assert!(body["access_token"].as_str().unwrap().len() > 20);
    assert!(body["refresh_token"].is_string());

    // Unknown client: 401 invalid_client.
    let (s, body) = token(&fake, &c, &[("grant_type", "authorization_code"), ("code", "x"), ("client_id", "nope")]).await;
    assert_eq!((s, body["error"].as_str()), (401, Some("invalid_client")));

    // Without offline_access there is no refresh token.
    let p = location_params(&authorize(&fake, &c, &client_id, REDIRECT, &[("scope", "read:me")]).await);
    let code = param(&p, "code").unwrap();
    let (s, body) = token(
        &fake,
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("resource", &mcp),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert!(body.get("refresh_token").is_none());
    assert_eq!(fake.counters().code_exchanges, 2);
    fake.shutdown().await;
}
