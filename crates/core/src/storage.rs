//! The non-secret state file and the cross-process locks, in the platform config directory.
//!
//! Invariants:
//! - The state file is replaced atomically (temp file in the same directory, fsync, rename), so
//!   a crash leaves either the old or the new file, never half of one.
//! - Every read-modify-write holds `state.lock`, so two `latchkey` processes cannot lose each
//!   other's updates.
//! - Each connection has its own refresh lock, held across "read tokens, call the token
//!   endpoint, store the rotated tokens", so one refresh runs at a time across processes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::error::{CoreError, Result};
use crate::model::StateFile;

/// Where Latchkey keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
}

impl Paths {
    /// `$LATCHKEY_CONFIG_DIR`, else the platform config dir (`~/.config/latchkey` on Linux,
    /// `~/Library/Application Support/dev.latchkey.Latchkey` on macOS, `%APPDATA%` on Windows).
    pub fn from_env() -> Result<Self> {
        if let Some(dir) = std::env::var_os("LATCHKEY_CONFIG_DIR").filter(|d| !d.is_empty()) {
            return Ok(Paths { config_dir: PathBuf::from(dir) });
        }
        let dirs = directories::ProjectDirs::from("dev", "latchkey", "Latchkey")
            .ok_or_else(|| CoreError::Storage { path: "(home)".into(), detail: "no home directory is set".into() })?;
        Ok(Paths { config_dir: dirs.config_dir().to_path_buf() })
    }

    pub fn state_file(&self) -> PathBuf {
        self.config_dir.join("connections.json")
    }

    fn lock_dir(&self) -> PathBuf {
        self.config_dir.join("locks")
    }
}

fn storage_err(path: &Path, e: impl std::fmt::Display) -> CoreError {
    CoreError::Storage { path: path.display().to_string(), detail: e.to_string() }
}

/// An exclusive advisory lock on a file; released on drop (and by the OS if we crash).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Blocks until the lock is ours. Call from a blocking context.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        let file = OpenOptions::new().create(true).truncate(false).read(true).write(true).open(path).map_err(|e| storage_err(path, e))?;
        file.lock().map_err(|e| storage_err(path, e))?;
        Ok(FileLock { _file: file })
    }
}

/// A file's (modification time, length), `None` when it is missing.
type Stamp = Option<(SystemTime, u64)>;

/// A file's parsed contents as last read, with the file's stamp then: the gateway's hot path
/// re-reads a file only when another process changed it. Used for the state file and the key
/// file.
#[derive(Debug)]
pub(crate) struct Stamped<T> {
    cache: RwLock<(Stamp, Arc<T>)>,
}

impl<T: Default> Stamped<T> {
    pub(crate) fn new() -> Self {
        Stamped { cache: RwLock::new((None, Arc::new(T::default()))) }
    }

    /// The contents of `path`, read again with `load` only when the file changed.
    pub(crate) fn get(&self, path: &Path, load: impl FnOnce() -> Result<T>) -> Result<Arc<T>> {
        let stamp: Stamp = std::fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
        if let Ok(c) = self.cache.read()
            && c.0.is_some()
            && c.0 == stamp
        {
            return Ok(Arc::clone(&c.1));
        }
        let fresh = Arc::new(load()?);
        if let Ok(mut c) = self.cache.write() {
            *c = (stamp, Arc::clone(&fresh));
        }
        Ok(fresh)
    }

    /// After our own write: it must be seen even if it landed within the same timestamp tick.
    pub(crate) fn invalidate(&self) {
        if let Ok(mut c) = self.cache.write() {
            c.0 = None;
        }
    }
}

/// Reads and writes the state file.
#[derive(Debug, Clone)]
pub struct Storage {
    paths: Paths,
    /// The last parsed state.
    cache: Arc<Stamped<StateFile>>,
}

impl Storage {
    pub fn new(paths: Paths) -> Self {
        Storage { paths, cache: Arc::new(Stamped::new()) }
    }

    /// The state, re-parsed only when the file changed since the last call.
    pub fn load_cached(&self) -> Result<Arc<StateFile>> {
        self.cache.get(&self.paths.state_file(), || self.load())
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The current state; a missing file is an empty state.
    pub fn load(&self) -> Result<StateFile> {
        let path = self.paths.state_file();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| storage_err(&path, format!("the file is damaged ({e}); move it aside to start fresh"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StateFile::default()),
            Err(e) => Err(storage_err(&path, e)),
        }
    }

    /// Applies `f` to the state under the state lock and writes the result atomically.
    pub fn update<T>(&self, f: impl FnOnce(&mut StateFile) -> Result<T>) -> Result<T> {
        let _lock = FileLock::acquire(&self.paths.lock_dir().join("state.lock"))?;
        let mut state = self.load()?;
        let out = f(&mut state)?;
        self.write(&state)?;
        self.cache.invalidate();
        Ok(out)
    }

    fn write(&self, state: &StateFile) -> Result<()> {
        let path = self.paths.state_file();
        create_private_dir(&self.paths.config_dir)?;
        let mut bytes = serde_json::to_vec_pretty(state).map_err(|e| storage_err(&path, e))?;
        bytes.push(b'\n');
        write_atomic(&path, &bytes)
    }

    /// The per-connection refresh lock (blocking).
    pub fn refresh_lock(&self, name: &str) -> Result<FileLock> {
        FileLock::acquire(&self.paths.lock_dir().join(format!("refresh-{name}.lock")))
    }
}

/// Writes `bytes` to `path` atomically: same-directory temp file, fsync, rename, fsync dir.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().ok_or_else(|| storage_err(path, "no parent directory"))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| storage_err(path, e))?;
    tmp.write_all(bytes).map_err(|e| storage_err(path, e))?;
    tmp.as_file().sync_all().map_err(|e| storage_err(path, e))?;
    tmp.persist(path).map_err(|e| storage_err(path, e.error))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| storage_err(dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Connection;

    #[test]
    fn update_round_trips_and_is_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::new(Paths { config_dir: dir.path().join("cfg") });
        assert!(s.load().unwrap().connections.is_empty());
        s.update(|st| {
            st.upsert(Connection::new("a".into(), "https://x/mcp".into(), None));
            Ok(())
        })
        .unwrap();
        assert_eq!(s.load().unwrap().get("a").unwrap().url, "https://x/mcp");
        // No temp files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("cfg")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(names.iter().all(|n| n == "connections.json" || n == "locks"), "{names:?}");
    }

    #[test]
    fn a_damaged_file_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::new(Paths { config_dir: dir.path().to_path_buf() });
        std::fs::write(s.paths().state_file(), b"{not json").unwrap();
        let err = s.update(|_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
        assert_eq!(std::fs::read(s.paths().state_file()).unwrap(), b"{not json");
    }
}
