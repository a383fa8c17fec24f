//! Bad input and hostile or broken servers, through the real engine: each failure is one clear
//! line with a stable `kind()`, and nothing half-done is stored (no secrets in the store, no
//! connection in state "connected"). Covers malformed and hostile metadata, a plain-http MCP
//! URL on a remote host, forged callbacks (wrong state, wrong `iss`, no code), denied consent,
//! a browser step that times out or is cancelled (and a later sign-in still working), an
//! unknown preset, and the keychain-missing error.

#[path = "../src/support.rs"]
mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use latchkey_core::{ConnState, ConnectRequest, CoreError, Latchkey};
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_oauth::{OAuthError, Opener, SystemClock};
use latchkey_secrets::SecretsError;
use support::*;

/// Asserts the "nothing half-done" rule for every saved connection.
fn assert_nothing_stored(lk: &Latchkey, env: &Env) {
    assert!(env.store.is_empty(), "secrets were stored: {:?}", env.store);
    for c in lk.connections().unwrap() {
        assert_ne!(c.state, ConnState::Connected, "{c:?}");
        assert!(c.registration.is_none(), "a registration was saved: {c:?}");
        assert!(!c.has_refresh_token && c.expires_at.is_none(), "{c:?}");
    }
    assert!(lk.status().unwrap().iter().all(|v| v.state != "connected"));
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// A server whose MCP endpoint always challenges and whose metadata is broken.
/// `prm` and `as_meta` build the documents from the server's origin; `None` means 404.
async fn hostile_server(prm: fn(&str) -> String, as_meta: Option<fn(&str) -> String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let origin: Arc<OnceLock<String>> = Arc::default();
    let hits: Arc<Mutex<Vec<String>>> = Arc::default();
    let challenge = {
        let origin = origin.clone();
        move || {
            let o = origin.get().unwrap().clone();
            async move {
                let mut r = json(StatusCode::UNAUTHORIZED, r#"{"error":"invalid_token"}"#.into());
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_str(&format!("Bearer resource_metadata=\"{o}/prm\", error=\"invalid_token\"")).unwrap(),
                );
                r
            }
        }
    };
    let prm_route = {
        let origin = origin.clone();
        move || {
            let o = origin.get().unwrap().clone();
            async move { json(StatusCode::OK, prm(&o)) }
        }
    };
    let as_route = {
        let origin = origin.clone();
        move || {
            let o = origin.get().unwrap().clone();
            async move {
                match as_meta {
                    Some(f) => json(StatusCode::OK, f(&o)),
                    None => json(StatusCode::NOT_FOUND, "{}".into()),
                }
            }
        }
    };
    let record = {
        let hits = hits.clone();
        move |uri: axum::http::Uri| {
            hits.lock().unwrap().push(uri.path().to_owned());
            async { json(StatusCode::NOT_FOUND, "{}".into()) }
        }
    };
    let app = Router::new()
        .route("/mcp", post(challenge.clone()).get(challenge.clone()).delete(challenge))
        .route("/prm", get(prm_route))
        .route("/.well-known/oauth-authorization-server/as", get(as_route))
        .fallback(record);
    let o = serve(app).await;
    origin.set(o.clone()).unwrap();
    (o, hits)
}

#[tokio::test]
async fn resource_metadata_that_is_not_json_is_bad_metadata() {
    let (origin, hits) = hostile_server(|_| "{\"resource\": not json".into(), None).await;
    let env = Env::new();
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(SystemClock));
    let err = lk.connect(ConnectRequest { target: format!("{origin}/mcp"), ..Default::default() }).await.expect_err("malformed metadata");
    assert_eq!(err.kind(), "bad_metadata", "{err}");
    let msg = one_line(&err);
    assert!(msg.contains(&format!("{origin}/prm")), "names the broken document: {msg}");
    assert_nothing_stored(&lk, &env);
    assert_eq!(browser.opened(), 0);
    assert!(hits.lock().unwrap().iter().all(|p| !p.contains("register") && !p.contains("token")), "{:?}", hits.lock().unwrap());
}

fn good_prm(o: &str) -> String {
    serde_json::json!({"resource": format!("{o}/mcp"), "authorization_servers": [format!("{o}/as")]}).to_string()
}

fn as_with_authorize(o: &str, authorize: &str) -> String {
    serde_json::json!({
        "issuer": format!("{o}/as"),
        "authorization_endpoint": authorize,
        "token_endpoint": format!("{o}/token"),
        "registration_endpoint": format!("{o}/register"),
        "code_challenge_methods_supported": ["S256"],
    })
    .to_string()
}

async fn hostile_authorize_endpoint(as_meta: fn(&str) -> String) {
    let (origin, hits) = hostile_server(good_prm, Some(as_meta)).await;
    let env = Env::new();
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(SystemClock));
    let err = lk.connect(ConnectRequest { target: format!("{origin}/mcp"), ..Default::default() }).await.expect_err("hostile endpoint");
    assert!(matches!(err.kind(), "insecure_endpoint" | "bad_metadata"), "{}: {err}", err.kind());
    one_line(&err);
    assert_nothing_stored(&lk, &env);
    assert_eq!(browser.opened(), 0, "the hostile URL was never opened");
    let hits = hits.lock().unwrap();
    assert!(!hits.iter().any(|p| p == "/register" || p == "/token"), "no registration or token request: {hits:?}");
}

#[tokio::test]
async fn a_javascript_authorization_endpoint_is_refused() {
    hostile_authorize_endpoint(|o| as_with_authorize(o, "javascript:alert(1)")).await;
}

#[tokio::test]
async fn a_plain_http_remote_authorization_endpoint_is_refused() {
    hostile_authorize_endpoint(|o| as_with_authorize(o, "http://evil.example/authorize")).await;
}

#[tokio::test]
async fn a_plain_http_mcp_url_on_a_remote_host_is_insecure() {
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let err = lk.connect(ConnectRequest { target: "http://example.com/mcp".into(), ..Default::default() }).await.expect_err("plain http");
    assert_eq!(err.kind(), "insecure_endpoint", "{err}");
    assert!(one_line(&err).contains("https"));
    // The same through the preset's URL override.
    let err = lk
        .connect(ConnectRequest { target: "atlassian".into(), url: Some("http://example.com/mcp".into()), ..Default::default() })
        .await
        .expect_err("plain http");
    assert_eq!(err.kind(), "insecure_endpoint", "{err}");
    assert!(lk.connections().unwrap().is_empty(), "nothing saved");
    assert_nothing_stored(&lk, &env);
}

async fn forged_callback(forgery: Forgery, kind: &str) {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let forger = CallbackForger::new(forgery);
    let lk = engine(&env, Arc::new(forger.clone()), Arc::new(SystemClock));
    let err = lk.connect(atlassian_request(&fake)).await.expect_err("forged callback");
    assert_eq!(err.kind(), kind, "{forgery:?}: {err}");
    one_line(&err);
    let c = fake.counters();
    assert_eq!(c.code_exchanges, 0, "no code was exchanged: {c:?}");
    assert_eq!(c.authorizations, 0, "{c:?}");
    assert_nothing_stored(&lk, &env);
    // The tab shows why it failed.
    let visits = forger.visits();
    assert_eq!(visits.len(), 1, "{visits:?}");
    assert!(visits[0].body.as_deref().unwrap_or_default().contains("did not finish"), "{visits:?}");
    fake.shutdown().await;
}

#[tokio::test]
async fn a_callback_with_the_wrong_state_is_refused() {
    forged_callback(Forgery::WrongState, "state_mismatch").await;
}

#[tokio::test]
async fn a_callback_from_another_issuer_is_refused() {
    forged_callback(Forgery::WrongIssuer, "callback_issuer_mismatch").await;
}

#[tokio::test]
async fn a_callback_without_a_code_is_refused() {
    forged_callback(Forgery::MissingCode, "missing_code").await;
}

#[tokio::test]
async fn denied_consent_is_access_denied() {
    let fake = FakeAtlassian::start(FakeOptions { deny_consent: true, ..FakeOptions::default() }).await.unwrap();
    let env = Env::new();
    let browser = HeadlessBrowser::new();
    let lk = engine(&env, Arc::new(browser.clone()), Arc::new(SystemClock));
    let err = lk.connect(atlassian_request(&fake)).await.expect_err("denied");
    assert_eq!(err.kind(), "access_denied", "{err}");
    assert!(one_line(&err).contains("denied"));
    let c = fake.counters();
    assert_eq!((c.authorizations, c.code_exchanges), (1, 0), "{c:?}");
    assert_nothing_stored(&lk, &env);
    fake.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_browser_step_times_out() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let opener = RecordingOpener::new();
    let shown: Arc<Mutex<Vec<String>>> = Arc::default();
    let hook = {
        let shown = shown.clone();
        Arc::new(move |u: &str| shown.lock().unwrap().push(u.to_owned())) as Arc<dyn Fn(&str) + Send + Sync>
    };
    let lk = engine_with(&env, Arc::new(opener.clone()), Arc::new(SystemClock), Duration::from_millis(300), Some(hook));
    let err = lk.connect(atlassian_request(&fake)).await.expect_err("timeout");
    assert_eq!(err.kind(), "timeout", "{err}");
    one_line(&err);
    // The user was shown the link (for "Copy link") and the browser was asked to open it.
    let urls = opener.urls();
    assert_eq!(urls.len(), 1);
    assert_eq!(*shown.lock().unwrap(), urls);
    assert!(urls[0].starts_with(&format!("{}/authorize?", fake.origin())), "{urls:?}");
    let c = fake.counters();
    assert_eq!((c.authorizations, c.code_exchanges), (0, 0), "{c:?}");
    assert_nothing_stored(&lk, &env);
    fake.shutdown().await;
}

/// Ignores the first URL (the user walks away and clicks Cancel), then behaves as a browser.
#[derive(Clone, Default)]
struct IgnoreFirst {
    first: RecordingOpener,
    browser: HeadlessBrowser,
}

impl Opener for IgnoreFirst {
    fn open(&self, url: &str) -> Result<(), OAuthError> {
        if self.first.urls().is_empty() { self.first.open(url) } else { self.browser.open(url) }
    }
}

#[tokio::test]
async fn a_cancelled_sign_in_stores_nothing_and_the_next_one_works() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = Env::new();
    let opener = IgnoreFirst::default();
    let lk = engine(&env, Arc::new(opener.clone()), Arc::new(SystemClock));
    // The user clicks Cancel while the browser step is waiting.
    let (result, ()) = tokio::join!(lk.connect(atlassian_request(&fake)), async {
        opener.first.wait_opened().await;
        lk.cancel_sign_in();
    });
    let err = result.expect_err("cancelled");
    assert_eq!(err.kind(), "cancelled", "{err}");
    one_line(&err);
    assert_nothing_stored(&lk, &env);

    // Cancel is for the sign-in in progress, not for every later one.
    lk.connect(atlassian_request(&fake)).await.expect("a later sign-in works");
    assert_eq!(opener.browser.opened(), 1);
    assert_eq!(lk.connection("atlassian").unwrap().state, ConnState::Connected);
    fake.shutdown().await;
}

#[tokio::test]
async fn an_unknown_preset_is_unknown_target() {
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let err = lk.connect(ConnectRequest { target: "jira-foo".into(), ..Default::default() }).await.expect_err("unknown");
    assert_eq!(err.kind(), "unknown_target", "{err}");
    let msg = one_line(&err);
    assert!(msg.contains("jira-foo") && msg.contains("atlassian"), "{msg}");
    assert!(lk.connections().unwrap().is_empty());
    assert_nothing_stored(&lk, &env);
}

#[test]
fn a_missing_keychain_says_how_to_fix_it() {
    let err = CoreError::from(SecretsError::Unavailable { detail: "org.freedesktop.DBus.Error.ServiceUnknown\nsecond line".into() });
    assert_eq!(err.kind(), "keychain_unavailable");
    let msg = one_line(&err);
    assert!(!msg.contains("DBus"), "platform jargon stays out of the message: {msg}");
    assert!(msg.contains("try again"), "{msg}");
    assert!(msg.contains("plain files"), "{msg}");
    if cfg!(target_os = "linux") {
        assert!(msg.contains("gnome-keyring") || msg.contains("KWallet"), "{msg}");
    }
    assert_eq!(err.to_view().kind, "keychain_unavailable");
}
