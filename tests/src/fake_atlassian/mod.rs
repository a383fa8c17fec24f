//! A fake Atlassian Rovo MCP server plus its OAuth 2.1 authorization server.
//!
//! Everything is served by one axum server on `127.0.0.1` (port 0 by default, so the OS picks
//! one). The fake mirrors the behaviour documented in `shared/ATLASSIAN.md`:
//!
//! * `POST /v2/mcp` answers `401` with an RFC 9728 `resource_metadata` challenge until a valid
//!   bearer token is presented, then speaks minimal MCP Streamable HTTP (JSON responses only).
//! * Protected Resource Metadata lives at the path-inserted well-known URL, and names a
//!   *tenant-path* issuer (`<origin>/<TENANT>`), like `https://auth.atlassian.com/<tenant-id>`.
//! * Dynamic Client Registration is open; redirect URIs are matched exactly, port included.
//! * Refresh tokens rotate, with a reuse leeway; reuse after the leeway revokes the family.
//!
//! See [`auth`] for the OAuth endpoints, [`mcp`] for the MCP endpoint and [`state`] for the
//! shared bookkeeping.

mod auth;
mod mcp;
mod state;

#[cfg(test)]
mod tests_auth;
#[cfg(test)]
mod tests_knobs;
#[cfg(test)]
mod tests_mcp;
#[cfg(test)]
mod tests_refresh;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use state::State;
pub use state::pkce_s256;

/// The fixed tenant id used in the issuer URL and the registration endpoint path.
pub const TENANT: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

/// Scopes advertised in both the protected resource and the authorization server metadata.
pub const SCOPES_SUPPORTED: [&str; 9] = [
    "read:me",
    "offline_access",
    "read:jira:agent-interface",
    "write:jira:agent-interface",
    "search:jira:agent-interface",
    "read:confluence:agent-interface",
    "write:confluence:agent-interface",
    "search:confluence:agent-interface",
    "search:rovo:agent-interface",
];

/// Behaviour knobs for the fake. Can be changed at runtime with [`FakeAtlassian::set_options`].
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// Lifetime of issued access tokens (`expires_in`). Default 3600 s.
    pub access_token_ttl: Duration,
    /// How long a used refresh token may be replayed before the family is revoked. Default 600 s.
    pub refresh_reuse_grace: Duration,
    /// When true, AS metadata `issuer` (and the `iss` redirect parameter) is the bare origin
    /// instead of the tenant URL, reproducing Atlassian's mid-2026 bug.
    pub issuer_bug: bool,
    /// When true, `/authorize` redirects back with `error=access_denied`.
    pub deny_consent: bool,
    /// Sleep inside the token endpoint before answering (after the state change is made).
    pub token_latency: Duration,
    /// Sites the user can access. The consent grants one of them: [`Self::consent_site`], else
    /// the first.
    pub sites: Vec<FakeSite>,
    /// The cloudId the (automatic) consent grants. Default: the first site. The granted site is
    /// what `getAccessibleAtlassianResources` lists for an OAuth grant, and the only `cloudId`
    /// its tools accept.
    pub consent_site: Option<String>,
    /// When true, `/authorize` answers with an HTML consent page (a site picker `<select
    /// name="cloud_id">` and Approve / Deny buttons) instead of redirecting at once. The form
    /// submits to `GET /authorize/consent`, which redirects back like `/authorize` would.
    pub interactive_consent: bool,
    /// An organization domain rule: only redirect URIs whose host is exactly this (for example
    /// `"localhost"`) are allowed. Another host gets an HTML error page saying "Your admin must
    /// authorize this redirect URL" and no redirect. Checked at `/authorize`, after the client
    /// and its exact redirect URI. Default: none (HTTP `127.0.0.1` and `localhost` both allowed).
    pub domain_rule: Option<String>,
    /// Whether the organization allows API-token authentication on the MCP endpoint (default
    /// true). When false, a request with `Authorization: Basic …` or `Bearer <service key>`
    /// gets `401` with [`API_TOKEN_DISABLED_ERROR`] / [`API_TOKEN_DISABLED_MESSAGE`] as JSON.
    pub api_tokens_enabled: bool,
    /// The personal API token accepted as `Authorization: Basic base64(email:token)`.
    pub api_token_basic: Option<(String, String)>,
    /// The service-account key accepted as `Authorization: Bearer <key>`.
    pub service_key: Option<String>,
    /// When true, every credential sees only the two account tools (as with an unscoped/classic
    /// API token). Independently of this, an OAuth grant without any Jira or Confluence scope
    /// also sees only those two tools.
    pub scope_limited: bool,
}

/// The `error` of the JSON body the fake answers API-token requests with when the org has not
/// enabled API-token authentication. A stand-in: the real server's exact wording is not
/// documented; the doctor matches this code or the message's gist.
pub const API_TOKEN_DISABLED_ERROR: &str = "api_token_auth_disabled";
/// The `message` that goes with [`API_TOKEN_DISABLED_ERROR`] (a plausible stand-in).
pub const API_TOKEN_DISABLED_MESSAGE: &str = "API token authentication is not enabled for this organization. Contact your organization admin.";
/// The text of the domain-rule error page (Atlassian's wording as users report it).
pub const DOMAIN_RULE_MESSAGE: &str = "Your admin must authorize this redirect URL";
/// The two tools every grant sees, whatever its scopes.
pub const ACCOUNT_TOOLS: [&str; 2] = ["getAccessibleAtlassianResources", "atlassianUserInfo"];

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            access_token_ttl: Duration::from_secs(3600),
            refresh_reuse_grace: Duration::from_secs(600),
            issuer_bug: false,
            deny_consent: false,
            token_latency: Duration::ZERO,
            sites: vec![FakeSite { cloud_id: "11111111-1111-1111-1111-111111111111".into(), name: "acme".into(), url: "https://acme.atlassian.net".into() }],
            consent_site: None,
            interactive_consent: false,
            domain_rule: None,
            api_tokens_enabled: true,
            api_token_basic: None,
            service_key: None,
            scope_limited: false,
        }
    }
}

/// An Atlassian Cloud site (a `cloudId`).
#[derive(Clone, Debug)]
pub struct FakeSite {
    pub cloud_id: String,
    pub name: String,
    pub url: String,
}

/// Request counters; [`FakeAtlassian::counters`] returns a snapshot.
///
/// * `registrations`: successful DCR registrations.
/// * `authorizations`: every `GET /authorize` request (successful or not).
/// * `code_exchanges`: successful `authorization_code` grants.
/// * `refreshes` / `refresh_failures`: successful / failed `refresh_token` grants
///   (a reuse within the grace period counts as a success).
/// * `revocations`: `POST /oauth/revoke` requests carrying a `token`.
/// * `mcp_requests`: requests to `/v2/mcp` that carried a valid token.
/// * `unauthorized_mcp`: `/v2/mcp` requests answered with `401`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub registrations: u32,
    pub authorizations: u32,
    pub code_exchanges: u32,
    pub refreshes: u32,
    pub refresh_failures: u32,
    pub revocations: u32,
    pub mcp_requests: u32,
    pub unauthorized_mcp: u32,
}

/// State shared between the handlers and the [`FakeAtlassian`] handle.
pub(crate) struct Shared {
    pub(crate) origin: String,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler must not wedge every later test request.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn mcp_url(&self) -> String {
        format!("{}/v2/mcp", self.origin)
    }
    pub(crate) fn issuer(&self) -> String {
        format!("{}/{}", self.origin, TENANT)
    }
    /// The issuer as advertised in AS metadata (honours `issuer_bug`).
    pub(crate) fn advertised_issuer(&self, st: &State) -> String {
        if st.opts.issuer_bug { self.origin.clone() } else { self.issuer() }
    }
    pub(crate) fn resource_metadata_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource/v2/mcp", self.origin)
    }
}

/// A running fake Atlassian. Dropping it stops the server (abruptly); prefer [`Self::shutdown`].
pub struct FakeAtlassian {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FakeAtlassian {
    /// Starts the fake on `127.0.0.1:0` (an OS-assigned port) on a new tokio task.
    pub async fn start(opts: FakeOptions) -> std::io::Result<FakeAtlassian> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), opts).await
    }

    /// Starts the fake on a specific address (port 0 means OS-assigned).
    pub async fn start_on(addr: SocketAddr, opts: FakeOptions) -> std::io::Result<FakeAtlassian> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let shared = Arc::new(Shared { origin: format!("http://{local}"), state: Mutex::new(State::new(opts)) });
        let app = router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = server.await {
                eprintln!("fake-atlassian: server error: {e}");
            }
        });
        Ok(FakeAtlassian { shared, stop: Some(stop), task: Some(task) })
    }

    /// `http://127.0.0.1:PORT`
    pub fn origin(&self) -> String {
        self.shared.origin.clone()
    }

    /// `origin() + "/v2/mcp"`
    pub fn mcp_url(&self) -> String {
        self.shared.mcp_url()
    }

    /// The correct (tenant-path) issuer: `origin() + "/" + TENANT`.
    pub fn issuer(&self) -> String {
        self.shared.issuer()
    }

    /// A snapshot of the request counters.
    pub fn counters(&self) -> Counters {
        self.shared.lock().counters.clone()
    }

    /// Makes every access token issued so far invalid (as if they all expired).
    /// Refresh tokens stay valid.
    pub fn expire_all_access_tokens(&self) {
        self.shared.lock().expire_all_access_tokens();
    }

    /// Changes the behaviour of the running fake.
    pub fn set_options(&self, f: impl FnOnce(&mut FakeOptions)) {
        f(&mut self.shared.lock().opts);
    }

    /// Stops the server: graceful for up to 2 s, then the task is aborted.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(2), &mut task).await.is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for FakeAtlassian {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v2/mcp", post(mcp::post_mcp).get(mcp::get_mcp).delete(mcp::delete_mcp))
        .route("/.well-known/oauth-protected-resource/v2/mcp", get(auth::protected_resource_metadata))
        .route(&format!("/.well-known/oauth-authorization-server/{TENANT}"), get(auth::authorization_server_metadata))
        .route(&format!("/{TENANT}/dcr/register"), post(auth::register))
        .route("/authorize", get(auth::authorize))
        .route("/authorize/consent", get(auth::consent))
        .route("/oauth/token", post(auth::token))
        .route("/oauth/revoke", post(auth::revoke))
        .fallback(auth::not_found)
        .with_state(shared)
}
