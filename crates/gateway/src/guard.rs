//! The first check on every request: `Host` must be the gateway's own loopback authority and a
//! browser `Origin`, when present, must be the gateway's own loopback origin. Anything else gets
//! 403 before any other work, so a web page cannot reach the gateway through DNS rebinding or a
//! cross-origin request. No CORS headers are ever sent, so preflights fail too.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The authorities the gateway answers to.
#[derive(Debug, Clone)]
pub struct Allowed {
    hosts: Vec<String>,
    origins: Vec<String>,
}

impl Allowed {
    pub fn for_port(port: u16) -> Self {
        let hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")];
        let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Allowed { hosts, origins }
    }

    /// `None` when allowed, else the reason.
    pub fn check(&self, headers: &HeaderMap) -> Option<&'static str> {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_ascii_lowercase);
        match host {
            Some(h) if self.hosts.contains(&h) => {}
            _ => return Some("this address is not the Latchkey gateway's (Host header refused)"),
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let ok = origin.to_str().ok().map(str::to_ascii_lowercase).is_some_and(|o| self.origins.contains(&o));
            if !ok {
                return Some("requests from web pages are not allowed (Origin header refused)");
            }
        }
        None
    }
}

pub async fn middleware(State(allowed): State<Arc<Allowed>>, request: Request, next: Next) -> Response {
    if let Some(reason) = allowed.check(request.headers()) {
        return (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("Forbidden: {reason}.\n")).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn host_and_origin_rules() {
        let a = Allowed::for_port(4000);
        assert_eq!(a.check(&headers(&[("host", "127.0.0.1:4000")])), None);
        assert_eq!(a.check(&headers(&[("host", "localhost:4000"), ("origin", "http://localhost:4000")])), None);
        assert!(a.check(&headers(&[])).is_some());
        assert!(a.check(&headers(&[("host", "evil.example:4000")])).is_some());
        assert!(a.check(&headers(&[("host", "127.0.0.1:4001")])).is_some());
        assert!(a.check(&headers(&[("host", "127.0.0.1:4000"), ("origin", "http://evil.example")])).is_some());
        assert!(a.check(&headers(&[("host", "127.0.0.1:4000"), ("origin", "null")])).is_some());
        assert!(a.check(&headers(&[("host", "127.0.0.1:4000"), ("origin", "https://127.0.0.1:4000")])).is_some());
    }
}
