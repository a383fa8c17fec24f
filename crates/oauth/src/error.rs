//! The one error type of the OAuth crate.
//!
//! Every variant carries enough to print one plain-words line that names the cause and the
//! fix. Callers classify with the helpers (`is_reauth_required`, `kind`) and never match on
//! message text.

use std::time::Duration;

/// Everything that can go wrong while discovering, registering, authorizing or refreshing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The server could not be reached at all (DNS, refused, TLS, timeout).
    #[error("Could not reach {url}: {detail}. Check your network connection and any proxy settings.")]
    Network { url: String, detail: String },

    /// A metadata document was missing, malformed, oversized or hostile.
    #[error("The server's {document} at {url} is not usable: {detail}. The server is misconfigured; tell its administrator.")]
    BadMetadata { document: &'static str, url: String, detail: String },

    /// Protected-resource metadata names a different resource than the server we asked.
    #[error("The server at {server} says its resource is {advertised}, which does not match. Refusing to send it a token; check the URL you connected to.")]
    ResourceMismatch { server: String, advertised: String },

    /// The authorization server's metadata names a different issuer than the one we looked up.
    #[error(
        "The authorization server at {expected} identifies itself as {advertised}. Refusing to continue, since this could be an impersonation; check the server's configuration."
    )]
    IssuerMismatch { expected: String, advertised: String },

    /// An endpoint uses plain http on a host that is not this machine.
    #[error("The {what} {url} does not use https. Latchkey only sends credentials over https (plain http is allowed for 127.0.0.1 and localhost).")]
    InsecureEndpoint { what: &'static str, url: String },

    /// The authorization server does not advertise PKCE with S256.
    #[error("The authorization server at {issuer} does not support PKCE (S256), which MCP requires. Ask its administrator to enable it.")]
    PkceUnsupported { issuer: String },

    /// No way to obtain a client id.
    #[error("The authorization server at {issuer} offers no way to register Latchkey. Ask its administrator for a client id and pass it with --client-id.")]
    NoRegistration { issuer: String },

    /// Dynamic client registration was refused.
    #[error("The authorization server refused to register Latchkey ({detail}). Ask its administrator for a client id and pass it with --client-id.")]
    RegistrationRejected { detail: String },

    /// The loopback redirect listener could not be bound.
    #[error("Could not listen for the sign-in redirect on 127.0.0.1: {detail}. Another program may be using the port; close it or try again.")]
    CallbackBind { detail: String },

    /// The system browser could not be opened.
    #[error("Could not open your web browser ({detail}). Open this link yourself to continue: {url}")]
    BrowserOpen { url: String, detail: String },

    /// The redirect carried a `state` we did not send: possibly a forged request.
    #[error("The sign-in response did not match the request that was sent (state mismatch). Nothing was saved; start the sign-in again.")]
    StateMismatch,

    /// The redirect carried an `iss` other than the authorization server's issuer (RFC 9207).
    #[error("The sign-in response came from {got} instead of {expected} (issuer mismatch). Nothing was saved; start the sign-in again.")]
    CallbackIssuerMismatch { expected: String, got: String },

    /// The redirect carried neither a code nor an error.
    #[error("The sign-in response had no authorization code. Nothing was saved; start the sign-in again.")]
    MissingCode,

    /// The user (or an org policy) declined consent.
    #[error("Access was denied in the browser{}. If you did not decline, ask your site administrator to check that you have access to this product.", describe(.description))]
    AccessDenied { description: Option<String> },

    /// The authorization server answered the redirect with another error.
    #[error("The authorization server reported `{code}`{}. Start the sign-in again; if it keeps happening, tell your administrator.", describe(.description))]
    AuthorizationFailed { code: String, description: Option<String> },

    /// Nobody finished the browser step in time.
    #[error("Sign-in timed out after {} without an answer from the browser. Start it again when you are ready.", human_duration(.0))]
    Timeout(Duration),

    /// The flow was cancelled by the user or by shutdown.
    #[error("Sign-in was cancelled.")]
    Cancelled,

    /// The token endpoint rejected the grant: the refresh token or code is no longer valid.
    #[error("The sign-in has expired or was revoked ({}). Sign in again.", .description.as_deref().unwrap_or("invalid_grant"))]
    InvalidGrant { description: Option<String> },

    /// The authorization server no longer knows our client id.
    #[error("The authorization server no longer accepts Latchkey's registration ({code}). Latchkey will register again; sign in again.")]
    InvalidClient { code: String },

    /// Any other token endpoint failure.
    #[error("The token request failed: {detail}. Try again; if it keeps failing, sign in again.")]
    TokenRequest { detail: String },

    /// Too many authorization rounds for one operation (for example repeated step-up).
    #[error(
        "Gave up after {attempts} sign-in attempts: the server keeps asking for more permissions. Ask your administrator which scopes your account may be granted."
    )]
    TooManyAttempts { attempts: u32 },

    /// A URL could not be parsed.
    #[error("`{input}` is not a valid URL: {detail}.")]
    InvalidUrl { input: String, detail: String },

    /// The secret store failed.
    #[error(transparent)]
    Secrets(#[from] latchkey_secrets::SecretsError),
}

fn human_duration(d: &Duration) -> String {
    match d.as_secs() {
        0 => format!("{} ms", d.as_millis()),
        1 => "1 second".into(),
        n if n % 60 == 0 => format!("{} minutes", n / 60),
        n => format!("{n} seconds"),
    }
}

fn describe(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!(" ({d})"),
        _ => String::new(),
    }
}

impl OAuthError {
    /// The user must go through the browser flow again; retrying silently will not help.
    pub fn is_reauth_required(&self) -> bool {
        matches!(self, Self::InvalidGrant { .. } | Self::InvalidClient { .. })
    }

    /// The registration (client id) must be thrown away and done again.
    pub fn is_registration_invalid(&self) -> bool {
        matches!(self, Self::InvalidClient { .. })
    }

    /// A short, stable machine name for the UI and `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Network { .. } => "network",
            Self::BadMetadata { .. } => "bad_metadata",
            Self::ResourceMismatch { .. } => "resource_mismatch",
            Self::IssuerMismatch { .. } => "issuer_mismatch",
            Self::InsecureEndpoint { .. } => "insecure_endpoint",
            Self::PkceUnsupported { .. } => "pkce_unsupported",
            Self::NoRegistration { .. } => "no_registration",
            Self::RegistrationRejected { .. } => "registration_rejected",
            Self::CallbackBind { .. } => "port_in_use",
            Self::BrowserOpen { .. } => "browser_not_opened",
            Self::StateMismatch => "state_mismatch",
            Self::CallbackIssuerMismatch { .. } => "callback_issuer_mismatch",
            Self::MissingCode => "missing_code",
            Self::AccessDenied { .. } => "access_denied",
            Self::AuthorizationFailed { .. } => "authorization_failed",
            Self::Timeout(_) => "timeout",
            Self::Cancelled => "cancelled",
            Self::InvalidGrant { .. } => "reauth_required",
            Self::InvalidClient { .. } => "invalid_client",
            Self::TokenRequest { .. } => "token_request_failed",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::InvalidUrl { .. } => "invalid_url",
            Self::Secrets(e) => e.kind(),
        }
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = OAuthError> = std::result::Result<T, E>;
