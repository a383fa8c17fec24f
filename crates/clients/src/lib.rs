//! MCP client configuration: where each app keeps its MCP servers, and how to add, check and
//! remove Latchkey's entry without damaging anything else in the file.
//!
//! - [`apps`]: one module per client (paths per OS, install detection, entry shape).
//! - [`format`]: format-preserving edits of JSON, JSONC, TOML and YAML.
//! - [`file`]: atomic writes, symlinks, permissions and backups.
//! - [`setup`]: inspect / add / remove / restore for one app.
//! - [`env`]: the environment paths depend on, injectable for tests.
//!
//! No dependency on the engine: the caller (core) supplies the URL, issues keys and checks them.

pub mod apps;
pub mod env;
pub mod error;
pub mod file;
pub mod format;
pub mod setup;

pub use apps::{App, Stdio, Target, all, by_id};
pub use env::{Env, Os};
pub use error::ClientsError;
pub use setup::{Changed, EntryState, Expected, FileState};
