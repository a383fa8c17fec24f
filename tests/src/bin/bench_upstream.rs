//! A minimal, fast MCP Streamable HTTP upstream for `benches/gateway.rs`, so the gateway's hop
//! is what gets measured and not the server behind it.
//!
//! - `POST /mcp`: one JSON-RPC message. `initialize`, `ping`, `tools/list` and `tools/call`
//!   answer with a small JSON body; notifications and client responses get 202. Stateless: no
//!   `Mcp-Session-Id` is issued.
//! - `GET /mcp` with `Accept: text/event-stream`: an SSE stream whose first event is sent at
//!   once. With `?once=1` the stream then ends (so the connection is reused); otherwise it stays
//!   open with a comment every second, for at most [`HOLD_MAX`].
//! - `DELETE /mcp`: 200.
//!
//! Binds 127.0.0.1:0 (or the port given as the first argument), prints `PORT\n` on stdout, and
//! exits when stdin closes, so it never outlives the bench that started it.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

const HOLD_MAX: Duration = Duration::from_secs(120);
const FIRST_EVENT: &str =
    "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"hello\"}}\n\n";

fn json_body(status: StatusCode, v: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

async fn mcp_post(body: Bytes) -> Response {
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return json_body(StatusCode::BAD_REQUEST, &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}}));
    };
    let method = msg.get("method").and_then(Value::as_str);
    let (Some(method), Some(id)) = (method, msg.get("id")) else {
        return StatusCode::ACCEPTED.into_response();
    };
    let result = match method {
        "initialize" => json!({
            "protocolVersion": msg.pointer("/params/protocolVersion").and_then(Value::as_str).unwrap_or("2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "bench-upstream", "version": "1"},
        }),
        "ping" => json!({}),
        "tools/list" => json!({"tools": [{"name": "echo", "description": "Answers ok.", "inputSchema": {"type": "object", "properties": {}}}]}),
        "tools/call" => json!({"content": [{"type": "text", "text": "ok"}], "isError": false}),
        other => {
            return json_body(StatusCode::OK, &json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": format!("Method not found: {other}")}}));
        }
    };
    json_body(StatusCode::OK, &json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

async fn mcp_get(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let wants_sse = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"));
    if !wants_sse {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let once = query.as_deref().is_some_and(|q| q.split('&').any(|p| p == "once=1"));
    let first = futures::stream::once(async { Ok::<Bytes, Infallible>(Bytes::from_static(FIRST_EVENT.as_bytes())) });
    let body = if once {
        Body::from_stream(first)
    } else {
        let ticks = HOLD_MAX.as_secs();
        let pings = futures::stream::unfold(0u64, move |n| async move {
            if n >= ticks {
                return None;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            Some((Ok::<Bytes, Infallible>(Bytes::from_static(b": ping\n\n")), n + 1))
        });
        Body::from_stream(futures::StreamExt::chain(first, pings))
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        println!("{}", addr.port());
        let app = Router::new().route("/mcp", post(mcp_post).get(mcp_get).delete(|| async { StatusCode::OK }));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        // Exit when the parent closes our stdin (or dies).
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
        server.abort();
    });
}
