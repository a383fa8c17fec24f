//! What the gateway saw per connection: requests, errors, last use, and upstream health.
//!
//! Kept in memory by the process that runs the gateway, and mirrored to `activity.json` (no
//! secrets) so `latchkey status` in another process can show it. The mirror is written after a
//! change, at most once a second, by a task that exists only while there is something to write:
//! no timer runs while idle.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The upstream's health as last seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Upstream {
    #[default]
    Unknown,
    Ok,
    /// Could not connect, or timed out.
    Unreachable {
        detail: String,
    },
    /// Answered with a server error or broke the stream.
    Error {
        detail: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub requests: u64,
    pub errors: u64,
    pub last_used: Option<u64>,
    pub upstream: Upstream,
}

/// How one forwarded request ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Ok,
    ClientError,
    Unreachable(String),
    UpstreamError(String),
}

#[derive(Debug)]
pub(crate) struct ActivityLog {
    map: Mutex<BTreeMap<String, Activity>>,
    path: PathBuf,
    flush_pending: AtomicBool,
}

impl ActivityLog {
    pub(crate) fn new(config_dir: &std::path::Path) -> Arc<Self> {
        Arc::new(ActivityLog { map: Mutex::new(BTreeMap::new()), path: config_dir.join("activity.json"), flush_pending: AtomicBool::new(false) })
    }

    pub(crate) fn record(self: &Arc<Self>, name: &str, outcome: Outcome, now: u64) {
        if let Ok(mut m) = self.map.lock() {
            // Looked up before inserting, so the hot path allocates no key.
            if !m.contains_key(name) {
                m.insert(name.to_owned(), Activity::default());
            }
            let Some(a) = m.get_mut(name) else { return };
            a.requests += 1;
            a.last_used = Some(now);
            match outcome {
                Outcome::Ok => a.upstream = Upstream::Ok,
                Outcome::ClientError => a.errors += 1,
                Outcome::Unreachable(detail) => {
                    a.errors += 1;
                    a.upstream = Upstream::Unreachable { detail };
                }
                Outcome::UpstreamError(detail) => {
                    a.errors += 1;
                    a.upstream = Upstream::Error { detail };
                }
            }
        }
        self.schedule_flush();
    }

    fn schedule_flush(self: &Arc<Self>) {
        if self.flush_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.flush_pending.store(false, Ordering::Release);
            return;
        };
        let me = Arc::clone(self);
        handle.spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            me.flush_pending.store(false, Ordering::Release);
            let snapshot = me.snapshot();
            let path = me.path.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if let Ok(bytes) = serde_json::to_vec_pretty(&snapshot) {
                    let _ = crate::storage::write_atomic(&path, &bytes);
                }
            })
            .await;
        });
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<String, Activity> {
        self.map.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// What another process last wrote.
    pub(crate) fn read_mirror(&self) -> BTreeMap<String, Activity> {
        std::fs::read(&self.path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }
}
