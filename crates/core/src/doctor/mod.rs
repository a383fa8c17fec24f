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
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
    /// App entries are judged against this executable as the `latchkey` command (the CLI).
    pub async fn doctor(&self, connection: Option<&str>, env: &Env) -> Result<Report> {
        let latchkey = std::env::current_exe().and_then(std::fs::canonicalize).unwrap_or_else(|_| "latchkey".into());
        self.doctor_with(connection, env, &latchkey).await
    }

    /// [`doctor`](Self::doctor) for a caller that is not the `latchkey` executable (the tray
    /// app): app entries are judged against `latchkey`, the command written into them.
    pub async fn doctor_with(&self, connection: Option<&str>, env: &Env, latchkey: &std::path::Path) -> Result<Report> {
        let conns = match connection {
            Some(n) => vec![self.connection(n)?],
            None => self.connections()?,
        };
        let mut out = Vec::new();
        for c in conns {
            out.push(self.doctor_one(&c, env, latchkey).await);
        }
        let passed = out.iter().all(ConnectionReport::passed);
        Ok(Report { connections: out, passed })
    }

    async fn doctor_one(&self, conn: &Connection, env: &Env, latchkey: &std::path::Path) -> ConnectionReport {
        let mut chain = Chain { findings: Vec::new() };
        self.doctor_chain(conn, env, &mut chain).await;
        for f in self.doctor_clients(conn, env, latchkey).await {
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
                chain.push(
                    Finding::fail(NETWORK, format!("The saved URL `{}` is not valid ({e}).", conn.url))
                        .action(format!("Remove it with `latchkey logout {name}` and connect again with the right URL.")),
                );
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
            (None, _) => {
                chain.push(Finding::skipped(REDIRECT, "Not checked: Latchkey has not registered with this server yet (it does at the first sign-in)."))
            }
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
}

mod findings;
mod probes;

use findings::*;
