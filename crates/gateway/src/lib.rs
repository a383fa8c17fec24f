//! Latchkey's loopback gateway: every MCP client reaches every connection through
//! `http://127.0.0.1:<port>/mcp/<connection>`, and never sees a real token.
//!
//! The layers, outermost first:
//! 1. [`guard`]: `Host` and `Origin` must be the gateway's own loopback ones (else 403), which
//!    stops DNS rebinding and cross-origin pages. No CORS is ever answered.
//! 2. [`forward`]: the local key (or the connection's keyless switch), then the hop upstream
//!    with the real credential, one refresh-and-replay on a 401, and a streamed response.
//! 3. [`legacy`]: HTTP+SSE upstreams get their `endpoint` event pointed back at the gateway.
//!
//! [`router`] is a plain function returning an axum `Router`, so tests drive it with `oneshot`;
//! [`instance::Gateway`] binds it on loopback, one instance per user.

pub mod bridge;
pub mod error;
pub mod forward;
pub mod guard;
pub mod instance;
pub mod legacy;
pub mod request_body;
pub mod upstream;

use std::sync::Arc;

use axum::Router;
use axum::routing::any;
use latchkey_core::Latchkey;

pub use error::GatewayError;
pub use forward::{KEY_HEADER, Limits};
pub use instance::{Gateway, Running, running_instance};

/// How the gateway is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// The port it is reached on (its Host/Origin allow-list is built from it).
    pub port: u16,
    pub limits: Limits,
    /// Whether requests must carry a local key (unless their connection is keyless). Only the
    /// stdio bridge's in-process router turns this off: it is never bound to a socket, and its
    /// process reads the vault itself anyway.
    pub require_key: bool,
}

impl Config {
    /// A gateway on `port` with the default limits, keys required.
    pub fn on_port(port: u16) -> Self {
        Config { port, limits: Limits::default(), require_key: true }
    }
}

/// The gateway as a `Router`, for a server listening on 127.0.0.1:`config.port`.
pub fn router(engine: Latchkey, config: Config) -> Result<Router, GatewayError> {
    let upstream = upstream::Upstream::new(&engine);
    let hop = Arc::new(forward::Hop { engine, upstream, limits: config.limits, require_key: config.require_key });
    let allowed = Arc::new(guard::Allowed::for_port(config.port));
    Ok(Router::new()
        .route("/mcp/{name}", any(forward::forward_root))
        .route("/mcp/{name}/{*rest}", any(forward::forward_sub))
        .with_state(hop)
        .layer(axum::middleware::from_fn_with_state(allowed, guard::middleware)))
}
