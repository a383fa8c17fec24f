//! The core crate's error: one enum, classified by helpers, shown to users as `{kind, message}`.

use latchkey_oauth::OAuthError;
use latchkey_secrets::SecretsError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    #[error(transparent)]
    OAuth(#[from] OAuthError),

    #[error(transparent)]
    Secrets(#[from] SecretsError),

    /// The name given is not a connection, preset or URL.
    #[error("`{0}` is not a saved connection, a preset (atlassian) or a URL. Run `latchkey status` to see your connections.")]
    UnknownTarget(String),

    /// A connection of that name already exists for another server.
    #[error("A connection named `{0}` already exists for another server. Pick another name with --name.")]
    NameTaken(String),

    /// The connection needs the browser sign-in again.
    #[error("`{name}` needs you to sign in again ({reason}). Run `latchkey connect {name}` or click Re-authenticate.")]
    ReauthRequired { name: String, reason: String },

    /// An API token or key was refused by the server.
    #[error("The server refused the API token for `{0}`. Check the token, and that your organisation admin has enabled API-token access.")]
    CredentialRejected(String),

    /// The organisation has not enabled API-token access to its MCP server.
    #[error(
        "Your organisation has not enabled API-token access for `{0}`. An organisation admin must turn on API-token authentication for the Rovo MCP server (Atlassian Administration → Security); until then, connect with `latchkey connect atlassian` and sign in in the browser."
    )]
    ApiTokensDisabled(String),

    /// The MCP server answered with an error or could not be reached.
    #[error("The MCP server at {url} failed: {detail}")]
    Mcp { url: String, detail: String },

    /// The state file or a lock could not be used.
    #[error("Could not use Latchkey's settings at {path}: {detail}")]
    Storage { path: String, detail: String },

    /// An app's config could not be changed safely.
    #[error("{message}")]
    Clients { kind: &'static str, message: String },

    /// Invalid input from the user.
    #[error("{0}")]
    Invalid(String),
}

impl CoreError {
    pub fn is_reauth_required(&self) -> bool {
        matches!(self, Self::ReauthRequired { .. }) || matches!(self, Self::OAuth(e) if e.is_reauth_required())
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::OAuth(e) => e.kind(),
            Self::Secrets(e) => e.kind(),
            Self::UnknownTarget(_) => "unknown_target",
            Self::NameTaken(_) => "name_taken",
            Self::ReauthRequired { .. } => "reauth_required",
            Self::CredentialRejected(_) => "credential_rejected",
            Self::ApiTokensDisabled(_) => "api_tokens_disabled",
            Self::Mcp { .. } => "mcp_error",
            Self::Storage { .. } => "storage",
            Self::Clients { kind, .. } => kind,
            Self::Invalid(_) => "invalid_input",
        }
    }

    /// What the UI and `--json` show.
    pub fn to_view(&self) -> ErrorView {
        ErrorView { kind: self.kind(), message: self.to_string() }
    }
}

/// `{kind, message}` for the UI.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub kind: &'static str,
    pub message: String,
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
