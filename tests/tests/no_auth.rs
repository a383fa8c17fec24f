//! A server that needs no authentication: a minimal MCP Streamable HTTP responder (JSON
//! answers; notifications get 202) on 127.0.0.1:0. The real engine connects without any
//! OAuth flow: no discovery, no browser, no secrets stored, and the connection is saved with
//! auth kind `None` and state "connected".

#[path = "../src/support.rs"]
mod support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use latchkey_core::{AuthKind, ConnState, ConnectRequest};
use latchkey_oauth::SystemClock;
use serde_json::{Value, json};
use support::*;

#[derive(Default)]
struct Seen {
    /// Every request as `METHOD path`.
    requests: Vec<String>,
    /// Requests that carried an Authorization header.
    with_authorization: u32,
    /// JSON-RPC methods received.
    methods: Vec<String>,
}

type Shared = Arc<Mutex<Seen>>;

fn note(seen: &Shared, method: &str, path: &str, headers: &HeaderMap) {
    let mut s = seen.lock().unwrap();
    s.requests.push(format!("{method} {path}"));
    if headers.contains_key(header::AUTHORIZATION) {
        s.with_authorization += 1;
    }
}

async fn mcp_post(State(seen): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    note(&seen, "POST", "/mcp", &headers);
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let method = msg.get("method").and_then(Value::as_str).unwrap_or_default().to_owned();
    seen.lock().unwrap().methods.push(method.clone());
    let Some(id) = msg.get("id").cloned() else {
        return StatusCode::ACCEPTED.into_response();
    };
    if method.is_empty() {
        // A response from the client.
        return StatusCode::ACCEPTED.into_response();
    }
    let result = match method.as_str() {
        "initialize" => json!({
            "protocolVersion": msg["params"]["protocolVersion"].as_str().unwrap_or("2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "open-server", "version": "1.0"},
        }),
        "ping" => json!({}),
        "tools/list" => json!({"tools": [
            {"name": "echo", "description": "Echoes its input.", "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}},
            {"name": "time", "description": "The time.", "inputSchema": {"type": "object"}},
        ]}),
        "tools/call" => json!({"content": [{"type": "text", "text": msg["params"]["arguments"]["text"].as_str().unwrap_or("")}], "isError": false}),
        other => {
            return axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": format!("Method not found: {other}")}})).into_response();
        }
    };
    axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}

async fn mcp_get(State(seen): State<Shared>, headers: HeaderMap) -> Response {
    note(&seen, "GET", "/mcp", &headers);
    StatusCode::METHOD_NOT_ALLOWED.into_response()
}

async fn mcp_delete(State(seen): State<Shared>, headers: HeaderMap) -> Response {
    note(&seen, "DELETE", "/mcp", &headers);
    StatusCode::OK.into_response()
}

async fn anything_else(State(seen): State<Shared>, uri: axum::http::Uri, method: axum::http::Method, headers: HeaderMap) -> Response {
    note(&seen, method.as_str(), uri.path(), &headers);
    StatusCode::NOT_FOUND.into_response()
}

#[tokio::test]
async fn an_open_server_connects_without_any_flow() {
    let seen: Shared = Arc::default();
    let app = Router::new().route("/mcp", post(mcp_post).get(mcp_get).delete(mcp_delete)).fallback(anything_else).with_state(seen.clone());
    let origin = serve(app).await;
    let url = format!("{origin}/mcp");

    let env = Env::new();
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(SystemClock));
    let report = lk.connect(ConnectRequest { target: url.clone(), ..Default::default() }).await.expect("connects");
    assert_eq!(report.url, url);
    assert_eq!(report.server.as_deref(), Some("open-server"));
    let mut tools = report.tools.clone();
    tools.sort();
    assert_eq!(tools, ["echo", "time"]);

    let conn = lk.connection(&report.name).unwrap();
    assert_eq!(conn.auth, AuthKind::None);
    assert_eq!(conn.state, ConnState::Connected);
    assert!(conn.discovered.is_none() && conn.registration.is_none() && conn.redirect_port.is_none(), "{conn:?}");
    let views = lk.status().unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].state, "connected");
    assert_eq!(views[0].auth, AuthKind::None);

    // No flow at all: no secrets, no browser, no metadata or OAuth requests, no credentials sent.
    assert!(env.store.is_empty(), "{:?}", env.store);
    assert_eq!(browser.opened(), 0);
    {
        let s = seen.lock().unwrap();
        assert!(s.requests.iter().all(|r| r.ends_with(" /mcp")), "only the MCP endpoint was asked: {:?}", s.requests);
        assert_eq!(s.with_authorization, 0);
        assert!(s.methods.iter().any(|m| m == "initialize") && s.methods.iter().any(|m| m == "tools/list"), "{:?}", s.methods);
    }

    // Later operations stay anonymous too.
    let again = lk.check(&report.name, &Default::default()).await.expect("check");
    assert_eq!(again.tools.len(), 2);
    let out = lk.call(&report.name, "echo", Some(json!({"text": "hello"})), &Default::default()).await.expect("call");
    assert_eq!(out["content"][0]["text"], "hello", "{out}");
    assert!(env.store.is_empty());
    assert_eq!(seen.lock().unwrap().with_authorization, 0);
}
