//! Writing other programs' files safely.
//!
//! Invariants:
//! - Writes are atomic: a temp file in the same directory, fsync, rename, fsync the directory.
//!   A crash leaves the old file or the new one, never half of one.
//! - A symlinked config is written through to its real file; the link stays a link.
//! - The file's permissions are kept, and tightened to 0600 on Unix since our entry holds a key.
//! - Before the first change to a file in each run, a timestamped backup is kept next to it
//!   (`<name>.latchkey-backup-<unix ms>`); only the newest [`KEEP_BACKUPS`] are kept.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Backups kept per file.
pub const KEEP_BACKUPS: usize = 5;
const BACKUP_MARK: &str = ".latchkey-backup-";

/// The real file behind `path` (following symlinks), or `path` itself when it does not exist.
pub fn resolve(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Reads a file; a missing file is `None`.
pub fn read(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "the file is not UTF-8 text")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn backed_up() -> &'static Mutex<HashSet<PathBuf>> {
    static SET: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    SET.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Keeps a backup of `real` unless this run already did. Returns the backup's path if one was made.
pub fn backup_once(real: &Path, now_ms: u128) -> std::io::Result<Option<PathBuf>> {
    if !real.exists() {
        return Ok(None);
    }
    {
        let mut set = backed_up().lock().map_err(|_| std::io::Error::other("backup registry poisoned"))?;
        if !set.insert(real.to_path_buf()) {
            return Ok(None);
        }
    }
    let name = real.file_name().and_then(|n| n.to_str()).unwrap_or("config");
    let backup = real.with_file_name(format!("{name}{BACKUP_MARK}{now_ms}"));
    std::fs::copy(real, &backup)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(0o600));
    }
    for old in backups(real).into_iter().skip(KEEP_BACKUPS) {
        let _ = std::fs::remove_file(old);
    }
    Ok(Some(backup))
}

/// Backups of `real`, newest first.
pub fn backups(real: &Path) -> Vec<PathBuf> {
    let Some(dir) = real.parent() else { return Vec::new() };
    let Some(name) = real.file_name().and_then(|n| n.to_str()) else { return Vec::new() };
    let prefix = format!("{name}{BACKUP_MARK}");
    let mut found: Vec<(u128, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_str()?.to_owned();
            let stamp = file.strip_prefix(&prefix)?.parse().ok()?;
            Some((stamp, e.path()))
        })
        .collect();
    found.sort_by_key(|b| std::cmp::Reverse(b.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// Atomically replaces `real` with `text`, creating parent folders as needed.
pub fn write_atomic(real: &Path, text: &str) -> std::io::Result<()> {
    let dir = real.parent().ok_or_else(|| std::io::Error::other("the file has no folder"))?;
    std::fs::create_dir_all(dir)?;
    let old_perms = std::fs::metadata(real).ok().map(|m| m.permissions());
    let mut tmp = tempfile::Builder::new().prefix(".latchkey-tmp-").tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Keep the user's mode but take away group/other access: the file now holds a key.
        let mode = old_perms.map(|p| p.mode() & 0o700).unwrap_or(0o600) | 0o600;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    #[cfg(not(unix))]
    if let Some(p) = old_perms {
        tmp.as_file().set_permissions(p)?;
    }
    tmp.persist(real).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_keeps_symlinks_and_tightens_mode() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "{}").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644)).unwrap();
            let link = dir.path().join("link.json");
            std::os::unix::fs::symlink(&real, &link).unwrap();
            let target = resolve(&link);
            write_atomic(&target, "{\"a\":1}").unwrap();
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
            assert_eq!(std::fs::read_to_string(&link).unwrap(), "{\"a\":1}");
            assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert!(names.iter().all(|n| !n.starts_with(".latchkey-tmp-")), "{names:?}");
    }

    #[test]
    fn backups_once_per_run_and_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.json");
        std::fs::write(&f, "1").unwrap();
        assert!(backup_once(&f, 10).unwrap().is_some());
        assert!(backup_once(&f, 11).unwrap().is_none(), "only the first change of a run");
        for i in 0..8u128 {
            std::fs::write(f.with_file_name(format!("c.json{BACKUP_MARK}{}", 100 + i)), "x").unwrap();
        }
        let g = dir.path().join("g.json");
        std::fs::write(&g, "2").unwrap();
        backup_once(&g, 5).unwrap();
        let list = backups(&f);
        assert_eq!(list.len(), 9);
        assert!(list[0].to_string_lossy().ends_with("107"));
    }
}
