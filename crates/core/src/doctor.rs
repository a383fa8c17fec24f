//! `latchkey doctor`: turns every way a connection can fail into one plain line and the action
//! that fixes it, with a ready-to-send message when only an admin can fix it.
//!
//! For each connection the checks run in the order a request meets them, and a connection's
//! chain stops at the first hard failure that makes the later checks meaningless (those are
//! reported as `skipped`, with the reason):
//!
//! 1. `network_and_proxy`: the MCP server answers at all (proxy from `HTTPS_PROXY` /
//!    `HTTP_PROXY` / `ALL_PROXY` honoured by reqwest and reported; a TLS failure, i.e. an
//!    untrusted or intercepted certificate, is told apart from DNS, refused and timed-out
//!    connections).
//! 2. `discovery` (OAuth): metadata, the Atlassian issuer quirk (a warning when it was needed),
//!    resource mismatch, PKCE.
//! 3. `registration` (OAuth): the stored client matches the current issuer and redirect port;
//!    dynamic registration is still offered.
//! 4. `redirect` (OAuth): the redirect port is free to bind now, and a browserless probe of the
//!    authorization URL (dummy PKCE and state) tells "accepted", "redirect URI not registered",
//!    an org domain rule and `access_denied` apart.
//! 5. `consent` (OAuth): what the probe saw at the consent step, else what the last sign-in got.
//! 6. `tokens` (OAuth): validity and expiry, refresh token present; an expired access token is
//!    refreshed once so a revoked or reused refresh token is reported as "sign in again".
//! 7. `api_token` (API-token connections): the server accepts it; the org-disabled answer is
//!    explained with a message for the org admin.
//! 8. `scopes_and_tools`: initialize + tools/list; "connected but only 2 tools" names its cause.
//! 9. `clients` and `gateway` (always): each app set up for the connection has a current entry,
//!    and the gateway those entries point at is running and reachable.
//!
//! The doctor never opens a browser and never prints a secret. The only state it changes is
//! what the engine itself would change on the same evidence: a refresh it performs is stored
//! (and a refused one marks the connection "needs sign-in"), and a registration the
//! authorization server no longer accepts is set aside so the next sign-in registers again.

use std::time::Duration;

use latchkey_clients::{EntryState, Expected};
use latchkey_oauth::providers::atlassian;
use latchkey_oauth::{Challenge, Discovered, IssuerPolicy, OAuthError, Registration, RegistrationMethod, flow};
use serde::Serialize;
use url::Url;

pub use latchkey_clients::{Env, Os};

use crate::api::Latchkey;
use crate::error::Result;
use crate::model::{AuthKind, ConnState, Connection};
use crate::refresh::Credential;
use crate::status::EXPIRING_SOON_SECS;

/// Check names, as they appear in [`Finding::check`] and in `--json` output.
pub mod checks {
    pub const NETWORK: &str = "network_and_proxy";
    pub const DISCOVERY: &str = "discovery";
    pub const REGISTRATION: &str = "registration";
    pub const REDIRECT: &str = "redirect";
    pub const CONSENT: &str = "consent";
    pub const TOKENS: &str = "tokens";
    pub const API_TOKEN: &str = "api_token";
    pub const TOOLS: &str = "scopes_and_tools";
    pub const CLIENTS: &str = "clients";
    pub const GATEWAY: &str = "gateway";
    /// Local stdio servers (Atlassian Data Center): the command is found, its secrets are stored.
    pub const LOCAL_SERVER: &str = "local_server";
}
use checks::*;

/// The two tools every Atlassian grant sees, whatever its scopes.
pub const ATLASSIAN_ACCOUNT_TOOLS: [&str; 2] = ["getAccessibleAtlassianResources", "atlassianUserInfo"];

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// Works, but something will bite later or deserves attention.
    Warn,
    /// Broken: the action says how to fix it.
    Fail,
    /// Not checked (not applicable, or an earlier failure makes it meaningless).
    Skipped,
}

/// One finding: one line in plain words, plus what to do.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub status: Status,
    /// One line, plain words.
    pub summary: String,
    /// What to do about it, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// A ready-to-send message for the admin who can fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_message: Option<String>,
}

impl Finding {
    fn new(check: &'static str, status: Status, summary: impl Into<String>) -> Self {
        Finding { check, status, summary: one_line(&summary.into()), action: None, admin_message: None }
    }
    fn ok(check: &'static str, summary: impl Into<String>) -> Self {
        Self::new(check, Status::Ok, summary)
    }
    fn warn(check: &'static str, summary: impl Into<String>) -> Self {
        Self::new(check, Status::Warn, summary)
    }
    fn fail(check: &'static str, summary: impl Into<String>) -> Self {
        Self::new(check, Status::Fail, summary)
    }
    fn skipped(check: &'static str, summary: impl Into<String>) -> Self {
        Self::new(check, Status::Skipped, summary)
    }
    fn action(mut self, a: impl Into<String>) -> Self {
        self.action = Some(a.into());
        self
    }
    fn admin(mut self, m: impl Into<String>) -> Self {
        self.admin_message = Some(m.into());
        self
    }
}

/// Everything found for one connection, in check order.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionReport {
    pub name: String,
    pub url: String,
    pub findings: Vec<Finding>,
}

impl ConnectionReport {
    /// The first finding of `check`.
    pub fn finding(&self, check: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.check == check)
    }
    /// Every finding of `check` (some checks report one line per app or per aspect).
    pub fn findings_of<'a>(&'a self, check: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.check == check)
    }
    /// No finding failed.
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.status != Status::Fail)
    }
}

/// The doctor's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub connections: Vec<ConnectionReport>,
    /// True when no finding failed (warnings do not count as failures).
    pub passed: bool,
}

impl Report {
    pub fn connection(&self, name: &str) -> Option<&ConnectionReport> {
        self.connections.iter().find(|c| c.name == name)
    }
}

/// Findings of one connection, with the "stop here" bookkeeping.
struct Chain {
    findings: Vec<Finding>,
}

impl Chain {
    fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }
    /// Whether the last finding of `check` failed.
    fn failed(&self, check: &str) -> bool {
        self.findings.iter().any(|f| f.check == check && f.status == Status::Fail)
    }
    fn skip(&mut self, checks: &[&'static str], why: &str) {
        for c in checks {
            self.push(Finding::skipped(c, format!("Not checked: {why}.")));
        }
    }
}

impl Latchkey {
    /// Diagnoses `connection` (every saved connection when `None`). Never opens a browser.
    pub async fn doctor(&self, connection: Option<&str>, env: &Env) -> Result<Report> {
        let conns = match connection {
            Some(n) => vec![self.connection(n)?],
            None => self.connections()?,
        };
        let mut out = Vec::new();
        for c in conns {
            out.push(self.doctor_one(&c, env).await);
        }
        let passed = out.iter().all(ConnectionReport::passed);
        Ok(Report { connections: out, passed })
    }

    async fn doctor_one(&self, conn: &Connection, env: &Env) -> ConnectionReport {
        let mut chain = Chain { findings: Vec::new() };
        self.doctor_chain(conn, env, &mut chain).await;
        for f in self.doctor_clients(conn, env).await {
            chain.push(f);
        }
        ConnectionReport { name: conn.name.clone(), url: conn.url.clone(), findings: chain.findings }
    }

    async fn doctor_chain(&self, conn: &Connection, env: &Env, chain: &mut Chain) {
        let name = conn.name.as_str();
        let oauth_rest: &[&'static str] = &[DISCOVERY, REGISTRATION, REDIRECT, CONSENT, TOKENS, TOOLS];
        let rest: &[&'static str] = match conn.auth {
            _ if conn.local.is_some() => &[LOCAL_SERVER],
            AuthKind::OAuth => oauth_rest,
            AuthKind::ApiTokenBasic | AuthKind::ApiTokenBearer => &[API_TOKEN, TOOLS],
            AuthKind::None => &[TOOLS],
        };
        let url = match Url::parse(&conn.url) {
            Ok(u) => u,
            Err(e) => {
                chain.push(Finding::fail(NETWORK, format!("The saved URL `{}` is not valid ({e}).", conn.url)).action(format!("Remove it with `latchkey logout {name}` and connect again with the right URL.")));
                chain.skip(rest, "the URL is not valid");
                return;
            }
        };

        // 1. Network and proxy.
        let (finding, challenge) = self.check_network(&url, conn.local.is_none()).await;
        let hard = finding.status == Status::Fail;
        chain.push(finding);
        if hard {
            chain.skip(rest, "the server cannot be reached");
            return;
        }

        if let Some(local) = &conn.local {
            chain.push(self.check_local(conn, local, env));
            return;
        }
        match conn.auth {
            AuthKind::OAuth => self.doctor_oauth(conn, &url, challenge.as_ref(), chain).await,
            AuthKind::ApiTokenBasic | AuthKind::ApiTokenBearer => {
                let f = self.check_api_token(conn).await;
                let hard = f.status == Status::Fail;
                chain.push(f);
                if hard {
                    chain.skip(&[TOOLS], "the server does not accept the API token");
                    return;
                }
                chain.push(self.check_tools(conn).await);
            }
            AuthKind::None => chain.push(self.check_tools(conn).await),
        }
    }

    async fn doctor_oauth(&self, conn: &Connection, url: &Url, challenge: Option<&Challenge>, chain: &mut Chain) {
        let name = conn.name.as_str();
        // 2. Discovery.
        let policy = if conn.preset.as_deref() == Some(atlassian::PRESET) { atlassian::issuer_policy() } else { IssuerPolicy::Strict };
        let discovered = match latchkey_oauth::discover(self.http(), url, challenge, policy).await {
            Ok(d) => {
                for f in discovery_findings(&d, url) {
                    chain.push(f);
                }
                d
            }
            Err(e) => {
                chain.push(discovery_failure(&e, conn));
                chain.skip(&[REGISTRATION, REDIRECT, CONSENT, TOKENS, TOOLS], "discovery failed");
                return;
            }
        };
        if chain.failed(DISCOVERY) {
            chain.skip(&[REGISTRATION, REDIRECT, CONSENT, TOKENS, TOOLS], "discovery failed");
            return;
        }

        // 3. Registration.
        let (finding, registration_usable) = registration_finding(conn, &discovered);
        chain.push(finding);

        // 4. Redirect (port, then a browserless probe of the authorization URL) and 5. consent.
        let mut consent_seen = None;
        if let Some(f) = redirect_port_finding(conn) {
            chain.push(f);
        }
        match (&conn.registration, registration_usable) {
            (Some(reg), true) => {
                let (redirect, consent) = self.probe_authorize(conn, &discovered, reg).await;
                chain.push(redirect);
                consent_seen = consent;
            }
            (Some(_), false) => chain.push(Finding::skipped(REDIRECT, "Not checked: the stored registration is for another authorization server.")),
            (None, _) => chain.push(Finding::skipped(REDIRECT, "Not checked: Latchkey has not registered with this server yet (it does at the first sign-in).")),
        }
        chain.push(consent_seen.unwrap_or_else(|| consent_from_state(conn)));

        // 6. Tokens.
        let tokens = self.check_tokens(conn).await;
        let hard = tokens.status == Status::Fail;
        chain.push(tokens);
        if hard {
            chain.skip(&[TOOLS], "there is no usable sign-in");
            return;
        }
        // A consent refused now does not stop here: the stored sign-in works until it expires.
        // 8. Scopes and tools.
        let conn = self.connection(name).unwrap_or_else(|_| conn.clone());
        chain.push(self.check_tools(&conn).await);
    }

    /// A local stdio server: its program is on PATH and its secrets are in the keychain.
    fn check_local(&self, conn: &Connection, local: &crate::model::LocalServer, env: &Env) -> Finding {
        let name = conn.name.as_str();
        let program = local.command.first().cloned().unwrap_or_default();
        let found = (std::path::Path::new(&program).is_absolute() && std::path::Path::new(&program).is_file()) || env.which(&program).is_some();
        if !found {
            let hint = if program == "uvx" { " Install uv (https://docs.astral.sh/uv/), which provides `uvx`." } else { "" };
            return Finding::fail(LOCAL_SERVER, format!("`{program}`, which starts this connection's MCP server, is not on your PATH.")).action(format!("Install it, or make it findable on PATH, then restart your AI apps.{hint}"));
        }
        let missing: Vec<&str> = local.secret_env.iter().filter(|v| !matches!(self.vault().env_secret(name, v), Ok(Some(_)))).map(String::as_str).collect();
        if !missing.is_empty() {
            return Finding::fail(LOCAL_SERVER, format!("The secret {} is missing from the keychain.", missing.join(", "))).action(format!("Run the `latchkey connect` command for `{name}` again to store it."));
        }
        Finding::ok(LOCAL_SERVER, format!("Apps start `{}` through `latchkey run {name}`, with {} secret(s) from the keychain.", local.command.join(" "), local.secret_env.len()))
    }

    /// An unauthenticated `initialize` to the MCP server (or a GET of a local server's site):
    /// any HTTP answer means it is reachable.
    async fn check_network(&self, url: &Url, mcp: bool) -> (Finding, Option<Challenge>) {
        let host = url.host_str().unwrap_or("the server").to_owned();
        let proxy = proxy_for(url);
        let via = match &proxy {
            Some(p) => format!("through the proxy {p}"),
            None => "directly (no proxy is set)".to_owned(),
        };
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": crate::session::PROTOCOL_VERSION.to_string(), "capabilities": {}, "clientInfo": {"name": "latchkey-doctor", "version": env!("CARGO_PKG_VERSION")}}});
        let request = if mcp {
            http::Request::builder()
                .method(http::Method::POST)
                .uri(url.as_str())
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::ACCEPT, "application/json, text/event-stream")
                .body(serde_json::to_vec(&body).unwrap_or_default())
        } else {
            http::Request::builder().method(http::Method::GET).uri(url.as_str()).body(Vec::new())
        };
        let request = match request {
            Ok(r) => r,
            Err(e) => return (Finding::fail(NETWORK, format!("The URL {url} cannot be requested ({e}).")), None),
        };
        use latchkey_oauth::Http as _;
        match self.http().send(request).await {
            Ok(resp) => {
                let status = resp.status();
                let challenge = Challenge::from_headers(resp.headers());
                let f = if mcp && status.as_u16() == 404 {
                    Finding::fail(NETWORK, format!("Reached {host} {via}, but it has no MCP server at {} (HTTP 404).", url.path())).action("Check the URL you connected to. For Atlassian it is https://mcp.atlassian.com/v2/mcp.")
                } else if status.is_server_error() {
                    Finding::warn(NETWORK, format!("Reached {host} {via}, but it answered with a server error (HTTP {}).", status.as_u16())).action("The server may be down for a moment; try again later.")
                } else if mcp && status.as_u16() == 401 {
                    Finding::ok(NETWORK, format!("Reached {host} {via}; it asks for a sign-in, as expected."))
                } else {
                    Finding::ok(NETWORK, format!("Reached {host} {via} (HTTP {}).", status.as_u16()))
                };
                (f, challenge)
            }
            Err(e) => (network_failure(&e, &host, proxy.as_deref()), None),
        }
    }

    /// A browserless GET of the authorization URL the next sign-in would open.
    async fn probe_authorize(&self, conn: &Connection, d: &Discovered, reg: &Registration) -> (Finding, Option<Finding>) {
        let name = conn.name.as_str();
        let redirect_uri = conn.redirect_port.map(|p| format!("http://127.0.0.1:{p}{}", latchkey_oauth::callback::CALLBACK_PATH)).unwrap_or_else(|| reg.redirect_uri.clone());
        let scope = conn.scope.clone().or_else(|| flow::choose_scope(None, d));
        let (challenge, state) = dummy_pkce();
        let url = match flow::authorize_url(d, reg, &redirect_uri, scope.as_deref(), &challenge, &state) {
            Ok(u) => u,
            Err(e) => return (Finding::fail(REDIRECT, format!("The authorization endpoint is not usable: {e}")), None),
        };
        let request = http::Request::builder().method(http::Method::GET).uri(url.as_str()).header(http::header::ACCEPT, "text/html,application/xhtml+xml").body(Vec::new());
        let Ok(request) = request else { return (Finding::warn(REDIRECT, "Could not build a test sign-in request."), None) };
        use latchkey_oauth::Http as _;
        let resp = match self.http().send(request).await {
            Ok(r) => r,
            Err(e) => return (Finding::warn(REDIRECT, format!("Could not test the sign-in page: {e}")), None),
        };
        let status = resp.status();
        if status.is_redirection() {
            let location = resp.headers().get(http::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
            let target = url.join(location).ok();
            let back_to_us = target.as_ref().is_some_and(|t| strip_query(t.as_str()) == strip_query(&redirect_uri));
            if !back_to_us {
                return (Finding::ok(REDIRECT, format!("The authorization server accepts the sign-in request for {redirect_uri} and shows its sign-in page.")), None);
            }
            let q: std::collections::HashMap<String, String> = target.map(|t| t.query_pairs().into_owned().collect()).unwrap_or_default();
            let ok = Finding::ok(REDIRECT, format!("The authorization server accepts the redirect URL {redirect_uri}."));
            if q.contains_key("code") {
                return (ok, Some(Finding::ok(CONSENT, "Consent is in place: the authorization server answered a test request with an authorization code.")));
            }
            let error = q.get("error").cloned().unwrap_or_default();
            let desc = q.get("error_description").map(|d| format!(" ({d})")).unwrap_or_default();
            let consent = if error == "access_denied" {
                Finding::fail(CONSENT, format!("Access is denied at the consent step{desc}."))
                    .action(format!("Ask your Atlassian site admin to check that your account has access to Jira and Confluence on this site (a site admin must approve the app for a site first), then sign in again with `latchkey connect {name}`."))
            } else {
                Finding::fail(CONSENT, format!("The authorization server refused the sign-in request: {error}{desc}."))
                    .action(format!("Sign in again with `latchkey connect {name}`; if this keeps happening, tell the server's administrator."))
            };
            return (ok, Some(consent));
        }
        let text = String::from_utf8_lossy(resp.body()).to_lowercase();
        if text.contains("admin must authorize this redirect url") || text.contains("authorize this redirect url") {
            let f = Finding::fail(REDIRECT, format!("Your organization's domain rule blocks the redirect URL {redirect_uri}: an admin must allow it."))
                .action("Send the message below to your Atlassian organization admin, then sign in again. HTTP localhost and 127.0.0.1 count as different hosts, so ask for both.")
                .admin(domain_rule_message(&redirect_uri));
            return (f, None);
        }
        if text.contains("redirect_uri is not registered") || text.contains("redirect uri is not registered") || text.contains("redirect_uri_mismatch") || text.contains("invalid redirect") {
            let repaired = reg.method == RegistrationMethod::Dynamic && self.forget_redirect_port(name).is_ok();
            let f = Finding::fail(REDIRECT, format!("The authorization server does not accept the redirect URL {redirect_uri}: it is not registered for Latchkey's client (the port must match exactly)."));
            let f = if repaired {
                f.action(format!("Nothing to fix by hand: Latchkey will register again for a new redirect port at the next sign-in (`latchkey connect {name}`)."))
            } else {
                f.action(format!("Ask the administrator who gave you the client id to add {redirect_uri} (and http://localhost with the same port) to its redirect URLs, then run `latchkey connect {name}`."))
                    .admin(format!("Hello, please add the redirect URL {redirect_uri} to the OAuth client `{}` that Latchkey uses (redirect URLs are matched exactly, port included). Thank you.", reg.client_id))
            };
            return (f, None);
        }
        if text.contains("invalid client") || text.contains("invalid_client") || text.contains("client_id is not registered") || text.contains("unknown client") {
            let _ = self.update_connection(name, |c| {
                if c.registration.as_ref().is_some_and(|r| r.method == RegistrationMethod::Dynamic) {
                    c.registration = None;
                }
            });
            let f = Finding::fail(REDIRECT, "The authorization server no longer knows Latchkey's client id (it may have moved or been reset).")
                .action(format!("Sign in again with `latchkey connect {name}`: Latchkey registers again."));
            return (f, None);
        }
        if status.is_success() {
            return (Finding::ok(REDIRECT, format!("The authorization server accepts the sign-in request for {redirect_uri} and shows its sign-in page.")), None);
        }
        let snippet: String = strip_tags(&String::from_utf8_lossy(resp.body())).chars().take(160).collect();
        (Finding::warn(REDIRECT, format!("The authorization server answered a test sign-in request with HTTP {}: {snippet}", status.as_u16())).action(format!("Try `latchkey connect {name}`; if the browser shows an error, tell your admin what it says.")), None)
    }

    /// Makes the next sign-in choose a new port (and so register again).
    fn forget_redirect_port(&self, name: &str) -> Result<()> {
        self.update_connection(name, |c| c.redirect_port = None)
    }

    async fn check_tokens(&self, conn: &Connection) -> Finding {
        let name = conn.name.as_str();
        let reconnect = format!("Sign in again with `latchkey connect {name}`.");
        if let ConnState::NeedsReauth { reason } = &conn.state {
            return Finding::fail(TOKENS, format!("This connection needs you to sign in again: {}", trim_period(reason))).action(reconnect);
        }
        let tokens = match self.vault().tokens(name) {
            Ok(t) => t,
            Err(e) => return Finding::fail(TOKENS, format!("Could not read the sign-in from the keychain: {e}")).action("Unlock the keychain (or allow Latchkey to use it), then run `latchkey doctor` again."),
        };
        let Some(tokens) = tokens else {
            return Finding::fail(TOKENS, "Not signed in yet.").action(format!("Run `latchkey connect {name}` to sign in."));
        };
        let now = self.now();
        let has_rt = tokens.refresh_token.is_some();
        match conn.expires_at {
            Some(exp) if exp <= now => {
                if !has_rt {
                    return Finding::fail(TOKENS, format!("The sign-in expired {} ago and the server gave no refresh token, so it cannot be renewed.", duration_words(now - exp))).action(reconnect);
                }
                match self.refresh_now(name, Some(&tokens.access_token)).await {
                    Ok(_) => {
                        let until = self.connection(name).ok().and_then(|c| c.expires_at).map(|e| format!(" (valid for another {})", duration_words(e.saturating_sub(self.now())))).unwrap_or_default();
                        Finding::ok(TOKENS, format!("The access token had expired; Latchkey renewed it with the refresh token just now{until}."))
                    }
                    Err(e) if e.is_reauth_required() => {
                        let why = match &e {
                            crate::error::CoreError::ReauthRequired { reason, .. } => reason.clone(),
                            other => other.to_string(),
                        };
                        Finding::fail(TOKENS, format!("The access token expired and the server refused the refresh token: {}. The sign-in was revoked or its refresh token was already used.", trim_period(&why)))
                            .action(format!("Sign in again with `latchkey connect {name}`. Refresh tokens rotate: an old copy used after the grace period (for example by a second copy of Latchkey with another keychain) revokes the sign-in."))
                    }
                    Err(e) => Finding::warn(TOKENS, format!("The access token expired and renewing it failed: {e}")).action("Check your network, then run `latchkey doctor` again."),
                }
            }
            Some(exp) => {
                let left = duration_words(exp - now);
                if has_rt {
                    Finding::ok(TOKENS, format!("Signed in; the access token is valid for another {left} and a refresh token is stored, so Latchkey renews it on its own."))
                } else if exp <= now + EXPIRING_SOON_SECS {
                    Finding::warn(TOKENS, format!("Signed in, but the sign-in expires in {left} and cannot be renewed (no refresh token).")).action(format!("Sign in again soon with `latchkey connect {name}`; make sure offline access is approved so Latchkey can renew it."))
                } else {
                    Finding::warn(TOKENS, format!("Signed in for another {left}, but there is no refresh token, so you will have to sign in again then.")).action("Sign in again and approve offline access (`offline_access`) so Latchkey can renew the sign-in on its own.")
                }
            }
            None if has_rt => Finding::ok(TOKENS, "Signed in; a refresh token is stored, so Latchkey renews the sign-in on its own."),
            None => Finding::ok(TOKENS, "Signed in; the server gave no expiry for the access token."),
        }
    }

    /// API-token connections: one raw request, so the org's refusal body can be read.
    async fn check_api_token(&self, conn: &Connection) -> Finding {
        let name = conn.name.as_str();
        let kind = if conn.auth == AuthKind::ApiTokenBasic { "personal API token" } else { "service-account key" };
        let credential = match self.credential(name).await {
            Ok(Some(c)) => c,
            Ok(None) | Err(_) => {
                return Finding::fail(API_TOKEN, format!("The {kind} is missing from the keychain.")).action(format!("Run `latchkey connect {name} --api-token` again."));
            }
        };
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": crate::session::PROTOCOL_VERSION.to_string(), "capabilities": {}, "clientInfo": {"name": "latchkey-doctor", "version": env!("CARGO_PKG_VERSION")}}});
        let Ok(mut auth) = http::HeaderValue::from_str(credential.header.expose()) else {
            return Finding::fail(API_TOKEN, format!("The stored {kind} is not usable in a request header.")).action(format!("Run `latchkey connect {name} --api-token` again."));
        };
        auth.set_sensitive(true);
        let request = http::Request::builder()
            .method(http::Method::POST)
            .uri(conn.url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json, text/event-stream")
            .header(http::header::AUTHORIZATION, auth)
            .body(serde_json::to_vec(&body).unwrap_or_default());
        let Ok(request) = request else { return Finding::warn(API_TOKEN, "Could not build a test request.") };
        use latchkey_oauth::Http as _;
        let resp = match self.http().send(request).await {
            Ok(r) => r,
            Err(e) => return Finding::warn(API_TOKEN, format!("Could not test the {kind}: {e}")),
        };
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Finding::ok(API_TOKEN, format!("The server accepts the {kind}."));
        }
        if status == 401 || status == 403 {
            if api_tokens_disabled(resp.body()) {
                return Finding::fail(API_TOKEN, "Your Atlassian organization has not enabled API-token access to the Rovo MCP server, so the server refuses every API token.")
                    .action(format!("Ask an organization admin to enable API-token authentication (message below), or sign in with the browser instead: `latchkey connect atlassian --name {name}-oauth`."))
                    .admin(API_TOKEN_ADMIN_MESSAGE);
            }
            return Finding::fail(API_TOKEN, format!("The server refuses the {kind} (HTTP {status}).")).action(if conn.auth == AuthKind::ApiTokenBasic {
                format!("Check the email and the token (it is sent as email:token), or create a new scoped API token at id.atlassian.com, then run `latchkey connect {name} --api-token --email <you@example.com>` again.")
            } else {
                format!("Check the service-account key (it is sent as a Bearer key) or create a new one, then run `latchkey connect {name} --api-token` again.")
            });
        }
        Finding::warn(API_TOKEN, format!("The server answered the {kind} with HTTP {status}.")).action("Try again later; if it persists, tell your admin.")
    }

    /// initialize + tools/list (and, for Atlassian, the granted sites) without any sign-in.
    async fn check_tools(&self, conn: &Connection) -> Finding {
        let name = conn.name.as_str();
        let credential = match conn.auth {
            AuthKind::OAuth => match self.vault().tokens(name) {
                Ok(Some(t)) => Some(Credential::bearer(t.access_token)),
                _ => None,
            },
            AuthKind::None => None,
            _ => self.credential(name).await.ok().flatten(),
        };
        match self.doctor_session(&conn.url, credential.as_ref()).await {
            Ok((server, tools, sites)) => tools_finding(conn, server, &tools, &sites),
            Err(SessionFailure::Challenge(h)) => {
                let ch = Challenge::parse([h.as_str()]).unwrap_or_default();
                if ch.is_insufficient_scope() {
                    return Finding::fail(TOOLS, format!("The server asks for more permissions than were granted ({}).", ch.scope.unwrap_or_default())).action(format!("Re-authenticate with `latchkey connect {name}` and approve the extra access."));
                }
                match conn.auth {
                    AuthKind::OAuth => Finding::fail(TOOLS, "The server refuses the stored access token.").action(format!("Sign in again with `latchkey connect {name}`.")),
                    AuthKind::None => Finding::fail(TOOLS, "The server now asks for a sign-in.").action(format!("Run `latchkey connect {name}` to sign in.")),
                    _ => Finding::fail(TOOLS, "The server refuses the API token.").action(format!("Run `latchkey connect {name} --api-token` with a valid token.")),
                }
            }
            Err(SessionFailure::Other(detail)) => Finding::fail(TOOLS, format!("Reached the server but could not use MCP with it: {detail}")).action("Check that the URL is the server's MCP endpoint; if it is, the server may be having problems, so try again later."),
        }
    }

    async fn doctor_session(&self, url: &str, credential: Option<&Credential>) -> std::result::Result<(Option<String>, Vec<String>, Vec<String>), SessionFailure> {
        use rmcp::ServiceExt as _;
        use rmcp::transport::StreamableHttpClientTransport;
        use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
        let mut headers = std::collections::HashMap::new();
        if let Some(c) = credential {
            let mut value = http::HeaderValue::from_str(c.header.expose()).map_err(|_| SessionFailure::Other("the stored credential is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        let config = StreamableHttpClientTransportConfig::with_uri(url.to_owned()).custom_headers(headers);
        let transport = StreamableHttpClientTransport::with_client(self.reqwest().clone(), config);
        let client = rmcp::model::ClientConfig::new(rmcp::model::ClientCapabilities::default(), rmcp::model::Implementation::new("latchkey-doctor", env!("CARGO_PKG_VERSION"))).with_protocol_version(crate::session::PROTOCOL_VERSION);
        let running = client.serve(transport).await.map_err(|e| match e.auth_challenge() {
            Some(h) => SessionFailure::Challenge(h.to_owned()),
            None => SessionFailure::Other(e.to_string()),
        })?;
        let peer = running.peer().clone();
        let server = peer.peer_info().and_then(|i| i.server_info.as_ref().map(|s| s.name.clone()));
        let listed = peer.list_all_tools().await;
        let out = match listed {
            Ok(tools) => {
                let names: Vec<String> = tools.into_iter().map(|t| t.name.to_string()).collect();
                let mut sites = Vec::new();
                if names.iter().any(|n| n == "getAccessibleAtlassianResources") {
                    let params = rmcp::model::CallToolRequestParams::new("getAccessibleAtlassianResources");
                    if let Ok(result) = peer.call_tool(params).await {
                        sites = sites_from(&serde_json::to_value(&result).unwrap_or_default());
                    }
                }
                Ok((server, names, sites))
            }
            Err(e) => Err(match e.auth_challenge() {
                Some(h) => SessionFailure::Challenge(h.to_owned()),
                None => SessionFailure::Other(e.to_string()),
            }),
        };
        let _ = running.cancel().await;
        out
    }

    /// Each app set up for this connection, and the gateway their entries point at.
    async fn doctor_clients(&self, conn: &Connection, env: &Env) -> Vec<Finding> {
        let name = conn.name.as_str();
        let mut out = Vec::new();
        let bridge = std::env::current_exe().and_then(std::fs::canonicalize).unwrap_or_else(|_| "latchkey".into());
        let url = match self.gateway_url(name) {
            Ok(u) => u,
            Err(e) => return vec![Finding::warn(CLIENTS, format!("Could not read Latchkey's settings: {e}"))],
        };
        let bindings = self.storage().load_cached().map(|s| s.bindings.clone()).unwrap_or_default();
        let expected = Expected { connection: name, url: &url, bridge: &bridge, local: conn.local.is_some() };
        let key_ok = |k: &str| self.verify_local_key(name, k).ok().flatten().is_some();
        let mut set_up = Vec::new();
        for app in latchkey_clients::all() {
            let bound = bindings.iter().any(|b| b.app == app.id && b.connection == name);
            let files = latchkey_clients::setup::inspect(app, env, &expected, &key_ok);
            if !bound && files.iter().all(|f| f.state == EntryState::Missing) {
                continue;
            }
            let add = format!("latchkey clients add {name} --client {}", app.id);
            let worst = files.iter().map(|f| &f.state).max_by_key(|s| severity(s)).cloned().unwrap_or(EntryState::Missing);
            let f = match worst {
                EntryState::Current => {
                    set_up.push(app.name);
                    Finding::ok(CLIENTS, format!("{} is set up for {name} and its entry is current.", app.name))
                }
                EntryState::Stale { reason } => {
                    set_up.push(app.name);
                    Finding::warn(CLIENTS, format!("{}'s entry for {name} is out of date: {reason}.", app.name)).action(format!("Run `{add}` to update it."))
                }
                EntryState::Missing => Finding::warn(CLIENTS, format!("{} was set up for {name}, but its entry is gone (the app may have rewritten its config).", app.name)).action(format!("Run `{add}` to put it back (a running gateway does this on its own when \"keep apps set up\" is on).")),
                EntryState::Broken { reason } => Finding::warn(CLIENTS, format!("{}'s config cannot be used: {reason}.", app.name)).action(format!("Fix the file, or put back Latchkey's backup with `latchkey clients restore {}`, then run `{add}`.", app.id)),
                EntryState::Foreign => Finding::warn(CLIENTS, format!("{} has another server named {name} that Latchkey did not write.", app.name)).action(format!("Run `{add} --force` to replace it with Latchkey's entry.")),
            };
            out.push(f);
        }
        if out.is_empty() {
            out.push(Finding::skipped(CLIENTS, format!("No app is set up to use {name} yet.")).action(format!("Run `latchkey clients add {name}` to set up your AI apps.")));
            return out;
        }
        if !set_up.is_empty() {
            out.push(self.check_gateway(&set_up).await);
        }
        out
    }

    async fn check_gateway(&self, apps: &[&str]) -> Finding {
        let who = apps.join(", ");
        let start = "Start it: open the Latchkey app, or run `latchkey serve`.";
        let configured = self.gateway_port().unwrap_or(crate::model::DEFAULT_GATEWAY_PORT);
        let info = std::fs::read(self.storage().paths().config_dir.join("gateway.json")).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        let Some(port) = info.and_then(|v| v.get("port").and_then(serde_json::Value::as_u64)).and_then(|p| u16::try_from(p).ok()) else {
            return Finding::warn(GATEWAY, format!("The Latchkey gateway is not running, so {who} cannot reach this connection.")).action(start);
        };
        let reachable = matches!(tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(("127.0.0.1", port))).await, Ok(Ok(_)));
        if !reachable {
            return Finding::warn(GATEWAY, format!("The gateway last ran on 127.0.0.1:{port} but nothing answers there now, so {who} cannot reach this connection.")).action(start);
        }
        if port != configured {
            return Finding::warn(GATEWAY, format!("The gateway runs on 127.0.0.1:{port}, but the apps are set up for port {configured}.")).action("Restart the gateway (`latchkey serve`) so it uses the saved port, or run `latchkey clients add` again.");
        }
        Finding::ok(GATEWAY, format!("The gateway is running on 127.0.0.1:{port}; {who} can reach it."))
    }
}

enum SessionFailure {
    Challenge(String),
    Other(String),
}

fn severity(s: &EntryState) -> u8 {
    match s {
        EntryState::Current => 0,
        EntryState::Stale { .. } => 2,
        EntryState::Missing => 1,
        EntryState::Foreign => 3,
        EntryState::Broken { .. } => 4,
    }
}

/// Ready-to-send text for an org admin when API-token access is off.
pub const API_TOKEN_ADMIN_MESSAGE: &str = "Hello, I would like to connect to the Atlassian Rovo MCP server with an API token (from Latchkey, a desktop app that connects AI assistants to Atlassian). The server answers that API token authentication is not enabled for our organization. Could you enable API-token authentication for the Rovo MCP server in Atlassian Administration (admin.atlassian.com, in the Rovo MCP server / security settings)? Thank you.";

fn domain_rule_message(redirect_uri: &str) -> String {
    format!(
        "Hello, I use Latchkey, a desktop app that signs in to the Atlassian Rovo MCP server with OAuth. Sign-in stops with \"Your admin must authorize this redirect URL\" for {redirect_uri}. Could you allow these redirect URLs for the Latchkey client in our organization's domain rules in Atlassian Administration (admin.atlassian.com): http://127.0.0.1 and http://localhost (Latchkey listens on this computer only, on a fixed port; the two hosts count as different, so please allow both). Thank you."
    )
}

/// Whether a 401/403 body is the org's "API tokens are not enabled" answer.
fn api_tokens_disabled(body: &[u8]) -> bool {
    crate::session::api_tokens_disabled(&String::from_utf8_lossy(body))
}

fn discovery_findings(d: &Discovered, url: &Url) -> Vec<Finding> {
    let mut out = Vec::new();
    let asked = d.resource_metadata.as_ref().and_then(|m| m.authorization_servers.first()).map(|s| s.trim_end_matches('/').to_owned());
    let issuer = d.issuer().trim_end_matches('/');
    let quirk = asked.as_deref().is_some_and(|a| a != issuer);
    if let Some(w) = atlassian::endpoint_warning(url) {
        out.push(Finding::warn(DISCOVERY, w).action("Move the connection to https://mcp.atlassian.com/v2/mcp."));
    }
    if !d.auth_server.supports_s256() {
        out.push(Finding::fail(DISCOVERY, format!("The authorization server {issuer} does not offer PKCE (S256), which MCP requires.")).action("Tell the server's administrator; Latchkey cannot sign in safely without it."));
    } else if quirk {
        out.push(
            Finding::warn(DISCOVERY, format!("Accepted Atlassian's known issuer bug: the authorization server {} names itself {issuer}.", asked.unwrap_or_default()))
                .action("Nothing to do: Latchkey accepts exactly this known Atlassian quirk (and logs it). Strict clients refuse it; Atlassian is expected to fix its metadata."),
        );
    } else {
        out.push(Finding::ok(DISCOVERY, format!("Found the authorization server {issuer}.")));
    }
    out
}

fn discovery_failure(e: &OAuthError, conn: &Connection) -> Finding {
    let name = conn.name.as_str();
    match e {
        OAuthError::IssuerMismatch { expected, advertised } => {
            let bare_origin = Url::parse(expected).ok().is_some_and(|u| !u.path().trim_end_matches('/').is_empty() && u.origin().ascii_serialization() == advertised.trim_end_matches('/'));
            let f = Finding::fail(DISCOVERY, format!("The authorization server {expected} names itself {advertised}, so Latchkey refused it (issuer mismatch)."));
            if bare_origin {
                f.action(format!("This is Atlassian's known issuer bug. Connect with the Atlassian preset, which accepts exactly this quirk: `latchkey connect atlassian --url {}`.", conn.url))
            } else {
                f.action("This could be an impersonation or a misconfigured server; tell the server's administrator.")
            }
        }
        OAuthError::ResourceMismatch { advertised, .. } => Finding::fail(DISCOVERY, format!("The server says it is {advertised}, which is not the URL you connected to; Latchkey will not send it a token.")).action("Check the URL; connect to the exact MCP endpoint the server names."),
        OAuthError::BadMetadata { document, url, detail } => Finding::fail(DISCOVERY, format!("The server's {document} at {url} is not usable: {detail}.")).action("The server is misconfigured; tell its administrator."),
        OAuthError::Network { url, detail } => {
            let host = Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "the authorization server".into());
            let mut f = network_failure(e, &host, None);
            f.check = DISCOVERY;
            if f.summary.is_empty() {
                f.summary = detail.clone();
            }
            f
        }
        other => Finding::fail(DISCOVERY, other.to_string()).action(format!("Run `latchkey connect {name}` to see the full error; tell the server's administrator if it persists.")),
    }
}

fn registration_finding(conn: &Connection, d: &Discovered) -> (Finding, bool) {
    let name = conn.name.as_str();
    let issuer = d.issuer().trim_end_matches('/');
    let Some(reg) = &conn.registration else {
        let can_register = conn.client.client_id.is_some() || d.auth_server.registration_endpoint.is_some() || (conn.client.client_metadata_url.is_some() && d.auth_server.client_id_metadata_document_supported == Some(true));
        if !can_register {
            return (
                Finding::fail(REGISTRATION, format!("The authorization server {issuer} offers no way for Latchkey to register (no dynamic client registration)."))
                    .action(format!("Ask the server's administrator for a client id, then run `latchkey connect {name} --client-id <id>`."))
                    .admin(format!("Hello, I would like to use Latchkey (a desktop MCP client) with {}. Its authorization server does not offer dynamic client registration. Could you register an OAuth client for Latchkey (public client, PKCE, redirect URLs http://127.0.0.1:<port>/callback and http://localhost:<port>/callback) and send me its client id? Thank you.", conn.url)),
                false,
            );
        }
        return (Finding::skipped(REGISTRATION, "Latchkey has not registered with this server yet; it does so at the first sign-in.").action(format!("Run `latchkey connect {name}`.")), false);
    };
    if reg.issuer.trim_end_matches('/') != issuer {
        return (
            Finding::warn(REGISTRATION, format!("Latchkey's client registration is for {}, but the server now uses {issuer}.", reg.issuer))
                .action(format!("Sign in again with `latchkey connect {name}`: Latchkey registers again with the new authorization server (stored client ids do not carry over).")),
            false,
        );
    }
    let port_uri = conn.redirect_port.map(|p| format!("http://127.0.0.1:{p}{}", latchkey_oauth::callback::CALLBACK_PATH));
    if reg.method == RegistrationMethod::Dynamic && port_uri.as_deref().is_some_and(|u| u != reg.redirect_uri) {
        return (
            Finding::warn(REGISTRATION, format!("Latchkey's client is registered for {} but this connection now signs in on {}.", reg.redirect_uri, port_uri.unwrap_or_default()))
                .action(format!("Nothing to fix by hand: the next sign-in (`latchkey connect {name}`) registers again for the new port.")),
            true,
        );
    }
    if reg.method == RegistrationMethod::Dynamic && d.auth_server.registration_endpoint.is_none() {
        return (
            Finding::warn(REGISTRATION, "The authorization server no longer offers dynamic client registration; Latchkey's existing registration still works, but it cannot register again if it is lost.")
                .action("If sign-in ever fails with an unknown client, ask the server's administrator for a client id (`--client-id`)."),
            true,
        );
    }
    let how = match reg.method {
        RegistrationMethod::Dynamic => "registered itself",
        RegistrationMethod::PreRegistered => "uses the client id you were given",
        RegistrationMethod::ClientIdMetadataDocument => "uses its client metadata document",
    };
    (Finding::ok(REGISTRATION, format!("Latchkey {how} with {issuer} for the redirect URL {}.", reg.redirect_uri)), true)
}

/// The connection's redirect port must be free when the browser comes back.
fn redirect_port_finding(conn: &Connection) -> Option<Finding> {
    let port = conn.redirect_port?;
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => {
            drop(l);
            None
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Some(
            Finding::warn(REDIRECT, format!("Port {port}, where the browser returns after sign-in, is in use by another program right now."))
                .action(format!("Close the program using port {port} before you sign in, or just sign in: Latchkey then picks another port and registers it again.")),
        ),
        Err(e) => Some(Finding::warn(REDIRECT, format!("Could not listen on 127.0.0.1:{port} for the sign-in redirect: {e}.")).action("Check that local firewalls or security software allow programs to listen on 127.0.0.1.")),
    }
}

fn consent_from_state(conn: &Connection) -> Finding {
    match (&conn.state, &conn.scope) {
        (ConnState::New, _) => Finding::skipped(CONSENT, "No sign-in has completed yet, so there is no consent to check."),
        (_, Some(scope)) => Finding::ok(CONSENT, format!("You approved access at the last sign-in ({}).", products_in(scope))),
        (_, None) => Finding::ok(CONSENT, "You approved access at the last sign-in."),
    }
}

/// "Jira and Confluence", "Jira only", ... from a granted scope.
fn products_in(scope: &str) -> String {
    let jira = scope.split(' ').any(|s| s.contains(":jira:"));
    let confluence = scope.split(' ').any(|s| s.contains(":confluence:"));
    match (jira, confluence) {
        (true, true) => "Jira and Confluence".into(),
        (true, false) => "Jira only, no Confluence".into(),
        (false, true) => "Confluence only, no Jira".into(),
        (false, false) => format!("no Jira or Confluence scopes: {scope}"),
    }
}

fn tools_finding(conn: &Connection, server: Option<String>, tools: &[String], sites: &[String]) -> Finding {
    let name = conn.name.as_str();
    let n = tools.len();
    let from = server.map(|s| format!(" from {s}")).unwrap_or_default();
    let site_words = match sites.len() {
        0 => String::new(),
        1 => format!("; site: {}", sites[0]),
        _ => format!("; sites: {}", sites.join(", ")),
    };
    if n == 0 {
        return Finding::warn(TOOLS, format!("Connected{from}, but the server lists no tools.")).action("Check your product access with the site admin, or the scopes granted.");
    }
    let only_account = tools.iter().all(|t| ATLASSIAN_ACCOUNT_TOOLS.contains(&t.as_str()));
    if !only_account {
        return Finding::ok(TOOLS, format!("Connected{from}: {n} tools{site_words}."));
    }
    let list = tools.join(", ");
    match conn.auth {
        AuthKind::ApiTokenBasic | AuthKind::ApiTokenBearer => Finding::warn(TOOLS, format!("Connected but only {n} tools ({list}): the API token is unscoped (a classic token) or has no Jira or Confluence scopes."))
            .action(format!("Create a scoped API token with the Jira and Confluence scopes (id.atlassian.com → Security → API tokens → Create API token with scopes), then run `latchkey connect {name} --api-token` again.")),
        _ => {
            let granted = conn.scope.clone().unwrap_or_default();
            let has_products = granted.split(' ').any(|s| s.contains(":jira:") || s.contains(":confluence:"));
            if has_products {
                Finding::warn(TOOLS, format!("Connected but only {n} tools ({list}), although Jira/Confluence scopes were granted: your account may lack product access on this site."))
                    .action("Ask your site admin to check your Jira and Confluence product access for this site, then re-authenticate.")
            } else {
                let wanted = ["read:jira:agent-interface", "write:jira:agent-interface", "search:jira:agent-interface", "read:confluence:agent-interface", "write:confluence:agent-interface", "search:confluence:agent-interface"];
                let offered: Vec<String> = conn.discovered.as_ref().and_then(|d| d.resource_metadata.as_ref()).and_then(|m| m.scopes_supported.clone()).unwrap_or_default();
                let missing: Vec<&str> = wanted.iter().copied().filter(|w| offered.is_empty() || offered.iter().any(|o| o == w)).collect();
                let granted_words = if granted.is_empty() { "none recorded".to_owned() } else { granted };
                Finding::warn(TOOLS, format!("Connected but only {n} tools ({list}): the scopes granted have no Jira or Confluence access (missing {}; granted: {granted_words}).", missing.join(", ")))
                    .action(format!("Re-authenticate (`latchkey connect {name}`) and approve Jira and Confluence access on the consent screen; if they are not offered, ask your site admin for product access."))
            }
        }
    }
}

/// "acme (https://acme.atlassian.net)" for each site in a getAccessibleAtlassianResources result.
fn sites_from(result: &serde_json::Value) -> Vec<String> {
    let Some(text) = result.pointer("/content/0/text").and_then(|t| t.as_str()) else { return Vec::new() };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else { return Vec::new() };
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let n = s.get("name").and_then(|x| x.as_str()).unwrap_or("?");
            match s.get("url").and_then(|x| x.as_str()) {
                Some(u) => format!("{n} ({u})"),
                None => n.to_owned(),
            }
        })
        .collect()
}

/// Classifies a transport failure: TLS (untrusted certificate, interception), DNS, refused,
/// timeout, or other.
fn network_failure(e: &OAuthError, host: &str, proxy: Option<&str>) -> Finding {
    let detail = match e {
        OAuthError::Network { detail, .. } => detail.clone(),
        other => other.to_string(),
    };
    let lower = detail.to_lowercase();
    let via = proxy.map(|p| format!(" through the proxy {p}")).unwrap_or_default();
    let proxy_hint = match proxy {
        Some(p) => format!(" The proxy in use is {p} (from the HTTPS_PROXY / HTTP_PROXY environment); check it is right and running."),
        None => " No proxy is set; if your network needs one, set HTTPS_PROXY.".to_owned(),
    };
    if lower.contains("certificate") || lower.contains("unknownissuer") || lower.contains("invalid peer certificate") || lower.contains("self signed") || lower.contains("self-signed") {
        return Finding::fail(NETWORK, format!("Could not make a secure connection to {host}{via}: its certificate is not trusted, which usually means something on your network inspects HTTPS traffic (TLS interception)."))
            .action("Ask IT to add the inspecting proxy's root certificate to this computer's trust store (Latchkey uses the operating system's trust store), or to exempt this host from inspection. Then run `latchkey doctor` again.")
            .admin(format!("Hello, Latchkey (a desktop app that connects AI assistants to Atlassian) cannot connect to https://{host}: the HTTPS certificate it receives is not trusted ({}). This looks like TLS inspection on our network. Could you add the inspection proxy's root certificate to the operating system's trust store on my computer, or exempt {host} from TLS inspection? Thank you.", first_clause(&detail)));
    }
    if lower.contains("dns") || lower.contains("failed to lookup") || lower.contains("name or service not known") || lower.contains("no such host") || lower.contains("nodename nor servname") || lower.contains("name resolution") {
        return Finding::fail(NETWORK, format!("Could not find {host}: the name does not resolve (DNS)."))
            .action(format!("Check the URL and your internet connection; if you use a VPN, connect it.{proxy_hint}"));
    }
    if lower.contains("timed out") || lower.contains("timeout") {
        return Finding::fail(NETWORK, format!("{host} did not answer in time{via}.")).action(format!("Check your internet connection and any firewall.{proxy_hint}"));
    }
    if lower.contains("refused") {
        return Finding::fail(NETWORK, format!("{host} refused the connection{via}.")).action(format!("Check the URL and port, and that the server is running.{proxy_hint}"));
    }
    if lower.contains("proxy") {
        return Finding::fail(NETWORK, format!("The proxy failed while connecting to {host}: {}.", first_clause(&detail))).action(proxy_hint.trim().to_owned());
    }
    Finding::fail(NETWORK, format!("Could not reach {host}{via}: {}.", first_clause(&detail))).action(format!("Check your internet connection.{proxy_hint}"))
}

/// The proxy reqwest uses for `url` (from the environment), without any credentials in it.
pub fn proxy_for(url: &Url) -> Option<String> {
    let var = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()));
    let raw = match url.scheme() {
        "https" => var(&["HTTPS_PROXY", "https_proxy"]),
        _ => var(&["HTTP_PROXY", "http_proxy"]),
    }
    .or_else(|| var(&["ALL_PROXY", "all_proxy"]))?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if let Some(no) = var(&["NO_PROXY", "no_proxy"]) {
        for entry in no.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()) {
            let e = entry.trim_start_matches('.');
            if entry == "*" || host == e || host.ends_with(&format!(".{e}")) {
                return None;
            }
        }
    }
    Some(match Url::parse(&raw) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string().trim_end_matches('/').to_owned()
        }
        Err(_) => "(a proxy from the environment)".to_owned(),
    })
}

/// A dummy PKCE challenge and state for the probe (never redeemed).
fn dummy_pkce() -> (String, String) {
    use base64::Engine as _;
    use rand::Rng as _;
    use sha2::Digest as _;
    let bytes: [u8; 32] = rand::rng().random();
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let state: [u8; 16] = rand::rng().random();
    (challenge, format!("doctor-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(state)))
}

fn strip_query(u: &str) -> &str {
    u.split(['?', '#']).next().unwrap_or(u).trim_end_matches('/')
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_clause(detail: &str) -> String {
    detail.lines().next().unwrap_or(detail).chars().take(240).collect()
}

fn trim_period(s: &str) -> &str {
    s.trim().trim_end_matches('.')
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "3 minutes", "2 hours", "5 days".
fn duration_words(secs: u64) -> String {
    let plural = |n: u64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    match secs {
        0..60 => plural(secs, "second"),
        60..3600 => plural(secs / 60, "minute"),
        3600..86_400 => plural(secs / 3600, "hour"),
        _ => plural(secs / 86_400, "day"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_token_disabled_bodies_are_recognised() {
        assert!(api_tokens_disabled(br#"{"error":"api_token_auth_disabled","message":"x"}"#));
        assert!(api_tokens_disabled(b"API token authentication is not enabled for this organization."));
        assert!(!api_tokens_disabled(br#"{"error":"invalid_token"}"#));
    }

    #[test]
    fn tls_failures_are_told_apart() {
        let e = |d: &str| OAuthError::Network { url: "https://x".into(), detail: d.into() };
        let tls = network_failure(&e("error sending request: client error (Connect): invalid peer certificate: UnknownIssuer"), "x", None);
        assert!(tls.summary.contains("certificate") && tls.action.as_deref().unwrap().contains("trust store"), "{tls:?}");
        assert!(tls.admin_message.is_some());
        let dns = network_failure(&e("the connection failed: dns error: failed to lookup address information"), "x", None);
        assert!(dns.summary.contains("DNS"), "{dns:?}");
        let refused = network_failure(&e("the connection failed: tcp connect error: Connection refused (os error 111)"), "x", None);
        assert!(refused.summary.contains("refused"), "{refused:?}");
        let slow = network_failure(&e("the request timed out"), "x", Some("http://proxy:3128"));
        assert!(slow.summary.contains("did not answer") && slow.summary.contains("proxy"), "{slow:?}");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration_words(59), "59 seconds");
        assert_eq!(duration_words(3599), "59 minutes");
        assert_eq!(duration_words(7200), "2 hours");
    }
}
