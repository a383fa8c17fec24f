//! Credentials through the real gateway (served on 127.0.0.1, reached with reqwest).
//!
//! Against the fake Atlassian, with an OAuth connection made by the headless connect flow:
//! - the gateway injects the connection's bearer (the fake counts authorized MCP requests, and
//!   the client never sends or sees a real token);
//! - the access token expires mid-session (`expire_all_access_tokens`): the client's next call
//!   through the gateway still succeeds with no error, after exactly one refresh, and later
//!   calls need no further refresh;
//! - the grant is revoked at the server too: the client gets a JSON-RPC error (with its request
//!   id) saying to sign in again, and `status()` shows `needs_reauth`.
//!
//! Against small custom upstreams:
//! - a `403 insufficient_scope` records `needs_step_up` (and the challenge is not relayed);
//! - an API-token connection (service key, Bearer; personal token, Basic) gets its token
//!   injected instead of the client's key, and a refused token means `needs_reauth` with a
//!   JSON-RPC error.

#[path = "../src/support.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::{ApiToken, AuthKind, ConnectRequest, Latchkey};
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_gateway::{Config, Gateway};
use latchkey_oauth::SystemClock;
use serde_json::{Value, json};
use support::*;

struct Client {
    http: reqwest::Client,
    url: String,
    key: String,
    session: Option<String>,
}

impl Client {
    fn new(gateway: &Gateway, name: &str, key: &str) -> Self {
        Client {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            url: format!("http://{}/mcp/{name}", gateway.addr),
            key: key.to_owned(),
            session: None,
        }
    }

    /// POSTs one JSON-RPC message; returns status, headers and the JSON body (Null when empty).
    async fn rpc(&mut self, body: Value) -> (StatusCode, HeaderMap, Value) {
        let mut req = self
            .http
            .post(&self.url)
            .header("x-latchkey-key", &self.key)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25");
        if let Some(s) = &self.session {
            req = req.header("mcp-session-id", s);
        }
        let resp = req.body(body.to_string()).send().await.expect("the gateway answers");
        let (status, headers) = (resp.status(), resp.headers().clone());
        if let Some(s) = headers.get("mcp-session-id") {
            self.session = Some(s.to_str().unwrap().to_owned());
        }
        let bytes = resp.bytes().await.unwrap();
        // Not JSON (a relayed plain-text upstream answer): the text as a JSON string.
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, headers, v)
    }

    async fn initialize(&mut self) {
        let (status, _, v) = self.rpc(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}})).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert!(v["result"]["protocolVersion"].is_string(), "{v}");
        let (status, _, _) = self.rpc(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
}

fn state_of(lk: &Latchkey, name: &str) -> &'static str {
    lk.status().unwrap().into_iter().find(|v| v.name == name).map(|v| v.state).expect("connection listed")
}

async fn oauth_setup() -> (FakeAtlassian, Env, Latchkey, Gateway, String) {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(atlassian_request(&fake)).await.expect("headless connect");
    let (_, key) = lk.issue_local_key("atlassian", "e2e").unwrap();
    let gateway = Gateway::start(lk.clone(), env.config_dir(), Config::on_port(0)).await.unwrap();
    (fake, env, lk, gateway, key.expose().clone())
}

#[tokio::test]
async fn the_bearer_is_injected_and_a_mid_session_expiry_is_invisible_to_the_client() {
    let (fake, env, lk, gateway, key) = oauth_setup().await;
    let before = fake.counters();
    let mut c = Client::new(&gateway, "atlassian", &key);
    c.initialize().await;
    let (status, _, v) = c.rpc(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v["result"]["tools"].as_array().is_some_and(|t| !t.is_empty()), "{v}");
    let after = fake.counters();
    assert_eq!(after.mcp_requests - before.mcp_requests, 3, "initialize, initialized and tools/list each carried the bearer: {after:?}");
    assert_eq!(after.unauthorized_mcp, before.unauthorized_mcp, "{after:?}");
    // The client's request carried only its local key; the real token stays in the store.
    let (access, _) = stored_tokens(&env.store, "atlassian").unwrap();
    assert!(!key.contains(&access));

    // Mid-session, every access token the server issued expires.
    fake.expire_all_access_tokens();
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "atlassianUserInfo", "arguments": {}}});
    let (status, headers, v) = c.rpc(call).await;
    assert_eq!(status, StatusCode::OK, "the client sees no error: {v}");
    assert!(!headers.contains_key(header::WWW_AUTHENTICATE));
    assert_eq!(v["id"], 2, "{v}");
    assert!(v.get("error").is_none(), "{v}");
    assert_eq!(v["result"]["isError"], false, "{v}");
    assert!(v["result"]["content"][0]["text"].as_str().unwrap().contains("jane@acme.test"), "{v}");
    let c1 = fake.counters();
    assert_eq!(c1.refreshes, 1, "exactly one refresh: {c1:?}");
    assert_eq!(c1.refresh_failures, 0, "{c1:?}");
    assert_eq!(c1.unauthorized_mcp - after.unauthorized_mcp, 1, "one 401, then the replay: {c1:?}");
    assert_eq!(c1.authorizations, 1, "no new sign-in: {c1:?}");
    let (new_access, _) = stored_tokens(&env.store, "atlassian").unwrap();
    assert_ne!(new_access, access, "the rotated token was stored");

    // Later calls use the new token straight away.
    for id in 3..6 {
        let (status, _, v) = c.rpc(json!({"jsonrpc": "2.0", "id": id, "method": "ping"})).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["id"], id);
    }
    let c2 = fake.counters();
    assert_eq!(c2.refreshes, 1, "{c2:?}");
    assert_eq!(c2.unauthorized_mcp, c1.unauthorized_mcp, "{c2:?}");
    assert_eq!(state_of(&lk, "atlassian"), "connected");
    let view = lk.status().unwrap().remove(0);
    assert!(view.requests >= 7, "{view:?}");

    gateway.shutdown(Duration::from_secs(2)).await;
    fake.shutdown().await;
}

#[tokio::test]
async fn a_revoked_grant_tells_the_client_to_sign_in_again() {
    let (fake, env, lk, gateway, key) = oauth_setup().await;
    let mut c = Client::new(&gateway, "atlassian", &key);
    c.initialize().await;

    // The user revoked the app at the server: the refresh token (and its family) is dead.
    let (_, refresh) = stored_tokens(&env.store, "atlassian").unwrap();
    let revoked = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}/oauth/revoke", fake.origin()))
        .form(&[("token", refresh.unwrap())])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());

    let (status, headers, v) = c.rpc(json!({"jsonrpc": "2.0", "id": "call-9", "method": "tools/list"})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{v}");
    assert!(!headers.contains_key(header::WWW_AUTHENTICATE), "the client must not start its own sign-in");
    assert_eq!(v["jsonrpc"], "2.0");
    assert_eq!(v["id"], "call-9", "{v}");
    let msg = v["error"]["message"].as_str().unwrap_or_else(|| panic!("a JSON-RPC error: {v}"));
    assert!(msg.contains("sign in again"), "{msg}");
    assert!(msg.contains("latchkey connect atlassian"), "{msg}");
    let counters = fake.counters();
    assert_eq!(counters.refreshes, 0, "{counters:?}");
    assert_eq!(counters.refresh_failures, 1, "one refresh attempt, no loop: {counters:?}");
    assert_eq!(state_of(&lk, "atlassian"), "needs_reauth");

    // The next call fails the same way without hammering the token endpoint.
    let (status, _, v) = c.rpc(json!({"jsonrpc": "2.0", "id": 10, "method": "ping"})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{v}");
    assert_eq!(v["id"], 10);
    assert!(v["error"]["message"].as_str().unwrap().contains("sign in again"), "{v}");
    assert_eq!(state_of(&lk, "atlassian"), "needs_reauth");

    gateway.shutdown(Duration::from_secs(2)).await;
    fake.shutdown().await;
}

/// A small upstream: answers `initialize`/`tools/list`, and for `tools/call` either refuses
/// with `403 insufficient_scope` or (when `accepted` is set) requires that `Authorization`.
#[derive(Default)]
struct Custom {
    accepted: Mutex<Vec<String>>,
    step_up_on_call: bool,
    seen: Mutex<Vec<HeaderMap>>,
}

async fn custom(State(up): State<Arc<Custom>>, headers: HeaderMap, body: Bytes) -> Response {
    up.seen.lock().unwrap().push(headers.clone());
    let accepted = up.accepted.lock().unwrap().clone();
    if !accepted.is_empty() {
        let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !accepted.iter().any(|a| a == auth) {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer realm=\"custom\"")], "no").into_response();
        }
    }
    let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(id) = msg.get("id").cloned() else { return StatusCode::ACCEPTED.into_response() };
    let result = match msg["method"].as_str().unwrap_or_default() {
        "initialize" => json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "custom", "version": "1"}}),
        "tools/list" => json!({"tools": [{"name": "write", "inputSchema": {"type": "object"}}]}),
        "tools/call" if up.step_up_on_call => {
            return (
                StatusCode::FORBIDDEN,
                [(header::WWW_AUTHENTICATE, r#"Bearer error="insufficient_scope", scope="write:things admin""#)],
                "more scope needed",
            )
                .into_response();
        }
        "tools/call" => json!({"content": [{"type": "text", "text": "ok"}], "isError": false}),
        _ => json!({}),
    };
    axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}

async fn custom_upstream(up: Arc<Custom>) -> String {
    let origin = serve(Router::new().fallback(custom).with_state(up)).await;
    format!("{origin}/mcp")
}

#[tokio::test]
async fn a_403_insufficient_scope_records_a_step_up() {
    let up = Arc::new(Custom { step_up_on_call: true, ..Default::default() });
    let url = custom_upstream(up.clone()).await;
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(ConnectRequest { target: url, name: Some("custom".into()), ..Default::default() }).await.expect("connect");
    assert_eq!(state_of(&lk, "custom"), "connected");
    let (_, key) = lk.issue_local_key("custom", "e2e").unwrap();
    let gateway = Gateway::start(lk.clone(), env.config_dir(), Config::on_port(0)).await.unwrap();

    let mut c = Client::new(&gateway, "custom", key.expose());
    let (status, headers, body) = c.rpc(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "write"}})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the 403 is relayed: {body}");
    assert!(!headers.contains_key(header::WWW_AUTHENTICATE), "the upstream's challenge is Latchkey's business: {headers:?}");
    assert_eq!(state_of(&lk, "custom"), "needs_step_up");
    let view = lk.status().unwrap().remove(0);
    assert!(view.summary.contains("write:things admin"), "{view:?}");

    gateway.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn an_api_token_is_injected_and_a_refused_one_needs_reauth() {
    use base64::Engine as _;
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("jane@acme.test:personal-tok"));
    let up = Arc::new(Custom { accepted: Mutex::new(vec!["Bearer svc-key-123".into(), basic.clone()]), ..Default::default() });
    let url = custom_upstream(up.clone()).await;
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(ConnectRequest {
        target: url.clone(),
        name: Some("svc".into()),
        api_token: Some(ApiToken::ServiceKey("svc-key-123".to_owned().into())),
        ..Default::default()
    })
    .await
    .expect("connect with a service key");
    lk.connect(ConnectRequest {
        target: url.clone(),
        name: Some("personal".into()),
        api_token: Some(ApiToken::Personal { email: "jane@acme.test".into(), token: "personal-tok".to_owned().into() }),
        ..Default::default()
    })
    .await
    .expect("connect with a personal token");
    assert_eq!(lk.connection("svc").unwrap().auth, AuthKind::ApiTokenBearer);
    assert_eq!(lk.connection("personal").unwrap().auth, AuthKind::ApiTokenBasic);
    let (_, svc_key) = lk.issue_local_key("svc", "e2e").unwrap();
    let (_, personal_key) = lk.issue_local_key("personal", "e2e").unwrap();
    let gateway = Gateway::start(lk.clone(), env.config_dir(), Config::on_port(0)).await.unwrap();

    for (name, key, expected) in [("svc", svc_key.expose(), "Bearer svc-key-123".to_owned()), ("personal", personal_key.expose(), basic.clone())] {
        up.seen.lock().unwrap().clear();
        let mut c = Client::new(&gateway, name, key);
        let (status, _, v) = c.rpc(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "write"}})).await;
        assert_eq!(status, StatusCode::OK, "{name}: {v}");
        assert_eq!(v["result"]["content"][0]["text"], "ok", "{v}");
        let seen = up.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0][header::AUTHORIZATION], expected.as_str(), "{name}: the API token is injected");
        assert!(!seen[0].contains_key("x-latchkey-key"));
    }

    // The token is revoked at the server: one clear error, and the connection needs re-auth.
    up.accepted.lock().unwrap().retain(|a| a != "Bearer svc-key-123");
    let mut c = Client::new(&gateway, "svc", svc_key.expose());
    let (status, headers, v) = c.rpc(json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "write"}})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{v}");
    assert!(!headers.contains_key(header::WWW_AUTHENTICATE));
    assert_eq!(v["id"], 5);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("sign in again") && msg.contains("API token"), "{msg}");
    assert_eq!(state_of(&lk, "svc"), "needs_reauth");
    assert_eq!(state_of(&lk, "personal"), "connected", "the other connection is untouched");

    gateway.shutdown(Duration::from_secs(2)).await;
}
