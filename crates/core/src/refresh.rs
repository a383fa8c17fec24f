//! Getting a usable credential for a connection, refreshing OAuth tokens ahead of expiry.
//!
//! Invariants:
//! - One refresh per connection at a time, across processes: the refresh lock is held from
//!   re-reading the stored tokens to storing the rotated ones. A process that waited for the
//!   lock first looks at what the winner stored and makes no token request if it is fresh.
//! - A rotated refresh token is in the keychain before the new access token is handed out.
//! - `invalid_grant` marks the connection "needs re-auth" and keeps the refresh token; nothing
//!   retries in a loop.

use latchkey_oauth::token::{TokenEndpoint, refresh};
use latchkey_secrets::SecretString;

use crate::api::Latchkey;
use crate::error::{CoreError, Result};
use crate::model::{AuthKind, ConnState};

/// Refresh this many seconds before the access token expires.
pub const REFRESH_MARGIN_SECS: u64 = 120;

/// The `Authorization` header value for a request, kept secret.
#[derive(Debug, Clone)]
pub struct Credential {
    pub header: SecretString,
    /// The bare access token, when this is an OAuth bearer (to detect rotation by others).
    pub access_token: Option<SecretString>,
}

impl Latchkey {
    /// The credential to send now, refreshing first when the access token is about to expire.
    /// `None` means the connection has no credential yet (or needs none).
    pub async fn credential(&self, name: &str) -> Result<Option<Credential>> {
        let conn = self.connection(name)?;
        let vault = self.vault();
        match conn.auth {
            AuthKind::None => Ok(None),
            AuthKind::ApiTokenBasic | AuthKind::ApiTokenBearer => {
                let token = vault
                    .api_token(name)?
                    .ok_or_else(|| CoreError::ReauthRequired { name: name.into(), reason: "the API token is missing from the keychain".into() })?;
                let header = if conn.auth == AuthKind::ApiTokenBasic {
                    use base64::Engine as _;
                    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(token.expose()))
                } else {
                    format!("Bearer {}", token.expose())
                };
                Ok(Some(Credential { header: header.into(), access_token: None }))
            }
            AuthKind::OAuth => {
                let Some(tokens) = vault.tokens(name)? else { return Ok(None) };
                let now = self.now();
                let expiring = conn.expires_at.is_some_and(|e| e <= now + REFRESH_MARGIN_SECS);
                let access =
                    if expiring && tokens.refresh_token.is_some() { self.refresh_now(name, Some(&tokens.access_token)).await? } else { tokens.access_token };
                Ok(Some(Credential::bearer(access)))
            }
        }
    }

    /// Refreshes unless someone else already replaced `stale` (in this or another process).
    /// Returns the access token to use.
    pub async fn refresh_now(&self, name: &str, stale: Option<&SecretString>) -> Result<SecretString> {
        let storage = self.storage().clone();
        let lock_name = name.to_owned();
        let _lock = tokio::task::spawn_blocking(move || storage.refresh_lock(&lock_name)).await.map_err(|e| CoreError::Invalid(e.to_string()))??;

        let conn = self.connection(name)?;
        let vault = self.vault();
        let tokens = vault.tokens(name)?.ok_or_else(|| CoreError::ReauthRequired { name: name.into(), reason: "no tokens are stored".into() })?;
        let now = self.now();
        let fresh = conn.expires_at.is_none_or(|e| e > now + REFRESH_MARGIN_SECS);
        let rotated_by_other = stale.is_some_and(|s| s.expose() != tokens.access_token.expose());
        if rotated_by_other && fresh {
            tracing::debug!(connection = name, "another refresh already rotated the tokens");
            return Ok(tokens.access_token);
        }
        if stale.is_none() && fresh {
            return Ok(tokens.access_token);
        }
        let Some(refresh_token) = tokens.refresh_token else {
            return Err(self.mark_reauth(name, "the server gave no refresh token").await);
        };
        let (Some(discovered), Some(registration)) = (&conn.discovered, &conn.registration) else {
            return Err(self.mark_reauth(name, "the sign-in details are incomplete").await);
        };
        let secret = vault.client_secret(name)?;
        let ep = TokenEndpoint {
            token_endpoint: &discovered.auth_server.token_endpoint,
            registration,
            client_secret: secret.as_ref(),
            resource: Some(&discovered.resource),
        };
        match refresh(self.http(), &ep, &refresh_token, self.clock()).await {
            Ok(new) => {
                // Keychain first: the rotated refresh token must be safe before anything uses the new access token.
                vault.set_tokens(name, &new)?;
                self.forget_credential(name);
                let (expires_at, has_rt, scope) = (new.expires_at, new.refresh_token.is_some(), new.scope.clone());
                self.update_connection(name, |c| {
                    c.expires_at = expires_at;
                    c.has_refresh_token = has_rt;
                    c.last_refresh_at = Some(now);
                    if scope.is_some() {
                        c.scope = scope;
                    }
                    c.state = ConnState::Connected;
                })?;
                self.emit_state(name);
                Ok(new.access_token)
            }
            Err(e) if e.is_reauth_required() => {
                let drop_registration = e.is_registration_invalid();
                if drop_registration {
                    let _ = self.update_connection(name, |c| {
                        c.registration = None;
                    });
                }
                Err(self.mark_reauth(name, &e.to_string()).await)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records that the user must sign in again. The refresh token is kept.
    pub(crate) async fn mark_reauth(&self, name: &str, reason: &str) -> CoreError {
        let reason_owned = reason.to_owned();
        let r = self.update_connection(name, |c| {
            c.state = ConnState::NeedsReauth { reason: reason_owned };
        });
        if let Err(e) = r {
            return e;
        }
        self.emit_state(name);
        CoreError::ReauthRequired { name: name.into(), reason: reason.into() }
    }
}

impl Credential {
    /// An OAuth bearer credential.
    pub fn bearer(access: SecretString) -> Credential {
        Credential { header: format!("Bearer {}", access.expose()).into(), access_token: Some(access) }
    }
}
