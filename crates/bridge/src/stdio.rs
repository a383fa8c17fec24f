//! JSON-RPC over stdio, spoken as Streamable HTTP through a [`Transport`].
//!
//! Invariants: each stdin line is one JSON-RPC message and each stdout line is one; messages
//! are handled concurrently (a slow tool call does not hold up a ping), and stdout is written
//! by a single task so lines never interleave. Nothing but JSON-RPC goes to stdout: the
//! gateway's own `{"error": ...}` bodies become JSON-RPC errors for the request they answer.
//! `initialize` is sent alone, since everything after it needs the session it opens.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// A response body, chunk by chunk as it arrives.
pub type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send>>;

/// One HTTP answer.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Chunks,
}

/// Where the bridge's requests go: the MCP endpoint of one connection.
pub trait Transport: Clone + Send + Sync + 'static {
    /// Sends one request to the endpoint. `headers` carries the MCP headers (accept, content
    /// type, session, protocol version); the transport adds its own (host, local key). The
    /// error is a short phrase for the user ("the Latchkey gateway could not be reached").
    fn send(&self, method: Method, headers: HeaderMap, body: Bytes) -> impl Future<Output = Result<Reply, String>> + Send;
}

#[derive(Default)]
struct Session {
    id: Option<HeaderValue>,
    protocol: Option<HeaderValue>,
}

/// Runs the bridge until stdin closes, then ends the MCP session.
pub async fn run<T, R, W>(target: T, stdin: R, stdout: W)
where
    T: Transport,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let session = Arc::new(Mutex::new(Session::default()));
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut stdout = stdout;
        while let Some(mut line) = out_rx.recv().await {
            line.push('\n');
            if stdout.write_all(line.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
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
        if method == "initialize" {
            post(&target, &session, msg, line, &out_tx).await;
            continue;
        }
        let (t, sess, out) = (target.clone(), Arc::clone(&session), out_tx.clone());
        tasks.spawn(async move { post(&t, &sess, msg, line, &out).await });
        if method == "notifications/initialized" && listener.is_none() {
            let (t, sess, out) = (target.clone(), Arc::clone(&session), out_tx.clone());
            listener = Some(tokio::spawn(async move { listen(&t, &sess, &out).await }));
        }
        while tasks.try_join_next().is_some() {}
    }
    // stdin closed: let replies in flight finish, end the session, stop.
    let _ = tokio::time::timeout(Duration::from_secs(5), async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
    if let Some(l) = listener {
        l.abort();
    }
    let _ = send(&target, &session, Method::DELETE, Bytes::new()).await;
    drop(out_tx);
    let _ = writer.await;
}

async fn send<T: Transport>(target: &T, session: &Mutex<Session>, method: Method, body: Bytes) -> Result<Reply, String> {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
    if method == Method::POST {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if let Ok(s) = session.lock() {
        if let Some(id) = &s.id {
            headers.insert("mcp-session-id", id.clone());
        }
        if let Some(p) = &s.protocol {
            headers.insert("mcp-protocol-version", p.clone());
        }
    }
    target.send(method, headers, body).await
}

/// Sends one message (the line as read, so nothing is re-encoded) and writes every message of
/// the answer to stdout.
async fn post<T: Transport>(target: &T, session: &Mutex<Session>, msg: serde_json::Value, line: String, out: &mpsc::UnboundedSender<String>) {
    let id = msg.get("id").cloned();
    let is_initialize = msg.get("method").and_then(|m| m.as_str()) == Some("initialize");
    drop(msg);
    let reply = match send(target, session, Method::POST, Bytes::from(line)).await {
        Ok(r) => r,
        Err(e) => {
            if let Some(id) = id {
                let _ = out.send(error_line(id, -32000, &format!("Latchkey bridge: {e}")));
            }
            return;
        }
    };
    if let Some(sid) = reply.headers.get("mcp-session-id")
        && let Ok(mut s) = session.lock()
    {
        s.id = Some(sid.clone());
    }
    let is_sse = reply.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/event-stream"));
    let mut answered = false;
    let mut note: Option<String> = None;
    let mut emit = |text: &str| {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else { return };
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
        // One line per message: an answer spread over lines is re-encoded compactly.
        let _ = out.send(if text.contains('\n') { v.to_string() } else { text.to_owned() });
    };
    let mut chunks = reply.body;
    if is_sse {
        let mut events = SseLines::default();
        while let Some(Ok(bytes)) = chunks.next().await {
            events.feed(&bytes, &mut emit);
        }
    } else {
        let mut body = Vec::new();
        while let Some(Ok(bytes)) = chunks.next().await {
            body.extend_from_slice(&bytes);
        }
        if !body.is_empty() {
            emit(String::from_utf8_lossy(&body).trim());
        }
    }
    if !answered
        && reply.status != StatusCode::ACCEPTED
        && let Some(id) = id
    {
        let reason = if reply.status.is_success() {
            "the stream closed before the answer arrived".to_owned()
        } else {
            format!("the gateway answered HTTP {}{}", reply.status.as_u16(), note.map(|n| format!(": {n}")).unwrap_or_default())
        };
        let _ = out.send(error_line(id, -32000, &format!("Latchkey bridge: {reason}")));
    }
}

/// The GET stream for server-initiated messages; a server without one answers 405.
async fn listen<T: Transport>(target: &T, session: &Mutex<Session>, out: &mpsc::UnboundedSender<String>) {
    let Ok(reply) = send(target, session, Method::GET, Bytes::new()).await else { return };
    if !reply.status.is_success() {
        return;
    }
    let mut events = SseLines::default();
    let mut chunks = reply.body;
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
        let mut start = 0;
        while let Some(pos) = self.carry[start..].iter().position(|b| *b == b'\n') {
            let end = start + pos;
            let line = String::from_utf8_lossy(&self.carry[start..end]);
            let line = line.trim_end_matches('\r');
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
            start = end + 1;
        }
        self.carry.drain(..start);
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
        p.feed(b"data: [1,\ndata: 2]\n\n", &mut |s| got.push(s.to_owned()));
        assert_eq!(got, vec!["{\"a\":1}", "{\"b\":2}", "[1,\n2]"]);
    }

    /// A transport that answers from a script and records what it was sent.
    #[derive(Clone, Default)]
    struct Scripted {
        sent: Arc<Mutex<Vec<(Method, HeaderMap, Bytes)>>>,
    }

    impl Transport for Scripted {
        fn send(&self, method: Method, headers: HeaderMap, body: Bytes) -> impl Future<Output = Result<Reply, String>> + Send {
            self.sent.lock().unwrap().push((method.clone(), headers, body.clone()));
            async move {
                let json = |status: u16, text: &str| Reply {
                    status: StatusCode::from_u16(status).unwrap(),
                    headers: HeaderMap::from_iter([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))]),
                    body: Box::pin(futures_util::stream::iter(vec![Ok(Bytes::from(text.to_owned()))])),
                };
                if method != Method::POST {
                    return Ok(Reply { status: StatusCode::METHOD_NOT_ALLOWED, headers: HeaderMap::new(), body: Box::pin(futures_util::stream::empty()) });
                }
                let msg: serde_json::Value = serde_json::from_slice(&body).unwrap();
                match msg["method"].as_str() {
                    Some("initialize") => {
                        let mut r = json(200, r#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{}}}"#);
                        r.headers.insert("mcp-session-id", HeaderValue::from_static("s-1"));
                        Ok(r)
                    }
                    Some("notifications/initialized") => {
                        Ok(Reply { status: StatusCode::ACCEPTED, headers: HeaderMap::new(), body: Box::pin(futures_util::stream::empty()) })
                    }
                    Some("tools/list") => Ok(Reply {
                        status: StatusCode::OK,
                        headers: HeaderMap::from_iter([(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"))]),
                        body: Box::pin(futures_util::stream::iter(vec![
                            Ok(Bytes::from_static(b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\nda")),
                            Ok(Bytes::from_static(b"ta: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}}\n\n")),
                        ])),
                    }),
                    Some("tools/call") => Ok(json(401, r#"{"error":"this app's Latchkey key was revoked"}"#)),
                    _ => Err("the Latchkey gateway could not be reached".to_owned()),
                }
            }
        }
    }

    async fn drive(input: &str) -> (Vec<serde_json::Value>, Scripted) {
        let t = Scripted::default();
        let mut stdout_w = Vec::new();
        let (client, server) = tokio::io::duplex(1 << 16);
        let input = input.to_owned();
        let feeder = tokio::spawn(async move {
            let mut c = client;
            c.write_all(input.as_bytes()).await.unwrap();
            c.shutdown().await.unwrap();
        });
        let (out_w, mut out_r) = tokio::io::duplex(1 << 16);
        run(t.clone(), server, out_w).await;
        feeder.await.unwrap();
        tokio::io::AsyncReadExt::read_to_end(&mut out_r, &mut stdout_w).await.unwrap();
        let lines = String::from_utf8(stdout_w).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (lines, t)
    }

    #[tokio::test]
    async fn lines_become_requests_and_answers_become_lines() {
        let input = concat!(
            r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            "\n\n",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":3,"method":"other"}"#,
            "\n",
            "not json\n",
        );
        let (lines, t) = drive(input).await;
        let find = |id: i64| lines.iter().find(|l| l["id"] == id).unwrap_or_else(|| panic!("no answer for {id}: {lines:?}"));
        assert_eq!(find(0)["result"]["protocolVersion"], "2025-06-18");
        assert_eq!(find(1)["result"]["tools"], serde_json::json!([]));
        assert!(lines.iter().any(|l| l["method"] == "notifications/progress"));
        assert_eq!(find(2)["error"]["message"], "Latchkey bridge: the gateway answered HTTP 401: this app's Latchkey key was revoked");
        assert_eq!(find(3)["error"]["message"], "Latchkey bridge: the Latchkey gateway could not be reached");
        assert!(lines.iter().any(|l| l["error"]["code"] == -32700 && l["id"].is_null()));
        // Only JSON-RPC reached stdout: the gateway's `{"error"}` body did not.
        assert!(lines.iter().all(|l| l["jsonrpc"] == "2.0"));

        let sent = t.sent.lock().unwrap();
        let list = sent.iter().find(|(_, _, b)| b.starts_with(br#"{"jsonrpc":"2.0","id":1"#)).unwrap();
        assert_eq!(list.1["mcp-session-id"], "s-1");
        assert_eq!(list.1["mcp-protocol-version"], "2025-06-18");
        // The session ends with a DELETE once stdin closes.
        assert_eq!(sent.last().unwrap().0, Method::DELETE);
    }
}
