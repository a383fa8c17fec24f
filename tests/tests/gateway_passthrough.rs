//! The gateway as a transparent Streamable HTTP hop, served for real on 127.0.0.1 against a
//! small MCP-ish upstream (no auth; the connection is created by connecting through the engine,
//! so it is saved with auth kind `None`).
//!
//! Covers: POST, GET and DELETE are forwarded; `Mcp-Session-Id`, `MCP-Protocol-Version`,
//! `Last-Event-ID`, `Mcp-Method`, `Mcp-Name` and an unknown `Mcp-Future-Thing` pass through
//! unchanged in both directions; the client's `Authorization` / `X-Latchkey-Key` never reach
//! the upstream; SSE responses (POST and GET) are streamed, not buffered: the client receives
//! the first event while the upstream is still waiting to send the second (the upstream waits
//! on a `Notify` the client fires only after it has read the first event); a 202 is relayed;
//! and a legacy HTTP+SSE upstream has its `endpoint` event rewritten to
//! `/mcp/<name>/messages?sessionId=1`, and POSTing there reaches the upstream's `/messages`
//! with the query.

#[path = "../src/support.rs"]
mod support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use latchkey_core::{AuthKind, ConnectRequest};
use latchkey_gateway::{Config, Gateway};
use latchkey_oauth::SystemClock;
use serde_json::{Value, json};
use support::*;

/// One request as the upstream saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Default)]
struct Up {
    seen: Mutex<Vec<Seen>>,
    /// GET /mcp offers an SSE stream only once the engine's connect is done.
    get_stream: AtomicBool,
    /// The upstream sends its second SSE event only after this is notified.
    release: tokio::sync::Notify,
    second_sent: AtomicBool,
}

type Shared = Arc<Up>;

const SSE: &str = "text/event-stream";

fn sse_two_events(up: Shared, first: String, second: String) -> Body {
    let stream = futures::stream::unfold(0u8, move |step| {
        let (up, first, second) = (up.clone(), first.clone(), second.clone());
        async move {
            match step {
                0 => Some((Ok::<_, Infallible>(Bytes::from(first)), 1)),
                1 => {
                    up.release.notified().await;
                    up.second_sent.store(true, Ordering::SeqCst);
                    Some((Ok(Bytes::from(second)), 2))
                }
                _ => None,
            }
        }
    });
    Body::from_stream(stream)
}

/// Every `mcp-*` request header is echoed back on the response unchanged.
fn echo_mcp_headers(req: &HeaderMap, resp: &mut Response) {
    for (k, v) in req {
        if k.as_str().starts_with("mcp-") && k != "mcp-session-id" {
            resp.headers_mut().insert(k.clone(), v.clone());
        }
    }
}

async fn upstream(State(up): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    up.seen.lock().unwrap().push(Seen { method: method.clone(), uri: uri.to_string(), headers: headers.clone(), body: text.clone() });
    match (method.as_str(), uri.path()) {
        ("POST", "/mcp") => {
            let Ok(msg) = serde_json::from_str::<Value>(&text) else { return (StatusCode::BAD_REQUEST, "not JSON").into_response() };
            let Some(id) = msg.get("id").cloned() else { return StatusCode::ACCEPTED.into_response() };
            let m = msg["method"].as_str().unwrap_or_default();
            let result = match m {
                "initialize" => {
                    json!({"protocolVersion": msg["params"]["protocolVersion"].as_str().unwrap_or("2025-06-18"), "capabilities": {"tools": {}}, "serverInfo": {"name": "passthrough-upstream", "version": "1"}})
                }
                "tools/list" => json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}),
                "stream/test" => {
                    let first = format!(
                        "event: message\nid: 1\ndata: {}\n\n",
                        json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}})
                    );
                    let second = format!("event: message\nid: 2\ndata: {}\n\n", json!({"jsonrpc": "2.0", "id": id, "result": {"done": true}}));
                    let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, SSE)], sse_two_events(up.clone(), first, second)).into_response();
                    echo_mcp_headers(&headers, &mut resp);
                    return resp;
                }
                _ => json!({"method": m}),
            };
            let mut resp = axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response();
            resp.headers_mut().insert("mcp-session-id", "sess-1".parse().unwrap());
            echo_mcp_headers(&headers, &mut resp);
            resp
        }
        ("GET", "/mcp") if up.get_stream.load(Ordering::SeqCst) => {
            let last = headers.get("last-event-id").and_then(|v| v.to_str().ok()).unwrap_or("none").to_owned();
            let first = format!("id: 42\ndata: {}\n\n", json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"resumedAfter": last}}));
            let second = format!("id: 43\ndata: {}\n\n", json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"n": 2}}));
            let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, SSE)], sse_two_events(up.clone(), first, second)).into_response();
            echo_mcp_headers(&headers, &mut resp);
            resp
        }
        ("GET", "/mcp") => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        ("DELETE", "/mcp") => {
            let mut resp = StatusCode::OK.into_response();
            echo_mcp_headers(&headers, &mut resp);
            resp
        }
        // Legacy HTTP+SSE (2024-11-05): the endpoint event, then the stream stays open.
        ("GET", "/sse") => {
            let stream = futures::stream::once(async { Ok::<_, Infallible>(Bytes::from_static(b"event: endpoint\ndata: /messages?sessionId=1\n\n")) })
                .chain(futures::stream::pending());
            (StatusCode::OK, [(header::CONTENT_TYPE, SSE)], Body::from_stream(stream)).into_response()
        }
        ("POST", "/messages") => (StatusCode::ACCEPTED, "Accepted").into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

struct World {
    env: Env,
    up: Shared,
    gateway: Gateway,
    base: String,
    key: String,
    legacy_key: String,
    client: reqwest::Client,
}

async fn world() -> World {
    let up: Shared = Arc::default();
    // No body limit of its own (axum's default is 2 MB): the over-cap test must meet the
    // gateway's 4 MiB cap, not an upstream 413 that may win the race.
    let app = Router::new().fallback(upstream).with_state(up.clone()).layer(axum::extract::DefaultBodyLimit::disable());
    let origin = serve(app).await;
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let report = lk
        .connect(ConnectRequest { target: format!("{origin}/mcp"), name: Some("up".into()), ..Default::default() })
        .await
        .expect("connect to the open upstream");
    assert_eq!(report.server.as_deref(), Some("passthrough-upstream"));
    assert_eq!(lk.connection("up").unwrap().auth, AuthKind::None);
    lk.resolve(&format!("{origin}/sse"), Some("legacy"), None, &Default::default()).unwrap();
    up.get_stream.store(true, Ordering::SeqCst);
    up.seen.lock().unwrap().clear();

    let (_, key) = lk.issue_local_key("up", "test").unwrap();
    let (_, legacy_key) = lk.issue_local_key("legacy", "test").unwrap();
    let gateway = Gateway::start(lk.clone(), env.config_dir(), Config::on_port(0)).await.expect("gateway starts");
    let base = format!("http://{}", gateway.addr);
    // Every test request carries `x-test`, so requests the engine's own connect may still be
    // finishing (a session DELETE) are told apart.
    let mut marker = HeaderMap::new();
    marker.insert("x-test", "1".parse().unwrap());
    let client = reqwest::Client::builder().no_proxy().default_headers(marker).build().unwrap();
    World { env, up, gateway, base, key: key.expose().clone(), legacy_key: legacy_key.expose().clone(), client }
}

fn seen(w: &World) -> Vec<Seen> {
    w.up.seen.lock().unwrap().iter().filter(|s| s.headers.contains_key("x-test")).cloned().collect()
}

/// Reads the byte stream until it holds a complete SSE event (a blank line); returns the text.
async fn read_event(stream: &mut (impl futures::Stream<Item = reqwest::Result<Bytes>> + Unpin), buf: &mut String) -> String {
    loop {
        if let Some(end) = buf.find("\n\n") {
            let event = buf[..end + 2].to_owned();
            buf.drain(..end + 2);
            return event;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("an event arrives")
            .expect("the stream is open")
            .expect("no stream error");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

const MCP_HEADERS: [(&str, &str); 5] = [
    ("mcp-protocol-version", "2025-11-25"),
    ("mcp-method", "tools/call"),
    ("mcp-name", "echo"),
    ("mcp-future-thing", "v=2; opaque=\"x y\""),
    ("last-event-id", "41"),
];

#[tokio::test]
async fn json_post_passes_every_mcp_header_both_ways_and_no_client_credential() {
    let w = world().await;
    let url = format!("{}/mcp/up", w.base);
    // The local key once as X-Latchkey-Key, once as the client's own Authorization.
    for (i, (kh, kv)) in [("x-latchkey-key", w.key.clone()), ("authorization", format!("Bearer {}", w.key))].into_iter().enumerate() {
        let mut req = w
            .client
            .post(&url)
            .header(kh, kv)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", "sess-1");
        for (k, v) in MCP_HEADERS {
            req = req.header(k, v);
        }
        let body = json!({"jsonrpc": "2.0", "id": i + 10, "method": "tools/call", "params": {"name": "echo"}}).to_string();
        let resp = req.body(body.clone()).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        // Response direction: the upstream's mcp-* headers arrive unchanged.
        assert_eq!(resp.headers()["mcp-session-id"], "sess-1");
        for (k, v) in MCP_HEADERS.iter().filter(|(k, _)| k.starts_with("mcp-")) {
            assert_eq!(resp.headers().get(*k).and_then(|h| h.to_str().ok()), Some(*v), "response header {k}");
        }
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["id"], json!(i + 10));
        assert_eq!(v["result"]["method"], "tools/call");

        // Request direction.
        let s = seen(&w);
        let last = s.last().unwrap();
        assert_eq!((last.method.as_str(), last.uri.as_str()), ("POST", "/mcp"));
        assert_eq!(last.body, body, "the body is forwarded byte for byte");
        assert_eq!(last.headers["mcp-session-id"], "sess-1");
        for (k, v) in MCP_HEADERS {
            assert_eq!(last.headers.get(k).and_then(|h| h.to_str().ok()), Some(v), "request header {k}");
        }
    }
    for s in seen(&w) {
        assert!(!s.headers.contains_key(header::AUTHORIZATION), "client Authorization reached the upstream: {:?}", s.headers);
        assert!(!s.headers.contains_key("x-latchkey-key"), "the local key reached the upstream: {:?}", s.headers);
        assert!(!s.headers.values().any(|v| v.to_str().is_ok_and(|v| v.contains(&w.key))), "the key leaked in some header: {:?}", s.headers);
    }
    w.gateway.shutdown(Duration::from_secs(2)).await;
    drop(w.env);
}

#[tokio::test]
async fn sse_post_responses_are_streamed_not_buffered() {
    let w = world().await;
    let resp = w
        .client
        .post(format!("{}/mcp/up", w.base))
        .header("x-latchkey-key", &w.key)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-future-thing", "sse")
        .body(json!({"jsonrpc": "2.0", "id": 7, "method": "stream/test"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with(SSE));
    assert_eq!(resp.headers()["mcp-future-thing"], "sse");
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let first = read_event(&mut stream, &mut buf).await;
    assert!(first.contains("notifications/progress") && first.contains("id: 1"), "{first}");
    // The upstream has not sent its second event yet: it waits for us.
    assert!(!w.up.second_sent.load(Ordering::SeqCst), "the first event arrived before the upstream sent the second");
    assert!(!buf.contains("\"done\""), "{buf}");
    w.up.release.notify_one();
    let second = read_event(&mut stream, &mut buf).await;
    assert!(second.contains("id: 2") && second.contains("\"done\":true") && second.contains("\"id\":7"), "{second}");
    assert!(tokio::time::timeout(Duration::from_secs(20), stream.next()).await.unwrap().is_none(), "the stream ends after the answer");
    w.gateway.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn get_streams_with_last_event_id_and_delete_ends_the_session() {
    let w = world().await;
    let url = format!("{}/mcp/up", w.base);
    let resp = w
        .client
        .get(&url)
        .header("x-latchkey-key", &w.key)
        .header("accept", SSE)
        .header("mcp-session-id", "sess-1")
        .header("mcp-protocol-version", "2025-11-25")
        .header("last-event-id", "41")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["mcp-protocol-version"], "2025-11-25");
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let first = read_event(&mut stream, &mut buf).await;
    assert!(first.starts_with("id: 42\n") && first.contains(r#""resumedAfter":"41""#), "{first}");
    assert!(!w.up.second_sent.load(Ordering::SeqCst));
    w.up.release.notify_one();
    let second = read_event(&mut stream, &mut buf).await;
    assert!(second.starts_with("id: 43\n"), "{second}");
    let get = seen(&w).into_iter().find(|s| s.method == Method::GET).expect("GET forwarded");
    assert_eq!(get.headers["last-event-id"], "41");
    assert_eq!(get.headers["mcp-session-id"], "sess-1");

    let resp = w
        .client
        .delete(&url)
        .header("x-latchkey-key", &w.key)
        .header("mcp-session-id", "sess-1")
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let del = seen(&w).into_iter().find(|s| s.method == Method::DELETE).expect("DELETE forwarded");
    assert_eq!(del.uri, "/mcp");
    assert_eq!(del.headers["mcp-session-id"], "sess-1");
    assert_eq!(del.headers["mcp-protocol-version"], "2025-11-25");
    w.gateway.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_202_is_relayed() {
    let w = world().await;
    let resp = w
        .client
        .post(format!("{}/mcp/up", w.base))
        .header("x-latchkey-key", &w.key)
        .header("content-type", "application/json")
        .header("mcp-session-id", "sess-1")
        .body(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert!(resp.bytes().await.unwrap().is_empty());
    let s = seen(&w);
    assert_eq!(s.len(), 1);
    assert!(s[0].body.contains("notifications/initialized"));
    w.gateway.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_legacy_sse_upstream_gets_its_endpoint_rewritten_to_the_gateway() {
    let w = world().await;
    let key = w.legacy_key.clone();
    let resp = w.client.get(format!("{}/mcp/legacy", w.base)).header("x-latchkey-key", &key).header("accept", SSE).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let event = read_event(&mut stream, &mut buf).await;
    assert_eq!(event, "event: endpoint\ndata: /mcp/legacy/messages?sessionId=1\n\n");
    let get = seen(&w).into_iter().find(|s| s.method == Method::GET).unwrap();
    assert_eq!(get.uri, "/sse");

    // The client resolves the endpoint against the gateway and POSTs there.
    let endpoint = event.lines().nth(1).unwrap().strip_prefix("data: ").unwrap().to_owned();
    let resp = w
        .client
        .post(format!("{}{endpoint}", w.base))
        .header("x-latchkey-key", &key)
        .header("content-type", "application/json")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let post = seen(&w).into_iter().find(|s| s.method == Method::POST).expect("the message was forwarded");
    assert_eq!(post.uri, "/messages?sessionId=1");
    assert!(post.body.contains("tools/list"));
    drop(stream);
    w.gateway.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_request_body_without_a_length_is_streamed_through_whole_and_one_over_the_cap_is_413() {
    let w = world().await;
    let url = format!("{}/mcp/up", w.base);
    let post = |body: reqwest::Body| {
        w.client
            .post(&url)
            .header("x-latchkey-key", &w.key)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
    };
    // Chunked, in three pieces: the upstream gets the same bytes, and the answer is checked JSON.
    let text = json!({"jsonrpc": "2.0", "id": 77, "method": "tools/call", "params": {"name": "echo", "arguments": {"pad": "x".repeat(20_000)}}}).to_string();
    let pieces: Vec<Result<String, std::io::Error>> = vec![Ok(text[..10].to_owned()), Ok(text[10..15_000].to_owned()), Ok(text[15_000..].to_owned())];
    let resp = post(reqwest::Body::wrap_stream(futures::stream::iter(pieces))).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["id"], json!(77));
    assert_eq!(seen(&w).last().map(|s| s.body.clone()), Some(text), "the body is forwarded byte for byte");

    // Over the 4 MiB cap without a Content-Length: refused with a plain message.
    let before = seen(&w).len();
    let big: Vec<Result<Vec<u8>, std::io::Error>> = (0..5).map(|_| Ok(vec![b' '; 1024 * 1024])).collect();
    let resp = post(reqwest::Body::wrap_stream(futures::stream::iter(big))).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(resp.text().await.unwrap().contains("larger than"), "a plain message says why");
    // And with a Content-Length over the cap, nothing is sent upstream at all.
    let resp = post(reqwest::Body::from(vec![b' '; 5 * 1024 * 1024])).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(seen(&w).len(), before, "no over-cap body reached the upstream's handler");

    // The gateway still serves the next request.
    let resp = post(reqwest::Body::from(json!({"jsonrpc": "2.0", "id": 78, "method": "ping"}).to_string())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    w.gateway.shutdown(Duration::from_secs(2)).await;
    drop(w.env);
}
