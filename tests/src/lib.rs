//! End-to-end test support for Latchkey.
//!
//! The main export is [`FakeAtlassian`]: an in-process fake of Atlassian's Rovo MCP server
//! and its OAuth 2.1 authorization server, served on `127.0.0.1` with an OS-assigned port.
//! End-to-end tests and benchmarks of the OAuth client run against it instead of the real
//! `mcp.atlassian.com` / `auth.atlassian.com`.

pub mod fake_atlassian;
pub mod paths;
pub mod samples;

pub use fake_atlassian::{
    ACCOUNT_TOOLS, API_TOKEN_DISABLED_ERROR, API_TOKEN_DISABLED_MESSAGE, Counters, DOMAIN_RULE_MESSAGE, FakeAtlassian, FakeOptions, FakeSite, SCOPES_SUPPORTED,
    TENANT, pkce_s256,
};
