//! `latchkey bridge <connection>`: stdio JSON-RPC for clients that only launch local commands
//! (Claude Desktop), spoken as Streamable HTTP to the gateway.
//!
//! With a local key (`$LATCHKEY_KEY`) and a running gateway, requests go over loopback to it, so
//! the tray sees the traffic. Otherwise the gateway's router runs inside this process: same
//! guard, same credential handling, same vault and cross-process refresh lock. Either way the
//! bridge works without the tray app.
//!
//! Invariants: each stdin line is one JSON-RPC message and each stdout line is one; messages
//! are handled concurrently (a slow tool call does not hold up a ping), and stdout is written
//! by a single task so lines never interleave. Nothing but JSON-RPC goes to stdout.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use latchkey_core::Latchkey;
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower::ServiceExt;

use crate::{Config, GatewayError, KEY_HEADER, Limits, router};

/// Where the bridge sends requests.
#[derive(Clone)]
enum Target {
    Remote { client: reqwest::Client, url: String },
    InProcess { router: axum::Router, path: String, host: String },
}

#[derive(Default)]
struct Session {
    id: Option<HeaderValue>,
    protocol: Option<HeaderValue>,
}

type Chunks = futures::stream::BoxStream<'static, Result<Bytes, String>>;

/// Runs the bridge until stdin closes.
pub async fn run<R, W>(engine: Latchkey, connection: &str, key: Option<String>, config_dir: &std::path::Path, stdin: R, stdout: W) -> Result<(), GatewayError>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let port = engine.gateway_port().unwrap_or(latchkey_core::model::DEFAULT_GATEWAY_PORT);
    let running = if key.is_some() { crate::running_instance(config_dir) } else { None };
    let target = match running {
        Some(r) => {
            // Plain HTTP to 127.0.0.1 only: no proxy (a `$HTTP_PROXY` must never see the local
            // key), and no TLS roots, whose loading from the system store costs milliseconds of
            // start-up and resident memory for nothing.
            let client =
                reqwest::Client::builder().tcp_nodelay(true).no_proxy().tls_certs_only(Vec::new()).build().map_err(|e| GatewayError::Client(e.to_string()))?;
            Target::Remote { client, url: format!("{}/mcp/{connection}", r.url()) }
        }
        None => {
            let router = router(engine.clone(), Config { port, limits: Limits::default(), require_key: false })?;
            Target::InProcess { router, path: format!("/mcp/{connection}"), host: format!("127.0.0.1:{port}") }
        }
    };
    let session = Arc::new(Mutex::new(Session::default()));
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut stdout = stdout;
        while let Some(line) = out_rx.recv().await {
            if stdout.write_all(line.as_bytes()).await.is_err() || stdout.write_all(b"\n").await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });
    let mut lines = tokio::io::BufReader::new(stdin).lines();
    let mut tasks = tokio::task::JoinSet::new();
    let mut listener: Option<tokio::task::JoinHandle<()>> = None;
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        let msg: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                let _ = out_tx.send(error_line(serde_json::Value::Null, -32700, &format!("Latchkey bridge: not valid JSON ({e})")));
                continue;
            }
        };
        let method = msg.get("method").and_then(|m| m.as_str()).unwrap_or_default().to_owned();
        let is_initialized = method == "notifications/initialized";
        if method == "initialize" {
            // Everything after it needs the session id and protocol version it establishes.
            post(&target, key.as_deref(), &session, msg, &out_tx).await;
            continue;
        }
        let (t, k, sess, out) = (target.clone(), key.clone(), Arc::clone(&session), out_tx.clone());
        tasks.spawn(async move { post(&t, k.as_deref(), &sess, msg, &out).await });
        if is_initialized && listener.is_none() {
            let (t, k, sess, out) = (target.clone(), key.clone(), Arc::clone(&session), out_tx.clone());
            listener = Some(tokio::spawn(async move { listen(&t, k.as_deref(), &sess, &out).await }));
        }
        while tasks.try_join_next().is_some() {}
    }
    // stdin closed: let replies in flight finish, end the session, stop.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
    if let Some(l) = listener {
        l.abort();
    }
    let _ = send(&target, key.as_deref(), &session, Method::DELETE, Bytes::new()).await;
    drop(out_tx);
    let _ = writer.await;
    Ok(())
}

async fn send(target: &Target, key: Option<&str>, session: &Mutex<Session>, method: Method, body: Bytes) -> Result<(StatusCode, HeaderMap, Chunks), String> {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
    if method == Method::POST {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if let Some(k) = key.and_then(|k| HeaderValue::from_str(k).ok()) {
        headers.insert(KEY_HEADER, k);
    }
    if let Ok(s) = session.lock() {
        if let Some(id) = &s.id {
            headers.insert("mcp-session-id", id.clone());
        }
        if let Some(p) = &s.protocol {
            headers.insert("mcp-protocol-version", p.clone());
        }
    }
    match target {
        Target::Remote { client, url } => {
            let resp =
                client.request(method, url).headers(headers).body(body).send().await.map_err(|_| "the Latchkey gateway could not be reached".to_owned())?;
            let (status, headers) = (resp.status(), resp.headers().clone());
            Ok((status, headers, resp.bytes_stream().map(|r| r.map_err(|e| e.to_string())).boxed()))
        }
        Target::InProcess { router, path, host } => {
            let mut req = Request::builder().method(method).uri(path.as_str()).body(Body::from(body)).map_err(|e| e.to_string())?;
            *req.headers_mut() = headers;
            req.headers_mut().insert(header::HOST, HeaderValue::from_str(host).map_err(|e| e.to_string())?);
            let resp = router.clone().oneshot(req).await.map_err(|e| e.to_string())?;
            let (parts, body) = resp.into_parts();
            Ok((parts.status, parts.headers, body.into_data_stream().map(|r| r.map_err(|e| e.to_string())).boxed()))
        }
    }
}

/// Sends one message and writes every message of the answer to stdout.
async fn post(target: &Target, key: Option<&str>, session: &Mutex<Session>, msg: serde_json::Value, out: &mpsc::UnboundedSender<String>) {
    let id = msg.get("id").cloned();
    let is_initialize = msg.get("method").and_then(|m| m.as_str()) == Some("initialize");
    let body = Bytes::from(serde_json::to_vec(&msg).unwrap_or_default());
    let (status, headers, chunks) = match send(target, key, session, Method::POST, body).await {
        Ok(r) => r,
        Err(e) => {
            if let Some(id) = id {
                let _ = out.send(error_line(id, -32000, &format!("Latchkey bridge: {e}")));
            }
            return;
        }
    };
    if let Some(sid) = headers.get("mcp-session-id")
        && let Ok(mut s) = session.lock()
    {
        s.id = Some(sid.clone());
    }
    let is_sse = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/event-stream"));
    let mut answered = false;
    let mut note: Option<String> = None;
    let mut emit = |text: &str| {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
            if v.get("jsonrpc").is_none() && !v.is_array() {
                // The gateway's own `{"error": "..."}` (a 401, 404, 413...) is not JSON-RPC: it
                // never goes to stdout, its message goes into the error line below.
                note = v.get("error").and_then(|m| m.as_str()).map(str::to_owned);
                return;
            }
            if is_initialize
                && let Some(p) = v.pointer("/result/protocolVersion").and_then(|p| p.as_str()).and_then(|p| HeaderValue::from_str(p).ok())
                && let Ok(mut s) = session.lock()
            {
                s.protocol = Some(p);
            }
            if v.get("id").is_some() && v.get("method").is_none() {
                answered = true;
            }
            let _ = out.send(v.to_string());
        }
    };
    if is_sse {
        let mut events = SseLines::default();
        let mut chunks = chunks;
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(bytes) => events.feed(&bytes, &mut emit),
                Err(_) => break,
            }
        }
    } else {
        let body: Vec<u8> = chunks.filter_map(|c| async move { c.ok() }).collect::<Vec<_>>().await.concat();
        if !body.is_empty() {
            emit(&String::from_utf8_lossy(&body));
        }
    }
    if !answered
        && status != StatusCode::ACCEPTED
        && let Some(id) = id
    {
        let reason = if status.is_success() {
            "the stream closed before the answer arrived".to_owned()
        } else {
            format!("the gateway answered HTTP {}{}", status.as_u16(), note.map(|n| format!(": {n}")).unwrap_or_default())
        };
        let _ = out.send(error_line(id, -32000, &format!("Latchkey bridge: {reason}")));
    }
}

/// The GET stream for server-initiated messages; a server without one answers 405.
async fn listen(target: &Target, key: Option<&str>, session: &Mutex<Session>, out: &mpsc::UnboundedSender<String>) {
    let Ok((status, _, mut chunks)) = send(target, key, session, Method::GET, Bytes::new()).await else { return };
    if !status.is_success() {
        return;
    }
    let mut events = SseLines::default();
    while let Some(Ok(bytes)) = chunks.next().await {
        events.feed(&bytes, &mut |text| {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
                let _ = out.send(v.to_string());
            }
        });
    }
}

/// Minimal SSE parser: collects `data:` lines and emits each event's data.
#[derive(Default)]
struct SseLines {
    carry: Vec<u8>,
    data: String,
}

impl SseLines {
    fn feed(&mut self, bytes: &[u8], emit: &mut impl FnMut(&str)) {
        self.carry.extend_from_slice(bytes);
        while let Some(pos) = self.carry.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.carry.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    emit(&self.data);
                    self.data.clear();
                }
            } else if let Some(d) = line.strip_prefix("data:") {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(d.strip_prefix(' ').unwrap_or(d));
            }
        }
    }
}

fn error_line(id: serde_json::Value, code: i64, message: &str) -> String {
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_parser_handles_split_events() {
        let mut p = SseLines::default();
        let mut got = Vec::new();
        p.feed(b"event: message\ndata: {\"a\"", &mut |s| got.push(s.to_owned()));
        p.feed(b":1}\n\nid: 2\ndata: {\"b\":2}\r\n\r\n", &mut |s| got.push(s.to_owned()));
        assert_eq!(got, vec!["{\"a\":1}", "{\"b\":2}"]);
    }
}
