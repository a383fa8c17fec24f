//! Latchkey's engine: connections and their state, the vault layout, refresh with a
//! cross-process lock, MCP sessions with reactive sign-in, and [`Latchkey`], the one API the
//! CLI and the tray app both call. No Tauri here.
//!
//! Invariants:
//! - Secrets live only in the [`TokenStore`](latchkey_secrets::TokenStore); the state file holds
//!   nothing secret.
//! - Outcomes are stored only when complete: secrets first, then the state file (atomically).
//! - One refresh per connection at a time, across processes.

pub mod activity;
pub mod api;
pub mod atlassian;
pub mod client_setup;
pub mod doctor;
pub mod error;
pub mod gateway;
pub mod keeper;
pub mod keys;
pub mod local;
pub mod model;
pub mod refresh;
pub mod session;
pub mod status;
pub mod storage;
pub mod vault;

pub use activity::{Activity, Outcome, Upstream};
pub use api::{ApiToken, CheckReport, ClientOptions, ConnectRequest, Deps, Event, Latchkey};
pub use error::{CoreError, ErrorView};
pub use gateway::Route;
pub use model::{AuthKind, ConnState, Connection};
pub use refresh::Credential;
pub use status::ConnectionView;
pub use storage::Paths;
