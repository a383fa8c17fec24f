//! The secrets of each connection, in the [`TokenStore`] (the OS keychain in production).
//!
//! Layout (one service, "latchkey"; accounts per connection):
//! - `conn/<name>/tokens`: access and refresh token together as one item, so a rotated refresh
//!   token and its access token are replaced in one keychain write. The new refresh token is
//!   therefore stored before the new access token can be used, and there is never a moment when
//!   the keychain holds a refresh token the server has already retired with no successor.
//! - `conn/<name>/api-token`: an API token (`email:token`) or service-account key.
//! - `conn/<name>/client-secret`: a client secret from registration or pre-registration.
//!
//! Invariant: values cross into plain `String`s only inside this module, to (de)serialize the
//! token item, and are wrapped back into [`SecretString`] at once.

use std::sync::Arc;

use latchkey_oauth::TokenSet;
use latchkey_secrets::{SecretString, SecretsError, TokenStore};
use serde::{Deserialize, Serialize};

/// The keychain service name every Latchkey secret lives under.
pub const SERVICE: &str = "latchkey";

/// Access to one store, with typed helpers.
#[derive(Clone)]
pub struct Vault {
    store: Arc<dyn TokenStore>,
}

/// Tokens as they sit in the keychain. Expiry lives in the state file (it is not secret).
#[derive(Debug, Clone)]
pub struct StoredTokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
}

#[derive(Serialize, Deserialize)]
struct TokensItem<'a> {
    access_token: &'a str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

impl Vault {
    pub fn new(store: Arc<dyn TokenStore>) -> Self {
        Vault { store }
    }

    pub fn describe(&self) -> String {
        self.store.describe()
    }

    fn account(name: &str, item: &str) -> String {
        format!("conn/{name}/{item}")
    }

    pub fn tokens(&self, name: &str) -> Result<Option<StoredTokens>, SecretsError> {
        let account = Self::account(name, "tokens");
        let Some(raw) = self.store.get(&account)? else { return Ok(None) };
        let item: TokensItem<'_> = serde_json::from_str(raw.expose()).map_err(|_| SecretsError::Corrupt { account: account.clone() })?;
        Ok(Some(StoredTokens { access_token: SecretString::from(item.access_token), refresh_token: item.refresh_token.map(SecretString::from) }))
    }

    /// Stores a new token set in one write. A set without a refresh token keeps none.
    pub fn set_tokens(&self, name: &str, tokens: &TokenSet) -> Result<(), SecretsError> {
        let item = TokensItem { access_token: tokens.access_token.expose(), refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose().as_str()) };
        let json = SecretString::from(serde_json::to_string(&item).expect("two strings always serialize"));
        self.store.set(&Self::account(name, "tokens"), &json)
    }

    pub fn api_token(&self, name: &str) -> Result<Option<SecretString>, SecretsError> {
        self.store.get(&Self::account(name, "api-token"))
    }

    pub fn set_api_token(&self, name: &str, token: &SecretString) -> Result<(), SecretsError> {
        self.store.set(&Self::account(name, "api-token"), token)
    }

    pub fn client_secret(&self, name: &str) -> Result<Option<SecretString>, SecretsError> {
        self.store.get(&Self::account(name, "client-secret"))
    }

    pub fn set_client_secret(&self, name: &str, secret: Option<&SecretString>) -> Result<(), SecretsError> {
        match secret {
            Some(s) => self.store.set(&Self::account(name, "client-secret"), s),
            None => self.store.delete(&Self::account(name, "client-secret")),
        }
    }

    /// A secret environment variable of a local server (`conn/<name>/env/<VAR>`).
    pub fn env_secret(&self, name: &str, var: &str) -> Result<Option<SecretString>, SecretsError> {
        self.store.get(&Self::account(name, &format!("env/{var}")))
    }

    pub fn set_env_secret(&self, name: &str, var: &str, value: &SecretString) -> Result<(), SecretsError> {
        self.store.set(&Self::account(name, &format!("env/{var}")), value)
    }

    /// Removes every secret of a connection (and the given secret environment variables).
    pub fn forget_with_env(&self, name: &str, env_vars: &[String]) -> Result<(), SecretsError> {
        for var in env_vars {
            self.store.delete(&Self::account(name, &format!("env/{var}")))?;
        }
        self.forget(name)
    }

    /// Removes every secret of a connection.
    pub fn forget(&self, name: &str) -> Result<(), SecretsError> {
        for item in ["tokens", "api-token", "client-secret"] {
            self.store.delete(&Self::account(name, item))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_secrets::MemoryStore;

    #[test]
    fn tokens_round_trip_as_one_item() {
        let mem = MemoryStore::new();
        let v = Vault::new(Arc::new(mem.clone()));
        let t = TokenSet { access_token: "at".into(), refresh_token: Some("rt".into()), expires_at: Some(5), scope: None };
        v.set_tokens("a", &t).unwrap();
        assert_eq!(mem.len(), 1);
        let got = v.tokens("a").unwrap().unwrap();
        assert_eq!(got.access_token.expose(), "at");
        assert_eq!(got.refresh_token.as_ref().unwrap().expose(), "rt");
        assert!(!format!("{got:?}").contains("rt\""));
        v.forget("a").unwrap();
        assert!(v.tokens("a").unwrap().is_none());
    }
}
