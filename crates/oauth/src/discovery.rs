//! Finding out how to get a token for an MCP server.
//!
//! 1. Protected-resource metadata (RFC 9728): from the challenge's `resource_metadata`, else the
//!    path-inserted well-known URL, else the root one. Its `resource` must cover the server URL.
//! 2. Authorization-server metadata: RFC 8414 and OpenID discovery in the order the MCP spec
//!    (2025-11-25 and later) gives, with issuer validation per RFC 8414 §3.3.
//! 3. With no resource metadata at all, the 2025-03-26 fallbacks: metadata at the server's origin,
//!    else the default `/authorize`, `/token` and `/register` endpoints.
//!
//! Invariant: nothing here sends a credential; every endpoint it returns has passed
//! [`require_secure`](crate::http::require_secure).

use serde::{Deserialize, Serialize};
use url::Url;

use crate::challenge::Challenge;
use crate::error::{OAuthError, Result};
use crate::http::{Http, get, parse_url, require_secure};

/// RFC 9728 protected-resource metadata (the fields we use).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResourceMetadata {
    pub resource: String,
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
}

/// RFC 8414 authorization-server metadata (the fields we use).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_document_supported: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
}

impl AuthServerMetadata {
    pub fn supports_s256(&self) -> bool {
        self.code_challenge_methods_supported.as_ref().is_some_and(|m| m.iter().any(|m| m == "S256"))
    }
    pub fn offers_scope(&self, scope: &str) -> bool {
        self.scopes_supported.as_ref().is_some_and(|s| s.iter().any(|x| x == scope))
    }
}

/// How strictly the advertised issuer must match (RFC 8414 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IssuerPolicy {
    /// The issuer must equal the identifier the metadata URL was built from.
    #[default]
    Strict,
    /// Atlassian's known bug: the tenant's metadata names the bare origin as issuer. Accepted,
    /// with a warning, only when the advertised issuer is exactly the origin of the tenant URL.
    AtlassianTenantQuirk,
    /// 2025-03-26 fallback only: the metadata URL was derived from the MCP server's own origin,
    /// not from an issuer identifier anyone told us, so RFC 8414 §3.3 has nothing to compare
    /// against. The trust anchor is the server's origin: the issuer must share it.
    LegacySameOrigin,
}

/// Where the authorization-server metadata came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataSource {
    /// RFC 9728 resource metadata pointed at an authorization server with RFC 8414/OIDC metadata.
    ResourceMetadata,
    /// 2025-03-26: no resource metadata; RFC 8414 metadata at the server's origin.
    LegacyOriginMetadata,
    /// 2025-03-26: no metadata at all; default endpoints at the server's origin.
    LegacyDefaultEndpoints,
}

/// The outcome of discovery, saved (without secrets) with the connection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Discovered {
    /// The RFC 8707 `resource` value sent on authorize, token and refresh requests.
    pub resource: String,
    pub resource_metadata: Option<ResourceMetadata>,
    pub auth_server: AuthServerMetadata,
    pub source: MetadataSource,
}

impl Discovered {
    pub fn issuer(&self) -> &str {
        &self.auth_server.issuer
    }
}

/// Runs discovery for `server` (the MCP endpoint URL), optionally guided by a 401/403 challenge.
pub async fn discover(http: &dyn Http, server: &Url, challenge: Option<&Challenge>, policy: IssuerPolicy) -> Result<Discovered> {
    require_secure("MCP server URL", server)?;
    match fetch_resource_metadata(http, server, challenge).await? {
        Some(prm) => {
            let as_url = prm.authorization_servers.first().ok_or_else(|| OAuthError::BadMetadata {
                document: "protected resource metadata",
                url: server.to_string(),
                detail: "it lists no authorization server".into(),
            })?;
            let as_url = parse_url(as_url)?;
            require_secure("authorization server", &as_url)?;
            let auth_server = fetch_auth_server_metadata(http, &as_url, policy).await?.ok_or_else(|| OAuthError::BadMetadata {
                document: "authorization server metadata",
                url: as_url.to_string(),
                detail: "none of the well-known metadata URLs answered".into(),
            })?;
            Ok(Discovered { resource: prm.resource.clone(), resource_metadata: Some(prm), auth_server, source: MetadataSource::ResourceMetadata })
        }
        None => legacy_discovery(http, server, policy).await,
    }
}

/// The 2025-03-26 fallbacks for servers without RFC 9728 metadata.
async fn legacy_discovery(http: &dyn Http, server: &Url, policy: IssuerPolicy) -> Result<Discovered> {
    let origin = origin_of(server);
    let resource = canonical_resource(server);
    let legacy = if policy == IssuerPolicy::Strict { IssuerPolicy::LegacySameOrigin } else { policy };
    if let Some(auth_server) = fetch_auth_server_metadata(http, &origin, legacy).await? {
        return Ok(Discovered { resource, resource_metadata: None, auth_server, source: MetadataSource::LegacyOriginMetadata });
    }
    let join = |p: &str| origin.join(p).map(|u| u.to_string()).unwrap_or_default();
    let auth_server = AuthServerMetadata {
        issuer: trim_slash(origin.as_str()).to_owned(),
        authorization_endpoint: join("/authorize"),
        token_endpoint: join("/token"),
        registration_endpoint: Some(join("/register")),
        revocation_endpoint: None,
        scopes_supported: None,
        // The 2025-03-26 fallback predates the metadata field; PKCE S256 is still used.
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        token_endpoint_auth_methods_supported: None,
        client_id_metadata_document_supported: None,
        authorization_response_iss_parameter_supported: None,
    };
    Ok(Discovered { resource, resource_metadata: None, auth_server, source: MetadataSource::LegacyDefaultEndpoints })
}

/// The candidate URLs for resource metadata, in the spec's order.
pub fn resource_metadata_urls(server: &Url, challenge: Option<&Challenge>) -> Result<Vec<Url>> {
    let mut urls = Vec::new();
    if let Some(rm) = challenge.and_then(|c| c.resource_metadata.as_deref()) {
        let u = parse_url(rm)?;
        require_secure("resource metadata URL", &u)?;
        urls.push(u);
    }
    let origin = origin_of(server);
    let path = trim_slash(server.path());
    if !path.is_empty() {
        urls.push(join_path(&origin, &format!("/.well-known/oauth-protected-resource{path}")));
    }
    urls.push(join_path(&origin, "/.well-known/oauth-protected-resource"));
    Ok(urls)
}

async fn fetch_resource_metadata(http: &dyn Http, server: &Url, challenge: Option<&Challenge>) -> Result<Option<ResourceMetadata>> {
    for url in resource_metadata_urls(server, challenge)? {
        let Some(prm) = fetch_json::<ResourceMetadata>(http, &url, "protected resource metadata").await? else { continue };
        if !resource_covers(&prm.resource, server) {
            return Err(OAuthError::ResourceMismatch { server: server.to_string(), advertised: prm.resource });
        }
        return Ok(Some(prm));
    }
    Ok(None)
}

/// The candidate URLs for authorization-server metadata, in the spec's order.
pub fn auth_server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let origin = origin_of(issuer);
    let path = trim_slash(issuer.path());
    if path.is_empty() {
        vec![join_path(&origin, "/.well-known/oauth-authorization-server"), join_path(&origin, "/.well-known/openid-configuration")]
    } else {
        vec![
            join_path(&origin, &format!("/.well-known/oauth-authorization-server{path}")),
            join_path(&origin, &format!("/.well-known/openid-configuration{path}")),
            join_path(&origin, &format!("{path}/.well-known/openid-configuration")),
        ]
    }
}

async fn fetch_auth_server_metadata(http: &dyn Http, issuer: &Url, policy: IssuerPolicy) -> Result<Option<AuthServerMetadata>> {
    for url in auth_server_metadata_urls(issuer) {
        let Some(meta) = fetch_json::<AuthServerMetadata>(http, &url, "authorization server metadata").await? else { continue };
        check_issuer(issuer, &meta.issuer, policy)?;
        for (what, endpoint) in [
            ("authorization endpoint", Some(&meta.authorization_endpoint)),
            ("token endpoint", Some(&meta.token_endpoint)),
            ("registration endpoint", meta.registration_endpoint.as_ref()),
            ("revocation endpoint", meta.revocation_endpoint.as_ref()),
        ] {
            if let Some(e) = endpoint {
                let u = parse_url(e).map_err(|_| OAuthError::BadMetadata {
                    document: "authorization server metadata",
                    url: url.to_string(),
                    detail: format!("its {what} `{e}` is not a URL"),
                })?;
                require_secure(what, &u)?;
            }
        }
        return Ok(Some(meta));
    }
    Ok(None)
}

/// RFC 8414 §3.3, with the one narrow Atlassian exception.
pub fn check_issuer(expected: &Url, advertised: &str, policy: IssuerPolicy) -> Result<()> {
    let want = trim_slash(expected.as_str());
    if trim_slash(advertised) == want {
        return Ok(());
    }
    if policy == IssuerPolicy::AtlassianTenantQuirk
        && !trim_slash(expected.path()).is_empty()
        && trim_slash(advertised) == trim_slash(origin_of(expected).as_str())
    {
        tracing::info!(expected = want, advertised, "accepting Atlassian's known tenant issuer mismatch (issuer is the bare origin)");
        return Ok(());
    }
    if policy == IssuerPolicy::LegacySameOrigin && Url::parse(advertised).is_ok_and(|a| origin_of(&a) == origin_of(expected)) {
        tracing::info!(expected = want, advertised, "2025-03-26 fallback: accepting a same-origin issuer for origin-derived metadata");
        return Ok(());
    }
    Err(OAuthError::IssuerMismatch { expected: want.to_owned(), advertised: advertised.to_owned() })
}

/// Whether resource metadata naming `resource` may be used for `server`: same origin, and the
/// server's path equals or lies below the resource's path (RFC 8707 resource indicators).
pub fn resource_covers(resource: &str, server: &Url) -> bool {
    let Ok(r) = Url::parse(resource) else { return false };
    if origin_of(&r) != origin_of(server) {
        return false;
    }
    let rp = trim_slash(r.path());
    let sp = trim_slash(server.path());
    sp == rp || sp.starts_with(&format!("{rp}/"))
}

/// The server URL as an RFC 8707 resource: no fragment, no trailing slash.
pub fn canonical_resource(server: &Url) -> String {
    let mut u = server.clone();
    u.set_fragment(None);
    trim_slash(u.as_str()).to_owned()
}

async fn fetch_json<T: serde::de::DeserializeOwned>(http: &dyn Http, url: &Url, document: &'static str) -> Result<Option<T>> {
    let response = http.send(get(url)).await?;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() || status.is_redirection() {
        tracing::debug!(%url, %status, "no {document} here");
        return Ok(None);
    }
    serde_json::from_slice(response.body()).map(Some).map_err(|e| OAuthError::BadMetadata {
        document,
        url: url.to_string(),
        detail: format!("it is not valid JSON of the expected shape ({e})"),
    })
}

fn origin_of(u: &Url) -> Url {
    let mut o = u.clone();
    o.set_path("/");
    o.set_query(None);
    o.set_fragment(None);
    o
}

fn join_path(origin: &Url, path: &str) -> Url {
    let mut u = origin.clone();
    u.set_path(path);
    u
}

fn trim_slash(s: &str) -> &str {
    s.strip_suffix('/').unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn prm_urls_follow_the_spec_order() {
        let c = Challenge { resource_metadata: Some("https://mcp.example.com/.well-known/oauth-protected-resource/v2/mcp".into()), ..Default::default() };
        let urls = resource_metadata_urls(&u("https://mcp.example.com/v2/mcp"), Some(&c)).unwrap();
        let urls: Vec<_> = urls.iter().map(Url::as_str).collect();
        assert_eq!(
            urls,
            [
                "https://mcp.example.com/.well-known/oauth-protected-resource/v2/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource/v2/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource"
            ]
        );
    }

    #[test]
    fn as_urls_with_and_without_path() {
        let with: Vec<_> = auth_server_metadata_urls(&u("https://auth.example.com/tenant1")).iter().map(|x| x.to_string()).collect();
        assert_eq!(
            with,
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration"
            ]
        );
        let without: Vec<_> = auth_server_metadata_urls(&u("https://auth.example.com")).iter().map(|x| x.to_string()).collect();
        assert_eq!(without, ["https://auth.example.com/.well-known/oauth-authorization-server", "https://auth.example.com/.well-known/openid-configuration"]);
    }

    #[test]
    fn issuer_policy_is_narrow() {
        let tenant = u("https://auth.atlassian.com/abc");
        assert!(check_issuer(&tenant, "https://auth.atlassian.com/abc", IssuerPolicy::Strict).is_ok());
        assert!(check_issuer(&tenant, "https://auth.atlassian.com", IssuerPolicy::Strict).is_err());
        assert!(check_issuer(&tenant, "https://auth.atlassian.com", IssuerPolicy::AtlassianTenantQuirk).is_ok());
        assert!(check_issuer(&tenant, "https://auth.atlassian.com/other", IssuerPolicy::AtlassianTenantQuirk).is_err());
        assert!(check_issuer(&tenant, "https://evil.example/abc", IssuerPolicy::AtlassianTenantQuirk).is_err());
        assert!(check_issuer(&u("https://auth.atlassian.com"), "https://auth.atlassian.com/x", IssuerPolicy::AtlassianTenantQuirk).is_err());
        let origin = u("http://localhost:3000/");
        assert!(check_issuer(&origin, "http://localhost:3000/oauth", IssuerPolicy::LegacySameOrigin).is_ok());
        assert!(check_issuer(&origin, "http://localhost:3001/oauth", IssuerPolicy::LegacySameOrigin).is_err());
        assert!(check_issuer(&origin, "http://localhost:3000/oauth", IssuerPolicy::Strict).is_err());
    }

    #[test]
    fn resource_matching() {
        let s = u("https://mcp.example.com/v2/mcp");
        assert!(resource_covers("https://mcp.example.com/v2/mcp", &s));
        assert!(resource_covers("https://mcp.example.com/v2/mcp/", &s));
        assert!(resource_covers("https://mcp.example.com/", &s));
        assert!(resource_covers("https://mcp.example.com/v2", &s));
        assert!(!resource_covers("https://mcp.example.com/v2/m", &s));
        assert!(!resource_covers("https://other.example.com/v2/mcp", &s));
        assert!(!resource_covers("http://mcp.example.com/v2/mcp", &s));
        assert!(!resource_covers("not a url", &s));
    }
}
