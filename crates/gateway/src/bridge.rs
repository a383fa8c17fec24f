//! `latchkey bridge <connection>`: the stdio bridge with the whole engine behind it.
//!
//! The small `latchkey-bridge` binary relays to a running gateway and hands over to this when
//! none runs (or the app has no local key). Here, with a key and a running gateway, requests
//! still go over loopback to it (so the tray sees the traffic); otherwise the gateway's router
//! runs inside this process: same guard, same credential handling, same vault and
//! cross-process refresh lock. Either way the bridge works without the tray app. The stdio
//! protocol itself is `latchkey_bridge::stdio`, shared by both.

use std::future::Future;

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, Method, Request, header};
use latchkey_bridge::{Loopback, Reply, Transport};
use latchkey_core::Latchkey;
use tokio::io::{AsyncRead, AsyncWrite};
use tower::ServiceExt;

use crate::{Config, GatewayError, Limits, router};

/// The gateway's router, called in-process for one connection.
#[derive(Clone)]
struct InProcess {
    router: axum::Router,
    path: String,
    host: HeaderValue,
}

impl Transport for InProcess {
    fn send(&self, method: Method, headers: HeaderMap, body: Bytes) -> impl Future<Output = Result<Reply, String>> + Send {
        let this = self.clone();
        async move {
            let mut req = Request::builder().method(method).uri(this.path.as_str()).body(Body::from(body)).map_err(|e| e.to_string())?;
            *req.headers_mut() = headers;
            req.headers_mut().insert(header::HOST, this.host.clone());
            let resp = this.router.oneshot(req).await.map_err(|e| e.to_string())?;
            let (parts, body) = resp.into_parts();
            Ok(Reply { status: parts.status, headers: parts.headers, body: body.into_data_stream().map(|r| r.map_err(|e| e.to_string())).boxed() })
        }
    }
}

/// Runs the bridge until stdin closes.
pub async fn run<R, W>(engine: Latchkey, connection: &str, key: Option<String>, config_dir: &std::path::Path, stdin: R, stdout: W) -> Result<(), GatewayError>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    match Loopback::to_running(config_dir, connection, key.as_deref()) {
        Some(target) => {
            let target = target.map_err(GatewayError::Client)?;
            latchkey_bridge::stdio::run(target, stdin, stdout).await;
        }
        None => {
            let port = engine.gateway_port().unwrap_or(latchkey_core::model::DEFAULT_GATEWAY_PORT);
            let router = router(engine.clone(), Config { port, limits: Limits::default(), require_key: false })?;
            let host = HeaderValue::from_str(&format!("127.0.0.1:{port}")).map_err(|e| GatewayError::Client(e.to_string()))?;
            latchkey_bridge::stdio::run(InProcess { router, path: format!("/mcp/{connection}"), host }, stdin, stdout).await;
        }
    }
    Ok(())
}
