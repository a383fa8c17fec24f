//! MCP sessions over Streamable HTTP (rmcp), with the reactive authorization loop rmcp leaves
//! to its callers: on a 401 refresh once, else sign in; on `403 insufficient_scope` sign in
//! again with the wider scope; then rebuild the transport, re-initialize and retry.
//!
//! Invariant: at most [`MAX_AUTH_ATTEMPTS`] browser sign-ins per operation, so a server that
//! keeps asking for more scope cannot loop us (or the user) forever.

use std::collections::HashMap;

use futures::future::BoxFuture;
use latchkey_oauth::Challenge;
use latchkey_oauth::flow::union;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, ProtocolVersion};
use rmcp::service::{Peer, RoleClient, RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ServiceExt, service::ClientInitializeError};

use crate::api::Latchkey;
use crate::error::{CoreError, Result};
use crate::model::{AuthKind, ConnState};
use crate::refresh::Credential;

/// Whether a refusal body says the organisation has API-token access turned off.
pub fn api_tokens_disabled(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    b.contains("api_token_auth_disabled") || (b.contains("api token") && (b.contains("not enabled") || b.contains("disabled")))
}

/// Browser sign-ins allowed for one operation (the first one included).
pub const MAX_AUTH_ATTEMPTS: u32 = 3;

/// The newest protocol version that still has `initialize`; servers may answer with an older one.
pub const PROTOCOL_VERSION: ProtocolVersion = ProtocolVersion::V_2025_11_25;

pub type McpPeer = Peer<RoleClient>;
type Running = RunningService<RoleClient, ClientConfig>;

/// Why a session attempt stopped.
enum Failure {
    Challenge { header: String },
    Other(String),
}

fn client_config() -> ClientConfig {
    ClientConfig::new(ClientCapabilities::default(), Implementation::new("latchkey", env!("CARGO_PKG_VERSION"))).with_protocol_version(PROTOCOL_VERSION)
}

impl Latchkey {
    /// Opens an initialized MCP session to `url` with `credential`.
    async fn open_session(&self, url: &str, credential: Option<&Credential>) -> std::result::Result<Running, Failure> {
        let mut headers = HashMap::new();
        if let Some(c) = credential {
            let mut value =
                http::HeaderValue::from_str(c.header.expose()).map_err(|_| Failure::Other("the stored credential is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        let config = StreamableHttpClientTransportConfig::with_uri(url.to_owned()).custom_headers(headers);
        let transport = StreamableHttpClientTransport::with_client(self.reqwest().clone(), config);
        client_config().serve(transport).await.map_err(|e: ClientInitializeError| match e.auth_challenge() {
            Some(h) => Failure::Challenge { header: h.to_owned() },
            None => Failure::Other(e.to_string()),
        })
    }

    /// Runs `op` in a session on connection `name`, signing in or refreshing as the server asks.
    pub async fn with_session<T: Send>(
        &self,
        name: &str,
        mut op: impl for<'a> FnMut(&'a McpPeer) -> BoxFuture<'a, std::result::Result<T, ServiceError>> + Send,
    ) -> Result<T> {
        let mut sign_ins = 0u32;
        let mut refreshed = false;
        loop {
            let conn = self.connection(name)?;
            let credential = self.credential(name).await?;
            let failure = match self.open_session(&conn.url, credential.as_ref()).await {
                Ok(running) => {
                    let out = op(running.peer()).await;
                    let _ = running.cancel().await;
                    match out {
                        Ok(v) => {
                            self.mark_used(name, credential.is_none()).await?;
                            return Ok(v);
                        }
                        Err(e) => match e.auth_challenge() {
                            Some(h) => Failure::Challenge { header: h.to_owned() },
                            None => Failure::Other(e.to_string()),
                        },
                    }
                }
                Err(f) => f,
            };
            let header = match failure {
                Failure::Other(detail) => return Err(CoreError::Mcp { url: conn.url.clone(), detail }),
                Failure::Challenge { header } => header,
            };
            let challenge = Challenge::parse([header.as_str()]).unwrap_or_default();
            if matches!(conn.auth, AuthKind::ApiTokenBasic | AuthKind::ApiTokenBearer) {
                return Err(self.explain_rejected_token(name, &conn.url, credential.as_ref()).await);
            }
            let step_up = challenge.is_insufficient_scope();
            // A 401 with a refresh token: one refresh first, it is silent.
            if !step_up && !refreshed && conn.has_refresh_token && conn.registration.is_some() {
                refreshed = true;
                match self.refresh_now(name, credential.as_ref().and_then(|c| c.access_token.as_ref())).await {
                    Ok(_) => continue,
                    Err(e) if e.is_reauth_required() => {}
                    Err(e) => return Err(e),
                }
            }
            if sign_ins >= MAX_AUTH_ATTEMPTS {
                return Err(latchkey_oauth::OAuthError::TooManyAttempts { attempts: sign_ins }.into());
            }
            sign_ins += 1;
            let scope = if step_up {
                let _ = self.set_state(name, ConnState::NeedsStepUp { scope: challenge.scope.clone().unwrap_or_default() });
                Some(union(conn.scope.as_deref().unwrap_or(""), challenge.scope.as_deref().unwrap_or("")))
            } else {
                None
            };
            self.sign_in(name, Some(&challenge), scope).await?;
        }
    }

    /// Why the server refused an API token: a disabled organisation, or a bad token. rmcp keeps
    /// only the challenge of a 401, so the body is read with one plain request.
    pub(crate) async fn explain_rejected_token(&self, name: &str, url: &str, credential: Option<&Credential>) -> CoreError {
        let mut req =
            self.reqwest().post(url).header(http::header::CONTENT_TYPE, "application/json").header(http::header::ACCEPT, "application/json, text/event-stream");
        if let Some(c) = credential {
            req = req.header(http::header::AUTHORIZATION, c.header.expose().as_str());
        }
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": PROTOCOL_VERSION.to_string(), "capabilities": {}, "clientInfo": {"name": "latchkey", "version": env!("CARGO_PKG_VERSION")}}});
        let text = match req.json(&body).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if api_tokens_disabled(&text) {
            let _ = self.set_state(name, ConnState::NeedsReauth { reason: "API-token access is not enabled for your organisation".into() });
            CoreError::ApiTokensDisabled(name.into())
        } else {
            let _ = self.set_state(name, ConnState::NeedsReauth { reason: "the server refused the API token".into() });
            CoreError::CredentialRejected(name.into())
        }
    }

    /// After a successful operation: the connection is healthy, and a server that answered
    /// without any credential needs none.
    async fn mark_used(&self, name: &str, anonymous: bool) -> Result<()> {
        let conn = self.connection(name)?;
        let open = anonymous && conn.auth == AuthKind::OAuth;
        if !open && conn.state == ConnState::Connected {
            return Ok(());
        }
        self.update_connection(name, |c| {
            if open {
                c.auth = AuthKind::None;
            }
            c.state = ConnState::Connected;
        })?;
        self.emit_state(name);
        Ok(())
    }
}
