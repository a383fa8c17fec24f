//! [`KeychainStore`]: the OS keychain through keyring 3.x (macOS Keychain, Windows Credential
//! Manager, Secret Service on Linux).
//!
//! Invariants: every entry lives under one service name, keyed by account; a missing entry is
//! `Ok(None)` on get and `Ok(())` on delete; every `keyring::Error` is classified into a
//! [`SecretsError`] here and nowhere else, so the user always gets a one-line cause and fix;
//! values never appear in errors or logs (only service, account and the platform's diagnostic);
//! on targets without a real keychain backend we refuse with `Unavailable` instead of letting
//! keyring fall back to its non-persistent mock store, which would silently lose tokens.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::{SecretString, SecretsError, TokenStore};

/// Prefix of the accounts used by [`KeychainStore::probe`]; chosen so it cannot collide with real accounts,
/// which look like `conn/<id>/tokens`.
const PROBE_ACCOUNT: &str = "latchkey-probe";

/// The OS keychain through keyring 3.x (macOS Keychain, Windows Credential Manager, Secret Service on Linux).
#[derive(Debug, Clone)]
pub struct KeychainStore {
    service: String,
}

impl KeychainStore {
    /// A store whose entries all live under `service` (e.g. `"latchkey"`). No I/O happens here.
    pub fn new(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    /// Cheap reachability check: writes, reads back and deletes a probe entry. Returns a classified error
    /// (Unavailable / Locked) with a plain-words fix when no keychain service is reachable.
    pub fn probe(&self) -> Result<(), SecretsError> {
        // A fresh value each time so a stale probe entry left by a crash cannot fake success.
        let nonce = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let value = SecretString::new(format!("probe-{}-{nonce}", std::process::id()));
        // One probe account per call: two processes probing at once (two AI tools running
        // `latchkey check` together) must not overwrite or delete each other's probe entry.
        let account = format!("{PROBE_ACCOUNT}-{}-{nonce}", std::process::id());
        let written = self.set(&account, &value).and_then(|()| self.get(&account));
        // Always try to clean up, but report the first failure rather than the cleanup's.
        let cleanup = self.delete(&account);
        match written? {
            Some(read) if read.expose() == value.expose() => {}
            Some(_) => {
                return Err(SecretsError::Platform { detail: "the probe entry read back a different value".into() });
            }
            None => {
                return Err(SecretsError::Platform { detail: "the probe entry vanished right after it was written".into() });
            }
        }
        cleanup?;
        tracing::debug!(service = %self.service, "keychain probe succeeded");
        Ok(())
    }

    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
    fn entry(&self, account: &str) -> Result<keyring::Entry, SecretsError> {
        keyring::Entry::new(&self.service, account).map_err(|e| classify(e, account))
    }

    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    fn entry(&self, _account: &str) -> Result<keyring::Entry, SecretsError> {
        Err(SecretsError::Unavailable { detail: "Latchkey has no keychain backend for this operating system".into() })
    }

    fn fail(&self, op: &str, account: &str, err: keyring::Error) -> SecretsError {
        let err = classify(err, account);
        // `detail` is the platform's diagnostic, never the value, so it is safe to log.
        tracing::debug!(service = %self.service, account, op, kind = err.kind(), error = ?err,
            "keychain operation failed");
        err
    }
}

impl TokenStore for KeychainStore {
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretsError> {
        match self.entry(account)?.get_password() {
            Ok(value) => Ok(Some(SecretString::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.fail("get", account, e)),
        }
    }

    fn set(&self, account: &str, value: &SecretString) -> Result<(), SecretsError> {
        self.entry(account)?.set_password(value.expose()).map_err(|e| self.fail("set", account, e))
    }

    fn delete(&self, account: &str) -> Result<(), SecretsError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(self.fail("delete", account, e)),
        }
    }

    fn describe(&self) -> String {
        BACKEND_NAME.to_owned()
    }
}

#[cfg(target_os = "macos")]
const BACKEND_NAME: &str = "the macOS Keychain";
#[cfg(target_os = "windows")]
const BACKEND_NAME: &str = "Windows Credential Manager";
#[cfg(target_os = "linux")]
const BACKEND_NAME: &str = "the Secret Service keyring";
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
const BACKEND_NAME: &str = "no keychain (unsupported platform)";

/// Maps a keyring error to our classes. `NoEntry` is handled by the callers (it is not an
/// error for get/delete); if it reaches here it came from `set`, which is a platform oddity.
fn classify(err: keyring::Error, account: &str) -> SecretsError {
    match err {
        // On Linux every PlatformFailure is a D-Bus/Secret Service failure: no session bus,
        // autolaunch refused, or "org.freedesktop.secrets was not provided". On macOS and
        // Windows it is a catch-all for unexpected OS status codes, so calling it "no keychain"
        // there would send the user after the wrong fix.
        // One Linux exception: gnome-keyring answers writes to a locked collection with a plain D-Bus error
        // (org.freedesktop.Secret.Error.IsLocked) that keyring passes through as a
        // PlatformFailure, seen when the unlock prompt cannot be shown (no display). That is
        // Locked, whose fix (unlock) differs from Unavailable's (install/start a keyring).
        keyring::Error::PlatformFailure(inner) if PLATFORM_FAILURE_MEANS_UNAVAILABLE => {
            if looks_locked(inner.as_ref()) {
                SecretsError::Locked { detail: inner.to_string() }
            } else {
                SecretsError::Unavailable { detail: inner.to_string() }
            }
        }
        keyring::Error::PlatformFailure(inner) => SecretsError::Platform { detail: inner.to_string() },
        keyring::Error::NoStorageAccess(inner) => SecretsError::Locked { detail: inner.to_string() },
        // The bytes are deliberately dropped: they are (part of) a secret.
        keyring::Error::BadEncoding(_) => SecretsError::Corrupt { account: account.to_owned() },
        // keyring's Display for Ambiguous dumps the matching credentials; a count is enough.
        keyring::Error::Ambiguous(items) => SecretsError::Platform { detail: format!("{} keychain entries match account \"{account}\"", items.len()) },
        // TooLong / Invalid / NoEntry / future variants: their Display names attributes only.
        other => SecretsError::Platform { detail: other.to_string() },
    }
}

/// True when a Secret Service failure says the collection or item is locked. The D-Bus error
/// name only shows in `Debug` of the underlying `dbus::Error` (reached through `source()`), and
/// we match text because keyring does not expose the dbus types.
fn looks_locked(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        let text = format!("{e:?} {e}").to_ascii_lowercase();
        if text.contains("org.freedesktop.secret.error.islocked") || text.contains("locked collection") {
            return true;
        }
        current = e.source();
    }
    false
}

const PLATFORM_FAILURE_MEANS_UNAVAILABLE: bool = cfg!(not(any(target_os = "macos", target_os = "windows")));

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(msg: &str) -> Box<dyn std::error::Error + Send + Sync> {
        msg.into()
    }

    #[test]
    fn no_storage_access_is_locked() {
        let err = classify(keyring::Error::NoStorageAccess(boxed("Locked")), "a");
        assert!(matches!(err, SecretsError::Locked { .. }));
        assert!(err.is_unavailable());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn platform_failure_is_unavailable_on_linux() {
        let dbus = "D-Bus error: The name org.freedesktop.secrets was not provided by any .service files";
        let err = classify(keyring::Error::PlatformFailure(boxed(dbus)), "a");
        assert_eq!(err.kind(), "keychain_unavailable");
        assert!(format!("{err:?}").contains("org.freedesktop.secrets"), "detail kept for logs");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn locked_collection_platform_failure_is_locked() {
        // The exact text gnome-keyring 42 returned when probing a locked login keyring headless.
        let msg = "DBus error: Cannot create an item in a locked collection";
        let err = classify(keyring::Error::PlatformFailure(boxed(msg)), "a");
        assert_eq!(err.kind(), "keychain_locked");
    }

    #[test]
    fn bad_encoding_is_corrupt_and_drops_the_bytes() {
        let err = classify(keyring::Error::BadEncoding(b"sekrit\xff".to_vec()), "conn/a/tokens");
        assert!(matches!(&err, SecretsError::Corrupt { account } if account == "conn/a/tokens"));
        assert!(!format!("{err:?} {err}").contains("sekrit"));
    }

    #[test]
    fn other_errors_are_platform() {
        let err = classify(keyring::Error::TooLong("service".into(), 10), "a");
        assert_eq!(err.kind(), "keychain_error");
        let err = classify(keyring::Error::Ambiguous(vec![]), "a");
        assert_eq!(err.kind(), "keychain_error");
    }

    #[test]
    fn new_does_no_io_and_describes_itself() {
        let store = KeychainStore::new("latchkey-test");
        assert!(!store.describe().is_empty());
        assert!(format!("{store:?}").contains("latchkey-test"));
    }
}
