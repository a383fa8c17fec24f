//! Local keys: the per-client secrets the gateway checks, so other local programs and web pages
//! cannot use a connection just because they can reach 127.0.0.1.
//!
//! Invariants:
//! - Only a SHA-256 of each key is stored (`local-keys.json`, 0600); the key itself is shown
//!   once, to be written into that client's config.
//! - A key is bound to one connection and one label (the client it was issued for) and can be
//!   revoked alone. Keys look like `lk_<id>_<secret>`, so lookup is by id and the comparison of
//!   hashes is constant-time.
//! - The gateway reads through a cache that reloads when the file changes, so a key revoked by
//!   another process stops working on its next request.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use latchkey_secrets::SecretString;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CoreError, Result};
use crate::storage::{FileLock, Stamped, write_atomic};

/// One issued key, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalKey {
    pub id: String,
    pub connection: String,
    /// Who it was issued for, e.g. `claude-code`.
    pub label: String,
    pub sha256: String,
    pub created_at: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeysFile {
    #[serde(default)]
    keys: Vec<LocalKey>,
}

/// The key file plus a change-detecting cache.
#[derive(Debug)]
pub struct KeyRing {
    path: PathBuf,
    lock_path: PathBuf,
    /// The keys as last read.
    cache: Stamped<Vec<LocalKey>>,
}

fn hash(key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let d = Sha256::digest(key.as_bytes());
    let mut s = String::with_capacity(64);
    for b in d {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn storage_err(path: &std::path::Path, e: impl std::fmt::Display) -> CoreError {
    CoreError::Storage { path: path.display().to_string(), detail: e.to_string() }
}

impl KeyRing {
    pub fn new(config_dir: &std::path::Path) -> Self {
        KeyRing { path: config_dir.join("local-keys.json"), lock_path: config_dir.join("locks").join("keys.lock"), cache: Stamped::new() }
    }

    fn read_file(&self) -> Result<Vec<LocalKey>> {
        match std::fs::read(&self.path) {
            Ok(b) => serde_json::from_slice::<KeysFile>(&b).map(|f| f.keys).map_err(|e| storage_err(&self.path, format!("the file is damaged ({e})"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(storage_err(&self.path, e)),
        }
    }

    /// All keys, from the cache when the file has not changed.
    pub fn list(&self) -> Result<Vec<LocalKey>> {
        Ok(self.current()?.as_ref().clone())
    }

    /// The keys, read again only if the file changed since it was last read.
    fn current(&self) -> Result<Arc<Vec<LocalKey>>> {
        self.cache.get(&self.path, || self.read_file())
    }

    fn modify<T>(&self, f: impl FnOnce(&mut Vec<LocalKey>) -> T) -> Result<T> {
        let _lock = FileLock::acquire(&self.lock_path)?;
        let mut keys = self.read_file()?;
        let out = f(&mut keys);
        let bytes = serde_json::to_vec_pretty(&KeysFile { keys }).map_err(|e| storage_err(&self.path, e))?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| storage_err(dir, e))?;
        }
        write_atomic(&self.path, &bytes)?;
        self.cache.invalidate();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(out)
    }

    /// Issues a new key for `connection`, replacing any earlier key with the same label.
    pub fn issue(&self, connection: &str, label: &str, now: u64) -> Result<(LocalKey, SecretString)> {
        let mut id_bytes = [0u8; 6];
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut id_bytes);
        rand::rng().fill_bytes(&mut secret);
        let id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let key = format!("lk_{id}_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
        let entry = LocalKey { id, connection: connection.to_owned(), label: label.to_owned(), sha256: hash(&key), created_at: now };
        let stored = entry.clone();
        self.modify(move |keys| {
            keys.retain(|k| !(k.connection == stored.connection && k.label == stored.label));
            keys.push(stored);
        })?;
        Ok((entry, SecretString::from(key)))
    }

    /// Revokes keys matching `pred`; returns how many.
    pub fn revoke_where(&self, pred: impl Fn(&LocalKey) -> bool) -> Result<usize> {
        self.modify(|keys| {
            let before = keys.len();
            keys.retain(|k| !pred(k));
            before - keys.len()
        })
    }

    /// Whether `presented` is a valid, unrevoked key for `connection`.
    pub fn verify(&self, connection: &str, presented: &str) -> Result<bool> {
        let Some(rest) = presented.strip_prefix("lk_") else { return Ok(false) };
        let Some((id, _)) = rest.split_once('_') else { return Ok(false) };
        let want = hash(presented);
        Ok(self.current()?.iter().any(|k| k.id == id && k.connection == connection && constant_time_eq(k.sha256.as_bytes(), want.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_verify_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::new(dir.path());
        let (entry, key) = ring.issue("atlassian", "cursor", 1).unwrap();
        assert!(key.expose().starts_with("lk_"));
        let text = std::fs::read_to_string(dir.path().join("local-keys.json")).unwrap();
        assert!(!text.contains(key.expose().as_str()), "only the hash is stored");
        assert!(ring.verify("atlassian", key.expose()).unwrap());
        assert!(ring.list().unwrap().iter().any(|k| k.id == entry.id));
        assert!(!ring.verify("other", key.expose()).unwrap(), "bound to its connection");
        assert!(!ring.verify("atlassian", "lk_nope_x").unwrap());
        assert!(!ring.verify("atlassian", "Bearer x").unwrap());
        let (_, key2) = ring.issue("atlassian", "vscode", 2).unwrap();
        assert_eq!(ring.revoke_where(|k| k.label == "cursor").unwrap(), 1);
        assert!(!ring.verify("atlassian", key.expose()).unwrap(), "revoked alone");
        assert!(ring.verify("atlassian", key2.expose()).unwrap());
        // Re-issuing for the same label replaces the old key.
        let (_, key3) = ring.issue("atlassian", "vscode", 3).unwrap();
        assert!(!ring.verify("atlassian", key2.expose()).unwrap());
        assert!(ring.verify("atlassian", key3.expose()).unwrap());
    }
}
