//! The interactive authorization-code flow with PKCE, from discovered metadata to tokens.
//!
//! Order matters: bind the loopback listener first (its port is part of the redirect URI and,
//! for Atlassian, of the registration), then reuse or make the registration, then open the
//! browser, then validate the callback, then exchange the code. Nothing is stored here; the
//! caller stores the outcome only once the whole flow has succeeded.

use std::time::Duration;

use oauth2::{CsrfToken, PkceCodeChallenge};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::callback::{CallbackListener, Expected};
use crate::challenge::Challenge;
use crate::clock::Clock;
use crate::discovery::Discovered;
use crate::error::{OAuthError, Result};
use crate::http::Http;
use crate::opener::Opener;
use crate::registration::{ClientConfig, Registration, register};
use crate::token::{TokenEndpoint, TokenSet, exchange_code};
use latchkey_secrets::SecretString;

/// Default time the user has to finish in the browser.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Inputs of one browser flow.
pub struct FlowRequest<'a> {
    pub discovered: &'a Discovered,
    pub client: &'a ClientConfig,
    /// A stored registration to reuse when it still fits.
    pub previous: Option<(&'a Registration, Option<SecretString>)>,
    /// The connection's usual redirect port (stable, since Atlassian matches it exactly).
    pub preferred_port: Option<u16>,
    pub scope: Option<String>,
    pub timeout: Duration,
    pub cancel: CancellationToken,
    /// Called with the authorization URL before the browser opens ("Copy link").
    pub on_url: Option<&'a (dyn Fn(&str) + Send + Sync)>,
}

/// What a successful flow produced; the caller persists it.
#[derive(Debug)]
pub struct FlowOutcome {
    pub registration: Registration,
    pub client_secret: Option<SecretString>,
    pub tokens: TokenSet,
    pub port: u16,
    pub scope: Option<String>,
}

/// Runs the whole flow.
pub async fn run(http: &dyn Http, opener: &dyn Opener, clock: &dyn Clock, req: FlowRequest<'_>) -> Result<FlowOutcome> {
    let meta = &req.discovered.auth_server;
    if !meta.supports_s256() {
        return Err(OAuthError::PkceUnsupported { issuer: meta.issuer.clone() });
    }
    let listener = CallbackListener::bind(req.preferred_port).await?;
    let redirect_uri = listener.redirect_uri();
    let (registration, client_secret) = match req.previous {
        Some((reg, secret)) if reg.reusable_for(&meta.issuer, &redirect_uri, req.client) => (reg.clone(), secret.or_else(|| req.client.client_secret.clone())),
        _ => register(http, meta, req.client, &redirect_uri, req.scope.as_deref()).await?,
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = CsrfToken::new_random();
    let url = authorize_url(req.discovered, &registration, &redirect_uri, req.scope.as_deref(), challenge.as_str(), state.secret())?;
    if let Some(cb) = req.on_url {
        cb(url.as_str());
    }
    if let Err(e) = opener.open(url.as_str()) {
        // The link was handed to `on_url` too, so the user can still paste it by hand.
        tracing::warn!("{e}");
    }
    let expected = Expected {
        state: state.secret().clone(),
        issuer: meta.issuer.clone(),
        iss_required: meta.authorization_response_iss_parameter_supported == Some(true),
    };
    let port = listener.port();
    let code = listener.wait(expected, req.timeout, req.cancel.clone()).await?;
    let verifier = SecretString::from(verifier.secret().clone());
    let ep = TokenEndpoint {
        token_endpoint: &meta.token_endpoint,
        registration: &registration,
        client_secret: client_secret.as_ref(),
        resource: Some(&req.discovered.resource),
    };
    let tokens = exchange_code(http, &ep, &code, &verifier, clock).await?;
    let scope = tokens.scope.clone().or(req.scope);
    Ok(FlowOutcome { registration, client_secret, tokens, port, scope })
}

/// Builds the authorization request URL (OAuth 2.1 §4.1.1 + RFC 7636 + RFC 8707).
pub fn authorize_url(d: &Discovered, reg: &Registration, redirect_uri: &str, scope: Option<&str>, code_challenge: &str, state: &str) -> Result<Url> {
    let mut url = crate::http::parse_url(&d.auth_server.authorization_endpoint)?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code");
        q.append_pair("client_id", &reg.client_id);
        q.append_pair("redirect_uri", redirect_uri);
        q.append_pair("code_challenge", code_challenge);
        q.append_pair("code_challenge_method", "S256");
        q.append_pair("state", state);
        if let Some(s) = scope.filter(|s| !s.is_empty()) {
            q.append_pair("scope", s);
        }
        q.append_pair("resource", &d.resource);
    }
    Ok(url)
}

/// Picks the scopes to ask for: the challenge's, else the resource's `scopes_supported`, else
/// none. Adds `offline_access` when the authorization server offers it, so we get a refresh token.
pub fn choose_scope(challenge: Option<&Challenge>, d: &Discovered) -> Option<String> {
    let base = challenge
        .and_then(|c| c.scope.clone())
        .filter(|s| !s.trim().is_empty())
        .or_else(|| d.resource_metadata.as_ref().and_then(|m| m.scopes_supported.as_ref()).filter(|s| !s.is_empty()).map(|s| s.join(" ")));
    let base = base?;
    Some(if d.auth_server.offers_scope("offline_access") { union(&base, "offline_access") } else { base })
}

/// Space-separated union, keeping the order of first appearance.
pub fn union(a: &str, b: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for s in a.split_whitespace().chain(b.split_whitespace()) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::{AuthServerMetadata, MetadataSource, ResourceMetadata};

    fn discovered(prm_scopes: Option<Vec<&str>>, as_scopes: Option<Vec<&str>>) -> Discovered {
        Discovered {
            resource: "https://mcp.example.com/mcp".into(),
            resource_metadata: Some(ResourceMetadata {
                resource: "https://mcp.example.com/mcp".into(),
                authorization_servers: vec!["https://as.example".into()],
                scopes_supported: prm_scopes.map(|v| v.into_iter().map(String::from).collect()),
            }),
            auth_server: AuthServerMetadata {
                issuer: "https://as.example".into(),
                authorization_endpoint: "https://as.example/authorize?x=1".into(),
                token_endpoint: "https://as.example/token".into(),
                registration_endpoint: None,
                revocation_endpoint: None,
                scopes_supported: as_scopes.map(|v| v.into_iter().map(String::from).collect()),
                code_challenge_methods_supported: Some(vec!["S256".into()]),
                token_endpoint_auth_methods_supported: None,
                client_id_metadata_document_supported: None,
                authorization_response_iss_parameter_supported: None,
            },
            source: MetadataSource::ResourceMetadata,
        }
    }

    #[test]
    fn scope_selection() {
        let ch = Challenge { scope: Some("a b".into()), ..Default::default() };
        assert_eq!(choose_scope(Some(&ch), &discovered(Some(vec!["x"]), None)).as_deref(), Some("a b"));
        assert_eq!(choose_scope(None, &discovered(Some(vec!["x", "y"]), None)).as_deref(), Some("x y"));
        assert_eq!(choose_scope(None, &discovered(None, None)), None);
        assert_eq!(choose_scope(None, &discovered(Some(vec!["x"]), Some(vec!["offline_access"]))).as_deref(), Some("x offline_access"));
        assert_eq!(union("a b", "b c"), "a b c");
    }

    #[test]
    fn authorize_url_keeps_existing_query_and_sends_resource() {
        let d = discovered(None, None);
        let reg = Registration {
            issuer: "https://as.example".into(),
            client_id: "cid".into(),
            method: crate::registration::RegistrationMethod::Dynamic,
            redirect_uri: "http://127.0.0.1:5/callback".into(),
            token_endpoint_auth_method: "none".into(),
        };
        let u = authorize_url(&d, &reg, &reg.redirect_uri, Some("a b"), "ch", "st").unwrap();
        let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
        assert_eq!(q["x"], "1");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["resource"], "https://mcp.example.com/mcp");
        assert_eq!(q["scope"], "a b");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:5/callback");
    }
}
