//! Running the gateway: one per user. The first instance holds `gateway.lock` for its lifetime
//! and writes `gateway.json` (port and pid, no secrets); a second one reads it and says where
//! the first is running. The OS drops the lock if the process dies, so a crash never blocks a
//! restart.

use std::fs::{File, OpenOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use latchkey_core::Latchkey;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::GatewayError;
use crate::{Config, router};

pub use latchkey_bridge::instance::{Running, read_info, running_instance};

/// A gateway serving in this process. Dropping it does not stop it: call [`Gateway::shutdown`].
pub struct Gateway {
    pub addr: SocketAddr,
    cancel: CancellationToken,
    task: JoinHandle<()>,
    _lock: File,
    info_path: PathBuf,
}

impl Gateway {
    /// Binds 127.0.0.1:`config.port` (0 picks one) and serves until [`shutdown`](Self::shutdown).
    pub async fn start(engine: Latchkey, config_dir: &Path, mut config: Config) -> Result<Gateway, GatewayError> {
        std::fs::create_dir_all(config_dir).map_err(|e| GatewayError::Io(e.to_string()))?;
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(config_dir.join("gateway.lock"))
            .map_err(|e| GatewayError::Io(e.to_string()))?;
        if lock.try_lock().is_err() {
            return Err(GatewayError::AlreadyRunning(read_info(config_dir)));
        }
        let listener =
            tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await.map_err(|e| GatewayError::Bind { port: config.port, detail: e.to_string() })?;
        let addr = listener.local_addr().map_err(|e| GatewayError::Io(e.to_string()))?;
        config.port = addr.port();
        let info_path = config_dir.join("gateway.json");
        let info = Running { pid: std::process::id(), port: addr.port() };
        // Replaced whole, so a bridge starting now never reads half a file.
        latchkey_core::storage::write_atomic(&info_path, &serde_json::to_vec(&info).unwrap_or_default()).map_err(|e| GatewayError::Io(e.to_string()))?;
        let app = router(engine, config)?;
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        let task = tokio::spawn(async move {
            // Nagle off: a JSON-RPC answer or an SSE event leaves at once instead of waiting
            // for the client's ACK of the previous write.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
                let _ = tcp.set_nodelay(true);
            });
            let served = axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned());
            if let Err(e) = served.await {
                tracing::error!("the gateway stopped: {e}");
            }
        });
        Ok(Gateway { addr, cancel, task, _lock: lock, info_path })
    }

    /// Stops accepting, lets requests in flight finish (long streams get `grace`), then returns.
    pub async fn shutdown(self, grace: Duration) {
        self.cancel.cancel();
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
        }
        let _ = std::fs::remove_file(&self.info_path);
    }

    /// Waits until the server task ends by itself.
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}
