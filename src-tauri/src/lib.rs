//! Latchkey's tray app: a thin Tauri shell over `latchkey-core`. Every decision lives in core;
//! each command below is a few lines that call it. The tray, the deep links and the
//! notifications call the same core functions.
//!
//! # The IPC contract (typed in `ui/src/bindings.ts`, generated from this crate)
//!
//! The generated bindings are the contract; `cargo test -p latchkey-app` fails when the
//! committed file differs from what this crate generates (regenerate with
//! `cargo run -p latchkey-app --bin export-bindings`; debug runs of the app also rewrite it).
//! Every command returns `Result<T, ErrorView>` where `ErrorView = {kind, message}` (core's
//! error, classified). In TypeScript, `commands.x(...)` resolves to
//! `{status: "ok", data} | {status: "error", error: ErrorView}`.
//!
//! Commands (TypeScript names are camelCase: `commands.testConnection`):
//! - `status() -> ConnectionView[]`: every connection, its state in words (instant: no network).
//! - `connect(target, name?, site?, apiToken?: {email?, token}) -> CheckReport`: `target` is
//!   `"atlassian"`, a saved connection or an MCP server URL. Without `apiToken` it runs the
//!   browser sign-in when needed and emits `auth-url` first (for "Copy link"). With an
//!   `apiToken`, an `email` makes it a personal token (Basic), none a service-account key.
//! - `cancel_sign_in()`: stops the browser sign-in in progress (its `connect`/`reauth` then fails
//!   with kind `cancelled`).
//! - `reauth(name) -> CheckReport`: the browser sign-in again, then a check.
//! - `test_connection(name) -> CheckReport`: initialize and list the tools (signs in if needed).
//! - `diagnose(name) -> ConnectionReport {name, url, findings}`: core's doctor for one connection.
//!   Each finding is `{check, status: "ok" | "warn" | "fail" | "skipped", summary, action?,
//!   admin_message?}`, in the order the checks ran. Never opens a browser.
//! - `disconnect(name) -> boolean`: sign out (true when the server revoked the sign-in too).
//! - `apps() -> AppView[]`: every known AI app, whether it is installed, our entries' state.
//! - `set_app(app, connection, on) -> AppChange[]`: set an app up for a connection, or remove it.
//! - `restore_app(app) -> string[]`: put back the last backup of an app's config (files restored).
//! - `get_autostart() -> boolean` / `set_autostart(on)`: "Start at login".
//! - `window_state() -> WindowState {view, sign_in}`: call once on load. The window is created
//!   when opened and destroyed when closed, so what the tray asked before it loaded (a view, a
//!   sign-in in progress) is kept here; later requests arrive as `navigate` / `sign-in` events.
//!
//! Events (`events.engineEvent.listen(e => e.payload)`):
//! - `engine-event`: core's [`Event`](latchkey_core::Event): `{type: "connection_changed", name}`,
//!   `{type: "connection_removed", name}`, `{type: "client_restored", app, app_name, connection}`.
//!   Re-read `status()` / `apps()` when one arrives; nothing needs polling.
//! - `auth-url`: the authorization URL of the sign-in that is starting (a string).
//! - `sign-in`: progress of a sign-in started from the tray, a notification or a deep link
//!   (not from a command, whose promise already reports it): [`SignIn`].
//! - `navigate`: the tray asks the window to show a view: [`Navigate`] (`"apps"`, `"dashboard"`,
//!   `"onboarding"`).
//!
//! Numbers: `expires_at` and `last_used` are Unix seconds and `requests`/`errors` counts; they are
//! exported as `number` (safe: far below 2^53).
//!
//! # Behaviour
//! - The window is not created at start unless there is no connection yet (onboarding); closing
//!   it destroys it (and WebKit's processes). The app keeps running in the tray until "Quit".
//! - The gateway (`latchkey_gateway::Gateway`) and the keeper (`Latchkey::start_keeper`) run in
//!   the background ([`services`]); Quit stops them gracefully.
//! - One instance: a second launch focuses the first and hands it its deep link.
//! - Deep links: `latchkey://connect/atlassian`, `latchkey://reauth/<name>` (never the OAuth
//!   redirect, which stays on loopback).

pub mod commands;
pub mod deep_link;
pub mod services;
pub mod tray;

use std::path::PathBuf;
use std::sync::Arc;

use latchkey_core::{CheckReport, Deps, ErrorView, Latchkey, Paths};
use serde::Serialize;
use tauri::{Manager, RunEvent, WindowEvent};
use tauri_specta::{Event as _, collect_commands, collect_events};

/// Where the committed bindings live, relative to this crate.
pub const BINDINGS_PATH: &str = "../ui/src/bindings.ts";

/// Core's event, as the `engine-event` event.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct EngineEvent(pub latchkey_core::Event);

/// The authorization URL of a starting sign-in, as the `auth-url` event.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct AuthUrl(pub String);

/// A sign-in started outside the window's own commands (tray, notification, deep link).
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct SignIn {
    /// The connection, when known (`None` while a new Atlassian connection is being created).
    pub name: Option<String>,
    /// `"waiting"` (the browser is open), `"done"` or `"failed"`.
    pub phase: &'static str,
    pub report: Option<CheckReport>,
    pub error: Option<ErrorView>,
}

/// The tray asks the window to show a view.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct Navigate {
    /// `"apps"`, `"dashboard"` or `"onboarding"`.
    pub to: &'static str,
}

/// What every command reaches: the engine and where apps and the bridge are.
pub struct Core {
    pub engine: Latchkey,
    pub env: latchkey_clients::Env,
    /// The `latchkey` executable written into stdio-only apps' configs.
    pub bridge: PathBuf,
}

/// The typed command and event registry; the single source of the TypeScript bindings.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            commands::status,
            commands::connect,
            commands::cancel_sign_in,
            commands::reauth,
            commands::test_connection,
            commands::diagnose,
            commands::disconnect,
            commands::apps,
            commands::set_app,
            commands::restore_app,
            commands::get_autostart,
            commands::set_autostart,
            commands::window_state,
        ])
        .events(collect_events![EngineEvent, AuthUrl, SignIn, Navigate])
        .dangerously_cast_bigints_to_number()
        // Every type goes one way (results and events out, arguments in): one shape each.
        .disable_serde_phases()
}

/// The TypeScript bindings as text (what `ui/src/bindings.ts` must contain).
pub fn bindings() -> Result<String, String> {
    // One folder per call: tests generate the bindings from several threads at once.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("latchkey-bindings-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("bindings.ts");
    specta_builder().export(typescript(), &path).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    text
}

fn typescript() -> specta_typescript::Typescript {
    specta_typescript::Typescript::default()
        .header("// Generated by src-tauri (tauri-specta) — do not edit. Regenerate: cargo run -p latchkey-app --bin export-bindings\n")
}

/// The `latchkey` CLI, for stdio-only apps: next to this executable, else on PATH.
fn bridge_path(env: &latchkey_clients::Env) -> PathBuf {
    let sibling = std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.join("latchkey"))).filter(|p| p.is_file());
    sibling.or_else(|| env.which("latchkey")).unwrap_or_else(|| PathBuf::from("latchkey"))
}

fn engine(app: &tauri::AppHandle) -> Result<Latchkey, latchkey_core::CoreError> {
    let handle = app.clone();
    Latchkey::new(Deps {
        paths: Paths::from_env()?,
        store: Arc::new(latchkey_secrets::KeychainStore::new(latchkey_core::vault::SERVICE)),
        opener: Arc::new(latchkey_oauth::SystemOpener),
        clock: Arc::new(latchkey_oauth::SystemClock),
        flow_timeout: std::env::var("LATCHKEY_FLOW_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(std::time::Duration::from_secs)
            .unwrap_or(latchkey_oauth::flow::DEFAULT_TIMEOUT),
        on_auth_url: Some(Arc::new(move |url: &str| {
            let _ = AuthUrl(url.to_owned()).emit(&handle);
        })),
    })
}

/// Shows and focuses the window, creating it when it is closed. The window (and its WebKit
/// processes) exists only while it is open, so Latchkey in the tray stays small.
pub fn show_window(app: &tauri::AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    // tauri.conf.json describes the window (`"create": false`: not at start).
    let Some(config) = app.config().app.windows.iter().find(|w| w.label == "main").cloned() else { return };
    let built = tauri::WebviewWindowBuilder::from_config(app, &config).and_then(|b| b.build());
    if let Err(e) = built {
        tracing::error!("could not open the window: {e}");
    }
}

/// What the tray asked of the window before it loaded (events sent then had no listener).
#[derive(Default)]
pub struct Pending {
    pub view: std::sync::Mutex<Option<&'static str>>,
    pub sign_in: std::sync::Mutex<Option<SignIn>>,
}

/// `window_state()`: what a freshly opened window should show.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct WindowState {
    /// The view the tray asked for (`"apps"`, `"dashboard"`, `"onboarding"`), once.
    pub view: Option<&'static str>,
    /// The last sign-in started from the tray, a notification or a deep link, if any.
    pub sign_in: Option<SignIn>,
}

/// Asks the window for a view (event if it is open, remembered for when it loads) and shows it.
pub fn navigate(app: &tauri::AppHandle, to: &'static str) {
    if let Ok(mut v) = app.state::<Pending>().view.lock() {
        *v = Some(to);
    }
    let _ = Navigate { to }.emit(app);
    show_window(app);
}

/// Runs the app until "Quit".
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let builder = specta_builder();
    #[cfg(debug_assertions)]
    {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BINDINGS_PATH);
        if let Err(e) = builder.export(typescript(), &path) {
            tracing::warn!("could not write {}: {e}", path.display());
        }
    }
    let app = tauri::Builder::default()
        // First, so a second launch is caught before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            tracing::info!("another launch ({argv:?}): focusing this one");
            // With the deep-link feature, a `latchkey://` argument also reaches on_open_url.
            if !argv.iter().any(|a| a.starts_with("latchkey://")) {
                show_window(app);
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, None))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            let handle = app.handle().clone();
            let engine = engine(&handle)?;
            let env = latchkey_clients::Env::current();
            let bridge = bridge_path(&env);
            let onboarding = engine.connections().map(|c| c.is_empty()).unwrap_or(true);
            app.manage(Core { engine: engine.clone(), env: env.clone(), bridge: bridge.clone() });
            app.manage(Pending::default());
            tray::create(&handle)?;
            services::start(&handle, engine, env, bridge);
            deep_link::install(&handle);
            if onboarding {
                navigate(&handle, "onboarding");
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::Destroyed = event {
                // Closing the window frees it and its WebKit processes; Latchkey stays in the tray.
                tracing::info!("window `{}` closed; still running in the tray", window.label());
            }
        })
        .build(tauri::generate_context!())
        .expect("Latchkey could not start");
    app.run(|_app, event| {
        if let RunEvent::ExitRequested { code: None, api, .. } = event {
            // No window left is not a reason to quit; only "Quit" (code Some) is.
            api.prevent_exit();
        }
    });
}
