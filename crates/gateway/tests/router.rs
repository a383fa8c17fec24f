//! The gateway's router, driven in memory with tower's `oneshot` (no TCP on the gateway side):
//! the order and outcome of its checks.
//!
//! - The Host/Origin guard answers 403 before anything else: a wrong `Host` without a key is
//!   403 (not 401), a foreign or `null` `Origin` is 403 even with a valid key, a CORS preflight
//!   from a foreign origin is 403, and no response ever carries an `access-control-*` header.
//! - The local key: missing → 401 with a plain message (and no `WWW-Authenticate`, so a client
//!   does not start its own OAuth), wrong or other-connection key → 401, revoked key → 401;
//!   the key is accepted both as `X-Latchkey-Key` and as `Authorization: Bearer lk_...`.
//! - The per-connection keyless switch lets a request without a key through (the guard still
//!   applies).
//! - An unknown connection is 404 with a helpful message; a body over the cap is 413; a body
//!   the app breaks off is 400 and counts against the app, not the upstream.
//!
//! The upstream is a tiny axum server on 127.0.0.1:0 that records what reached it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::{Deps, Latchkey, Paths};
use latchkey_gateway::{Config, Limits, router};
use tower::ServiceExt;

const PORT: u16 = 47_999;
const HOST: &str = "127.0.0.1:47999";
const MAX_BODY: usize = 1024;

/// Headers of every request that reached the upstream.
type Seen = Arc<Mutex<Vec<HeaderMap>>>;

async fn upstream_handler(State(seen): State<Seen>, headers: HeaderMap, _body: Bytes) -> Response {
    seen.lock().unwrap().push(headers);
    ([(header::CONTENT_TYPE, "application/json")], r#"{"jsonrpc":"2.0","id":1,"result":{}}"#).into_response()
}

struct Setup {
    _dir: tempfile::TempDir,
    engine: Latchkey,
    app: Router,
    seen: Seen,
}

async fn setup() -> Setup {
    let seen: Seen = Arc::default();
    let upstream = Router::new().fallback(upstream_handler).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, upstream).await;
    });

    let dir = tempfile::tempdir().unwrap();
    let engine = Latchkey::new(Deps {
        paths: Paths { config_dir: dir.path().to_path_buf() },
        store: Arc::new(latchkey_secrets::MemoryStore::new()),
        opener: Arc::new(latchkey_oauth::NoOpener),
        clock: Arc::new(latchkey_oauth::SystemClock),
        flow_timeout: Duration::from_secs(5),
        on_auth_url: None,
    })
    .unwrap();
    // Saved (state "new", no tokens): the gateway forwards without a credential.
    engine.resolve(&format!("http://{addr}/mcp"), Some("demo"), None, &Default::default()).unwrap();
    engine.resolve(&format!("http://{addr}/other"), Some("other"), None, &Default::default()).unwrap();
    let app =
        router(engine.clone(), Config { port: PORT, limits: Limits { max_body: MAX_BODY, upstream_timeout: Duration::from_secs(10) }, require_key: true })
            .unwrap();
    Setup { _dir: dir, engine, app, seen }
}

fn request(method: Method, path: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.into()).unwrap()
}

fn rpc() -> &'static str {
    r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
}

/// Sends one request and returns status, headers and body; asserts that no CORS header is set.
async fn send(app: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    for name in parts.headers.keys() {
        assert!(!name.as_str().starts_with("access-control-"), "CORS header {name} in a response: {:?}", parts.headers);
    }
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
}

async fn post(app: &Router, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    send(app, request(Method::POST, "/mcp/demo", &all, rpc())).await
}

fn error_message(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    v["error"].as_str().unwrap_or_else(|| panic!("no error message: {body}")).to_owned()
}

#[tokio::test]
async fn the_host_and_origin_guard_answers_403_before_the_key_check() {
    let s = setup().await;
    let (_, key) = s.engine.issue_local_key("demo", "test").unwrap();
    let key = key.expose().clone();

    // Wrong Host without a key: 403, not 401.
    for host in ["evil.example", "evil.example:47999", "127.0.0.1:48000", "localhost"] {
        let (status, _, body) = post(&s.app, &[("host", host)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "Host {host}: {body}");
        assert!(body.contains("Host"), "{body}");
    }
    // No Host at all.
    let (status, _, _) = post(&s.app, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Wrong Host with a valid key: still 403.
    let (status, _, _) = post(&s.app, &[("host", "attacker.example:47999"), ("x-latchkey-key", &key)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Wrong Host on an unknown connection: 403 before the 404.
    let (status, _, _) = send(&s.app, request(Method::POST, "/mcp/nope", &[("host", "evil.example")], rpc())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Foreign (and opaque) origins, even with a valid key.
    for origin in ["http://evil.example", "null", "https://127.0.0.1:47999", "http://127.0.0.1:48000"] {
        let (status, _, body) = post(&s.app, &[("host", HOST), ("origin", origin), ("x-latchkey-key", &key)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "Origin {origin}: {body}");
        assert!(body.contains("Origin"), "{body}");
    }

    // A CORS preflight from a foreign origin: 403, no CORS headers (checked in `send`).
    let preflight = request(
        Method::OPTIONS,
        "/mcp/demo",
        &[
            ("host", HOST),
            ("origin", "http://evil.example"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type,x-latchkey-key"),
        ],
        Body::empty(),
    );
    let (status, _, _) = send(&s.app, preflight).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Even the gateway's own origin gets no CORS answer from the gateway itself.
    let own = request(
        Method::OPTIONS,
        "/mcp/demo",
        &[("host", HOST), ("origin", "http://127.0.0.1:47999"), ("access-control-request-method", "POST")],
        Body::empty(),
    );
    let (status, _, _) = send(&s.app, own).await;
    assert_ne!(status, StatusCode::OK, "an unauthenticated preflight is never approved");

    // The gateway's own origin with a key is fine; nothing refused above reached the upstream.
    assert!(s.seen.lock().unwrap().is_empty(), "refused requests must not be forwarded");
    let (status, _, body) = post(&s.app, &[("host", HOST), ("origin", "http://127.0.0.1:47999"), ("x-latchkey-key", &key)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = post(&s.app, &[("host", "localhost:47999"), ("x-latchkey-key", &key)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_401_with_a_plain_message() {
    let s = setup().await;
    let (_, other_key) = s.engine.issue_local_key("other", "test").unwrap();

    let (status, headers, body) = post(&s.app, &[("host", HOST)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let msg = error_message(&body);
    assert!(msg.contains("no Latchkey key") && msg.contains("demo"), "{msg}");
    assert!(!headers.contains_key(header::WWW_AUTHENTICATE), "a client must not start its own sign-in: {headers:?}");

    let wrong = [
        "lk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        "lk_nonsense".to_owned(),
        other_key.expose().clone(), // valid, but for another connection
    ];
    for key in &wrong {
        for (name, value) in [("x-latchkey-key", key.clone()), ("authorization", format!("Bearer {key}"))] {
            let (status, headers, body) = post(&s.app, &[("host", HOST), (name, &value)]).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {value}: {body}");
            assert!(error_message(&body).contains("not valid"), "{body}");
            assert!(!headers.contains_key(header::WWW_AUTHENTICATE));
        }
    }
    // A bearer that is not a local key is not a key at all.
    let (status, _, body) = post(&s.app, &[("host", HOST), ("authorization", "Bearer some-upstream-token")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(error_message(&body).contains("no Latchkey key"), "{body}");
    assert!(s.seen.lock().unwrap().is_empty(), "nothing reached the upstream");
}

#[tokio::test]
async fn a_key_works_in_either_header_until_it_is_revoked() {
    let s = setup().await;
    let (_, key) = s.engine.issue_local_key("demo", "cursor").unwrap();
    let key = key.expose().clone();

    let (status, _, body) = post(&s.app, &[("host", HOST), ("x-latchkey-key", &key)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = post(&s.app, &[("host", HOST), ("authorization", &format!("Bearer {key}"))]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    {
        let seen = s.seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        for h in seen.iter() {
            assert!(!h.contains_key("x-latchkey-key") && !h.contains_key(header::AUTHORIZATION), "the local key reached the upstream: {h:?}");
        }
    }

    assert_eq!(s.engine.revoke_local_keys("demo", None).unwrap(), 1);
    for (name, value) in [("x-latchkey-key", key.clone()), ("authorization", format!("Bearer {key}"))] {
        let (status, _, body) = post(&s.app, &[("host", HOST), (name, &value)]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked key via {name}: {body}");
        assert!(error_message(&body).contains("revoked"), "{body}");
    }
    assert_eq!(s.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn the_keyless_switch_lets_requests_without_a_key_through() {
    let s = setup().await;
    let (status, _, _) = post(&s.app, &[("host", HOST)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "off by default");

    s.engine.set_keyless("demo", true).unwrap();
    let (status, _, body) = post(&s.app, &[("host", HOST)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The guard still applies (DNS rebinding protection).
    let (status, _, _) = post(&s.app, &[("host", "rebound.example:47999")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post(&s.app, &[("host", HOST), ("origin", "http://rebound.example:47999")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Only this connection is keyless.
    let (status, _, _) = send(&s.app, request(Method::POST, "/mcp/other", &[("host", HOST)], rpc())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    s.engine.set_keyless("demo", false).unwrap();
    let (status, _, _) = post(&s.app, &[("host", HOST)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "off again");
    assert_eq!(s.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_unknown_connection_is_404_with_a_helpful_message() {
    let s = setup().await;
    let (_, key) = s.engine.issue_local_key("demo", "test").unwrap();
    for path in ["/mcp/nope", "/mcp/nope/messages"] {
        let (status, _, body) = send(&s.app, request(Method::POST, path, &[("host", HOST), ("x-latchkey-key", key.expose())], rpc())).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        let msg = error_message(&body);
        assert!(msg.contains("`nope`") && msg.contains("latchkey status"), "{msg}");
    }
    assert!(s.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_body_over_the_cap_is_413() {
    let s = setup().await;
    let (_, key) = s.engine.issue_local_key("demo", "test").unwrap();
    let key = key.expose().clone();

    let big = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(MAX_BODY));
    let (status, _, body) =
        send(&s.app, request(Method::POST, "/mcp/demo", &[("host", HOST), ("x-latchkey-key", &key), ("content-type", "application/json")], big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(error_message(&body).contains(&MAX_BODY.to_string()), "{body}");
    // Also when streamed without a length.
    let chunks = futures::stream::iter((0..4).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b' '; MAX_BODY / 2]))));
    let (status, _, _) = send(&s.app, request(Method::POST, "/mcp/demo", &[("host", HOST), ("x-latchkey-key", &key)], Body::from_stream(chunks))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(s.seen.lock().unwrap().is_empty(), "an oversized request is not forwarded");

    // At the cap it goes through.
    let exact = format!("{}{}", rpc(), " ".repeat(MAX_BODY - rpc().len()));
    let (status, _, body) = send(&s.app, request(Method::POST, "/mcp/demo", &[("host", HOST), ("x-latchkey-key", &key)], exact)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_body_the_app_breaks_off_is_400_and_the_upstream_is_not_blamed() {
    let s = setup().await;
    let (_, key) = s.engine.issue_local_key("demo", "test").unwrap();
    let key = key.expose().clone();
    let broken = futures::stream::iter([Ok(Bytes::from_static(br#"{"jsonrpc":"2.0","id":9,"#)), Err(std::io::Error::other("the app went away"))]);
    let (status, _, body) = send(&s.app, request(Method::POST, "/mcp/demo", &[("host", HOST), ("x-latchkey-key", &key)], Body::from_stream(broken))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("broke off its request"), "{body}");
    let activity = s.engine.activity_snapshot().remove("demo").expect("the request was counted");
    assert_eq!(activity.errors, 1);
    assert_eq!(activity.upstream, latchkey_core::Upstream::Unknown, "the server's health is not judged by the app's broken request");
}
