//! The loopback redirect listener (RFC 8252 §7.3).
//!
//! Invariants: it is bound on 127.0.0.1 *before* the browser opens; it accepts exactly one
//! `/callback` answer and then stops; the answer is validated (state, RFC 9207 `iss`, code)
//! before anything else happens; the browser tab always ends on a friendly page.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse};
use serde::Deserialize;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::error::{OAuthError, Result};

/// The path the authorization server redirects to.
pub const CALLBACK_PATH: &str = "/callback";

/// What the callback must carry to be accepted.
#[derive(Debug, Clone)]
pub struct Expected {
    pub state: String,
    /// The issuer as advertised in the authorization-server metadata.
    pub issuer: String,
    /// RFC 9207: the server promised `iss`, so its absence is an error.
    pub iss_required: bool,
}

/// Query parameters of the redirect.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A bound, not yet serving, loopback listener.
pub struct CallbackListener {
    listener: tokio::net::TcpListener,
    port: u16,
}

impl CallbackListener {
    /// Binds 127.0.0.1 on `preferred` when given and free, else on a port the OS picks.
    /// The caller compares [`port`](Self::port) with `preferred` to know whether it moved.
    pub async fn bind(preferred: Option<u16>) -> Result<Self> {
        if let Some(p) = preferred.filter(|p| *p != 0) {
            match tokio::net::TcpListener::bind(("127.0.0.1", p)).await {
                Ok(listener) => return Ok(Self { listener, port: p }),
                Err(e) => tracing::info!(port = p, error = %e, "the usual sign-in port is taken; choosing another"),
            }
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| OAuthError::CallbackBind { detail: e.to_string() })?;
        let port = listener.local_addr().map_err(|e| OAuthError::CallbackBind { detail: e.to_string() })?.port();
        Ok(Self { listener, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Serves until one callback arrives, the timeout passes, or `cancel` fires.
    /// Returns the authorization code of a valid callback.
    pub async fn wait(self, expected: Expected, timeout: Duration, cancel: CancellationToken) -> Result<String> {
        let (tx, rx) = oneshot::channel();
        let state = Arc::new(Shared { expected, tx: Mutex::new(Some(tx)) });
        let app = axum::Router::new().route(CALLBACK_PATH, axum::routing::get(handle)).with_state(state);
        let stop = CancellationToken::new();
        let server_stop = stop.clone();
        let server = tokio::spawn(async move {
            let _ = axum::serve(self.listener, app).with_graceful_shutdown(server_stop.cancelled_owned()).await;
        });
        let outcome = tokio::select! {
            r = rx => r.unwrap_or(Err(OAuthError::Cancelled)),
            () = tokio::time::sleep(timeout) => Err(OAuthError::Timeout(timeout)),
            () = cancel.cancelled() => Err(OAuthError::Cancelled),
        };
        stop.cancel();
        // Let the page that was just rendered reach the browser before the listener goes.
        let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
        outcome
    }
}

struct Shared {
    expected: Expected,
    tx: Mutex<Option<oneshot::Sender<Result<String>>>>,
}

async fn handle(State(shared): State<Arc<Shared>>, Query(params): Query<CallbackParams>) -> impl IntoResponse {
    let result = validate(&params, &shared.expected);
    let page = match &result {
        Ok(_) => page("You're signed in", "Latchkey is connected. You can close this tab and go back to what you were doing."),
        Err(e) => page("Sign-in did not finish", &e.to_string()),
    };
    let sender = shared.tx.lock().ok().and_then(|mut g| g.take());
    match sender {
        Some(tx) => {
            let _ = tx.send(result);
            page
        }
        None => self::page("Already handled", "This sign-in was already completed. You can close this tab."),
    }
}

/// Checks a callback against what we sent. State first: an answer to a request we did not make
/// is rejected whatever else it says.
pub fn validate(p: &CallbackParams, expected: &Expected) -> Result<String> {
    if p.state.as_deref() != Some(expected.state.as_str()) {
        return Err(OAuthError::StateMismatch);
    }
    match p.iss.as_deref() {
        Some(iss) if iss.trim_end_matches('/') != expected.issuer.trim_end_matches('/') => {
            return Err(OAuthError::CallbackIssuerMismatch { expected: expected.issuer.clone(), got: iss.to_owned() });
        }
        None if expected.iss_required => {
            return Err(OAuthError::CallbackIssuerMismatch { expected: expected.issuer.clone(), got: "(no issuer)".into() });
        }
        _ => {}
    }
    if let Some(code) = &p.error {
        let description = p.error_description.clone();
        return Err(if code == "access_denied" {
            OAuthError::AccessDenied { description }
        } else {
            OAuthError::AuthorizationFailed { code: code.clone(), description }
        });
    }
    match &p.code {
        Some(c) if !c.is_empty() => Ok(c.clone()),
        _ => Err(OAuthError::MissingCode),
    }
}

fn page(title: &str, message: &str) -> Html<String> {
    let (t, m) = (escape(title), escape(message));
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Latchkey: {t}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1d1d1f;background:#fff}}\
         @media (prefers-color-scheme:dark){{body{{color:#f5f5f7;background:#1d1d1f}}}}h1{{font-size:1.4rem}}</style></head>\
         <body><h1>{t}</h1><p>{m}</p></body></html>"
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Expected {
        Expected { state: "s1".into(), issuer: "https://as.example/t".into(), iss_required: false }
    }

    fn params(code: Option<&str>, state: Option<&str>, iss: Option<&str>, error: Option<&str>) -> CallbackParams {
        CallbackParams {
            code: code.map(Into::into),
            state: state.map(Into::into),
            iss: iss.map(Into::into),
            error: error.map(Into::into),
            error_description: None,
        }
    }

    #[test]
    fn validation_order_and_outcomes() {
        let e = expected();
        assert_eq!(validate(&params(Some("c"), Some("s1"), None, None), &e).unwrap(), "c");
        assert_eq!(validate(&params(Some("c"), Some("s1"), Some("https://as.example/t"), None), &e).unwrap(), "c");
        assert_eq!(validate(&params(Some("c"), Some("zz"), None, None), &e).unwrap_err().kind(), "state_mismatch");
        assert_eq!(validate(&params(Some("c"), None, None, None), &e).unwrap_err().kind(), "state_mismatch");
        assert_eq!(validate(&params(Some("c"), Some("s1"), Some("https://evil"), None), &e).unwrap_err().kind(), "callback_issuer_mismatch");
        assert_eq!(validate(&params(None, Some("s1"), None, Some("access_denied")), &e).unwrap_err().kind(), "access_denied");
        assert_eq!(validate(&params(None, Some("s1"), None, Some("server_error")), &e).unwrap_err().kind(), "authorization_failed");
        assert_eq!(validate(&params(None, Some("s1"), None, None), &e).unwrap_err().kind(), "missing_code");
        let strict = Expected { iss_required: true, ..expected() };
        assert_eq!(validate(&params(Some("c"), Some("s1"), None, None), &strict).unwrap_err().kind(), "callback_issuer_mismatch");
    }

    #[tokio::test]
    async fn serves_one_callback_then_times_out_cleanly() {
        let l = CallbackListener::bind(None).await.unwrap();
        let uri = l.redirect_uri();
        let task = tokio::spawn(l.wait(expected(), Duration::from_secs(10), CancellationToken::new()));
        let body = reqwest::get(format!("{uri}?code=abc&state=s1")).await.unwrap().text().await.unwrap();
        assert!(body.contains("signed in"), "{body}");
        assert_eq!(task.await.unwrap().unwrap(), "abc");

        let l = CallbackListener::bind(None).await.unwrap();
        let err = l.wait(expected(), Duration::from_millis(50), CancellationToken::new()).await.unwrap_err();
        assert_eq!(err.kind(), "timeout");

        let l = CallbackListener::bind(None).await.unwrap();
        let cancel = CancellationToken::new();
        cancel.cancel();
        assert_eq!(l.wait(expected(), Duration::from_secs(10), cancel).await.unwrap_err().kind(), "cancelled");
    }

    #[tokio::test]
    async fn a_taken_port_moves() {
        let first = CallbackListener::bind(None).await.unwrap();
        let second = CallbackListener::bind(Some(first.port())).await.unwrap();
        assert_ne!(first.port(), second.port());
    }
}
