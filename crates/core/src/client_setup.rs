//! Setting up the user's AI apps: the engine side of `latchkey clients` and the window's app
//! toggles. The clients crate edits files; this module supplies the gateway URL, issues and
//! checks local keys, records which apps are set up, and keeps them set up.
//!
//! Invariants: every entry carries its own app's key; removing an entry revokes that key; an
//! app's entry is restored after the app wipes it only if the user did not remove it through us.

use std::path::{Path, PathBuf};

use latchkey_clients::{App, ClientsError, EntryState, Env, Expected, FileState, setup};
use serde::Serialize;

use crate::api::{Event, Latchkey};
use crate::error::{CoreError, Result};
use crate::model::Binding;

impl From<ClientsError> for CoreError {
    fn from(e: ClientsError) -> Self {
        CoreError::Clients { kind: e.kind(), message: e.to_string() }
    }
}

/// One app, as `latchkey clients` and the window show it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct AppView {
    pub id: &'static str,
    pub name: &'static str,
    pub installed: bool,
    pub note: &'static str,
    /// For each connection: the state of our entry in each of the app's files.
    pub connections: Vec<AppConnection>,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct AppConnection {
    pub connection: String,
    pub files: Vec<FileState>,
}

/// What `clients add` / `remove` did for one app.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Serialize)]
pub struct AppChange {
    pub id: &'static str,
    pub name: &'static str,
    pub written: Vec<PathBuf>,
    pub note: &'static str,
    /// Why this app was left unchanged, if it was.
    pub error: Option<crate::error::ErrorView>,
}

fn now_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

impl Latchkey {
    /// The URL apps use for `connection`.
    pub fn gateway_url(&self, connection: &str) -> Result<String> {
        Ok(format!("http://127.0.0.1:{}/mcp/{connection}", self.gateway_port()?))
    }

    fn pick_apps(ids: &[String], env: &Env) -> Result<Vec<&'static App>> {
        if ids.is_empty() {
            return Ok(latchkey_clients::all().iter().filter(|a| (a.installed)(env)).collect());
        }
        ids.iter().map(|id| latchkey_clients::by_id(id).ok_or_else(|| ClientsError::UnknownApp(id.clone()).into())).collect()
    }

    fn key_checker<'a>(&'a self, connection: &'a str) -> impl Fn(&str) -> bool + 'a {
        move |k: &str| self.verify_local_key(connection, k).unwrap_or(false)
    }

    /// Every known app, whether it is installed, and our entries' state for each connection.
    pub fn clients_overview(&self, env: &Env, bridge: &Path) -> Result<Vec<AppView>> {
        let connections = self.connections()?;
        let mut out = Vec::new();
        for app in latchkey_clients::all() {
            let mut per = Vec::new();
            for c in &connections {
                let url = self.gateway_url(&c.name)?;
                let expected = Expected { connection: &c.name, url: &url, bridge, local: c.local.is_some() };
                let files = setup::inspect(app, env, &expected, &self.key_checker(&c.name));
                if files.iter().any(|f| f.state != EntryState::Missing) {
                    per.push(AppConnection { connection: c.name.clone(), files });
                }
            }
            out.push(AppView { id: app.id, name: app.name, installed: (app.installed)(env), note: app.note, connections: per });
        }
        Ok(out)
    }

    /// Adds or updates our entry for `connection` in the given apps (all installed ones when
    /// `ids` is empty). An app whose file cannot be changed safely is left as it was and
    /// reported in its [`AppChange::error`]; the others are still set up.
    pub fn clients_add(&self, env: &Env, bridge: &Path, connection: &str, ids: &[String], force: bool) -> Result<Vec<AppChange>> {
        let local = self.connection(connection)?.local.is_some();
        let url = self.gateway_url(connection)?;
        let expected = Expected { connection, url: &url, bridge, local };
        let mut changes = Vec::new();
        let mut bound = Vec::new();
        for app in Self::pick_apps(ids, env)? {
            let mut issue = || {
                self.issue_local_key(connection, app.id)
                    .map(|(_, k)| k.expose().clone())
                    .map_err(|e| ClientsError::Tool { tool: "Latchkey", detail: e.to_string() })
            };
            let changed = match setup::add(app, env, &expected, force, &self.key_checker(connection), &mut issue, now_ms()) {
                Ok(c) => c,
                Err(e) => {
                    changes.push(AppChange { id: app.id, name: app.name, written: Vec::new(), note: app.note, error: Some(CoreError::from(e).to_view()) });
                    continue;
                }
            };
            bound.push(app.id);
            changes.push(AppChange { id: app.id, name: app.name, written: changed.written, note: app.note, error: None });
        }
        // One state write for all new bindings (none when every app was already bound).
        let state = self.storage().load_cached()?;
        let new: Vec<&str> = bound.into_iter().filter(|id| !state.bindings.iter().any(|b| b.app == *id && b.connection == connection)).collect();
        if !new.is_empty() {
            self.storage().update(|st| {
                for id in &new {
                    if !st.bindings.iter().any(|b| b.app == *id && b.connection == connection) {
                        st.bindings.push(Binding { app: (*id).to_owned(), connection: connection.to_owned() });
                    }
                }
                Ok(())
            })?;
        }
        Ok(changes)
    }

    /// Removes our entry for `connection` from the given apps and revokes their keys.
    pub fn clients_remove(&self, env: &Env, connection: &str, ids: &[String]) -> Result<Vec<AppChange>> {
        let apps: Vec<&'static App> = if ids.is_empty() { latchkey_clients::all().iter().collect() } else { Self::pick_apps(ids, env)? };
        let mut changes = Vec::new();
        for app in apps {
            // Forget the binding first, so the keeper does not put the entry straight back.
            self.storage().update(|st| {
                st.bindings.retain(|b| !(b.app == app.id && b.connection == connection));
                Ok(())
            })?;
            let changed = setup::remove(app, env, connection, now_ms())?;
            self.revoke_local_keys(connection, Some(app.id))?;
            if !changed.written.is_empty() {
                changes.push(AppChange { id: app.id, name: app.name, written: changed.written, note: app.note, error: None });
            }
        }
        Ok(changes)
    }

    /// Puts back the newest backup of an app's config.
    pub fn clients_restore(&self, env: &Env, id: &str) -> Result<Vec<PathBuf>> {
        let app = latchkey_clients::by_id(id).ok_or_else(|| ClientsError::UnknownApp(id.to_owned()))?;
        Ok(setup::restore(app, env)?)
    }

    /// Re-adds entries that an app removed behind our back (bindings whose entry is missing).
    /// Returns the apps restored, and emits [`Event::ClientRestored`] for each.
    pub fn keep_configured_once(&self, env: &Env, bridge: &Path) -> Result<Vec<Binding>> {
        let state = self.storage().load()?;
        if state.settings.keep_configured == Some(false) {
            return Ok(Vec::new());
        }
        let mut restored = Vec::new();
        for b in &state.bindings {
            let (Some(app), Some(conn)) = (latchkey_clients::by_id(&b.app), state.get(&b.connection)) else { continue };
            let url = self.gateway_url(&b.connection)?;
            let expected = Expected { connection: &b.connection, url: &url, bridge, local: conn.local.is_some() };
            let files = setup::inspect(app, env, &expected, &self.key_checker(&b.connection));
            if files.iter().any(|f| f.state == EntryState::Missing) {
                let mut issue = || {
                    self.issue_local_key(&b.connection, app.id)
                        .map(|(_, k)| k.expose().clone())
                        .map_err(|e| ClientsError::Tool { tool: "Latchkey", detail: e.to_string() })
                };
                match setup::add(app, env, &expected, false, &self.key_checker(&b.connection), &mut issue, now_ms()) {
                    Ok(_) => {
                        self.emit(Event::ClientRestored { app: app.id.to_owned(), app_name: app.name.to_owned(), connection: b.connection.clone() });
                        restored.push(b.clone());
                    }
                    Err(e) => tracing::warn!("could not restore {}'s setup: {e}", app.name),
                }
            }
        }
        Ok(restored)
    }

    /// Turns "keep apps set up" on or off.
    pub fn set_keep_configured(&self, on: bool) -> Result<()> {
        self.storage().update(|st| {
            st.settings.keep_configured = Some(on);
            Ok(())
        })
    }

    /// The folders holding the config files of bound apps (what the keeper watches).
    pub fn bound_config_files(&self, env: &Env) -> Result<Vec<PathBuf>> {
        let state = self.storage().load()?;
        let mut files = Vec::new();
        for b in &state.bindings {
            if let Some(app) = latchkey_clients::by_id(&b.app) {
                files.extend((app.config_paths)(env));
            }
        }
        files.sort();
        files.dedup();
        Ok(files)
    }
}
