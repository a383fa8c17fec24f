//! The [`TokenStore`] trait: where secrets live, keyed by "account" under one service name.
//!
//! Invariants for implementors: `get` of a missing account is `Ok(None)` (not an error);
//! `delete` of a missing account is `Ok(())`, so callers can clean up idempotently;
//! values are passed and returned as [`SecretString`] so they never travel as bare `String`s;
//! errors never contain the secret value.

use std::sync::Arc;

use crate::{SecretString, SecretsError};

/// Where secrets live. Keys are "accounts" under one service name, e.g. `"conn/atlassian/tokens"`.
pub trait TokenStore: Send + Sync + 'static {
    /// Reads the secret for `account`; `Ok(None)` if there is none.
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretsError>;
    /// Creates or overwrites the secret for `account`.
    fn set(&self, account: &str, value: &SecretString) -> Result<(), SecretsError>;
    /// Deleting a missing entry is Ok(()).
    fn delete(&self, account: &str) -> Result<(), SecretsError>;
    /// A short human name for messages, e.g. "the Secret Service keyring" / "memory".
    fn describe(&self) -> String;
}

// Lets callers share one store (`Arc<dyn TokenStore>` or `Arc<MemoryStore>`) and still pass it
// wherever a `TokenStore` is expected.
impl<S: TokenStore + ?Sized> TokenStore for Arc<S> {
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretsError> {
        (**self).get(account)
    }

    fn set(&self, account: &str, value: &SecretString) -> Result<(), SecretsError> {
        (**self).set(account, value)
    }

    fn delete(&self, account: &str) -> Result<(), SecretsError> {
        (**self).delete(account)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    fn round_trip(store: &impl TokenStore) {
        store.set("a", &"one".into()).unwrap();
        assert_eq!(store.get("a").unwrap().unwrap().expose(), "one");
        store.delete("a").unwrap();
        assert!(store.get("a").unwrap().is_none());
    }

    #[test]
    fn arc_of_concrete_store_forwards() {
        let inner = MemoryStore::new();
        let arc = Arc::new(inner.clone());
        round_trip(&arc);
        arc.set("b", &"two".into()).unwrap();
        // The Arc forwarded to the same map the original handle sees.
        assert_eq!(inner.get("b").unwrap().unwrap().expose(), "two");
        assert_eq!(arc.describe(), "memory");
    }

    #[test]
    fn arc_of_dyn_store_forwards() {
        let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
        round_trip(&store);
        assert_eq!(store.describe(), "memory");
    }
}
