//! Latchkey's secret handling: the [`Secret`] wrapper, the [`TokenStore`] trait, and its two
//! implementations ([`KeychainStore`] for the OS keychain, [`MemoryStore`] for tests and fakes).
//!
//! Invariants every module here upholds:
//! - A secret value never reaches `Debug`, `Display`, serde, an error message or a log line.
//!   `Secret` has no `Display`/`Serialize`/`Deserialize`, and errors carry account names and
//!   platform details only.
//! - Secrets are zeroized when dropped.
//! - There is no plain-file fallback: if no keychain is reachable the caller gets
//!   [`SecretsError::Unavailable`] and must tell the user how to fix it.

mod error;
mod keychain;
mod memory;
mod secret;
mod store;

pub use error::SecretsError;
pub use keychain::KeychainStore;
pub use memory::MemoryStore;
pub use secret::{Secret, SecretString};
pub use store::TokenStore;
