//! The tray: an icon in three states, a tooltip naming the state in words, and a menu rebuilt
//! from core's status whenever core emits an event (no timers). Also the re-auth notification.

use std::collections::HashSet;
use std::sync::Mutex;

use latchkey_core::ConnectionView;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_notification::NotificationExt as _;
use tauri_specta::Event as _;

use crate::{Core, SignIn, show_window};

const TRAY_ID: &str = "main";

/// What the icon shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Expiring soon, more permissions needed, not signed in yet, server trouble, a config restored.
    Attention,
    /// A connection needs sign-in again, or the gateway is down.
    Broken,
}

/// How the gateway this app runs is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayHealth {
    Starting,
    Running(u16),
    /// Another Latchkey process (for example `latchkey serve`) already serves this user.
    Elsewhere(Option<u16>),
    Down(String),
}

/// The tray's own memory: gateway health, the last restored app, who was notified.
pub struct TrayState {
    pub gateway: Mutex<GatewayHealth>,
    pub restored: Mutex<Option<String>>,
    notified: Mutex<HashSet<String>>,
    /// The last tooltip, to log changes of state once.
    last: Mutex<String>,
    /// Serialises rebuilds so an older status never overwrites a newer one.
    rebuild: Mutex<()>,
}

/// Core's state words that mean "sign in again" (the menu offers Re-authenticate for them).
pub fn needs_reauth(v: &ConnectionView) -> bool {
    matches!(v.state, "needs_reauth" | "needs_step_up")
}

/// Maps core's per-connection states (and the gateway) to the icon and its words.
pub fn health(views: &[ConnectionView], gateway: &GatewayHealth, restored: Option<&str>) -> (Health, String) {
    if let GatewayHealth::Down(detail) = gateway {
        return (Health::Broken, format!("Latchkey: not working. The gateway could not start ({detail})."));
    }
    if let Some(v) = views.iter().find(|v| v.state == "needs_reauth") {
        return (Health::Broken, format!("Latchkey: {} needs you to sign in again.", v.name));
    }
    if views.is_empty() {
        return (Health::Attention, "Latchkey: not connected yet. Choose \"Connect Atlassian…\".".into());
    }
    if let Some(v) = views.iter().find(|v| v.state != "connected") {
        return (Health::Attention, format!("Latchkey: attention needed. {}: {}.", v.name, v.summary));
    }
    if let Some(app) = restored {
        return (Health::Attention, format!("Latchkey: all connected. {app} removed its setup and Latchkey put it back."));
    }
    let n = views.len();
    (Health::Ok, format!("Latchkey: all good, {n} connection{} working.", if n == 1 { "" } else { "s" }))
}

/// "Atlassian · acme.atlassian.net · Connected".
pub fn line(v: &ConnectionView) -> String {
    let name = if v.preset.as_deref() == Some(v.name.as_str()) { capitalise(&v.name) } else { v.name.clone() };
    let place = v
        .site
        .clone()
        .or_else(|| v.account.clone())
        .or_else(|| v.url.split("://").nth(1).and_then(|r| r.split('/').next()).map(str::to_owned))
        .unwrap_or_else(|| v.url.clone());
    // The menu gets the short words ("Needs sign-in again"); the window shows the reason.
    let mut state = v.summary.split(':').next().unwrap_or_default().trim().to_owned();
    if state.chars().count() > 48 {
        state = state.chars().take(47).collect::<String>() + "…";
    }
    format!("{name} · {place} · {state}")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn icon(health: Health) -> Image<'static> {
    let bytes: &[u8] = match (health, cfg!(target_os = "macos")) {
        (Health::Ok, false) => include_bytes!("../../icons/tray-ok.png"),
        (Health::Attention, false) => include_bytes!("../../icons/tray-attention.png"),
        (Health::Broken, false) => include_bytes!("../../icons/tray-broken.png"),
        (Health::Ok, true) => include_bytes!("../../icons/tray-ok-template.png"),
        (Health::Attention, true) => include_bytes!("../../icons/tray-attention-template.png"),
        (Health::Broken, true) => include_bytes!("../../icons/tray-broken-template.png"),
    };
    Image::from_bytes(bytes).expect("the tray icons are valid PNGs")
}

fn menu(app: &AppHandle, views: &[ConnectionView], autostart: bool) -> tauri::Result<Menu<tauri::Wry>> {
    let menu = Menu::new(app)?;
    if views.is_empty() {
        menu.append(&MenuItem::with_id(app, "none", "No connections yet", false, None::<&str>)?)?;
    }
    for v in views {
        menu.append(&MenuItem::with_id(app, format!("conn:{}", v.name), line(v), true, None::<&str>)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "connect", "Connect Atlassian…", true, None::<&str>)?)?;
    for v in views.iter().filter(|v| needs_reauth(v)) {
        menu.append(&MenuItem::with_id(app, format!("reauth:{}", v.name), format!("Re-authenticate {}", v.name), true, None::<&str>)?)?;
    }
    menu.append(&MenuItem::with_id(app, "apps", "Set up apps…", true, None::<&str>)?)?;
    menu.append(&MenuItem::with_id(app, "open", "Open Latchkey", true, None::<&str>)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&CheckMenuItem::with_id(app, "autostart", "Start at login", true, autostart, None::<&str>)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?)?;
    Ok(menu)
}

/// Builds the tray (once, in setup) and registers the notification click handler.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    app.manage(TrayState {
        gateway: Mutex::new(GatewayHealth::Starting),
        restored: Mutex::new(None),
        notified: Mutex::new(HashSet::new()),
        last: Mutex::new(String::new()),
        rebuild: Mutex::new(()),
    });
    let views = app.state::<Core>().engine.status().unwrap_or_default();
    let autostart = app.autolaunch().is_enabled().unwrap_or(false);
    let (h, words) = health(&views, &GatewayHealth::Starting, None);
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(h))
        .icon_as_template(cfg!(target_os = "macos"))
        .tooltip(&words)
        .menu(&menu(app, &views, autostart)?)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id.as_ref()))
        .build(app)?;
    tracing::info!("tray ready {} ms after process start", crate::services::ms_since_process_start());
    let handle = app.clone();
    let _ = app.notification().on_action(move |performed| {
        // A click on the re-auth notification (Linux, macOS, Windows: plugin 2.8).
        let name = performed.notification().and_then(|n| n.extra().get("reauth").and_then(|v| v.as_str()).map(str::to_owned));
        if let Some(name) = name {
            start_reauth(&handle, name);
        } else {
            show_window(&handle);
        }
    });
    refresh(app);
    Ok(())
}

fn on_menu(app: &AppHandle, id: &str) {
    match id {
        "connect" => start_connect(app),
        "apps" => {
            clear_restored(app);
            crate::navigate(app, "apps");
        }
        "open" => {
            clear_restored(app);
            crate::navigate(app, "dashboard");
        }
        "autostart" => {
            let on = !app.autolaunch().is_enabled().unwrap_or(false);
            if let Err(e) = set_autostart(app, on) {
                tracing::warn!("could not change Start at login: {e}");
            }
        }
        "quit" => crate::services::quit(app),
        other => {
            if let Some(name) = other.strip_prefix("reauth:") {
                start_reauth(app, name.to_owned());
            } else if other.starts_with("conn:") {
                crate::navigate(app, "dashboard");
            }
        }
    }
}

fn clear_restored(app: &AppHandle) {
    if app.state::<TrayState>().restored.lock().map(|mut r| r.take().is_some()).unwrap_or(false) {
        refresh(app);
    }
}

/// Turns "Start at login" on or off and updates the check item.
pub fn set_autostart(app: &AppHandle, on: bool) -> Result<(), tauri_plugin_autostart::Error> {
    if on {
        app.autolaunch().enable()?
    } else {
        app.autolaunch().disable()?
    }
    refresh(app);
    Ok(())
}

/// Re-reads core's status and redraws the icon, tooltip and menu; notifies new re-auth needs.
/// Runs on a blocking thread: it reads the state file, and the tray calls wait for the main
/// thread (so it must never hold the rebuild lock on the main thread).
pub fn refresh(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || refresh_now(&app));
}

fn refresh_now(app: &AppHandle) {
    let state = app.state::<TrayState>();
    let _guard = state.rebuild.lock();
    let views = match app.state::<Core>().engine.status() {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("could not read the status: {e}");
            return;
        }
    };
    let gateway = state.gateway.lock().map(|g| g.clone()).unwrap_or(GatewayHealth::Starting);
    let restored = state.restored.lock().ok().and_then(|r| r.clone());
    let (h, words) = health(&views, &gateway, restored.as_deref());
    let autostart = app.autolaunch().is_enabled().unwrap_or(false);
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_icon(Some(icon(h)));
        let _ = tray.set_icon_as_template(cfg!(target_os = "macos"));
        let _ = tray.set_tooltip(Some(&words));
        match menu(app, &views, autostart) {
            Ok(m) => {
                let _ = tray.set_menu(Some(m));
            }
            Err(e) => tracing::warn!("could not build the tray menu: {e}"),
        }
    }
    if let Ok(mut last) = state.last.lock()
        && *last != words
    {
        tracing::info!("tray: {h:?}: {words}");
        *last = words;
    }
    notify_reauth(app, &views);
}

fn notify_reauth(app: &AppHandle, views: &[ConnectionView]) {
    let state = app.state::<TrayState>();
    let Ok(mut notified) = state.notified.lock() else { return };
    let now: HashSet<String> = views.iter().filter(|v| v.state == "needs_reauth").map(|v| v.name.clone()).collect();
    for name in now.difference(&notified) {
        let shown = app
            .notification()
            .builder()
            .title("Latchkey: sign in again")
            .body(format!("{name} needs you to sign in again. Click here, or choose \"Re-authenticate {name}\" in the tray menu."))
            .extra("reauth", name)
            .show();
        match shown {
            Ok(()) => tracing::info!("notified: {name} needs sign-in again"),
            Err(e) => tracing::warn!("could not show a notification: {e}"),
        }
    }
    *notified = now;
}

/// Reports a sign-in the tray started to the window (`sign-in` event) and shows it.
fn run_sign_in<F>(app: &AppHandle, name: Option<String>, fut: F)
where
    F: std::future::Future<Output = Result<latchkey_core::CheckReport, latchkey_core::ErrorView>> + Send + 'static,
{
    publish(app, SignIn { name: name.clone(), phase: "waiting", report: None, error: None });
    show_window(app);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let event = match fut.await {
            Ok(report) => {
                tracing::info!("sign-in done: {}", report.name);
                SignIn { name: Some(report.name.clone()), phase: "done", report: Some(report), error: None }
            }
            Err(e) => {
                tracing::warn!("sign-in failed: {}", e.message);
                SignIn { name, phase: "failed", report: None, error: Some(e) }
            }
        };
        publish(&app, event);
    });
}

/// Sends a sign-in's progress to the open window and keeps it for a window that opens later.
fn publish(app: &AppHandle, event: SignIn) {
    if let Ok(mut s) = app.state::<crate::Pending>().sign_in.lock() {
        *s = Some(event.clone());
    }
    let _ = event.emit(app);
}

/// "Connect Atlassian…" and `latchkey://connect/atlassian`.
pub fn start_connect(app: &AppHandle) {
    let engine = app.state::<Core>().engine.clone();
    let req = latchkey_core::ConnectRequest { target: "atlassian".into(), ..Default::default() };
    run_sign_in(app, None, async move { engine.connect(req).await.map_err(|e| e.to_view()) });
}

/// "Re-authenticate <name>", the notification's click, and `latchkey://reauth/<name>`.
pub fn start_reauth(app: &AppHandle, name: String) {
    let engine = app.state::<Core>().engine.clone();
    let n = name.clone();
    run_sign_in(app, Some(name), async move { crate::commands::reauth_with(&engine, &n).await });
}
