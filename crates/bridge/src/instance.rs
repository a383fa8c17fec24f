//! Where the running gateway is. The gateway that serves holds `gateway.lock` for its lifetime
//! and writes `gateway.json` (port and pid, no secrets). The OS drops the lock when the
//! process dies, so a stale file is never mistaken for a running gateway.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What `gateway.json` says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Running {
    pub pid: u32,
    pub port: u16,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Where another instance runs, if one does (its lock is held).
pub fn running_instance(config_dir: &Path) -> Option<Running> {
    let lock = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(config_dir.join("gateway.lock")).ok()?;
    match lock.try_lock() {
        Ok(()) => None,
        Err(_) => read_info(config_dir),
    }
}

/// What `gateway.json` says, whether or not that gateway still runs.
pub fn read_info(config_dir: &Path) -> Option<Running> {
    std::fs::read(config_dir.join("gateway.json")).ok().and_then(|b| serde_json::from_slice(&b).ok())
}

/// Latchkey's config folder: `$LATCHKEY_CONFIG_DIR`, else the platform's config dir
/// (`~/.config/latchkey` on Linux, `~/Library/Application Support/dev.latchkey.Latchkey` on
/// macOS, `%APPDATA%\latchkey\Latchkey\config` on Windows). Core's `Paths::from_env` uses this.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LATCHKEY_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("dev", "latchkey", "Latchkey").map(|d| d.config_dir().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_instance_when_nobody_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gateway.json"), r#"{"pid":1,"port":1234}"#).unwrap();
        // A stale file from a crashed gateway: the lock is free, so nothing runs.
        assert_eq!(running_instance(dir.path()), None);
    }

    #[test]
    fn an_instance_holding_the_lock_is_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gateway.json"), r#"{"pid":7,"port":4321}"#).unwrap();
        let held = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(dir.path().join("gateway.lock")).unwrap();
        held.lock().unwrap();
        let found = running_instance(dir.path()).unwrap();
        assert_eq!(found, Running { pid: 7, port: 4321 });
        assert_eq!(found.url(), "http://127.0.0.1:4321");
    }
}
