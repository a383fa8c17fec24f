//! [`SecretsError`]: the classified failures of a [`crate::TokenStore`].
//!
//! Invariants: `Display` is ONE plain-words line that names the cause and the fix, because the
//! CLI and the app show it to users verbatim; no variant can carry a secret value (only account
//! names and platform diagnostics); `kind()` strings are stable identifiers that other crates
//! and the UI match on, so they never change once shipped.

use std::fmt;

use thiserror::Error;

/// Why a secret could not be stored, read or deleted.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// No keychain service could be reached (no Secret Service / no D-Bus session).
    #[error("{UNAVAILABLE_MESSAGE}")]
    Unavailable { detail: String },
    /// The keychain exists but is locked or refused access.
    #[error("{LOCKED_MESSAGE}")]
    Locked { detail: String },
    /// A stored value could not be read (not UTF-8, etc.).
    #[error(
        "The keychain entry \"{}\" could not be read (it is not valid text). Disconnect and reconnect that server in Latchkey to replace it.",
        OneLine(.account)
    )]
    Corrupt { account: String },
    /// Anything else the platform reported.
    #[error(
        "The keychain reported an unexpected error ({}). Try again; if it keeps failing, restart your desktop session.",
        OneLine(.detail)
    )]
    Platform { detail: String },
}

// The user-facing wording differs per OS because the fix does; `detail` is deliberately left out
// of these lines (it is D-Bus/OS jargon) and stays available through `Debug` and the field.
#[cfg(target_os = "macos")]
const UNAVAILABLE_MESSAGE: &str = "No keychain is available (the macOS Keychain could not be reached). Log in to your macOS desktop session (not only over SSH) and try again; Latchkey never stores tokens in plain files.";
#[cfg(target_os = "windows")]
const UNAVAILABLE_MESSAGE: &str = "No keychain is available (Windows Credential Manager could not be reached). Sign in to an interactive Windows session and try again; Latchkey never stores tokens in plain files.";
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
const UNAVAILABLE_MESSAGE: &str = "No keychain is available (no Secret Service on the session bus). Install and start gnome-keyring or KWallet, then try again; Latchkey never stores tokens in plain files.";

#[cfg(target_os = "macos")]
const LOCKED_MESSAGE: &str = "The keychain is locked or refused access. Unlock it in Keychain Access (or choose Allow when macOS asks) and try again.";
#[cfg(target_os = "windows")]
const LOCKED_MESSAGE: &str = "Windows Credential Manager refused access. Sign in to your Windows account in a normal desktop session and try again.";
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
const LOCKED_MESSAGE: &str = "The keychain is locked. Unlock it (log in to your desktop session or run `gnome-keyring-daemon --unlock`) and try again.";

impl SecretsError {
    /// Stable machine-readable kind: `"keychain_unavailable"`, `"keychain_locked"`,
    /// `"keychain_corrupt"` or `"keychain_error"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unavailable { .. } => "keychain_unavailable",
            Self::Locked { .. } => "keychain_locked",
            Self::Corrupt { .. } => "keychain_corrupt",
            Self::Platform { .. } => "keychain_error",
        }
    }

    /// True for `Unavailable` and `Locked`: the keychain as a whole cannot be used right now,
    /// so the caller should stop and show the fix rather than retry per entry.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Locked { .. })
    }
}

/// Formats a platform string on a single line: D-Bus and OS errors sometimes span lines,
/// which would break the one-line guarantee of `Display`.
struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for part in self.0.split_whitespace() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(part)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<SecretsError> {
        vec![
            SecretsError::Unavailable { detail: "org.freedesktop.secrets was not provided".into() },
            SecretsError::Locked { detail: "Locked".into() },
            SecretsError::Corrupt { account: "conn/atlassian/tokens".into() },
            SecretsError::Platform { detail: "line one\nline two".into() },
        ]
    }

    #[test]
    fn kinds_are_stable() {
        let kinds: Vec<_> = all().iter().map(SecretsError::kind).collect();
        assert_eq!(kinds, ["keychain_unavailable", "keychain_locked", "keychain_corrupt", "keychain_error"]);
    }

    #[test]
    fn unavailable_covers_unavailable_and_locked_only() {
        let flags: Vec<_> = all().iter().map(SecretsError::is_unavailable).collect();
        assert_eq!(flags, [true, true, false, false]);
    }

    #[test]
    fn messages_are_one_line_with_a_fix() {
        for err in all() {
            let msg = err.to_string();
            assert!(!msg.contains('\n') && !msg.contains('\r'), "multi-line: {msg:?}");
            assert!(msg.ends_with('.'), "not a sentence: {msg}");
            assert!(msg.contains("try again") || msg.contains("Try again") || msg.contains("reconnect"), "no fix in: {msg}");
        }
    }

    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    #[test]
    fn linux_messages_match_the_documented_wording() {
        assert_eq!(
            SecretsError::Unavailable { detail: String::new() }.to_string(),
            "No keychain is available (no Secret Service on the session bus). Install and start gnome-keyring or KWallet, then try again; Latchkey never stores tokens in plain files."
        );
        assert_eq!(
            SecretsError::Locked { detail: String::new() }.to_string(),
            "The keychain is locked. Unlock it (log in to your desktop session or run `gnome-keyring-daemon --unlock`) and try again."
        );
    }

    #[test]
    fn corrupt_names_the_account_and_platform_keeps_detail() {
        let msg = SecretsError::Corrupt { account: "conn/x/tokens".into() }.to_string();
        assert!(msg.contains("conn/x/tokens"));
        let msg = SecretsError::Platform { detail: "line one\nline two".into() }.to_string();
        assert!(msg.contains("(line one line two)"), "{msg}");
    }
}
