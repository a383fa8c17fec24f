//! [`Secret<T>`]: a wrapper that keeps a sensitive value out of logs and wipes it on drop.
//!
//! Invariants: the value is only reachable through [`Secret::expose`], which makes every read
//! greppable; `Debug` prints `Secret([REDACTED])`; there is deliberately no `Display`,
//! `Serialize` or `Deserialize`, so a secret cannot slip into a log line, a JSON body or a
//! config file by accident; `Drop` zeroizes the value.

use std::fmt;

use zeroize::Zeroize;

/// A sensitive value (token, password, client secret) that is redacted and zeroized on drop.
pub struct Secret<T: Zeroize>(T);

/// The common case: a secret string such as an OAuth access or refresh token.
pub type SecretString = Secret<String>;

impl<T: Zeroize> Secret<T> {
    /// Wraps `value`; from here on it is only readable through [`Secret::expose`].
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Borrows the value. Call this at the last moment (building a header, writing to the
    /// keychain) and never pass the result to a formatter or logger.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize + Clone> Clone for Secret<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    // Redacted even under `{:#?}` so structs holding secrets can derive Debug safely.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = SecretString::from("hunter2-token");
        let plain = format!("{s:?}");
        let pretty = format!("{s:#?}");
        assert_eq!(plain, "Secret([REDACTED])");
        assert!(!plain.contains("hunter2"));
        assert!(!pretty.contains("hunter2"));
    }

    #[test]
    fn debug_is_redacted_inside_derived_debug() {
        #[derive(Debug)]
        #[allow(dead_code)] // only formatted, never read
        struct Tokens {
            access: SecretString,
        }
        let t = Tokens { access: "abc-very-secret".into() };
        assert!(!format!("{t:?}").contains("very-secret"));
    }

    #[test]
    fn expose_and_clone_keep_the_value() {
        let s = Secret::new(String::from("v1"));
        let c = s.clone();
        drop(s);
        assert_eq!(c.expose(), "v1");
    }

    #[test]
    fn works_for_byte_vectors() {
        let s = Secret::new(vec![1u8, 2, 3]);
        assert_eq!(s.expose(), &[1, 2, 3]);
        assert_eq!(format!("{s:?}"), "Secret([REDACTED])");
    }
}
