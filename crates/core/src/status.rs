//! What `latchkey status` and the tray show for each connection, in words.
//!
//! Reads only the state file (no keychain, no network), so it is instant.

use serde::Serialize;

use crate::activity::{Activity, Upstream};
use crate::api::Latchkey;
use crate::error::Result;
use crate::model::{AuthKind, ConnState, Connection};

/// Access tokens without a refresh token count as "expiring soon" this long before expiry.
pub const EXPIRING_SOON_SECS: u64 = 15 * 60;

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionView {
    pub name: String,
    pub url: String,
    pub preset: Option<String>,
    pub auth: AuthKind,
    /// `connected`, `expiring_soon`, `needs_reauth`, `needs_step_up`, `not_signed_in`.
    pub state: &'static str,
    /// The state in plain words.
    pub summary: String,
    pub account: Option<String>,
    pub site: Option<String>,
    pub expires_at: Option<u64>,
    pub refreshable: bool,
    /// Requests the gateway forwarded, and how many failed.
    pub requests: u64,
    pub errors: u64,
    pub last_used: Option<u64>,
    /// Clients may use this connection without a local key (less safe).
    pub allow_keyless: bool,
}

pub fn view(c: &Connection, activity: Option<&Activity>, now: u64) -> ConnectionView {
    let expired_for_good = !c.has_refresh_token && c.expires_at.is_some_and(|e| e <= now);
    let (state, summary) = match &c.state {
        ConnState::New => ("not_signed_in", "Not signed in yet".to_owned()),
        ConnState::NeedsReauth { reason } => ("needs_reauth", format!("Needs sign-in again: {reason}")),
        ConnState::NeedsStepUp { scope } => ("needs_step_up", format!("Needs more permissions ({scope})")),
        ConnState::Connected if expired_for_good => ("needs_reauth", "Sign-in expired".to_owned()),
        ConnState::Connected if !c.has_refresh_token && c.auth == AuthKind::OAuth && c.expires_at.is_some_and(|e| e <= now + EXPIRING_SOON_SECS) => {
            ("expiring_soon", "Connected, sign-in expires soon".to_owned())
        }
        ConnState::Connected => match activity.map(|a| &a.upstream) {
            Some(Upstream::Unreachable { detail }) => ("upstream_unreachable", format!("Server unreachable: {detail}")),
            Some(Upstream::Error { detail }) => ("upstream_error", format!("Server error: {detail}")),
            _ if c.auth == AuthKind::None => ("connected", "Connected (no sign-in needed)".to_owned()),
            _ => ("connected", "Connected".to_owned()),
        },
    };
    let a = activity.cloned().unwrap_or_default();
    ConnectionView {
        name: c.name.clone(),
        url: c.url.clone(),
        preset: c.preset.clone(),
        auth: c.auth,
        state,
        summary,
        account: c.account.clone(),
        site: c.site.clone(),
        expires_at: c.expires_at,
        refreshable: c.has_refresh_token,
        requests: a.requests,
        errors: a.errors,
        last_used: a.last_used,
        allow_keyless: c.allow_keyless,
    }
}

impl Latchkey {
    pub fn status(&self) -> Result<Vec<ConnectionView>> {
        let now = self.now();
        let activity = self.activity_snapshot();
        Ok(self.connections()?.iter().map(|c| view(c, activity.get(&c.name), now)).collect())
    }
}
