//! Fault injection through the real gateway: upstreams that are down (a port that was bound
//! then dropped: connection refused), slow (longer than a short `Limits::upstream_timeout`),
//! reset mid-stream (an SSE answer that sends one event, then the connection is torn down),
//! failing with a 5xx (plain-text body), or malformed (200 `application/json` that is not JSON).
//!
//! For each, the client gets a JSON-RPC error carrying its request id (HTTP 502, or 504 when
//! slow) or, mid-stream, a stream that closes after what was already sent; the fault shows in
//! the connection's activity; and a healthy connection through the same gateway keeps working
//! in between. Then 2000 mixed requests (bounded in count, with a hang guard) show the gateway
//! stays up and this process's RSS (VmRSS) stays flat: growth after a warm-up round is below a
//! generous 20 MiB bound (a memory bound, not a timing one). Both RSS figures are printed.

#[path = "../src/support.rs"]
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use latchkey_core::{Latchkey, Upstream};
use latchkey_gateway::{Config, Gateway, Limits};
use latchkey_oauth::SystemClock;
use serde_json::{Value, json};
use support::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Mode {
    Healthy,
    Down,
    Slow,
    Reset,
    ServerError,
    Malformed,
}

const FAULTS: [Mode; 5] = [Mode::Down, Mode::Slow, Mode::Reset, Mode::ServerError, Mode::Malformed];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Healthy => "healthy",
            Mode::Down => "down",
            Mode::Slow => "slow",
            Mode::Reset => "reset",
            Mode::ServerError => "fivexx",
            Mode::Malformed => "malformed",
        }
    }
}

/// Per request id (JSON text): fired by the client once it has read the reset stream's first
/// event, so the upstream breaks the stream only after that event went through.
type Crashes = Mutex<HashMap<String, tokio::sync::oneshot::Sender<()>>>;
static RESETS: std::sync::LazyLock<Crashes> = std::sync::LazyLock::new(Default::default);

async fn upstream(uri: Uri, body: Bytes) -> Response {
    let id = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v.get("id").cloned()).unwrap_or(Value::Null);
    match uri.path() {
        "/healthy" => axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": {"ok": true}})).into_response(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": {}})).into_response()
        }
        "/reset" => {
            let first = format!("event: message\ndata: {}\n\n", json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}}));
            // One event; once the client has it, the body fails and hyper drops the connection
            // mid-stream.
            let (crash, crashed) = tokio::sync::oneshot::channel::<()>();
            RESETS.lock().unwrap().insert(id.to_string(), crash);
            let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(first)) }).chain(futures::stream::once(async move {
                let _ = crashed.await;
                Err(std::io::Error::other("upstream crashed"))
            }));
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/event-stream")], Body::from_stream(stream)).into_response()
        }
        "/fivexx" => {
            (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/html")], "<html><body>Internal Server Error</body></html>").into_response()
        }
        "/malformed" => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{\"jsonrpc\": \"2.0\", \"id\": <oops> this is not json").into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

struct World {
    _env: Env,
    lk: Latchkey,
    gateway: Gateway,
    keys: HashMap<Mode, String>,
    client: reqwest::Client,
}

async fn world() -> World {
    let origin = serve(Router::new().fallback(upstream)).await;
    // A port that was bound and then let go: nothing listens there.
    let dead = {
        let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        l.local_addr().unwrap()
    };
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let mut keys = HashMap::new();
    for mode in [Mode::Healthy].into_iter().chain(FAULTS) {
        let url = if mode == Mode::Down { format!("http://{dead}/mcp") } else { format!("{origin}/{}", mode.name()) };
        lk.resolve(&url, Some(mode.name()), None, &Default::default()).unwrap();
        let (_, key) = lk.issue_local_key(mode.name(), "faults").unwrap();
        keys.insert(mode, key.expose().clone());
    }
    let limits = Limits { upstream_timeout: Duration::from_millis(500), ..Limits::default() };
    let gateway = Gateway::start(lk.clone(), env.config_dir(), Config { port: 0, limits, require_key: true }).await.unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    World { _env: env, lk, gateway, keys, client }
}

/// What the client got for one request.
#[derive(Debug)]
enum Got {
    /// A whole JSON body.
    Json(StatusCode, Value),
    /// An SSE stream: the events that arrived, and whether it ended with an error.
    Stream { events: Vec<String>, broken: bool },
}

async fn call(w: &World, mode: Mode, id: Value) -> Got {
    let resp = w
        .client
        .post(format!("http://{}/mcp/{}", w.gateway.addr, mode.name()))
        .header("x-latchkey-key", &w.keys[&mode])
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "x"}}).to_string())
        .send()
        .await
        .expect("the gateway always answers");
    let status = resp.status();
    let sse = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/event-stream"));
    if sse {
        let mut stream = resp.bytes_stream();
        let mut text = String::new();
        let mut broken = false;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => {
                    text.push_str(&String::from_utf8_lossy(&b));
                    if text.contains("\n\n")
                        && let Some(crash) = RESETS.lock().unwrap().remove(&id.to_string())
                    {
                        let _ = crash.send(());
                    }
                }
                Err(_) => {
                    broken = true;
                    break;
                }
            }
        }
        let events = text.split("\n\n").filter(|e| !e.trim().is_empty()).map(str::to_owned).collect();
        return Got::Stream { events, broken };
    }
    let bytes = resp.bytes().await.expect("a whole body");
    let v =
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{mode:?}: the client got a body it cannot parse ({e}): {}", String::from_utf8_lossy(&bytes)));
    Got::Json(status, v)
}

/// Asserts the outcome a fault must produce; returns nothing, panics with the reason.
fn check_fault(mode: Mode, id: &Value, got: &Got) {
    match (mode, got) {
        (Mode::Reset, Got::Stream { events, broken }) => {
            assert_eq!(events.len(), 1, "the event sent before the reset arrives, nothing more: {events:?}");
            assert!(events[0].contains("notifications/progress"), "{events:?}");
            let _ = broken; // closed, with an error or not, depending on where the reset is seen
        }
        (Mode::Reset, other) => panic!("reset: expected a stream, got {other:?}"),
        (_, Got::Json(status, v)) => {
            let want = if mode == Mode::Slow { StatusCode::GATEWAY_TIMEOUT } else { StatusCode::BAD_GATEWAY };
            assert_eq!(*status, want, "{mode:?}: {v}");
            assert_eq!(v["jsonrpc"], "2.0", "{mode:?}: {v}");
            assert_eq!(&v["id"], id, "{mode:?}: the error carries the request id: {v}");
            assert!(v.get("result").is_none(), "{v}");
            let msg = v["error"]["message"].as_str().unwrap_or_else(|| panic!("{mode:?}: not a JSON-RPC error: {v}"));
            let reason = match mode {
                Mode::Down => "could not be reached",
                Mode::Slow => "did not answer in time",
                Mode::ServerError => "HTTP 500",
                Mode::Malformed => "malformed",
                _ => unreachable!(),
            };
            assert!(msg.starts_with("Latchkey:") && msg.contains(reason), "{mode:?}: {msg}");
        }
        (_, other) => panic!("{mode:?}: expected a JSON-RPC error, got {other:?}"),
    }
}

async fn healthy(w: &World, id: Value) {
    match call(w, Mode::Healthy, id.clone()).await {
        Got::Json(StatusCode::OK, v) => {
            assert_eq!(v["id"], id, "{v}");
            assert_eq!(v["result"]["ok"], true, "{v}");
        }
        other => panic!("the healthy connection failed: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_is_a_jsonrpc_error_or_a_closed_stream_and_other_connections_keep_working() {
    let w = world().await;
    healthy(&w, json!(0)).await;
    for (i, mode) in FAULTS.into_iter().enumerate() {
        let id = json!(format!("req-{i}"));
        let got = call(&w, mode, id.clone()).await;
        check_fault(mode, &id, &got);
        healthy(&w, json!(i + 100)).await;
    }

    // The faults are visible per connection; the healthy one stays healthy.
    let activity = w.lk.activity_snapshot();
    assert!(matches!(activity["down"].upstream, Upstream::Unreachable { .. }), "{:?}", activity["down"]);
    assert!(matches!(activity["slow"].upstream, Upstream::Unreachable { .. }), "{:?}", activity["slow"]);
    assert!(matches!(activity["fivexx"].upstream, Upstream::Error { .. }), "{:?}", activity["fivexx"]);
    assert!(matches!(activity["malformed"].upstream, Upstream::Error { .. }), "{:?}", activity["malformed"]);
    for m in ["down", "slow", "fivexx", "malformed"] {
        assert_eq!((activity[m].requests, activity[m].errors), (1, 1), "{m}: {:?}", activity[m]);
    }
    assert_eq!(activity["healthy"].upstream, Upstream::Ok);
    assert_eq!((activity["healthy"].requests, activity["healthy"].errors), (FAULTS.len() as u64 + 1, 0));
    w.gateway.shutdown(Duration::from_secs(2)).await;
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS line");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The mode of request `i` in the mixed rounds: mostly faults, slow ones rarely (each costs
/// the whole upstream timeout).
fn mixed(i: usize) -> Mode {
    match i % 10 {
        0 | 5 => Mode::Down,
        1 | 6 => Mode::ServerError,
        2 | 7 => Mode::Malformed,
        3 | 8 => Mode::Reset,
        4 if i % 100 == 4 => Mode::Slow,
        _ => Mode::Healthy,
    }
}

async fn round(w: &World, range: std::ops::Range<usize>) -> usize {
    let results: Vec<()> = futures::stream::iter(range)
        .map(|i| async move {
            let mode = mixed(i);
            let id = json!(i);
            let got = call(w, mode, id.clone()).await;
            if mode == Mode::Healthy {
                match got {
                    Got::Json(StatusCode::OK, v) => assert_eq!(v["id"], id),
                    other => panic!("request {i}: the healthy connection failed: {other:?}"),
                }
            } else {
                check_fault(mode, &id, &got);
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    results.len()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_mixed_faults_leave_the_gateway_up_and_its_memory_flat() {
    let w = world().await;
    // A hang guard only: the run is bounded by its request count.
    tokio::time::timeout(Duration::from_secs(600), async {
        assert_eq!(round(&w, 0..400).await, 400);
        let before = rss_kib();
        assert_eq!(round(&w, 400..2400).await, 2000);
        let after = rss_kib();
        println!("VmRSS after warm-up: {before} KiB; after 2000 more mixed requests: {after} KiB (growth {} KiB)", after.saturating_sub(before));
        assert!(after.saturating_sub(before) < 20 * 1024, "RSS grew from {before} KiB to {after} KiB");
    })
    .await
    .expect("the mixed run finished");

    // Still up, still serving.
    healthy(&w, json!("after")).await;
    let activity = w.lk.activity_snapshot();
    assert!(activity["healthy"].requests > 0 && activity["healthy"].errors == 0, "{:?}", activity["healthy"]);
    assert!(activity["down"].errors >= 400, "{:?}", activity["down"]);
    w.gateway.shutdown(Duration::from_secs(2)).await;
}
