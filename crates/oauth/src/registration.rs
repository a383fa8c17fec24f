//! Getting a client id, in the order the MCP spec prefers: a pre-registered client, then a
//! Client ID Metadata Document (CIMD) when the server supports it and one is configured, then
//! Dynamic Client Registration (RFC 7591) as a native public client with one redirect URI.
//!
//! Registrations are keyed by issuer: a different issuer, a different redirect URI, or an
//! `invalid_client` / `unauthorized_client` answer means registering again.

use serde::{Deserialize, Serialize};

use crate::discovery::AuthServerMetadata;
use crate::error::{OAuthError, Result};
use crate::http::{Http, parse_url, post_json, require_secure};
use latchkey_secrets::SecretString;

/// How the client id was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMethod {
    PreRegistered,
    ClientIdMetadataDocument,
    Dynamic,
}

/// A client registration with one authorization server. The secret, if any, lives in the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub issuer: String,
    pub client_id: String,
    pub method: RegistrationMethod,
    pub redirect_uri: String,
    /// `none`, `client_secret_basic` or `client_secret_post`.
    pub token_endpoint_auth_method: String,
}

/// What the user or the preset configured about the client.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub client_metadata_url: Option<String>,
    pub client_name: String,
}

impl Registration {
    /// Whether this stored registration can be used for `issuer` with `redirect_uri` and `cfg`.
    pub fn reusable_for(&self, issuer: &str, redirect_uri: &str, cfg: &ClientConfig) -> bool {
        if self.issuer != issuer {
            return false;
        }
        match (&cfg.client_id, self.method) {
            (Some(id), RegistrationMethod::PreRegistered) => &self.client_id == id,
            (Some(_), _) => false,
            (None, RegistrationMethod::PreRegistered) => false,
            // A CIMD client id is a URL we control; the redirect URI is in that document.
            (None, RegistrationMethod::ClientIdMetadataDocument) => cfg.client_metadata_url.as_deref() == Some(self.client_id.as_str()),
            (None, RegistrationMethod::Dynamic) => self.redirect_uri == redirect_uri,
        }
    }
}

/// Chooses or performs registration. Returns the registration and a client secret, if issued.
pub async fn register(
    http: &dyn Http,
    meta: &AuthServerMetadata,
    cfg: &ClientConfig,
    redirect_uri: &str,
    scope: Option<&str>,
) -> Result<(Registration, Option<SecretString>)> {
    if let Some(client_id) = &cfg.client_id {
        let method = match &cfg.client_secret {
            None => "none",
            Some(_) => secret_auth_method(meta),
        };
        let reg = Registration {
            issuer: meta.issuer.clone(),
            client_id: client_id.clone(),
            method: RegistrationMethod::PreRegistered,
            redirect_uri: redirect_uri.to_owned(),
            token_endpoint_auth_method: method.to_owned(),
        };
        return Ok((reg, cfg.client_secret.clone()));
    }
    if let (Some(url), Some(true)) = (&cfg.client_metadata_url, meta.client_id_metadata_document_supported) {
        let parsed = parse_url(url)?;
        require_secure("client metadata document URL", &parsed)?;
        let reg = Registration {
            issuer: meta.issuer.clone(),
            client_id: url.clone(),
            method: RegistrationMethod::ClientIdMetadataDocument,
            redirect_uri: redirect_uri.to_owned(),
            token_endpoint_auth_method: "none".into(),
        };
        return Ok((reg, None));
    }
    let Some(endpoint) = &meta.registration_endpoint else {
        return Err(OAuthError::NoRegistration { issuer: meta.issuer.clone() });
    };
    let endpoint = parse_url(endpoint)?;
    require_secure("registration endpoint", &endpoint)?;
    let mut body = serde_json::json!({
        "client_name": cfg.client_name,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
    });
    if let Some(scope) = scope {
        body["scope"] = scope.into();
    }
    let response = http.send(post_json(&endpoint, &body)).await?;
    let status = response.status();
    if !status.is_success() {
        let detail = oauth_error_text(response.body()).unwrap_or_else(|| format!("HTTP {status}"));
        return Err(OAuthError::RegistrationRejected { detail });
    }
    #[derive(Deserialize)]
    struct DcrResponse {
        client_id: String,
        client_secret: Option<String>,
        token_endpoint_auth_method: Option<String>,
    }
    let parsed: DcrResponse = serde_json::from_slice(response.body()).map_err(|e| OAuthError::BadMetadata {
        document: "registration response",
        url: endpoint.to_string(),
        detail: e.to_string(),
    })?;
    let secret = parsed.client_secret.filter(|s| !s.is_empty()).map(SecretString::from);
    // The server decides the method; RFC 7591 §2 makes client_secret_basic the default when a secret is issued.
    let method = match (parsed.token_endpoint_auth_method, &secret) {
        (Some(m), _) => m,
        (None, Some(_)) => "client_secret_basic".into(),
        (None, None) => "none".into(),
    };
    let reg = Registration {
        issuer: meta.issuer.clone(),
        client_id: parsed.client_id,
        method: RegistrationMethod::Dynamic,
        redirect_uri: redirect_uri.to_owned(),
        token_endpoint_auth_method: method,
    };
    Ok((reg, secret))
}

/// For a client with a secret: basic unless the server only lists post (RFC 8414 default is basic).
fn secret_auth_method(meta: &AuthServerMetadata) -> &'static str {
    match &meta.token_endpoint_auth_methods_supported {
        Some(m) if !m.iter().any(|x| x == "client_secret_basic") && m.iter().any(|x| x == "client_secret_post") => "client_secret_post",
        _ => "client_secret_basic",
    }
}

/// `error: error_description` from an OAuth JSON error body, if it is one.
pub(crate) fn oauth_error_text(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = v.get("error")?.as_str()?;
    Some(match v.get("error_description").and_then(|d| d.as_str()) {
        Some(d) => format!("{code}: {d}"),
        None => code.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(method: RegistrationMethod, id: &str) -> Registration {
        Registration {
            issuer: "https://as".into(),
            client_id: id.into(),
            method,
            redirect_uri: "http://127.0.0.1:1/callback".into(),
            token_endpoint_auth_method: "none".into(),
        }
    }

    #[test]
    fn reuse_rules() {
        let dcr = reg(RegistrationMethod::Dynamic, "abc");
        let cfg = ClientConfig::default();
        assert!(dcr.reusable_for("https://as", "http://127.0.0.1:1/callback", &cfg));
        assert!(!dcr.reusable_for("https://other", "http://127.0.0.1:1/callback", &cfg), "issuer change re-registers");
        assert!(!dcr.reusable_for("https://as", "http://127.0.0.1:2/callback", &cfg), "port change re-registers");
        let pre = ClientConfig { client_id: Some("abc".into()), ..Default::default() };
        assert!(!dcr.reusable_for("https://as", "http://127.0.0.1:1/callback", &pre));
        assert!(reg(RegistrationMethod::PreRegistered, "abc").reusable_for("https://as", "http://127.0.0.1:9/callback", &pre));
    }
}
