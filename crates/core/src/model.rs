//! What a connection is, as saved in the state file. No secrets live here: tokens, API keys and
//! client secrets are in the vault, referenced by connection name.

use latchkey_oauth::{Discovered, Registration};
use serde::{Deserialize, Serialize};

/// How requests to the server are authenticated.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// The server needs no credential.
    None,
    /// OAuth 2.1 via the browser flow.
    OAuth,
    /// `Authorization: Basic base64(email:token)` (Atlassian personal API token).
    ApiTokenBasic,
    /// `Authorization: Bearer <key>` (service-account key).
    ApiTokenBearer,
}

/// A connection's health as far as the engine knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnState {
    /// Saved but never signed in.
    New,
    Connected,
    /// The refresh token was refused (or is missing): the user must sign in again.
    NeedsReauth {
        reason: String,
    },
    /// The server asked for more scope than was granted.
    NeedsStepUp {
        scope: String,
    },
}

/// Client registration options the user gave (non-secret part).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata_url: Option<String>,
    /// A pre-registered client's secret is in the vault.
    #[serde(default)]
    pub has_client_secret: bool,
}

/// One named remote MCP server with its (non-secret) auth state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub name: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    pub auth: AuthKind,
    pub state: ConnState,
    #[serde(default)]
    pub client: ClientSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovered: Option<Discovered>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
    /// The loopback redirect port, kept stable because redirect URIs are matched exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Access-token expiry, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    #[serde(default)]
    pub has_refresh_token: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh_at: Option<u64>,
    /// Atlassian: the sites this grant can reach (from `getAccessibleAtlassianResources`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<Site>,
    /// Atlassian: the `cloudId` the gateway adds to tool calls that omit it (only offered when
    /// the grant has exactly one site, as Atlassian advises pinning it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_cloud_id: Option<String>,
    /// Tools whose input schema takes a `cloudId` (where pinning applies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cloud_id_tools: Vec<String>,
    /// A local stdio MCP server started by `latchkey run` (Atlassian Data Center), instead of a
    /// remote URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalServer>,
    /// Lets clients that cannot send headers use the gateway without a local key. Less safe:
    /// any local program can then use this connection. Off by default.
    #[serde(default)]
    pub allow_keyless: bool,
}

impl Connection {
    pub fn new(name: String, url: String, preset: Option<String>) -> Self {
        Connection {
            name,
            url,
            preset,
            auth: AuthKind::OAuth,
            state: ConnState::New,
            client: ClientSettings::default(),
            discovered: None,
            registration: None,
            redirect_port: None,
            scope: None,
            expires_at: None,
            has_refresh_token: false,
            account: None,
            site: None,
            last_refresh_at: None,
            allow_keyless: false,
            sites: Vec::new(),
            pinned_cloud_id: None,
            cloud_id_tools: Vec::new(),
            local: None,
        }
    }
}

/// One Atlassian site (cloud).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub cloud_id: String,
    pub name: String,
    pub url: String,
}

/// A local stdio MCP server: the command and the environment `latchkey run` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalServer {
    pub command: Vec<String>,
    /// Variable name -> value. Secret values are not here: they live in the vault under
    /// `conn/<name>/env/<VAR>` and are listed in `secret_env`.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub secret_env: Vec<String>,
}

/// The whole state file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StateFile {
    #[serde(default = "version")]
    pub version: u32,
    #[serde(default)]
    pub connections: Vec<Connection>,
    #[serde(default)]
    pub settings: Settings,
    /// Which apps Latchkey set up for which connection, so it can keep them set up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<Binding>,
}

/// "App `app` is set up to use connection `connection`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub app: String,
    pub connection: String,
}

/// App-wide settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The gateway's port on 127.0.0.1 (default [`DEFAULT_GATEWAY_PORT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_port: Option<u16>,
    /// Put our entry back when an app wipes its config (default on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_configured: Option<bool>,
}

/// A stable default, so client configs keep working across restarts.
pub const DEFAULT_GATEWAY_PORT: u16 = 47_219;

fn version() -> u32 {
    1
}

impl StateFile {
    pub fn get(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name == name)
    }
    pub fn upsert(&mut self, conn: Connection) {
        match self.connections.iter_mut().find(|c| c.name == conn.name) {
            Some(slot) => *slot = conn,
            None => self.connections.push(conn),
        }
    }
    pub fn remove(&mut self, name: &str) -> Option<Connection> {
        let i = self.connections.iter().position(|c| c.name == name)?;
        Some(self.connections.remove(i))
    }
}

/// Connection names: short, lowercase, safe in file names, URLs and keychain accounts.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') && !name.starts_with('-')
}

/// Turns a host like `mcp.example.com` into a name like `mcp-example-com`.
pub fn name_from_host(host: &str) -> String {
    let mut s: String = host.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    s.truncate(48);
    let s = s.trim_matches('-').to_owned();
    if s.is_empty() { "server".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("atlassian"));
        assert!(valid_name("acme-2"));
        assert!(!valid_name("Acme"));
        assert!(!valid_name("../x"));
        assert!(!valid_name(""));
        assert_eq!(name_from_host("127.0.0.1"), "127-0-0-1");
        assert_eq!(name_from_host("MCP.Example.com"), "mcp-example-com");
    }
}
