//! Keeping apps set up: some apps rewrite or wipe their own config (Claude Desktop on update,
//! Claude Code constantly). While the gateway runs, the folders of the configs we set up are
//! watched (inotify/FSEvents/ReadDirectoryChanges through `notify`, no polling), and an entry
//! that vanished without the user removing it through us is put back.
//!
//! Invariant: the keeper only restores bindings (apps the user set up through us); removing an
//! app through Latchkey deletes the binding first, so the keeper never fights the user.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use latchkey_clients::Env;
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::Latchkey;
use crate::error::{CoreError, Result};

/// Quiet time after a change before checking, so an app's multi-step rewrite settles first.
const SETTLE: Duration = Duration::from_millis(300);

/// The running keeper: its task and the token that stops it.
pub struct Keeper {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl Keeper {
    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

impl Latchkey {
    /// Starts watching the configs of the apps set up through Latchkey.
    pub fn start_keeper(&self, env: Env, bridge: PathBuf) -> Result<Keeper> {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if res.is_ok() {
                let _ = tx.send(());
            }
        })
        .map_err(|e| CoreError::Invalid(format!("Could not watch app settings: {e}")))?;
        let engine = self.clone();
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        let task = tokio::spawn(async move {
            let mut watched: HashSet<PathBuf> = HashSet::new();
            loop {
                // Check, then (re)arm watches for the folders of every bound config.
                let (e2, env2, b2) = (engine.clone(), env.clone(), bridge.clone());
                let files = tokio::task::spawn_blocking(move || {
                    let _ = e2.keep_configured_once(&env2, &b2);
                    e2.bound_config_files(&env2).unwrap_or_default()
                })
                .await
                .unwrap_or_default();
                for dir in files.iter().filter_map(|f| f.parent().map(PathBuf::from)) {
                    if !watched.contains(&dir) && dir.is_dir() && watcher.watch(&dir, RecursiveMode::NonRecursive).is_ok() {
                        watched.insert(dir);
                    }
                }
                tokio::select! {
                    () = stop.cancelled() => break,
                    got = rx.recv() => if got.is_none() { break },
                }
                // Let the burst of events settle, then drain it.
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(SETTLE) => {}
                }
                while rx.try_recv().is_ok() {}
            }
            drop(watcher);
        });
        Ok(Keeper { cancel, task })
    }
}
