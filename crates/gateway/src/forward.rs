//! The forwarding hop: `/mcp/<connection>` to the connection's upstream, with the client's
//! `Authorization` replaced by the real credential.
//!
//! Invariants:
//! - The local key (or the connection's keyless switch) is checked before anything is sent.
//! - Request bodies are streamed to the upstream, up to a cap, with a copy kept for one replay
//!   after a refresh ([`crate::request_body`]). Only a connection with a pinned Atlassian site
//!   reads the body whole first, because a `tools/call` may need its `cloudId` added.
//! - SSE responses (GET streams and POST streams) are relayed chunk by chunk, never buffered,
//!   so each event reaches the client as it arrives. A single `application/json` answer is one
//!   JSON-RPC message that the client can only use once it is complete, so it is read whole (up
//!   to 16 MiB, beyond which it streams on unchecked) and parsed once: a truncated or non-JSON
//!   answer then becomes a JSON-RPC error carrying the request's id, instead of bytes the client
//!   cannot parse. Upstream 5xx pages are handled the same way.
//! - Every `Mcp-*` header and `Last-Event-ID` passes through unchanged in both directions; only
//!   hop-by-hop headers and credentials are dropped.
//! - The upstream's `WWW-Authenticate` never reaches the client: Latchkey owns the upstream
//!   sign-in, and a client that saw the challenge would try to start its own.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http_body::Body as _;
use http_body_util::BodyExt;
use latchkey_core::{AuthKind, Credential, Latchkey, Outcome};

use crate::legacy;
use crate::request_body::RequestBody;
use crate::upstream::{SendError, Upstream};

/// Header a client may use for its local key when it cannot set `Authorization`.
pub use latchkey_bridge::KEY_HEADER;

/// Settings of the hop.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body: usize,
    /// Time to connect and receive the upstream's response headers.
    pub upstream_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body: 4 * 1024 * 1024, upstream_timeout: Duration::from_secs(60) }
    }
}

pub struct Hop {
    pub engine: Latchkey,
    pub upstream: Upstream,
    pub limits: Limits,
    pub require_key: bool,
}

/// `/mcp/{name}`: the connection's own URL.
pub async fn forward_root(State(hop): State<Arc<Hop>>, Path(name): Path<String>, request: Request) -> Response {
    forward(hop, name, None, request).await
}

/// `/mcp/{name}/{*rest}`: a path on the upstream's origin (legacy SSE message endpoints).
pub async fn forward_sub(State(hop): State<Arc<Hop>>, Path((name, rest)): Path<(String, String)>, request: Request) -> Response {
    forward(hop, name, Some(rest), request).await
}

async fn forward(hop: Arc<Hop>, name: String, rest: Option<String>, request: Request) -> Response {
    let route = match hop.engine.route(&name) {
        Ok(Some(r)) => r,
        Ok(None) => return plain(StatusCode::NOT_FOUND, &format!("Latchkey has no connection named `{name}`. Run `latchkey status` to see your connections.")),
        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    if route.local {
        return plain(StatusCode::NOT_FOUND, &format!("`{name}` is a local server: apps start it with `latchkey run {name}`, not through the gateway."));
    }
    if let Some(resp) = check_key(&hop.engine, &name, route.allow_keyless || !hop.require_key, request.headers()) {
        hop.engine.record_activity(&name, Outcome::ClientError);
        return resp;
    }
    let (parts, body) = request.into_parts();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > hop.limits.max_body as u64) {
        hop.engine.record_activity(&name, Outcome::ClientError);
        return too_large(&hop);
    }
    let wait = hop.limits.upstream_timeout;
    let body = match &route.pinned_cloud_id {
        // Read whole: a `tools/call` may need the site's cloudId added before it is sent. It is
        // read on a task of its own: read from this connection's task, hyper's body channel
        // would wake this task while it runs (see `request_body`).
        Some(cloud_id) => match tokio::spawn(axum::body::to_bytes(body, hop.limits.max_body)).await {
            Ok(Ok(b)) => RequestBody::whole(with_default_cloud_id(b, cloud_id, &route.cloud_id_tools)),
            _ => {
                hop.engine.record_activity(&name, Outcome::ClientError);
                return too_large(&hop);
            }
        },
        None => RequestBody::streamed(body, hop.limits.max_body),
    };
    let target = match route.url.clone().and_then(|base| with_path_and_query(base, rest.as_deref(), parts.uri.query())) {
        Some(u) => u,
        None => return plain(StatusCode::BAD_REQUEST, "That path cannot be forwarded."),
    };
    let mut credential = match hop.engine.gateway_credential(&name, &route).await {
        Ok(c) => c,
        Err(e) => {
            hop.engine.record_activity(&name, Outcome::ClientError);
            return rpc_error(StatusCode::BAD_GATEWAY, body.rpc_id(wait).await, &format!("Latchkey: {e}"));
        }
    };
    let mut replayed = false;
    let response = loop {
        let sent = send(&hop, &parts.method, &target, &parts.headers, &body, credential.as_ref()).await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                if body.exceeded() {
                    hop.engine.record_activity(&name, Outcome::ClientError);
                    return too_large(&hop);
                }
                let (status, detail, next_step) = match e {
                    SendFail::Upstream(SendError::Timeout) => (StatusCode::GATEWAY_TIMEOUT, "the server did not answer in time", ""),
                    SendFail::Upstream(SendError::Unreachable) => (StatusCode::BAD_GATEWAY, "the server could not be reached", ""),
                    SendFail::Upstream(SendError::Tls(fault)) => (StatusCode::BAD_GATEWAY, fault.describe(), " Run `latchkey doctor` to see what to do."),
                    SendFail::Body => (StatusCode::BAD_REQUEST, "the app broke off its request", ""),
                };
                // An app that broke off its own request says nothing about the server's health.
                let outcome = if matches!(e, SendFail::Body) { Outcome::ClientError } else { Outcome::Unreachable(detail.to_owned()) };
                hop.engine.record_activity(&name, outcome);
                let message = format!("Latchkey: {detail} ({}).{next_step}", target.host_str().unwrap_or_default());
                return rpc_error(status, body.rpc_id(wait).await, &message);
            }
        };
        if response.status() == StatusCode::UNAUTHORIZED && !replayed && route.auth != AuthKind::None {
            replayed = true;
            match hop.engine.upstream_unauthorized(&name, credential.as_ref()).await {
                Ok(c) => {
                    credential = Some(c);
                    continue;
                }
                Err(e) => {
                    hop.engine.record_activity(&name, Outcome::ClientError);
                    return rpc_error(StatusCode::BAD_GATEWAY, body.rpc_id(wait).await, &format!("Latchkey: {e}"));
                }
            }
        }
        if response.status() == StatusCode::UNAUTHORIZED {
            hop.engine.record_activity(&name, Outcome::ClientError);
            let msg = if route.auth == AuthKind::None {
                format!("Latchkey: `{name}` now needs a sign-in. Run `latchkey connect {name}`.")
            } else {
                format!("Latchkey: the server still refuses `{name}` after a refresh. Sign in again with `latchkey connect {name}`.")
            };
            return rpc_error(StatusCode::BAD_GATEWAY, body.rpc_id(wait).await, &msg);
        }
        break response;
    };
    let status = response.status();
    if status == StatusCode::FORBIDDEN
        && let Some(scope) = insufficient_scope(response.headers())
    {
        let _ = hop.engine.record_step_up(&name, &scope);
    }
    if !is_sse(response.headers()) && (status.is_server_error() || (status.is_success() && is_json(response.headers()))) {
        // By now the upstream has normally taken the whole request, so its id is at hand.
        let rpc_id = body.rpc_id(wait).await;
        if status.is_server_error() || rpc_id.is_some() {
            return checked(&hop, &name, rpc_id, target.host_str().unwrap_or_default(), response).await;
        }
    }
    hop.engine.record_activity(&name, if status.is_server_error() { Outcome::UpstreamError(format!("HTTP {}", status.as_u16())) } else { Outcome::Ok });
    relay(&name, &target, response, parts.method == Method::GET)
}

/// Largest JSON answer read whole to check it; a longer one is streamed on unchecked.
const MAX_CHECKED_BODY: usize = 16 * 1024 * 1024;

/// A server error, or a single JSON answer to a request: read whole (they are small) so that a
/// broken one (an HTML error page, a truncated or non-JSON body) reaches the client as a
/// JSON-RPC error with the request's id rather than as bytes it cannot parse.
async fn checked(hop: &Hop, name: &str, rpc_id: Option<serde_json::Value>, host: &str, response: http::Response<Body>) -> Response {
    let (parts, mut upstream) = response.into_parts();
    let status = parts.status;
    // With a Content-Length, the answer is whole once that many bytes are in: waiting for the
    // end of the body as well would cost a wake-up of the upstream connection's task per request.
    let length = upstream.size_hint().exact().and_then(|n| usize::try_from(n).ok());
    let mut body = Vec::with_capacity(length.unwrap_or(0).min(MAX_CHECKED_BODY));
    let read = tokio::time::timeout(hop.limits.upstream_timeout, async {
        while length != Some(body.len()) {
            let Some(frame) = upstream.frame().await else { break };
            if let Ok(chunk) = frame?.into_data() {
                body.extend_from_slice(&chunk);
            }
            if body.len() > MAX_CHECKED_BODY {
                return Ok(false);
            }
        }
        Ok::<bool, axum::Error>(true)
    })
    .await;
    let fail = |detail: String| {
        hop.engine.record_activity(name, Outcome::UpstreamError(detail.clone()));
        rpc_error(StatusCode::BAD_GATEWAY, rpc_id.clone(), &format!("Latchkey: {detail} ({host})."))
    };
    match read {
        Err(_) => return fail("the server did not finish its answer in time".to_owned()),
        Ok(Err(_)) => return fail("the server broke off its answer".to_owned()),
        Ok(Ok(false)) => {
            // Too long to check: pass it on as it is.
            hop.engine.record_activity(name, Outcome::Ok);
            let stream = futures::stream::once(futures::future::ready(Ok(Bytes::from(body)))).chain(upstream.into_data_stream());
            return respond(status, parts.headers, false, Body::from_stream(stream));
        }
        Ok(Ok(true)) => {}
    }
    if status.is_server_error() {
        // A server error that is itself a JSON-RPC message is relayed as it is.
        let parsed = serde_json::from_slice::<serde_json::Value>(&body).ok();
        if !parsed.as_ref().is_some_and(|v| v.get("jsonrpc").is_some() || v.as_array().is_some()) {
            return fail(format!("the server failed with HTTP {}", status.as_u16()));
        }
        hop.engine.record_activity(name, Outcome::UpstreamError(format!("HTTP {}", status.as_u16())));
    } else if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        // Validated without building a tree: the bytes are relayed as they came.
        return fail("the server sent a malformed answer (not JSON)".to_owned());
    } else {
        hop.engine.record_activity(name, Outcome::Ok);
    }
    respond(status, parts.headers, false, Body::from(body))
}

fn is_sse(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/event-stream"))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"))
}

/// The response to the client: the upstream's headers minus hop-by-hop ones and its challenge.
fn respond(status: StatusCode, mut headers: HeaderMap, drop_length: bool, body: Body) -> Response {
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
    headers.remove(header::WWW_AUTHENTICATE);
    if drop_length {
        headers.remove(header::CONTENT_LENGTH);
    }
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Checks the local key. `None` means go on.
fn check_key(engine: &Latchkey, name: &str, allow_keyless: bool, headers: &HeaderMap) -> Option<Response> {
    let presented = headers.get(KEY_HEADER).and_then(|v| v.to_str().ok()).map(str::trim).map(str::to_owned).or_else(|| {
        let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer "))?.trim();
        token.starts_with("lk_").then(|| token.to_owned())
    });
    match presented {
        Some(key) => match engine.verify_local_key(name, &key) {
            Ok(true) => None,
            Ok(false) => Some(plain(
                StatusCode::UNAUTHORIZED,
                &format!("This app's Latchkey key is not valid for `{name}` (it may have been revoked). Set the app up again from Latchkey."),
            )),
            Err(e) => Some(plain(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())),
        },
        None if allow_keyless => None,
        None => Some(plain(StatusCode::UNAUTHORIZED, &format!("This request has no Latchkey key for `{name}`. Set the app up from Latchkey so it gets one."))),
    }
}

const HOP_BY_HOP: &[&str] = &["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];

/// Headers the client sent that must not reach the upstream.
fn drop_request_header(name: &HeaderName) -> bool {
    let n = name.as_str();
    HOP_BY_HOP.contains(&n) || matches!(n, "host" | "authorization" | "content-length" | "origin" | "referer" | "cookie" | KEY_HEADER)
}

async fn send(
    hop: &Hop,
    method: &Method,
    target: &url::Url,
    headers: &HeaderMap,
    body: &RequestBody,
    credential: Option<&Credential>,
) -> Result<http::Response<Body>, SendFail> {
    let uri: http::Uri = target.as_str().parse().map_err(|_| SendFail::Upstream(SendError::Unreachable))?;
    let mut out = HeaderMap::with_capacity(headers.len() + 2);
    for (name, value) in headers {
        if !drop_request_header(name) {
            out.append(name.clone(), value.clone());
        }
    }
    if let Some(c) = credential
        && let Ok(mut v) = HeaderValue::from_str(c.header.expose())
    {
        v.set_sensitive(true);
        out.insert(header::AUTHORIZATION, v);
    }
    if !out.contains_key(header::USER_AGENT) {
        out.insert(header::USER_AGENT, HeaderValue::from_static(concat!("latchkey/", env!("CARGO_PKG_VERSION"))));
    }
    let mut request = match body.for_upstream(hop.limits.upstream_timeout).await {
        Ok(b) => http::Request::new(b),
        Err(_) => return Err(SendFail::Body),
    };
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri;
    *request.headers_mut() = out;
    hop.upstream.send(request, hop.limits.upstream_timeout).await.map_err(|e| {
        // The body is ours to judge: the client only sees that it stopped.
        if body.failure().is_some() { SendFail::Body } else { SendFail::Upstream(e) }
    })
}

/// Why the upstream request produced no response.
enum SendFail {
    /// The upstream's side: no connection, no answer in time, or a refused certificate.
    Upstream(SendError),
    /// The client's body broke off (or went over the cap) while it was being sent.
    Body,
}

/// Streams the upstream's response back, rewriting legacy SSE `endpoint` events.
fn relay(name: &str, target: &url::Url, response: http::Response<Body>, is_get: bool) -> Response {
    let (parts, body) = response.into_parts();
    let rewrite = is_sse(&parts.headers) && is_get;
    let body = if rewrite {
        let stream = body.into_data_stream().map(|r| r.map_err(std::io::Error::other));
        Body::from_stream(legacy::rewrite_endpoint_events(stream, target.clone(), format!("/mcp/{name}")))
    } else {
        body
    };
    respond(parts.status, parts.headers, rewrite, body)
}

/// The upstream URL for a request: the connection URL `url`, or a path on its origin (legacy
/// message endpoints), plus the request's query.
fn with_path_and_query(mut url: url::Url, rest: Option<&str>, query: Option<&str>) -> Option<url::Url> {
    if let Some(rest) = rest {
        if rest.split('/').any(|seg| seg == ".." || seg == ".") {
            return None;
        }
        url.set_path(&format!("/{rest}"));
        url.set_query(None);
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        let merged = match url.query() {
            Some(existing) if rest.is_none() => format!("{existing}&{q}"),
            _ => q.to_owned(),
        };
        url.set_query(Some(&merged));
    }
    Some(url)
}

fn insufficient_scope(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::WWW_AUTHENTICATE)?.to_str().ok()?;
    if !v.contains("insufficient_scope") {
        return None;
    }
    let scope = v.split("scope=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("");
    Some(scope.to_owned())
}

/// Adds `cloudId` to a `tools/call` of a tool that takes one and was called without it
/// (Atlassian advises pinning the site). Any other body passes through untouched.
fn with_default_cloud_id(body: Bytes, cloud_id: &str, tools: &[String]) -> Bytes {
    if body.first() != Some(&b'{') || !body.windows(10).any(|w| w == b"tools/call") {
        return body;
    }
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&body) else { return body };
    if v.get("method").and_then(|m| m.as_str()) != Some("tools/call") {
        return body;
    }
    let Some(params) = v.get_mut("params").and_then(|p| p.as_object_mut()) else { return body };
    let tool = params.get("name").and_then(|n| n.as_str()).unwrap_or_default();
    if !tools.iter().any(|t| t == tool) {
        return body;
    }
    let args = params.entry("arguments").or_insert_with(|| serde_json::json!({}));
    match args.as_object_mut() {
        Some(a) if !a.contains_key("cloudId") => {
            a.insert("cloudId".into(), serde_json::Value::from(cloud_id));
        }
        _ => return body,
    }
    serde_json::to_vec(&v).map(Bytes::from).unwrap_or(body)
}

fn too_large(hop: &Hop) -> Response {
    plain(StatusCode::PAYLOAD_TOO_LARGE, &format!("The request is larger than {} bytes.", hop.limits.max_body))
}

fn plain(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], serde_json::json!({ "error": message }).to_string()).into_response()
}

/// A gateway-made failure as a JSON-RPC error, so MCP clients show the message.
fn rpc_error(status: StatusCode, id: Option<serde_json::Value>, message: &str) -> Response {
    match id {
        Some(id) => (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32000, "message": message } }).to_string(),
        )
            .into_response(),
        None => plain(status, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls() {
        let upstream_url = |base: &str, rest, query| with_path_and_query(url::Url::parse(base).unwrap(), rest, query);
        assert_eq!(upstream_url("https://x.example/v2/mcp", None, None).unwrap().as_str(), "https://x.example/v2/mcp");
        assert_eq!(upstream_url("https://x.example/v2/mcp", None, Some("a=1")).unwrap().as_str(), "https://x.example/v2/mcp?a=1");
        assert_eq!(upstream_url("https://x.example/v2/mcp?k=v", None, Some("a=1")).unwrap().as_str(), "https://x.example/v2/mcp?k=v&a=1");
        assert_eq!(upstream_url("https://x.example/sse", Some("messages"), Some("sessionId=9")).unwrap().as_str(), "https://x.example/messages?sessionId=9");
        assert!(upstream_url("https://x.example/sse", Some("a/../b"), None).is_none());
    }

    #[test]
    fn default_cloud_id_is_added_only_where_missing() {
        let tools = vec!["getJiraIssue".to_owned()];
        let add = |b: &str| String::from_utf8(with_default_cloud_id(Bytes::from(b.to_owned()), "c1", &tools).to_vec()).unwrap();
        let got: serde_json::Value =
            serde_json::from_str(&add(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"getJiraIssue","arguments":{"issueIdOrKey":"A-1"}}}"#))
                .unwrap();
        assert_eq!(got["params"]["arguments"]["cloudId"], "c1");
        let explicit = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"getJiraIssue","arguments":{"cloudId":"c2"}}}"#;
        assert_eq!(add(explicit), explicit);
        let other = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"atlassianUserInfo"}}"#;
        assert_eq!(add(other), other);
        assert_eq!(add(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#), r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
    }

    #[test]
    fn scopes() {
        let mut h = HeaderMap::new();
        h.insert(header::WWW_AUTHENTICATE, r#"Bearer error="insufficient_scope", scope="a b""#.parse().unwrap());
        assert_eq!(insufficient_scope(&h).as_deref(), Some("a b"));
    }
}
