//! [`MemoryStore`]: a process-local [`TokenStore`] for tests and fakes.
//!
//! Invariants: clones share one map (so a test can hand a clone to the code under test and
//! inspect the original); nothing is ever written to disk; `Debug` shows only the entry count;
//! values are zeroized when removed or overwritten because they are held as `SecretString`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{SecretString, SecretsError, TokenStore};

/// Process-local store for tests and fakes; clones share the same map.
#[derive(Clone, Default)]
pub struct MemoryStore {
    entries: Arc<Mutex<HashMap<String, SecretString>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored accounts.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no account is stored.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    // A panic in another test thread must not make every later call panic too: the map is
    // always left consistent (single insert/remove), so recovering from poison is safe.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, SecretString>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore").field("len", &self.len()).finish()
    }
}

impl TokenStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretsError> {
        Ok(self.lock().get(account).cloned())
    }

    fn set(&self, account: &str, value: &SecretString) -> Result<(), SecretsError> {
        self.lock().insert(account.to_owned(), value.clone());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), SecretsError> {
        self.lock().remove(account);
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_overwrite() {
        let store = MemoryStore::new();
        assert!(store.is_empty());
        assert!(store.get("conn/x/tokens").unwrap().is_none());
        store.set("conn/x/tokens", &"v1".into()).unwrap();
        store.set("conn/x/tokens", &"v2".into()).unwrap();
        assert_eq!(store.len(), 1);
        assert_eq!(store.get("conn/x/tokens").unwrap().unwrap().expose(), "v2");
        store.delete("conn/x/tokens").unwrap();
        assert!(store.is_empty());
    }

    #[test]
    fn delete_missing_is_ok() {
        let store = MemoryStore::new();
        store.delete("never-set").unwrap();
        store.delete("never-set").unwrap();
    }

    #[test]
    fn clones_share_the_map() {
        let a = MemoryStore::new();
        let b = a.clone();
        a.set("k", &"v".into()).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b.get("k").unwrap().unwrap().expose(), "v");
    }

    #[test]
    fn debug_hides_values() {
        let store = MemoryStore::new();
        store.set("k", &"top-secret-value".into()).unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("top-secret"), "{shown}");
        assert!(shown.contains("len: 1"));
    }
}
