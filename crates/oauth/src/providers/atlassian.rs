//! Atlassian's Rovo MCP server: the preset and its known quirks (see shared/ATLASSIAN.md).
//!
//! - The tenant's authorization-server metadata has at times named the bare origin as issuer;
//!   we accept exactly that, logged ([`IssuerPolicy::AtlassianTenantQuirk`]).
//! - Redirect URIs are matched exactly, port included: the caller keeps the port stable.
//! - Refresh tokens rotate; reuse after a grace period revokes the family, so refreshes are
//!   serialised per connection (see the core crate).
//! - `/v1/sse` is retired; `/v1/mcp` still works but `/v2/mcp` is recommended.

use crate::discovery::IssuerPolicy;

/// The preset's name on the command line and in the UI.
pub const PRESET: &str = "atlassian";
/// The recommended endpoint.
pub const MCP_URL: &str = "https://mcp.atlassian.com/v2/mcp";
/// A friendly name for the preset.
pub const DISPLAY_NAME: &str = "Atlassian";

/// The issuer policy for a connection made from this preset.
pub fn issuer_policy() -> IssuerPolicy {
    IssuerPolicy::AtlassianTenantQuirk
}

/// A warning for endpoints Atlassian has retired or superseded, if `url` is one.
pub fn endpoint_warning(url: &url::Url) -> Option<&'static str> {
    if url.host_str() != Some("mcp.atlassian.com") {
        return None;
    }
    match url.path().trim_end_matches('/') {
        "/v1/sse" => Some("Atlassian no longer supports /v1/sse (retired 30 June 2026). Use https://mcp.atlassian.com/v2/mcp instead."),
        "/v1/mcp" => Some("Atlassian recommends https://mcp.atlassian.com/v2/mcp; /v1/mcp still works for now."),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_endpoints_warn() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(endpoint_warning(&u("https://mcp.atlassian.com/v1/sse")).unwrap().contains("no longer"));
        assert!(endpoint_warning(&u("https://mcp.atlassian.com/v1/mcp")).is_some());
        assert!(endpoint_warning(&u(MCP_URL)).is_none());
        assert!(endpoint_warning(&u("https://example.com/v1/sse")).is_none());
    }
}
