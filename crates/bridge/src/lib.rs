//! The stdio side of Latchkey, for MCP clients that can only launch a local command.
//!
//! - [`stdio`]: the loop that turns JSON-RPC lines on stdin/stdout into Streamable HTTP
//!   requests, over any [`Transport`]. The gateway crate runs it in-process (`latchkey bridge`
//!   without a running gateway); the `latchkey-bridge` binary runs it over loopback HTTP.
//! - [`instance`]: where the running gateway is (`gateway.json`, guarded by `gateway.lock`).
//!   The gateway writes that file with the same type, so the two cannot disagree.
//! - [`loopback`]: the plain-HTTP [`Transport`] to 127.0.0.1.
//!
//! This crate owns the wire contract between local callers and the gateway (the local-key
//! header and the instance file) and depends on nothing of the engine, so the binary stays
//! small: every stdio session a client opens pays for its size and memory.

pub mod instance;
pub mod loopback;
pub mod stdio;

pub use instance::{Running, config_dir, running_instance};
pub use loopback::Loopback;
pub use stdio::{Chunks, Reply, Transport};

/// The header a local caller presents its local key in.
pub const KEY_HEADER: &str = "x-latchkey-key";
