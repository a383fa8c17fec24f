//! The window's commands: each a few lines over core (see the contract in the crate docs).

use latchkey_core::client_setup::{AppChange, AppView};
use latchkey_core::{ApiToken, CheckReport, ConnectRequest, ConnectionView, CoreError, ErrorView};
use latchkey_secrets::SecretString;
use serde::Deserialize;
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt as _;

use crate::Core;

type Res<T> = Result<T, ErrorView>;

fn view(e: CoreError) -> ErrorView {
    e.to_view()
}

/// An API token instead of the browser: with `email`, a personal token (Basic); without, a
/// service-account key (Bearer).
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ApiTokenInput {
    pub email: Option<String>,
    pub token: String,
}

impl From<ApiTokenInput> for ApiToken {
    fn from(t: ApiTokenInput) -> Self {
        match t.email {
            Some(email) => ApiToken::Personal { email, token: SecretString::from(t.token) },
            None => ApiToken::ServiceKey(SecretString::from(t.token)),
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn status(core: State<'_, Core>) -> Res<Vec<ConnectionView>> {
    core.engine.status().map_err(view)
}

#[tauri::command]
#[specta::specta]
pub async fn connect(core: State<'_, Core>, target: String, name: Option<String>, site: Option<String>, api_token: Option<ApiTokenInput>) -> Res<CheckReport> {
    let req = ConnectRequest { target, name, site, api_token: api_token.map(Into::into), ..ConnectRequest::default() };
    core.engine.connect(req).await.map_err(view)
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_sign_in(core: State<'_, Core>) -> Res<()> {
    core.engine.cancel_sign_in();
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn reauth(core: State<'_, Core>, name: String) -> Res<CheckReport> {
    reauth_with(&core.engine, &name).await
}

/// The browser sign-in again, then core's `connect` on the connection (check + site and account).
pub async fn reauth_with(engine: &latchkey_core::Latchkey, name: &str) -> Res<CheckReport> {
    engine.sign_in(name, None, None).await.map_err(view)?;
    engine.connect(ConnectRequest { target: name.to_owned(), ..ConnectRequest::default() }).await.map_err(view)
}

#[tauri::command]
#[specta::specta]
pub async fn test_connection(core: State<'_, Core>, name: String) -> Res<CheckReport> {
    core.engine.check(&name, &latchkey_core::ClientOptions::default()).await.map_err(view)
}

/// The full check of one connection (core's doctor): every step in order, each with a plain
/// sentence, what to do, and a message for the admin when only they can fix it.
#[tauri::command]
#[specta::specta]
pub async fn diagnose(core: State<'_, Core>, name: String) -> Res<latchkey_core::doctor::ConnectionReport> {
    let report = core.engine.doctor_with(Some(&name), &core.env, &core.bridge).await.map_err(view)?;
    report.connections.into_iter().next().ok_or_else(|| view(CoreError::UnknownTarget(name)))
}

#[tauri::command]
#[specta::specta]
pub async fn disconnect(core: State<'_, Core>, name: String) -> Res<bool> {
    core.engine.logout(&name).await.map_err(view)
}

#[tauri::command]
#[specta::specta]
pub async fn apps(core: State<'_, Core>) -> Res<Vec<AppView>> {
    core.engine.clients_overview(&core.env, &core.bridge).map_err(view)
}

#[tauri::command]
#[specta::specta]
pub async fn set_app(core: State<'_, Core>, app: String, connection: String, on: bool) -> Res<Vec<AppChange>> {
    let ids = [app];
    if on { core.engine.clients_add(&core.env, &core.bridge, &connection, &ids, false) } else { core.engine.clients_remove(&core.env, &connection, &ids) }
        .map_err(view)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_app(core: State<'_, Core>, app: String) -> Res<Vec<String>> {
    let files = core.engine.clients_restore(&core.env, &app).map_err(view)?;
    Ok(files.into_iter().map(|p| p.display().to_string()).collect())
}

fn autostart_error(e: impl std::fmt::Display) -> ErrorView {
    ErrorView { kind: "autostart", message: format!("Could not change \"Start at login\": {e}") }
}

#[tauri::command]
#[specta::specta]
pub async fn get_autostart(app: AppHandle) -> Res<bool> {
    app.autolaunch().is_enabled().map_err(autostart_error)
}

#[tauri::command]
#[specta::specta]
pub async fn set_autostart(app: AppHandle, on: bool) -> Res<()> {
    crate::tray::set_autostart(&app, on).map_err(autostart_error)
}

#[tauri::command]
#[specta::specta]
pub async fn window_state(pending: State<'_, crate::Pending>) -> Res<crate::WindowState> {
    let view = pending.view.lock().ok().and_then(|mut v| v.take());
    let sign_in = pending.sign_in.lock().ok().and_then(|s| s.clone());
    Ok(crate::WindowState { view, sign_in })
}
