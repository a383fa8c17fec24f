//! Unit tests for the fake's troubleshooting knobs: the site picker (automatic and on the HTML
//! consent page), the org domain rule, API tokens (accepted, and refused when the org has not
//! enabled them) and scope-limited grants that see only the two account tools.

use base64::Engine as _;
use serde_json::{Value, json};

use super::tests_auth::{REDIRECT, VERIFIER, authorize, http, location_params, param, register, token};
use super::{ACCOUNT_TOOLS, API_TOKEN_DISABLED_ERROR, DOMAIN_RULE_MESSAGE, FakeAtlassian, FakeOptions, FakeSite};

const SECOND: &str = "22222222-2222-2222-2222-222222222222";

fn two_sites() -> FakeOptions {
    let mut opts = FakeOptions::default();
    opts.sites.push(FakeSite { cloud_id: SECOND.into(), name: "globex".into(), url: "https://globex.atlassian.net".into() });
    opts
}

/// POSTs one JSON-RPC message with `authorization` as the header value; returns status and body.
async fn rpc(fake: &FakeAtlassian, c: &reqwest::Client, authorization: &str, msg: Value) -> (u16, Value) {
    let resp =
        c.post(fake.mcp_url()).header("authorization", authorization).header("accept", "application/json, text/event-stream").json(&msg).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn tool_names(fake: &FakeAtlassian, c: &reqwest::Client, authorization: &str) -> Vec<String> {
    let (status, body) = rpc(fake, c, authorization, json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})).await;
    assert_eq!(status, 200, "{body}");
    body["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

async fn sites_seen(fake: &FakeAtlassian, c: &reqwest::Client, authorization: &str) -> Vec<String> {
    let (_, body) = rpc(
        fake,
        c,
        authorization,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "getAccessibleAtlassianResources", "arguments": {}}}),
    )
    .await;
    let text = body["result"]["content"][0]["text"].as_str().unwrap();
    let v: Value = serde_json::from_str(text).unwrap();
    v.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

/// Exchanges a code from a redirect for tokens; returns the access token.
async fn redeem(fake: &FakeAtlassian, c: &reqwest::Client, client_id: &str, redirect: &str, code: &str) -> String {
    let mcp = fake.mcp_url();
    let (status, body) = token(
        fake,
        c,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("code_verifier", VERIFIER),
            ("resource", &mcp),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn consent_site_picks_the_granted_site() {
    let mut opts = two_sites();
    opts.consent_site = Some(SECOND.into());
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let c = http();
    let client_id = register(&fake, &c, REDIRECT).await;
    let resp = authorize(&fake, &c, &client_id, REDIRECT, &[]).await;
    let code = param(&location_params(&resp), "code").unwrap();
    let at = redeem(&fake, &c, &client_id, REDIRECT, &code).await;
    assert_eq!(sites_seen(&fake, &c, &format!("Bearer {at}")).await, [SECOND]);
    fake.shutdown().await;
}

#[tokio::test]
async fn the_interactive_consent_page_has_a_site_picker_that_submits() {
    let mut opts = two_sites();
    opts.interactive_consent = true;
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let c = http();
    let client_id = register(&fake, &c, REDIRECT).await;
    let resp = authorize(&fake, &c, &client_id, REDIRECT, &[]).await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("action=\"/authorize/consent\""), "{page}");
    assert!(page.contains("<select id=\"cloud_id\" name=\"cloud_id\">"), "{page}");
    assert!(page.contains(SECOND) && page.contains("globex"), "{page}");
    assert!(page.contains(">Approve</button>"), "{page}");

    // Submitting the form (as a browser would, with the hidden fields) redirects with a code.
    let mut form: Vec<(String, String)> = Vec::new();
    for part in page.split("<input type=\"hidden\" ").skip(1) {
        let attr =
            |name: &str| part.split(&format!("{name}=\"")).nth(1).and_then(|r| r.split('"').next()).unwrap().replace("&amp;", "&").replace("&quot;", "\"");
        form.push((attr("name"), attr("value")));
    }
    form.push(("cloud_id".into(), SECOND.into()));
    form.push(("decision".into(), "approve".into()));
    let url = url::Url::parse_with_params(&format!("{}/authorize/consent", fake.origin()), &form).unwrap();
    let resp = c.get(url).send().await.unwrap();
    let params = location_params(&resp);
    assert_eq!(param(&params, "state").as_deref(), Some("xyz"));
    let code = param(&params, "code").unwrap();
    let at = redeem(&fake, &c, &client_id, REDIRECT, &code).await;
    assert_eq!(sites_seen(&fake, &c, &format!("Bearer {at}")).await, [SECOND]);
    assert_eq!(fake.counters().authorizations, 1);

    // Deny on the same page: access_denied goes back to the app.
    form.retain(|(k, _)| k != "decision");
    form.push(("decision".into(), "deny".into()));
    let url = url::Url::parse_with_params(&format!("{}/authorize/consent", fake.origin()), &form).unwrap();
    let params = location_params(&c.get(url).send().await.unwrap());
    assert_eq!(param(&params, "error").as_deref(), Some("access_denied"));
    fake.shutdown().await;
}

#[tokio::test]
async fn a_domain_rule_refuses_other_redirect_hosts_with_a_page() {
    let opts = FakeOptions { domain_rule: Some("localhost".into()), ..FakeOptions::default() };
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let c = http();
    let client_id = register(&fake, &c, REDIRECT).await;
    let resp = authorize(&fake, &c, &client_id, REDIRECT, &[]).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    let page = resp.text().await.unwrap();
    assert!(page.contains(DOMAIN_RULE_MESSAGE), "{page}");

    let local = "http://localhost:53682/callback";
    let client_id = register(&fake, &c, local).await;
    let resp = authorize(&fake, &c, &client_id, local, &[]).await;
    assert!(param(&location_params(&resp), "code").is_some());
    fake.shutdown().await;
}

#[tokio::test]
async fn api_tokens_are_accepted_unless_the_org_disabled_them() {
    let opts = FakeOptions { api_token_basic: Some(("jane@acme.test".into(), "tok".into())), service_key: Some("svc_key".into()), ..two_sites() };
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let c = http();
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("jane@acme.test:tok"));
    assert_eq!(tool_names(&fake, &c, &basic).await.len(), 7);
    assert_eq!(tool_names(&fake, &c, "Bearer svc_key").await.len(), 7);
    // An API token is not bound to a site.
    assert_eq!(sites_seen(&fake, &c, &basic).await.len(), 2);

    let wrong = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("jane@acme.test:nope"));
    let (status, body) = rpc(&fake, &c, &wrong, json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));

    fake.set_options(|o| o.api_tokens_enabled = false);
    for auth in [basic.as_str(), "Bearer svc_key"] {
        let (status, body) = rpc(&fake, &c, auth, json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"], API_TOKEN_DISABLED_ERROR);
        assert!(body["message"].as_str().unwrap().contains("organization admin"), "{body}");
    }
    fake.shutdown().await;
}

#[tokio::test]
async fn grants_without_product_scopes_see_only_the_account_tools() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let c = http();
    let client_id = register(&fake, &c, REDIRECT).await;
    let resp = authorize(&fake, &c, &client_id, REDIRECT, &[("scope", "read:me offline_access")]).await;
    let code = param(&location_params(&resp), "code").unwrap();
    let at = redeem(&fake, &c, &client_id, REDIRECT, &code).await;
    assert_eq!(tool_names(&fake, &c, &format!("Bearer {at}")).await, ACCOUNT_TOOLS);
    let (_, body) = rpc(
        &fake,
        &c,
        &format!("Bearer {at}"),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "searchJiraIssuesUsingJql", "arguments": {"cloudId": "x", "jql": "a"}}}),
    )
    .await;
    assert!(body["error"]["message"].as_str().unwrap().contains("Unknown tool"), "{body}");

    // With the knob, even a fully scoped grant sees two tools.
    let resp = authorize(&fake, &c, &client_id, REDIRECT, &[]).await;
    let code = param(&location_params(&resp), "code").unwrap();
    let full = redeem(&fake, &c, &client_id, REDIRECT, &code).await;
    assert_eq!(tool_names(&fake, &c, &format!("Bearer {full}")).await.len(), 7);
    fake.set_options(|o| o.scope_limited = true);
    assert_eq!(tool_names(&fake, &c, &format!("Bearer {full}")).await, ACCOUNT_TOOLS);
    fake.shutdown().await;
}
