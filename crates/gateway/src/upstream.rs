//! The gateway's HTTP client for upstream MCP servers.
//!
//! Direct connections go through hyper-util's pooled clients, with rustls for `https`, set up
//! as the engine's reqwest client is (rustls-platform-verifier over the same aws-lc-rs provider,
//! TLS 1.2 and 1.3, HTTP/1.1, Nagle off, 10 s to connect), so the gateway trusts exactly what
//! sign-in trusts. reqwest is kept out of this hot path: its per-request layers (redirect
//! policy, retry budget, proxy matching, a client clone) were a visible share of the hop's CPU.
//!
//! When a proxy is configured in the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, in
//! either case), requests go through the engine's reqwest client instead, which applies those
//! variables and `NO_PROXY` exactly as sign-in does.
//!
//! Both paths hand back an `http::Response` whose body is streamed, never buffered.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::combinators::BoxBody;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use latchkey_core::Latchkey;

use crate::error::GatewayError;

/// How long an idle pooled connection is kept (reqwest's default).
const POOL_IDLE: Duration = Duration::from_secs(90);

/// TCP with Nagle off and 10 s to connect, as the engine's client.
fn connector() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    http
}

/// A pooled client over `connector`, keeping idle connections as long as reqwest does.
fn pooled<C: hyper_util::client::legacy::connect::Connect + Clone>(connector: C) -> Client<C, UpstreamBody> {
    Client::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE).build(connector)
}

/// A request body as the upstream client takes it.
pub type UpstreamBody = BoxBody<Bytes, std::io::Error>;

/// Why an upstream request produced no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// No response headers within the time allowed.
    Timeout,
    /// No connection, or it broke before a response came.
    Unreachable,
    /// The connection was refused at the TLS step: the user needs to hear about certificates,
    /// not that the server is down.
    Tls(TlsFault),
}

/// Why a secure connection could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFault {
    /// Not signed by anything this computer trusts (often TLS inspection on the network).
    Untrusted,
    /// Expired, or not valid yet.
    OutOfDate,
    /// Issued for another host name.
    WrongName,
    /// Anything else in the handshake (no shared protocol version, a broken certificate).
    Handshake,
}

impl TlsFault {
    /// Finds a rustls error in `error`'s chain. hyper-rustls and reqwest wrap it in `io::Error`s
    /// (hyper-rustls in two), and `io::Error::source()` skips the error it wraps, so such a link
    /// is opened with `get_ref` instead.
    pub fn find(error: &(dyn std::error::Error + 'static)) -> Option<TlsFault> {
        use rustls::CertificateError as C;
        let mut link = Some(error);
        while let Some(e) = link {
            if let Some(found) = e.downcast_ref::<rustls::Error>() {
                return Some(match found {
                    rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => TlsFault::Untrusted,
                    rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. }) => {
                        TlsFault::OutOfDate
                    }
                    rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => TlsFault::WrongName,
                    // The platform verifier reports some refusals as `Other`.
                    rustls::Error::InvalidCertificate(C::Other(_)) => TlsFault::Untrusted,
                    _ => TlsFault::Handshake,
                });
            }
            link = match e.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => e.source(),
            };
        }
        None
    }

    /// A short phrase for the user: "the server's certificate …".
    pub fn describe(self) -> &'static str {
        match self {
            TlsFault::Untrusted => "the server's certificate is not trusted by this computer (something on your network may be inspecting HTTPS)",
            TlsFault::OutOfDate => "the server's certificate has expired or is not valid yet (check this computer's date and time)",
            TlsFault::WrongName => "the server's certificate is for a different address",
            TlsFault::Handshake => "a secure connection to the server could not be set up",
        }
    }
}

/// Classifies a failed send: a TLS refusal, or the server being out of reach.
fn unreachable(error: &(dyn std::error::Error + 'static)) -> SendError {
    TlsFault::find(error).map_or(SendError::Unreachable, SendError::Tls)
}

/// The upstream client.
pub struct Upstream {
    /// For `http://` upstreams (local servers).
    plain: Client<HttpConnector, UpstreamBody>,
    /// For `https://` ones, made at the first such request: loading the system's roots for
    /// the verifier takes milliseconds, which a bridge talking to a local server never needs.
    tls: OnceLock<Client<HttpsConnector<HttpConnector>, UpstreamBody>>,
    /// The engine's client, used instead when a proxy is configured.
    proxied: Option<reqwest::Client>,
}

/// Variables reqwest reads for a proxy.
const PROXY_VARS: [&str; 6] = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

impl Upstream {
    /// The client for `engine`'s gateway; its reqwest client is taken only when a proxy is set.
    pub fn new(engine: &Latchkey) -> Self {
        let proxy = PROXY_VARS.iter().any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
        Self::build(proxy.then(|| engine.reqwest().clone()))
    }

    fn build(proxied: Option<reqwest::Client>) -> Self {
        Upstream { plain: pooled(connector()), tls: OnceLock::new(), proxied }
    }

    fn tls(&self) -> Result<&Client<HttpsConnector<HttpConnector>, UpstreamBody>, GatewayError> {
        if let Some(c) = self.tls.get() {
            return Ok(c);
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| GatewayError::Client(e.to_string()))?;
        // ALPN is left to hyper-rustls, which offers http/1.1 for `enable_http1`.
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| GatewayError::Client(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_http1().wrap_connector(connector());
        // Two first requests at once may both build one; the loser's is dropped.
        let _ = self.tls.set(pooled(https));
        self.tls.get().ok_or_else(|| GatewayError::Client("the TLS client could not be kept".into()))
    }

    /// Whether requests go through the configured proxy.
    pub fn via_proxy(&self) -> bool {
        self.proxied.is_some()
    }

    /// Sends `request`, waiting up to `timeout` for the response headers.
    pub async fn send(&self, request: http::Request<UpstreamBody>, timeout: Duration) -> Result<http::Response<Body>, SendError> {
        match &self.proxied {
            None => {
                let sent = if request.uri().scheme() == Some(&http::uri::Scheme::HTTPS) {
                    match self.tls() {
                        Ok(client) => client.request(request),
                        Err(e) => {
                            tracing::warn!("{e}");
                            return Err(SendError::Unreachable);
                        }
                    }
                } else {
                    self.plain.request(request)
                };
                match tokio::time::timeout(timeout, sent).await {
                    Ok(Ok(response)) => Ok(response.map(Body::new)),
                    Ok(Err(e)) => Err(unreachable(&e)),
                    Err(_) => Err(SendError::Timeout),
                }
            }
            Some(client) => {
                let request = reqwest::Request::try_from(request.map(reqwest::Body::wrap)).map_err(|_| SendError::Unreachable)?;
                match tokio::time::timeout(timeout, client.execute(request)).await {
                    Ok(Ok(response)) => Ok(http::Response::from(response).map(Body::new)),
                    Ok(Err(e)) if e.is_timeout() => Err(SendError::Timeout),
                    Ok(Err(e)) => Err(unreachable(&e)),
                    Err(_) => Err(SendError::Timeout),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    async fn echo_server() -> String {
        let app = axum::Router::new().fallback(|body: Bytes| async move { body });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/x")
    }

    fn post(url: &str, body: &'static str) -> http::Request<UpstreamBody> {
        let body = Full::new(Bytes::from_static(body.as_bytes())).map_err(|never| match never {}).boxed();
        http::Request::post(url).body(body).unwrap()
    }

    #[tokio::test]
    async fn both_paths_send_and_stream_back() {
        let url = echo_server().await;
        let engine = reqwest::Client::builder().no_proxy().build().unwrap();
        for proxied in [None, Some(engine)] {
            let up = Upstream::build(proxied.clone());
            assert_eq!(up.via_proxy(), proxied.is_some());
            let response = up.send(post(&url, "hello"), Duration::from_secs(5)).await.unwrap();
            assert_eq!(response.status(), http::StatusCode::OK);
            assert_eq!(&response.into_body().collect().await.unwrap().to_bytes()[..], b"hello");
        }
    }

    #[test]
    fn tls_faults_are_found_inside_wrapping_io_errors() {
        use rustls::CertificateError as C;
        use std::io::{Error, ErrorKind};
        // As hyper-rustls hands it to hyper-util: an io::Error holding an io::Error holding it.
        let wrapped = |e: rustls::Error| Error::other(Error::new(ErrorKind::InvalidData, e));
        let cases = [
            (rustls::Error::InvalidCertificate(C::UnknownIssuer), TlsFault::Untrusted),
            (rustls::Error::InvalidCertificate(C::Expired), TlsFault::OutOfDate),
            (rustls::Error::InvalidCertificate(C::NotValidForName), TlsFault::WrongName),
            (rustls::Error::NoCertificatesPresented, TlsFault::Handshake),
        ];
        for (error, fault) in cases {
            assert_eq!(TlsFault::find(&wrapped(error.clone())), Some(fault), "{error:?}");
            assert_eq!(unreachable(&wrapped(error)), SendError::Tls(fault));
        }
        let refused = Error::other(Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(TlsFault::find(&refused), None);
        assert_eq!(unreachable(&refused), SendError::Unreachable);
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let up = Upstream::build(None);
        let got = up.send(post(&format!("http://127.0.0.1:{port}/"), "x"), Duration::from_secs(5)).await;
        assert_eq!(got.err(), Some(SendError::Unreachable));
    }
}
