//! [`Latchkey`]: the one API both shells (CLI and tray) use. Every decision lives here or below.
//!
//! I/O edges come in through [`Deps`]: the secret store, the browser opener and the clock, so
//! tests run the real logic against fakes and local servers.

use std::sync::Arc;
use std::time::Duration;

use crate::atlassian as atlassian_core;
use latchkey_oauth::providers::atlassian;
use latchkey_oauth::{Challenge, ClientConfig, Clock, IssuerPolicy, Opener, ReqwestHttp, flow};
use latchkey_secrets::{SecretString, TokenStore};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use std::collections::HashMap;

use crate::activity::ActivityLog;
use crate::error::{CoreError, Result};
use crate::keys::KeyRing;
use crate::model::{AuthKind, ClientSettings, ConnState, Connection, name_from_host, valid_name};
use crate::refresh::Credential;
use crate::storage::{Paths, Storage};
use crate::vault::Vault;

/// Receives the authorization URL (to print it, or for a "Copy link" button).
pub type UrlCallback = Arc<dyn Fn(&str) + Send + Sync>;

/// The I/O edges of the engine.
pub struct Deps {
    pub paths: Paths,
    pub store: Arc<dyn TokenStore>,
    pub opener: Arc<dyn Opener>,
    pub clock: Arc<dyn Clock>,
    /// How long the browser step may take.
    pub flow_timeout: Duration,
    /// Told the authorization URL before the browser opens (to print it or offer "Copy link").
    pub on_auth_url: Option<UrlCallback>,
}

/// Something that changed, for live UIs.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    ConnectionChanged {
        name: String,
    },
    ConnectionRemoved {
        name: String,
    },
    /// An app removed our entry and Latchkey put it back ("Restored Claude Desktop's setup").
    ClientRestored {
        app: String,
        app_name: String,
        connection: String,
    },
}

/// How the user asked to register the client (CLI flags or UI fields).
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub client_metadata_url: Option<String>,
}

/// An API token instead of the browser flow.
#[derive(Debug, Clone)]
pub enum ApiToken {
    /// Personal token, sent as Basic `email:token`.
    Personal { email: String, token: SecretString },
    /// Service-account key, sent as Bearer.
    ServiceKey(SecretString),
}

/// `connect`'s input.
#[derive(Debug, Clone, Default)]
pub struct ConnectRequest {
    /// A preset (`atlassian`), a saved connection name, or a URL.
    pub target: String,
    pub name: Option<String>,
    /// Overrides a preset's URL (for example a test server or another region).
    pub url: Option<String>,
    pub client: ClientOptions,
    pub api_token: Option<ApiToken>,
    /// API tokens are not bound to a site: the site the user names (`acme.atlassian.net`).
    pub site: Option<String>,
    /// Sign in again in the browser even if the connection still works (Re-authenticate, or
    /// to grant more scopes or another site's access).
    pub reauth: bool,
}

/// What `check` found.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub name: String,
    pub url: String,
    pub server: Option<String>,
    pub protocol_version: String,
    pub tools: Vec<String>,
    /// Atlassian: the granted site's host and the account, when known.
    pub site: Option<String>,
    pub account: Option<String>,
    /// Things the user should know, in plain words.
    pub notes: Vec<String>,
}

pub(crate) struct Inner {
    storage: Storage,
    vault: Vault,
    http: ReqwestHttp,
    opener: Arc<dyn Opener>,
    clock: Arc<dyn Clock>,
    flow_timeout: Duration,
    on_auth_url: Option<UrlCallback>,
    events: broadcast::Sender<Event>,
    keys: KeyRing,
    activity: Arc<ActivityLog>,
    credentials: std::sync::Mutex<HashMap<String, (Credential, Option<u64>)>>,
    /// Gateway routes, each with the state it was built from (see `gateway.rs`).
    routes: std::sync::Mutex<crate::gateway::RouteCache>,
    /// The sign-in in progress, if any; replaced by each new sign-in.
    cancel: std::sync::Mutex<CancellationToken>,
}

/// The engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Latchkey {
    inner: Arc<Inner>,
}

impl Latchkey {
    pub fn new(deps: Deps) -> Result<Self> {
        let http = ReqwestHttp::new()?;
        let (events, _) = broadcast::channel(64);
        Ok(Latchkey {
            inner: Arc::new(Inner {
                keys: KeyRing::new(&deps.paths.config_dir),
                activity: ActivityLog::new(&deps.paths.config_dir),
                credentials: std::sync::Mutex::new(HashMap::new()),
                routes: std::sync::Mutex::new(HashMap::new()),
                storage: Storage::new(deps.paths),
                vault: Vault::new(deps.store),
                http,
                opener: deps.opener,
                clock: deps.clock,
                flow_timeout: deps.flow_timeout,
                on_auth_url: deps.on_auth_url,
                events,
                cancel: std::sync::Mutex::new(CancellationToken::new()),
            }),
        })
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.inner.storage
    }
    pub(crate) fn vault(&self) -> &Vault {
        &self.inner.vault
    }
    pub(crate) fn http(&self) -> &ReqwestHttp {
        &self.inner.http
    }
    /// The engine's HTTP client (built on first use), shared with the gateway's hop.
    pub fn reqwest(&self) -> &reqwest::Client {
        self.inner.http.client()
    }
    pub(crate) fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }
    pub(crate) fn activity(&self) -> &Arc<ActivityLog> {
        &self.inner.activity
    }
    pub(crate) fn route_cache(&self) -> &std::sync::Mutex<crate::gateway::RouteCache> {
        &self.inner.routes
    }
    pub(crate) fn credential_cache(&self) -> &std::sync::Mutex<HashMap<String, (Credential, Option<u64>)>> {
        &self.inner.credentials
    }
    pub(crate) fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }
    pub(crate) fn now(&self) -> u64 {
        self.inner.clock.now_unix()
    }

    /// Live changes, for the tray and window.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Cancels any browser sign-in in progress (Cancel button, Quit).
    pub fn cancel_sign_in(&self) {
        if let Ok(c) = self.inner.cancel.lock() {
            c.cancel();
        }
    }

    pub(crate) fn emit(&self, event: Event) {
        let _ = self.inner.events.send(event);
    }

    pub(crate) fn emit_state(&self, name: &str) {
        let _ = self.inner.events.send(Event::ConnectionChanged { name: name.to_owned() });
    }

    /// The saved connection `name` (from the state file, re-read only when it changed).
    pub fn connection(&self, name: &str) -> Result<Connection> {
        self.storage().load_cached()?.get(name).cloned().ok_or_else(|| CoreError::UnknownTarget(name.to_owned()))
    }

    /// All saved connections.
    pub fn connections(&self) -> Result<Vec<Connection>> {
        Ok(self.storage().load()?.connections)
    }

    /// Changes one saved connection under the state lock (a no-op if it was removed meanwhile).
    pub(crate) fn update_connection(&self, name: &str, f: impl FnOnce(&mut Connection)) -> Result<()> {
        self.storage().update(|st| {
            if let Some(c) = st.connections.iter_mut().find(|c| c.name == name) {
                f(c);
            }
            Ok(())
        })
    }

    pub(crate) fn set_state(&self, name: &str, state: ConnState) -> Result<()> {
        self.update_connection(name, |c| {
            c.state = state;
        })?;
        self.emit_state(name);
        Ok(())
    }

    /// Finds or creates the connection a target names. Creating saves it (state `New`).
    pub fn resolve(&self, target: &str, name: Option<&str>, url_override: Option<&str>, client: &ClientOptions) -> Result<String> {
        if let Some(n) = name.filter(|n| !valid_name(n)) {
            return Err(CoreError::Invalid(format!("`{n}` is not a valid connection name: use lowercase letters, digits, `-` and `_`.")));
        }
        let state = self.storage().load()?;
        if url_override.is_none()
            && name.is_none_or(|n| n == target)
            && let Some(c) = state.get(target)
        {
            return Ok(c.name.clone());
        }
        let (preset, url) = if target == atlassian::PRESET {
            (Some(atlassian::PRESET.to_owned()), url_override.unwrap_or(atlassian::MCP_URL).to_owned())
        } else if let Ok(u) = url::Url::parse(target) {
            if !matches!(u.scheme(), "http" | "https") {
                return Err(CoreError::UnknownTarget(target.to_owned()));
            }
            (None, target.to_owned())
        } else {
            return Err(CoreError::UnknownTarget(target.to_owned()));
        };
        let parsed = latchkey_oauth::http::parse_url(&url)?;
        latchkey_oauth::http::require_secure("MCP server URL", &parsed)?;
        if let Some(w) = atlassian::endpoint_warning(&parsed) {
            tracing::warn!("{w}");
        }
        if name.is_none()
            && let Some(c) = state.connections.iter().find(|c| c.url == url)
        {
            return Ok(c.name.clone());
        }
        let base = match name {
            Some(n) => n.to_owned(),
            None => preset.clone().unwrap_or_else(|| name_from_host(parsed.host_str().unwrap_or("server"))),
        };
        let chosen = self.storage().update(|st| {
            if let Some(existing) = st.get(&base) {
                if name.is_some() && existing.url != url {
                    return Err(CoreError::NameTaken(base.clone()));
                }
                if existing.url == url {
                    return Ok(base.clone());
                }
            }
            let mut n = base.clone();
            let mut i = 2;
            while st.get(&n).is_some() {
                n = format!("{base}-{i}");
                i += 1;
            }
            let mut conn = Connection::new(n.clone(), url.clone(), preset.clone());
            conn.client = ClientSettings {
                client_id: client.client_id.clone(),
                client_metadata_url: client.client_metadata_url.clone(),
                has_client_secret: client.client_secret.is_some(),
            };
            st.upsert(conn);
            Ok(n)
        })?;
        if state.get(&chosen).is_none_or(|c| c.url != url) {
            // A new connection never inherits secrets left under its name by an older one.
            self.vault().forget(&chosen)?;
        }
        if let Some(secret) = &client.client_secret {
            self.vault().set_client_secret(&chosen, Some(secret))?;
        }
        self.emit_state(&chosen);
        Ok(chosen)
    }

    /// Runs the browser sign-in for `name` and stores the outcome (secrets first, then state).
    pub async fn sign_in(&self, name: &str, challenge: Option<&Challenge>, scope_override: Option<String>) -> Result<()> {
        let conn = self.connection(name)?;
        let url = latchkey_oauth::http::parse_url(&conn.url)?;
        let policy = if conn.preset.as_deref() == Some(atlassian::PRESET) { atlassian::issuer_policy() } else { IssuerPolicy::Strict };
        let discovered = latchkey_oauth::discover(self.http(), &url, challenge, policy).await?;
        let scope = scope_override.filter(|s| !s.is_empty()).or_else(|| flow::choose_scope(challenge, &discovered));
        let cfg = ClientConfig {
            client_id: conn.client.client_id.clone(),
            client_secret: if conn.client.has_client_secret { self.vault().client_secret(name)? } else { None },
            client_metadata_url: conn.client.client_metadata_url.clone(),
            client_name: "Latchkey".into(),
        };
        let previous_secret = self.vault().client_secret(name)?;
        let previous = conn.registration.as_ref().map(|r| (r, previous_secret));
        let cancel = CancellationToken::new();
        if let Ok(mut slot) = self.inner.cancel.lock() {
            *slot = cancel.clone();
        }
        let on_url = self.inner.on_auth_url.clone();
        let on_url_ref = on_url.as_deref().map(|f| f as &(dyn Fn(&str) + Send + Sync));
        let req = flow::FlowRequest {
            discovered: &discovered,
            client: &cfg,
            previous,
            preferred_port: conn.redirect_port,
            scope,
            timeout: self.inner.flow_timeout,
            cancel,
            on_url: on_url_ref,
        };
        let outcome = match flow::run(self.http(), self.inner.opener.as_ref(), self.clock(), req).await {
            Ok(o) => o,
            Err(e) => {
                if e.is_registration_invalid() {
                    let _ = self.update_connection(name, |c| {
                        c.registration = None;
                    });
                }
                return Err(e.into());
            }
        };
        self.vault().set_tokens(name, &outcome.tokens)?;
        self.forget_credential(name);
        self.vault().set_client_secret(name, outcome.client_secret.as_ref())?;
        let has_rt = outcome.tokens.refresh_token.is_some();
        let expires_at = outcome.tokens.expires_at;
        self.storage().update(move |st| {
            let c = st.connections.iter_mut().find(|c| c.name == name).ok_or_else(|| CoreError::UnknownTarget(name.to_owned()))?;
            c.auth = AuthKind::OAuth;
            c.discovered = Some(discovered);
            c.registration = Some(outcome.registration);
            c.redirect_port = Some(outcome.port);
            c.scope = outcome.scope;
            c.expires_at = expires_at;
            c.has_refresh_token = has_rt;
            c.state = ConnState::Connected;
            Ok(())
        })?;
        self.emit_state(name);
        Ok(())
    }

    /// `latchkey connect`: save a connection and make sure it works (signing in if needed).
    pub async fn connect(&self, req: ConnectRequest) -> Result<CheckReport> {
        let name = self.resolve(&req.target, req.name.as_deref(), req.url.as_deref(), &req.client)?;
        if let Some(token) = &req.api_token {
            let (kind, secret) = match token {
                ApiToken::Personal { email, token } => (AuthKind::ApiTokenBasic, SecretString::from(format!("{email}:{}", token.expose()))),
                ApiToken::ServiceKey(k) => (AuthKind::ApiTokenBearer, k.clone()),
            };
            self.vault().set_api_token(&name, &secret)?;
            let site = req.site.as_deref().map(|s| s.trim_start_matches("https://").trim_end_matches('/').to_owned());
            self.update_connection(&name, |c| {
                c.auth = kind;
                c.state = ConnState::New;
                c.site = site;
            })?;
        } else if req.reauth || matches!(self.connection(&name)?.state, ConnState::NeedsReauth { .. }) {
            // Re-authenticate: an explicit connect on a broken connection runs the browser flow.
            self.sign_in(&name, None, None).await?;
        }
        let is_atlassian = self.connection(&name)?.preset.as_deref() == Some(atlassian::PRESET);
        // Only API tokens are site-independent; an OAuth grant is for the site picked at consent.
        let named_site = if req.api_token.is_some() { self.connection(&name)?.site } else { None };
        let (mut report, identity) = self.check_named(&name, is_atlassian).await?;
        if let Some(identity) = identity {
            match identity.and_then(|id| self.record_identity(&name, &id).map(|()| id)) {
                Ok(id) => {
                    if let Some(wanted) = named_site.filter(|_| !id.sites.is_empty()) {
                        // An API token reaches every site of the account; keep the one the user named.
                        match id.sites.iter().find(|s| atlassian_core::site_host(s) == wanted) {
                            Some(s) => {
                                let (host, cloud) = (atlassian_core::site_host(s), s.cloud_id.clone());
                                self.update_connection(&name, |c| {
                                    c.site = Some(host);
                                    c.pinned_cloud_id = Some(cloud);
                                })?;
                            }
                            None => report.notes.push(format!(
                                "This token does not reach {wanted}; it reaches {}.",
                                id.sites.iter().map(atlassian_core::site_host).collect::<Vec<_>>().join(", ")
                            )),
                        }
                    }
                    let conn = self.connection(&name)?;
                    report.site = conn.site.clone();
                    report.account = conn.account.clone();
                    if id.sites.len() > 1 {
                        report.notes.push(format!("This sign-in reaches {} sites; tools need a cloudId to pick one.", id.sites.len()));
                    }
                    let others = self.connections()?;
                    if let Some(first) = id.sites.first()
                        && let Some(twin) = others.iter().find(|c| c.name != name && c.sites.iter().any(|s| s.cloud_id == first.cloud_id))
                    {
                        report.notes.push(format!(
                            "`{}` already reaches this site ({}); pick the other site on the consent screen to add a second one.",
                            twin.name,
                            atlassian_core::site_host(first)
                        ));
                    }
                }
                Err(e) => tracing::warn!("could not learn the Atlassian site of `{name}`: {e}"),
            }
        }
        Ok(report)
    }

    /// `latchkey check`: sign in if needed, initialize, list tools.
    pub async fn check(&self, target: &str, client: &ClientOptions) -> Result<CheckReport> {
        let name = self.resolve(target, None, None, client)?;
        Ok(self.check_named(&name, false).await?.0)
    }

    /// Initializes and lists the tools in one session; with `learn_atlassian`, also asks the
    /// same session which sites and account it has (the outer `Option`), so connecting does
    /// not open a second session. A failure to learn does not fail the check.
    async fn check_named(&self, name: &str, learn_atlassian: bool) -> Result<(CheckReport, Option<Result<atlassian_core::Identity>>)> {
        let (info, tools, identity) = self
            .with_session(name, |peer| {
                Box::pin(async move {
                    let info = peer.peer_info();
                    let tools = peer.list_all_tools().await?;
                    let identity = if learn_atlassian {
                        Some(atlassian_core::read_identity(peer, &tools).await.map_err(|e| CoreError::Mcp { url: String::new(), detail: e.to_string() }))
                    } else {
                        None
                    };
                    Ok((info, tools, identity))
                })
            })
            .await?;
        let server = info.as_ref().and_then(|i| i.server_info.as_ref()).map(|s| s.name.clone());
        let version = info.map(|i| i.protocol_version.to_string()).unwrap_or_default();
        let tools = tools.into_iter().map(|t| t.name.to_string()).collect::<Vec<_>>();
        let conn = self.connection(name)?;
        let mut notes = Vec::new();
        if let Ok(u) = url::Url::parse(&conn.url) {
            notes.extend(atlassian::endpoint_warning(&u).map(str::to_owned));
        }
        Ok((
            CheckReport { name: name.to_owned(), url: conn.url, server, protocol_version: version, tools, site: conn.site, account: conn.account, notes },
            identity,
        ))
    }

    /// `latchkey call`: call one tool and return its result as JSON.
    pub async fn call(&self, target: &str, tool: &str, args: Option<serde_json::Value>, client: &ClientOptions) -> Result<serde_json::Value> {
        let arguments = match args {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Object(m)) => Some(m),
            Some(_) => return Err(CoreError::Invalid("--args must be a JSON object, for example '{\"key\": \"value\"}'.".into())),
        };
        let name = self.resolve(target, None, None, client)?;
        let tool = tool.to_owned();
        let result = self
            .with_session(&name, |peer| {
                let mut params = rmcp::model::CallToolRequestParams::new(tool.clone());
                if let Some(a) = arguments.clone() {
                    params = params.with_arguments(a);
                }
                Box::pin(async move { peer.call_tool(params).await })
            })
            .await?;
        serde_json::to_value(result).map_err(|e| CoreError::Invalid(e.to_string()))
    }

    /// `latchkey logout`: revoke at the server when it offers revocation, then delete secrets
    /// and the connection.
    pub async fn logout(&self, name: &str) -> Result<bool> {
        let conn = self.connection(name)?;
        let mut revoked = false;
        if let (Some(d), Some(reg), Ok(Some(tokens))) = (&conn.discovered, &conn.registration, self.vault().tokens(name))
            && let (Some(endpoint), Some(rt)) = (&d.auth_server.revocation_endpoint, &tokens.refresh_token)
        {
            let secret = self.vault().client_secret(name)?;
            let ep = latchkey_oauth::TokenEndpoint {
                token_endpoint: &d.auth_server.token_endpoint,
                registration: reg,
                client_secret: secret.as_ref(),
                resource: Some(&d.resource),
            };
            match latchkey_oauth::token::revoke(self.http(), &ep, endpoint, rt).await {
                Ok(()) => revoked = true,
                Err(e) => tracing::warn!("could not revoke at the server: {e}"),
            }
        }
        let env_vars = conn.local.as_ref().map(|l| l.secret_env.clone()).unwrap_or_default();
        self.vault().forget_with_env(name, &env_vars)?;
        self.forget_credential(name);
        self.revoke_local_keys(name, None)?;
        self.storage().update(|st| {
            st.remove(name);
            Ok(())
        })?;
        let _ = self.inner.events.send(Event::ConnectionRemoved { name: name.to_owned() });
        Ok(revoked)
    }
}

#[cfg(test)]
mod send_tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The tray spawns engine calls on a multi-threaded runtime, so their futures must be `Send`.
    #[test]
    fn engine_futures_are_send() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Latchkey::new(Deps {
            paths: Paths { config_dir: dir.path().to_path_buf() },
            store: Arc::new(latchkey_secrets::MemoryStore::new()),
            opener: Arc::new(latchkey_oauth::NoOpener),
            clock: Arc::new(latchkey_oauth::SystemClock),
            flow_timeout: Duration::from_secs(1),
            on_auth_url: None,
        })
        .unwrap();
        let opts = ClientOptions::default();
        assert_send(&engine.connect(ConnectRequest::default()));
        assert_send(&engine.check("x", &opts));
        assert_send(&engine.call("x", "tool", None, &opts));
        assert_send(&engine.refresh_now("x", None));
        assert_send(&engine.sign_in("x", None, None));
        assert_send(&engine.logout("x"));
    }
}
