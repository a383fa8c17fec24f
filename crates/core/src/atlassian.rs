//! Atlassian specifics on top of the generic engine (see shared/ATLASSIAN.md):
//! - after connecting, learn the granted site(s) and the account through the connection itself
//!   (`getAccessibleAtlassianResources`, `atlassianUserInfo`), and which tools take a `cloudId`;
//! - pin the `cloudId` for single-site grants, so the gateway can add it to calls that omit it;
//! - move retired `/v1/*` endpoints to `/v2/mcp`;
//! - explain an organisation that has not enabled API-token access.

use rmcp::model::CallToolRequestParams;
use serde_json::Value;

use crate::api::Latchkey;
use crate::error::{CoreError, Result};
use crate::model::{ConnState, Site};
use crate::session::McpPeer;

/// The tool that lists the sites a grant can reach.
pub const SITES_TOOL: &str = "getAccessibleAtlassianResources";
/// The tool that names the signed-in account.
pub const USER_TOOL: &str = "atlassianUserInfo";

/// What the connection learned about itself.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub sites: Vec<Site>,
    pub account: Option<String>,
    pub cloud_id_tools: Vec<String>,
}

/// Asks a session which sites and account it has, given the tools it listed. Servers without
/// the tools give an empty identity.
pub(crate) async fn read_identity(peer: &McpPeer, tools: &[rmcp::model::Tool]) -> std::result::Result<Identity, rmcp::service::ServiceError> {
    let has = |name: &str| tools.iter().any(|t| t.name == name);
    let cloud_id_tools =
        tools.iter().filter(|t| t.input_schema.get("properties").and_then(|p| p.get("cloudId")).is_some()).map(|t| t.name.to_string()).collect();
    let mut id = Identity { cloud_id_tools, ..Identity::default() };
    if has(SITES_TOOL) {
        let r = peer.call_tool(CallToolRequestParams::new(SITES_TOOL)).await?;
        id.sites = tool_json(&r).map(|v| parse_sites(&v)).unwrap_or_default();
    }
    if has(USER_TOOL) {
        let r = peer.call_tool(CallToolRequestParams::new(USER_TOOL)).await?;
        id.account = tool_json(&r).and_then(|v| v.get("name").or_else(|| v.get("email")).and_then(Value::as_str).map(str::to_owned));
    }
    Ok(id)
}

/// The JSON a tool returned: its structured content, or its first text block parsed as JSON.
fn tool_json(result: &rmcp::model::CallToolResult) -> Option<Value> {
    if let Some(v) = &result.structured_content {
        return Some(v.clone());
    }
    let v = serde_json::to_value(&result.content).ok()?;
    let text = v.as_array()?.iter().find_map(|c| c.get("text").and_then(Value::as_str))?;
    serde_json::from_str(text).ok()
}

/// Parses `getAccessibleAtlassianResources` output.
pub fn parse_sites(v: &Value) -> Vec<Site> {
    let list = v.as_array().cloned().or_else(|| v.get("resources").and_then(Value::as_array).cloned()).unwrap_or_default();
    list.iter()
        .filter_map(|s| {
            Some(Site {
                cloud_id: s.get("id").or_else(|| s.get("cloudId")).and_then(Value::as_str)?.to_owned(),
                name: s.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                url: s.get("url").and_then(Value::as_str).unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// A site's host, the way people name it ("acme.atlassian.net").
pub fn site_host(site: &Site) -> String {
    url::Url::parse(&site.url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| site.name.clone())
}

impl Latchkey {
    /// Records what a connection learned about itself (sites, account, `cloudId` tools), and
    /// pins the site of a single-site grant.
    pub(crate) fn record_identity(&self, name: &str, identity: &Identity) -> Result<()> {
        let learned = identity.clone();
        self.update_connection(name, |c| {
            c.site = learned.sites.first().map(site_host);
            c.account = learned.account.clone().or(c.account.take());
            c.pinned_cloud_id = match learned.sites.as_slice() {
                [one] => Some(one.cloud_id.clone()),
                _ => None,
            };
            c.sites = learned.sites;
            c.cloud_id_tools = learned.cloud_id_tools;
        })?;
        self.emit_state(name);
        Ok(())
    }

    /// Turns the automatic `cloudId` on or off (on needs exactly one known site).
    pub fn set_pinned_site(&self, name: &str, on: bool) -> Result<()> {
        let conn = self.connection(name)?;
        let pinned = match (on, conn.sites.as_slice()) {
            (false, _) => None,
            (true, [one]) => Some(one.cloud_id.clone()),
            (true, _) => {
                return Err(CoreError::Invalid(format!(
                    "`{name}` reaches {} sites; a default site can only be set for a connection with exactly one.",
                    conn.sites.len()
                )));
            }
        };
        self.update_connection(name, |c| c.pinned_cloud_id = pinned)
    }

    /// Moves a connection on a retired `/v1/*` Atlassian endpoint to `/v2/mcp`. Its sign-in is
    /// for the old resource, so it needs a new one.
    pub fn migrate_atlassian_endpoint(&self, name: &str) -> Result<String> {
        let conn = self.connection(name)?;
        let mut url = url::Url::parse(&conn.url).map_err(|e| CoreError::Invalid(e.to_string()))?;
        if !url.path().starts_with("/v1/") {
            return Err(CoreError::Invalid(format!("`{name}` does not use a /v1 endpoint ({}); nothing to move.", conn.url)));
        }
        url.set_path("/v2/mcp");
        let new = url.to_string();
        let target = new.clone();
        self.update_connection(name, |c| {
            c.url = target;
            c.discovered = None;
            c.state = ConnState::NeedsReauth { reason: "it moved to Atlassian's /v2/mcp endpoint".into() };
        })?;
        self.forget_credential(name);
        self.emit_state(name);
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_parse_from_both_shapes() {
        let v = serde_json::json!([{"id": "c1", "name": "acme", "url": "https://acme.atlassian.net", "scopes": []}]);
        let s = parse_sites(&v);
        assert_eq!(s.len(), 1);
        assert_eq!(site_host(&s[0]), "acme.atlassian.net");
        assert_eq!(parse_sites(&serde_json::json!({"resources": [{"cloudId": "c2", "url": "https://b.atlassian.net"}]}))[0].cloud_id, "c2");
        assert!(parse_sites(&serde_json::json!("nope")).is_empty());
    }
}
