//! The background services: the gateway, the keeper and the event pump that redraws the tray
//! and forwards core's events to the window. One owner ([`Services`]) holds the cancellation
//! token and the handles; "Quit" stops them all before the app exits.

use std::path::PathBuf;
use std::time::Duration;

use latchkey_core::keeper::Keeper;
use latchkey_core::{Event, Latchkey};
use latchkey_gateway::{Gateway, GatewayError};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager};
use tauri_specta::Event as _;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::tray::{self, GatewayHealth, TrayState};
use crate::{Core, EngineEvent};

/// How long requests in flight may take to finish on Quit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Everything running in the background, and the token that stops it.
pub struct Services {
    cancel: CancellationToken,
    pump: Option<JoinHandle<()>>,
    gateway: Option<Gateway>,
    keeper: Option<Keeper>,
}

/// Managed state: the services, filled in once the gateway has started.
pub struct ServicesSlot(tokio::sync::Mutex<Services>);

/// Starts the event pump at once, then the gateway and the keeper in the background.
pub fn start(app: &AppHandle, engine: Latchkey, env: latchkey_clients::Env, bridge: PathBuf) {
    let cancel = CancellationToken::new();
    let pump = tauri::async_runtime::spawn(pump(app.clone(), engine.clone(), cancel.clone()));
    app.manage(ServicesSlot(tokio::sync::Mutex::new(Services { cancel: cancel.clone(), pump: Some(pump), gateway: None, keeper: None })));
    #[cfg(unix)]
    {
        // A logout or `kill` stops the services as cleanly as "Quit".
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                term.recv().await;
                tracing::info!("SIGTERM: quitting");
                quit(&app);
            }
        });
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let slot = app.state::<ServicesSlot>();
        let mut services = slot.0.lock().await;
        if cancel.is_cancelled() {
            return;
        }
        let health = match start_gateway(&engine).await {
            Ok(g) => {
                let port = g.addr.port();
                tracing::info!("gateway listening on http://{}/mcp/<connection>", g.addr);
                services.gateway = Some(g);
                GatewayHealth::Running(port)
            }
            Err(GatewayError::AlreadyRunning(info)) => {
                tracing::info!("another Latchkey already runs the gateway ({info:?}); using it");
                GatewayHealth::Elsewhere(info.map(|i| i.port))
            }
            Err(e) => {
                tracing::error!("the gateway could not start: {e}");
                GatewayHealth::Down(e.to_string())
            }
        };
        match engine.start_keeper(env, bridge) {
            Ok(k) => services.keeper = Some(k),
            Err(e) => tracing::warn!("not keeping apps set up: {e}"),
        }
        drop(services);
        if let Ok(mut g) = app.state::<TrayState>().gateway.lock() {
            *g = health;
        }
        tray::refresh(&app);
    });
}

async fn start_gateway(engine: &Latchkey) -> Result<Gateway, GatewayError> {
    let port = engine.gateway_port().map_err(|e| GatewayError::Io(e.to_string()))?;
    let dir = engine_config_dir()?;
    let config = latchkey_gateway::Config::on_port(port);
    let gateway = Gateway::start(engine.clone(), &dir, config).await?;
    if port != gateway.addr.port() {
        // Remembered once it worked, so app configs written later point at it.
        let _ = engine.set_gateway_port(gateway.addr.port());
    }
    Ok(gateway)
}

fn engine_config_dir() -> Result<PathBuf, GatewayError> {
    latchkey_core::Paths::from_env().map(|p| p.config_dir).map_err(|e| GatewayError::Io(e.to_string()))
}

/// Core's events: forwarded to the window as `engine-event`, and the tray redrawn.
async fn pump(app: AppHandle, engine: Latchkey, cancel: CancellationToken) {
    let mut events = engine.subscribe();
    loop {
        let got = tokio::select! {
            () = cancel.cancelled() => break,
            got = events.recv() => got,
        };
        match got {
            Ok(event) => {
                if let Event::ClientRestored { app_name, .. } = &event
                    && let Ok(mut r) = app.state::<TrayState>().restored.lock()
                {
                    *r = Some(app_name.clone());
                }
                let _ = EngineEvent(event).emit(&app);
                tray::refresh(&app);
            }
            Err(RecvError::Lagged(_)) => tray::refresh(&app),
            Err(RecvError::Closed) => break,
        }
    }
}

/// "Quit": cancels a sign-in in progress, stops the keeper, the gateway (letting requests in
/// flight finish) and the pump, then exits.
pub fn quit(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        app.state::<Core>().engine.cancel_sign_in();
        {
            let slot = app.state::<ServicesSlot>();
            let mut s = slot.0.lock().await;
            s.cancel.cancel();
            if let Some(k) = s.keeper.take() {
                k.stop().await;
            }
            if let Some(g) = s.gateway.take() {
                g.shutdown(SHUTDOWN_GRACE).await;
            }
            if let Some(p) = s.pump.take() {
                let _ = p.await;
            }
        }
        tracing::info!("stopped the gateway and the keeper; quitting");
        app.exit(0);
    });
}

/// Milliseconds since this process started (Linux: from /proc, so it includes the time before
/// `main`; elsewhere: since the first call).
pub fn ms_since_process_start() -> u64 {
    #[cfg(target_os = "linux")]
    if let Some(ms) = proc_age_ms() {
        return ms;
    }
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_millis() as u64
}

#[cfg(target_os = "linux")]
fn proc_age_ms() -> Option<u64> {
    // Field 22 of /proc/self/stat is the start time in clock ticks since boot (USER_HZ = 100).
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let ticks: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime").ok()?.split_whitespace().next()?.parse().ok()?;
    Some(((uptime - ticks / 100.0) * 1000.0).max(0.0) as u64)
}
