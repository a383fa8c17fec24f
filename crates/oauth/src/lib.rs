//! MCP authorization for Latchkey: discovery, client registration, the PKCE flow with a loopback
//! callback, token exchange, refresh and revocation.
//!
//! # Why not rmcp's `AuthorizationManager` alone
//! rmcp 3.11 covers discovery, DCR, PKCE and `resource`, but it has no loopback listener, browser
//! launch or timeout; no budget on total authorization attempts (its `max_upgrade_attempts`
//! counts only upgrades, so the conformance retry-limit scenario fails); no issuer-mismatch
//! policy; and only in-memory credential stores. Latchkey needs all four, plus tokens that never
//! leave [`latchkey_secrets::Secret`]. So this crate owns the flow and uses the `oauth2` crate for
//! PKCE, state and the token endpoint; rmcp is used for the MCP session itself (core crate).
//!
//! # Invariants
//! - No function here persists anything; callers store a [`FlowOutcome`] once it is complete.
//! - Tokens and client secrets are only ever held as `Secret`s; nothing here logs them.
//! - Every endpoint used has passed [`http::require_secure`].
//! - Time comes from a [`Clock`]; the network from an [`Http`].

pub mod callback;
pub mod challenge;
pub mod clock;
pub mod discovery;
pub mod error;
pub mod flow;
pub mod http;
pub mod opener;
pub mod providers;
pub mod registration;
pub mod token;

pub use challenge::Challenge;
pub use clock::{Clock, FakeClock, SystemClock};
pub use discovery::{AuthServerMetadata, Discovered, IssuerPolicy, MetadataSource, ResourceMetadata, discover};
pub use error::OAuthError;
pub use flow::{FlowOutcome, FlowRequest};
pub use http::{Http, ReqwestHttp};
pub use opener::{NoOpener, Opener, SystemOpener};
pub use registration::{ClientConfig, Registration, RegistrationMethod};
pub use token::{TokenEndpoint, TokenSet};
