//! The HTTP edge of the crate as a trait, so discovery and token logic can run against a fake.
//!
//! Invariants: redirects are never followed (a metadata or token endpoint that redirects is
//! treated as an answer, not silently chased to another host), and response bodies are capped so
//! a hostile server cannot make us buffer without bound.

use async_trait::async_trait;
use std::time::Duration;

use crate::error::{OAuthError, Result};

/// Largest response body the OAuth client reads (metadata and token responses are tiny).
pub const MAX_BODY: usize = 1024 * 1024;

pub type HttpRequest = http::Request<Vec<u8>>;
pub type HttpResponse = http::Response<Vec<u8>>;

/// Sends one HTTP request and returns the whole (capped) response.
#[async_trait]
pub trait Http: Send + Sync + 'static {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}

#[async_trait]
impl<H: Http + ?Sized> Http for std::sync::Arc<H> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        (**self).send(request).await
    }
}

/// Time allowed for one OAuth request (metadata, registration, token).
pub const OAUTH_TIMEOUT: Duration = Duration::from_secs(30);

/// The real client: reqwest with rustls, the OS trust store and `HTTPS_PROXY` support.
///
/// Built on first use, not at start-up: loading the OS trust store costs milliseconds that
/// commands like `latchkey status` never need. It has no overall timeout, because the same
/// pool also carries long-lived MCP event streams; OAuth requests get [`OAUTH_TIMEOUT`] each.
#[derive(Clone, Debug, Default)]
pub struct ReqwestHttp {
    client: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
}

impl ReqwestHttp {
    pub fn new() -> Result<Self> {
        Ok(Self::default())
    }

    /// The shared client, for callers that also speak MCP over the same connection pool.
    pub fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(10))
                .tcp_nodelay(true)
                .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
                .build()
                // Building fails only if the TLS backend cannot start at all; fall back to defaults.
                .unwrap_or_else(|_| reqwest::Client::new())
        })
    }
}

#[async_trait]
impl Http for ReqwestHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let url = request.uri().to_string();
        let net = |e: reqwest::Error| OAuthError::Network { url: url.clone(), detail: plain_reqwest_error(&e) };
        let mut request = reqwest::Request::try_from(request).map_err(net)?;
        *request.timeout_mut() = Some(OAUTH_TIMEOUT);
        let mut response = self.client().execute(request).await.map_err(net)?;
        let mut builder = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(net)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(OAuthError::BadMetadata { document: "response", url, detail: format!("the response is larger than {MAX_BODY} bytes") });
            }
            body.extend_from_slice(&chunk);
        }
        builder.body(body).map_err(|e| OAuthError::Network { url, detail: e.to_string() })
    }
}

/// reqwest's Display nests sources; flatten them into one readable clause.
pub(crate) fn plain_reqwest_error(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if e.is_timeout() {
        "the request timed out".to_owned()
    } else if e.is_connect() {
        "the connection failed".to_owned()
    } else {
        e.to_string()
    };
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Refuses plain http except on loopback hosts (OAuth 2.1 §1.5; MCP security best practices).
pub fn require_secure(what: &'static str, url: &url::Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(OAuthError::InsecureEndpoint { what, url: url.to_string() }),
    }
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Parses a URL with a readable error.
pub fn parse_url(input: &str) -> Result<url::Url> {
    url::Url::parse(input).map_err(|e| OAuthError::InvalidUrl { input: input.to_owned(), detail: e.to_string() })
}

/// A GET that accepts JSON.
pub(crate) fn get(url: &url::Url) -> HttpRequest {
    let mut req = http::Request::new(Vec::new());
    *req.uri_mut() = url.as_str().parse().expect("a parsed url::Url is a valid URI");
    req.headers_mut().insert(http::header::ACCEPT, http::HeaderValue::from_static("application/json"));
    req
}

/// A POST with a JSON body.
pub(crate) fn post_json(url: &url::Url, body: &serde_json::Value) -> HttpRequest {
    let mut req = http::Request::new(serde_json::to_vec(body).expect("a Value always serializes"));
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = url.as_str().parse().expect("a parsed url::Url is a valid URI");
    let h = req.headers_mut();
    h.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    h.insert(http::header::ACCEPT, http::HeaderValue::from_static("application/json"));
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_allowed() {
        for ok in ["https://example.com/x", "http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]:8/"] {
            assert!(require_secure("endpoint", &parse_url(ok).unwrap()).is_ok(), "{ok}");
        }
        for bad in ["http://example.com/x", "http://10.0.0.1/", "ftp://127.0.0.1/", "javascript:alert(1)"] {
            let err = require_secure("endpoint", &parse_url(bad).unwrap()).unwrap_err();
            assert_eq!(err.kind(), "insecure_endpoint", "{bad}");
        }
    }
}
