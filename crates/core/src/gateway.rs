//! What the loopback gateway asks of the engine, kept fast for its hot path: the connection's
//! upstream (from the cached state file), its credential (cached in memory until shortly before
//! expiry), local-key checks, and activity records.
//!
//! Invariant: a cached credential is dropped as soon as this process refreshes or signs in,
//! and after an upstream 401 the gateway calls [`Latchkey::upstream_unauthorized`], which
//! refreshes under the cross-process lock (picking up tokens another process rotated).

use std::collections::BTreeMap;
use std::sync::Arc;

use latchkey_secrets::SecretString;

use crate::activity::{Activity, Outcome};
use crate::api::Latchkey;
use crate::error::{CoreError, Result};
use crate::keys::LocalKey;
use crate::model::{AuthKind, ConnState, DEFAULT_GATEWAY_PORT};
use crate::refresh::{Credential, REFRESH_MARGIN_SECS};

/// Where and how the gateway forwards for one connection.
#[derive(Debug, Clone)]
pub struct Route {
    /// The connection's URL, parsed (once per route, since routes are cached); `None` when the
    /// saved URL does not parse.
    pub url: Option<url::Url>,
    pub auth: AuthKind,
    pub allow_keyless: bool,
    /// Atlassian: the `cloudId` to add to calls of `cloud_id_tools` that omit it.
    pub pinned_cloud_id: Option<String>,
    pub cloud_id_tools: Vec<String>,
    /// A local stdio server: apps run it with `latchkey run`, not through the gateway.
    pub local: bool,
}

/// Routes by connection name, each with the state file version it was built from.
pub(crate) type RouteCache = std::collections::HashMap<String, (Arc<crate::model::StateFile>, Arc<Route>)>;

impl Latchkey {
    /// The gateway port from settings, or the stable default.
    pub fn gateway_port(&self) -> Result<u16> {
        Ok(self.storage().load_cached()?.settings.gateway_port.unwrap_or(DEFAULT_GATEWAY_PORT))
    }

    /// Saves the gateway port.
    pub fn set_gateway_port(&self, port: u16) -> Result<()> {
        self.storage().update(|st| {
            st.settings.gateway_port = Some(port);
            Ok(())
        })
    }

    /// The route for connection `name`, if it exists. Built once per version of the state
    /// file and shared: an Atlassian connection's route holds a few dozen tool names, which
    /// the gateway would otherwise copy on every request.
    pub fn route(&self, name: &str) -> Result<Option<Arc<Route>>> {
        let state = self.storage().load_cached()?;
        if let Ok(cache) = self.route_cache().lock()
            && let Some((seen, route)) = cache.get(name)
            && Arc::ptr_eq(seen, &state)
        {
            return Ok(Some(Arc::clone(route)));
        }
        let Some(c) = state.get(name) else { return Ok(None) };
        let route = Arc::new(Route {
            url: url::Url::parse(&c.url).ok(),
            auth: c.auth,
            allow_keyless: c.allow_keyless,
            pinned_cloud_id: c.pinned_cloud_id.clone(),
            cloud_id_tools: c.cloud_id_tools.clone(),
            local: c.local.is_some(),
        });
        if let Ok(mut cache) = self.route_cache().lock() {
            if cache.len() >= 64 {
                cache.clear();
            }
            cache.insert(name.to_owned(), (Arc::clone(&state), Arc::clone(&route)));
        }
        Ok(Some(route))
    }

    /// The credential to inject, from memory when still fresh.
    /// `route` is the one the caller just looked up, so the hot path reads the state once.
    pub async fn gateway_credential(&self, name: &str, route: &Route) -> Result<Option<Credential>> {
        if route.auth == AuthKind::None {
            return Ok(None);
        }
        let now = self.now();
        if let Some(c) = self.cached_credential(name, now) {
            return Ok(Some(c));
        }
        let cred = self.credential(name).await?;
        if let Some(c) = &cred {
            let expires_at = self.connection(name)?.expires_at;
            self.cache_credential(name, c.clone(), expires_at);
        }
        Ok(cred)
    }

    /// After an upstream 401: refresh once (or pick up tokens another process rotated) and
    /// return the credential to replay with. On failure the connection is marked "needs
    /// re-auth" and the error says so.
    pub async fn upstream_unauthorized(&self, name: &str, sent: Option<&Credential>) -> Result<Credential> {
        self.forget_credential(name);
        let route = self.route(name)?.ok_or_else(|| CoreError::UnknownTarget(name.to_owned()))?;
        match route.auth {
            AuthKind::OAuth => {}
            AuthKind::ApiTokenBasic | AuthKind::ApiTokenBearer => {
                return Err(self.mark_reauth(name, "the server refused the API token").await);
            }
            AuthKind::None => return Err(self.mark_reauth(name, "the server now asks for a sign-in").await),
        }
        let stale = sent.and_then(|c| c.access_token.as_ref());
        let access = self.refresh_now(name, stale).await?;
        let cred = Credential::bearer(access);
        let expires_at = self.connection(name)?.expires_at;
        self.cache_credential(name, cred.clone(), expires_at);
        Ok(cred)
    }

    /// Records that the upstream asked for more scope (`403 insufficient_scope`).
    pub fn record_step_up(&self, name: &str, scope: &str) -> Result<()> {
        self.set_state(name, ConnState::NeedsStepUp { scope: scope.to_owned() })
    }

    /// Counts one forwarded request.
    pub fn record_activity(&self, name: &str, outcome: Outcome) {
        self.activity().record(name, outcome, self.now());
    }

    /// Per-connection activity: this process's when it runs the gateway, else the mirror file.
    pub fn activity_snapshot(&self) -> BTreeMap<String, Activity> {
        let own = self.activity().snapshot();
        if own.is_empty() { self.activity().read_mirror() } else { own }
    }

    /// Checks a presented local key for `name`.
    pub fn verify_local_key(&self, name: &str, presented: &str) -> Result<bool> {
        self.keys().verify(name, presented)
    }

    /// Issues a key for a client (label) of connection `name`. Shown once; only its hash is kept.
    pub fn issue_local_key(&self, name: &str, label: &str) -> Result<(LocalKey, SecretString)> {
        self.connection(name)?;
        self.keys().issue(name, label, self.now())
    }

    /// Revokes the keys of `name` (all, or only `label`'s). Returns how many.
    pub fn revoke_local_keys(&self, name: &str, label: Option<&str>) -> Result<usize> {
        self.keys().revoke_where(|k| k.connection == name && label.is_none_or(|l| k.label == l))
    }

    /// Revokes one key by id.
    pub fn revoke_local_key_id(&self, id: &str) -> Result<usize> {
        self.keys().revoke_where(|k| k.id == id)
    }

    pub fn local_keys(&self) -> Result<Vec<LocalKey>> {
        self.keys().list()
    }

    /// Turns keyless loopback access on or off for `name`.
    pub fn set_keyless(&self, name: &str, on: bool) -> Result<()> {
        self.connection(name)?;
        self.update_connection(name, |c| c.allow_keyless = on)
    }

    fn cached_credential(&self, name: &str, now: u64) -> Option<Credential> {
        let cache = self.credential_cache().lock().ok()?;
        let (cred, expires_at) = cache.get(name)?;
        if expires_at.is_some_and(|e| e <= now + REFRESH_MARGIN_SECS) {
            return None;
        }
        Some(cred.clone())
    }

    pub(crate) fn cache_credential(&self, name: &str, cred: Credential, expires_at: Option<u64>) {
        if let Ok(mut c) = self.credential_cache().lock() {
            c.insert(name.to_owned(), (cred, expires_at));
        }
    }

    pub(crate) fn forget_credential(&self, name: &str) {
        if let Ok(mut c) = self.credential_cache().lock() {
            c.remove(name);
        }
    }
}
