//! Shared helpers for the end-to-end tests in `tests/tests/`: headless browsers, an engine
//! builder wired to the fake Atlassian, and small inspectors for the store and the state file.
//!
//! This file is NOT part of the `latchkey_e2e` library: it needs `latchkey-core`,
//! `latchkey-oauth`, `latchkey-secrets` and `reqwest`, which are dev-dependencies of this crate
//! (the library itself only carries the fake's dependencies). Each integration test includes it
//! with `#[path = "../src/support.rs"] mod support;`.
//!
//! The browsers:
//! - [`HeadlessBrowser`] behaves like a user's browser that consents: it GETs the authorization
//!   URL on a spawned tokio task and follows redirects (up to 10 hops), so the engine's loopback
//!   callback listener is hit for real.
//! - [`RecordingOpener`] only records the URL (for timeout and cancel tests).
//! - [`CallbackForger`] skips the authorization server and calls the loopback callback itself
//!   with a forged query (wrong `state`, wrong `iss`, no `code`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use latchkey_core::{Deps, Latchkey, Paths};
use latchkey_oauth::{Clock, OAuthError, Opener};
use latchkey_secrets::{MemoryStore, TokenStore};

/// What a browser did with one authorization URL.
#[derive(Debug, Clone)]
pub struct Visit {
    pub url: String,
    /// The URL the redirects ended on, and the status and body of the last page.
    pub final_url: Option<String>,
    pub status: Option<u16>,
    pub body: Option<String>,
    pub error: Option<String>,
}

/// A consenting browser: follows the authorization URL's redirects to the loopback callback.
#[derive(Clone, Default)]
pub struct HeadlessBrowser {
    visits: Arc<Mutex<Vec<Visit>>>,
}

impl HeadlessBrowser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every visit so far (a visit is recorded once its page has loaded or failed).
    pub fn visits(&self) -> Vec<Visit> {
        self.visits.lock().unwrap().clone()
    }

    /// Number of authorization URLs opened so far.
    pub fn opened(&self) -> usize {
        self.visits.lock().unwrap().len()
    }
}

impl Opener for HeadlessBrowser {
    fn open(&self, url: &str) -> Result<(), OAuthError> {
        let url = url.to_owned();
        let visits = self.visits.clone();
        tokio::runtime::Handle::current().spawn(async move {
            let visit = follow(&url).await;
            visits.lock().unwrap().push(visit);
        });
        Ok(())
    }
}

async fn follow(url: &str) -> Visit {
    let mut visit = Visit { url: url.to_owned(), final_url: None, status: None, body: None, error: None };
    // A fresh client per visit, keeping no idle connections, so nothing holds the callback
    // listener's connection open after the page has loaded.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(10))
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client");
    match client.get(url).send().await {
        Ok(resp) => {
            visit.final_url = Some(resp.url().to_string());
            visit.status = Some(resp.status().as_u16());
            visit.body = resp.text().await.ok();
        }
        Err(e) => visit.error = Some(e.to_string()),
    }
    visit
}

/// A browser nobody uses: records the URL and does nothing else.
#[derive(Clone, Default)]
pub struct RecordingOpener {
    urls: Arc<Mutex<Vec<String>>>,
    notify: Arc<tokio::sync::Notify>,
}

impl RecordingOpener {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn urls(&self) -> Vec<String> {
        self.urls.lock().unwrap().clone()
    }

    /// Waits until at least one URL has been opened.
    pub async fn wait_opened(&self) {
        loop {
            let notified = self.notify.notified();
            if !self.urls.lock().unwrap().is_empty() {
                return;
            }
            notified.await;
        }
    }
}

impl Opener for RecordingOpener {
    fn open(&self, url: &str) -> Result<(), OAuthError> {
        self.urls.lock().unwrap().push(url.to_owned());
        self.notify.notify_waiters();
        Ok(())
    }
}

/// How [`CallbackForger`] tampers with the redirect it sends to the loopback callback.
#[derive(Clone, Copy, Debug)]
pub enum Forgery {
    /// `code=forged&state=<not the one sent>`
    WrongState,
    /// The right state, a code, and `iss` naming another server.
    WrongIssuer,
    /// The right state and nothing else: no code, no error.
    MissingCode,
}

/// Calls the loopback callback directly (never visiting the authorization server), with the
/// `redirect_uri` and `state` parsed from the authorization URL and then tampered with.
#[derive(Clone)]
pub struct CallbackForger {
    pub forgery: Forgery,
    visits: Arc<Mutex<Vec<Visit>>>,
}

impl CallbackForger {
    pub fn new(forgery: Forgery) -> Self {
        Self { forgery, visits: Arc::default() }
    }

    pub fn visits(&self) -> Vec<Visit> {
        self.visits.lock().unwrap().clone()
    }
}

impl Opener for CallbackForger {
    fn open(&self, url: &str) -> Result<(), OAuthError> {
        let parsed = url::Url::parse(url).expect("authorization URL parses");
        let q: std::collections::HashMap<String, String> = parsed.query_pairs().into_owned().collect();
        let mut cb = url::Url::parse(&q["redirect_uri"]).expect("redirect_uri parses");
        let state = q["state"].clone();
        {
            let mut p = cb.query_pairs_mut();
            match self.forgery {
                Forgery::WrongState => {
                    p.append_pair("code", "forged-code").append_pair("state", &format!("{state}-not"));
                }
                Forgery::WrongIssuer => {
                    p.append_pair("code", "forged-code").append_pair("state", &state).append_pair("iss", "https://evil.example/tenant");
                }
                Forgery::MissingCode => {
                    p.append_pair("state", &state);
                }
            }
        }
        let visits = self.visits.clone();
        let target = cb.to_string();
        tokio::runtime::Handle::current().spawn(async move {
            let visit = follow(&target).await;
            visits.lock().unwrap().push(visit);
        });
        Ok(())
    }
}

/// A temporary config directory plus the engine's other edges.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub store: MemoryStore,
}

impl Env {
    pub fn new() -> Self {
        Env { dir: tempfile::tempdir().expect("tempdir"), store: MemoryStore::new() }
    }

    pub fn config_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.path().join("connections.json")
    }
}

/// Default browser-step timeout for tests: long enough never to matter on a slow machine.
pub const FLOW_TIMEOUT: Duration = Duration::from_secs(30);

/// The engine, wired to a temp config dir, an in-memory store and a headless browser.
pub fn engine(env: &Env, opener: Arc<dyn Opener>, clock: Arc<dyn Clock>) -> Latchkey {
    engine_with(env, opener, clock, FLOW_TIMEOUT, None)
}

/// Like [`engine`], with a browser-step timeout and an `on_auth_url` hook.
pub fn engine_with(
    env: &Env,
    opener: Arc<dyn Opener>,
    clock: Arc<dyn Clock>,
    flow_timeout: Duration,
    on_auth_url: Option<latchkey_core::api::UrlCallback>,
) -> Latchkey {
    Latchkey::new(Deps {
        paths: Paths { config_dir: env.config_dir().to_path_buf() },
        store: Arc::new(env.store.clone()),
        opener,
        clock,
        flow_timeout,
        on_auth_url,
    })
    .expect("engine builds")
}

/// `ConnectRequest` for the Atlassian preset pointed at the fake (so the preset's issuer
/// policy applies).
pub fn atlassian_request(fake: &latchkey_e2e::FakeAtlassian) -> latchkey_core::ConnectRequest {
    latchkey_core::ConnectRequest { target: "atlassian".into(), url: Some(fake.mcp_url()), ..Default::default() }
}

/// The current unix time, for starting a `FakeClock` where the fake's real clock is.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// The tokens item the engine keeps for `name` in the store: `(access, refresh)`.
pub fn stored_tokens(store: &MemoryStore, name: &str) -> Option<(String, Option<String>)> {
    let raw = store.get(&format!("conn/{name}/tokens")).expect("memory store never fails")?;
    let v: serde_json::Value = serde_json::from_str(raw.expose()).expect("tokens item is JSON");
    Some((v["access_token"].as_str().expect("access_token").to_owned(), v["refresh_token"].as_str().map(str::to_owned)))
}

/// Replaces the stored tokens item for `name` (to simulate a stale copy).
pub fn put_tokens(store: &MemoryStore, name: &str, access: &str, refresh: Option<&str>) {
    let mut v = serde_json::json!({ "access_token": access });
    if let Some(r) = refresh {
        v["refresh_token"] = r.into();
    }
    store.set(&format!("conn/{name}/tokens"), &v.to_string().into()).unwrap();
}

/// The error's user-facing line: asserts it is one line and returns it.
pub fn one_line(e: &latchkey_core::CoreError) -> String {
    let s = e.to_string();
    assert!(!s.contains('\n'), "error message is not one line: {s:?}");
    assert!(!s.trim().is_empty(), "error message is empty");
    s
}

/// Tool names the fake's MCP endpoint lists, asked directly over JSON-RPC with `access_token`
/// (independently of the engine).
pub async fn fake_tool_names(fake: &latchkey_e2e::FakeAtlassian, access_token: &str) -> Vec<String> {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let post = |body: serde_json::Value, session: Option<String>| {
        let mut req = client
            .post(fake.mcp_url())
            .bearer_auth(access_token)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(s) = session {
            req = req.header("mcp-session-id", s);
        }
        req.send()
    };
    let init = post(
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}}),
        None,
    )
    .await
    .unwrap();
    assert!(init.status().is_success(), "initialize: {}", init.status());
    let session = init.headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_owned());
    let list = post(serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}), session).await.unwrap();
    let v: serde_json::Value = list.json().await.unwrap();
    v["result"]["tools"].as_array().expect("tools array").iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

/// Binds a std listener on 127.0.0.1:`port`, retrying briefly while a just-finished callback
/// listener lets go of it.
pub fn occupy_port(port: u16) -> std::net::TcpListener {
    let mut last = None;
    for _ in 0..100 {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => return l,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("could not occupy port {port}: {last:?}");
}

/// A tiny axum server on 127.0.0.1:0; returns its origin (`http://127.0.0.1:PORT`).
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}
