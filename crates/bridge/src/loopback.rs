//! The plain-HTTP transport to the gateway on 127.0.0.1, with the local key.
//!
//! hyper's pooled client over a plain TCP connector: no TLS and no proxy (a `$HTTP_PROXY` must
//! never see the local key), keep-alive so a session reuses its connections, and Nagle off so a
//! small JSON-RPC message leaves at once.

use std::future::Future;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::stdio::{Reply, Transport};

/// One connection's endpoint on the running gateway.
#[derive(Clone)]
pub struct Loopback {
    client: Client<HttpConnector, Full<Bytes>>,
    url: http::Uri,
    key: HeaderValue,
}

impl Loopback {
    /// The relay to the running gateway, when there is a key to present and a gateway (its
    /// lock held) in `config_dir`. `None` means the caller must work without one.
    pub fn to_running(config_dir: &std::path::Path, connection: &str, key: Option<&str>) -> Option<Result<Loopback, String>> {
        let key = key.filter(|k| !k.trim().is_empty())?;
        let gateway = crate::running_instance(config_dir)?;
        Some(Loopback::new(&gateway.url(), connection, key))
    }

    /// `base` is the gateway's `http://127.0.0.1:<port>`; `connection` a connection name.
    pub fn new(base: &str, connection: &str, key: &str) -> Result<Loopback, String> {
        let url = format!("{base}/mcp/{connection}").parse().map_err(|_| format!("\"{connection}\" is not a connection name"))?;
        let mut key = HeaderValue::from_str(key.trim()).map_err(|_| "$LATCHKEY_KEY is not a Latchkey key".to_owned())?;
        key.set_sensitive(true);
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Loopback { client, url, key })
    }
}

impl Transport for Loopback {
    fn send(&self, method: Method, headers: HeaderMap, body: Bytes) -> impl Future<Output = Result<Reply, String>> + Send {
        let this = self.clone();
        async move {
            let mut req = Request::builder().method(method).uri(this.url.clone()).body(Full::new(body)).map_err(|e| e.to_string())?;
            *req.headers_mut() = headers;
            req.headers_mut().insert(crate::KEY_HEADER, this.key.clone());
            let resp = this.client.request(req).await.map_err(|_| "the Latchkey gateway could not be reached".to_owned())?;
            let (parts, body) = resp.into_parts();
            let body = body.into_data_stream().map(|r| r.map_err(|e| e.to_string()));
            Ok(Reply { status: parts.status, headers: parts.headers, body: Box::pin(body) })
        }
    }
}
