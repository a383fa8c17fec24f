//! Token endpoint calls (code exchange, refresh, revocation) through the `oauth2` crate.
//!
//! `oauth2` does the request encoding, client authentication (basic / post / none) and response
//! parsing; we add the RFC 8707 `resource` parameter it has no field for, run it over our own
//! [`Http`] trait, and classify its errors so `invalid_grant` becomes "sign in again".

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, RevocationUrl, StandardRevocableToken,
    TokenResponse, TokenUrl,
};

use crate::clock::Clock;
use crate::error::{OAuthError, Result};
use crate::http::{Http, HttpRequest, HttpResponse};
use crate::registration::Registration;
use latchkey_secrets::SecretString;

/// Tokens as issued. Secrets stay wrapped; the vault decides where they are stored.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// Unix seconds; `None` when the server gave no `expires_in`.
    pub expires_at: Option<u64>,
    /// The granted scope, when the server said.
    pub scope: Option<String>,
}

impl TokenSet {
    /// True when the access token expires within `margin_secs` of `now`.
    pub fn expires_within(&self, now: u64, margin_secs: u64) -> bool {
        self.expires_at.is_some_and(|e| e <= now.saturating_add(margin_secs))
    }
}

/// Everything a token request needs to know about the client and the server.
pub struct TokenEndpoint<'a> {
    pub token_endpoint: &'a str,
    pub registration: &'a Registration,
    pub client_secret: Option<&'a SecretString>,
    /// RFC 8707 resource indicator, sent on every token request.
    pub resource: Option<&'a str>,
}

/// An `oauth2` client with only the token endpoint set (the typestate spells that out).
type TokenClient = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

impl TokenEndpoint<'_> {
    fn client(&self) -> Result<TokenClient> {
        let token_url = TokenUrl::new(self.token_endpoint.to_owned())
            .map_err(|e| OAuthError::InvalidUrl { input: self.token_endpoint.to_owned(), detail: e.to_string() })?;
        let reg = self.registration;
        let mut client = BasicClient::new(ClientId::new(reg.client_id.clone())).set_token_uri(token_url);
        match (reg.token_endpoint_auth_method.as_str(), self.client_secret) {
            ("client_secret_post", Some(s)) => {
                client = client.set_client_secret(ClientSecret::new(s.expose().clone())).set_auth_type(AuthType::RequestBody);
            }
            ("client_secret_basic", Some(s)) => {
                client = client.set_client_secret(ClientSecret::new(s.expose().clone())).set_auth_type(AuthType::BasicAuth);
            }
            // Public client: client_id in the body, no secret.
            _ => client = client.set_auth_type(AuthType::RequestBody),
        }
        Ok(client)
    }
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(http: &dyn Http, ep: &TokenEndpoint<'_>, code: &str, verifier: &SecretString, clock: &dyn Clock) -> Result<TokenSet> {
    let redirect = RedirectUrl::new(ep.registration.redirect_uri.clone())
        .map_err(|e| OAuthError::InvalidUrl { input: ep.registration.redirect_uri.clone(), detail: e.to_string() })?;
    let client = ep.client()?.set_redirect_uri(redirect);
    let mut req = client.exchange_code(AuthorizationCode::new(code.to_owned())).set_pkce_verifier(PkceCodeVerifier::new(verifier.expose().clone()));
    if let Some(r) = ep.resource {
        req = req.add_extra_param("resource", r.to_owned());
    }
    let sender = OAuthHttp { http, uri: None };
    let response = req.request_async(&sender).await.map_err(classify)?;
    Ok(into_token_set(&response, None, clock))
}

/// Uses a refresh token. A response without a new refresh token keeps the old one.
pub async fn refresh(http: &dyn Http, ep: &TokenEndpoint<'_>, refresh_token: &SecretString, clock: &dyn Clock) -> Result<TokenSet> {
    let client = ep.client()?;
    let rt = RefreshToken::new(refresh_token.expose().clone());
    let mut req = client.exchange_refresh_token(&rt);
    if let Some(r) = ep.resource {
        req = req.add_extra_param("resource", r.to_owned());
    }
    let sender = OAuthHttp { http, uri: None };
    let response = req.request_async(&sender).await.map_err(classify)?;
    Ok(into_token_set(&response, Some(refresh_token), clock))
}

/// RFC 7009 revocation of a refresh token (which, for rotating servers, ends the family).
pub async fn revoke(http: &dyn Http, ep: &TokenEndpoint<'_>, revocation_endpoint: &str, refresh_token: &SecretString) -> Result<()> {
    let real = crate::http::parse_url(revocation_endpoint)?;
    crate::http::require_secure("revocation endpoint", &real)?;
    // oauth2 refuses every non-https revocation URL, loopback included, while all our other
    // endpoints follow `require_secure` (https, or http on 127.0.0.1/localhost, checked above).
    // So oauth2 is given the https spelling and the request is sent to the real URL.
    let invalid = |e: ::http::uri::InvalidUri| OAuthError::InvalidUrl { input: revocation_endpoint.to_owned(), detail: e.to_string() };
    let real_uri: ::http::Uri = real.as_str().parse().map_err(invalid)?;
    let mut url = real;
    if url.scheme() == "http" {
        let _ = url.set_scheme("https");
    }
    let client = ep.client()?.set_revocation_url(RevocationUrl::from_url(url));
    let token = StandardRevocableToken::RefreshToken(RefreshToken::new(refresh_token.expose().clone()));
    let req = client.revoke_token(token).map_err(|e| OAuthError::TokenRequest { detail: e.to_string() })?;
    let sender = OAuthHttp { http, uri: Some(real_uri) };
    req.request_async(&sender).await.map_err(|e| OAuthError::TokenRequest { detail: e.to_string() })
}

/// Adapts our [`Http`] to `oauth2`'s client trait. A named type with a boxed `Send` future,
/// rather than a closure, keeps the token futures `Send` (closures here hit rustc's
/// higher-ranked-lifetime limits and make every caller's future `!Send`).
struct OAuthHttp<'h> {
    http: &'h dyn Http,
    /// Sends to this URI instead of the one oauth2 built (see `revoke`).
    uri: Option<::http::Uri>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp<'_> {
    type Error = OAuthError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse>> + Send + 'c>>;

    fn call(&'c self, mut request: HttpRequest) -> Self::Future {
        if let Some(uri) = &self.uri {
            *request.uri_mut() = uri.clone();
        }
        Box::pin(self.http.send(request))
    }
}

fn into_token_set(r: &oauth2::basic::BasicTokenResponse, previous_refresh: Option<&SecretString>, clock: &dyn Clock) -> TokenSet {
    let now = clock.now_unix();
    TokenSet {
        access_token: SecretString::from(r.access_token().secret().clone()),
        refresh_token: r.refresh_token().map(|t| SecretString::from(t.secret().clone())).or_else(|| previous_refresh.cloned()),
        expires_at: r.expires_in().map(|d| now.saturating_add(d.as_secs())),
        scope: r.scopes().map(|s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" ")),
    }
}

fn classify(e: RequestTokenError<OAuthError, oauth2::basic::BasicErrorResponse>) -> OAuthError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let description = r.error_description().cloned();
            match r.error() {
                BasicErrorResponseType::InvalidGrant => OAuthError::InvalidGrant { description },
                BasicErrorResponseType::InvalidClient => OAuthError::InvalidClient { code: "invalid_client".into() },
                BasicErrorResponseType::UnauthorizedClient => OAuthError::InvalidClient { code: "unauthorized_client".into() },
                other => OAuthError::TokenRequest {
                    detail: match description {
                        Some(d) => format!("{} ({d})", other.as_ref()),
                        None => other.as_ref().to_owned(),
                    },
                },
            }
        }
        RequestTokenError::Request(inner) => inner,
        RequestTokenError::Parse(err, body) => {
            OAuthError::TokenRequest { detail: format!("the server's answer was not a valid token response ({err}; {} bytes)", body.len()) }
        }
        RequestTokenError::Other(s) => OAuthError::TokenRequest { detail: s },
    }
}
