//! The doctor's probes: the checks that touch the network, the keychain or the files of
//! apps (each returns findings; see the parent module for the order they run in).

use super::*;

impl Latchkey {
    /// A local stdio server: its program is on PATH and its secrets are in the keychain.
    pub(super) fn check_local(&self, conn: &Connection, local: &crate::model::LocalServer, env: &Env) -> Finding {
        let name = conn.name.as_str();
        let program = local.command.first().cloned().unwrap_or_default();
        let found = (std::path::Path::new(&program).is_absolute() && std::path::Path::new(&program).is_file()) || env.which(&program).is_some();
        if !found {
            let hint = if program == "uvx" { " Install uv (https://docs.astral.sh/uv/), which provides `uvx`." } else { "" };
            return Finding::fail(LOCAL_SERVER, format!("`{program}`, which starts this connection's MCP server, is not on your PATH."))
                .action(format!("Install it, or make it findable on PATH, then restart your AI apps.{hint}"));
        }
        let missing: Vec<&str> = local.secret_env.iter().filter(|v| !matches!(self.vault().env_secret(name, v), Ok(Some(_)))).map(String::as_str).collect();
        if !missing.is_empty() {
            return Finding::fail(LOCAL_SERVER, format!("The secret {} is missing from the keychain.", missing.join(", ")))
                .action(format!("Run the `latchkey connect` command for `{name}` again to store it."));
        }
        Finding::ok(
            LOCAL_SERVER,
            format!("Apps start `{}` through `latchkey run {name}`, with {} secret(s) from the keychain.", local.command.join(" "), local.secret_env.len()),
        )
    }

    /// An unauthenticated `initialize` to the MCP server (or a GET of a local server's site):
    /// any HTTP answer means it is reachable.
    pub(super) async fn check_network(&self, url: &Url, mcp: bool) -> (Finding, Option<Challenge>) {
        let host = url.host_str().unwrap_or("the server").to_owned();
        let proxy = proxy_for(url);
        let via = match &proxy {
            Some(p) => format!("through the proxy {p}"),
            None => "directly (no proxy is set)".to_owned(),
        };
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": crate::session::PROTOCOL_VERSION.to_string(), "capabilities": {}, "clientInfo": {"name": "latchkey-doctor", "version": env!("CARGO_PKG_VERSION")}}});
        let request = if mcp {
            http::Request::builder()
                .method(http::Method::POST)
                .uri(url.as_str())
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(http::header::ACCEPT, "application/json, text/event-stream")
                .body(serde_json::to_vec(&body).unwrap_or_default())
        } else {
            http::Request::builder().method(http::Method::GET).uri(url.as_str()).body(Vec::new())
        };
        let request = match request {
            Ok(r) => r,
            Err(e) => return (Finding::fail(NETWORK, format!("The URL {url} cannot be requested ({e}).")), None),
        };
        use latchkey_oauth::Http as _;
        match self.http().send(request).await {
            Ok(resp) => {
                let status = resp.status();
                let challenge = Challenge::from_headers(resp.headers());
                let f = if mcp && status.as_u16() == 404 {
                    Finding::fail(NETWORK, format!("Reached {host} {via}, but it has no MCP server at {} (HTTP 404).", url.path()))
                        .action("Check the URL you connected to. For Atlassian it is https://mcp.atlassian.com/v2/mcp.")
                } else if status.is_server_error() {
                    Finding::warn(NETWORK, format!("Reached {host} {via}, but it answered with a server error (HTTP {}).", status.as_u16()))
                        .action("The server may be down for a moment; try again later.")
                } else if mcp && status.as_u16() == 401 {
                    Finding::ok(NETWORK, format!("Reached {host} {via}; it asks for a sign-in, as expected."))
                } else {
                    Finding::ok(NETWORK, format!("Reached {host} {via} (HTTP {}).", status.as_u16()))
                };
                (f, challenge)
            }
            Err(e) => (network_failure(&e, &host, proxy.as_deref()), None),
        }
    }

    /// A browserless GET of the authorization URL the next sign-in would open.
    pub(super) async fn probe_authorize(&self, conn: &Connection, d: &Discovered, reg: &Registration) -> (Finding, Option<Finding>) {
        let name = conn.name.as_str();
        let redirect_uri =
            conn.redirect_port.map(|p| format!("http://127.0.0.1:{p}{}", latchkey_oauth::callback::CALLBACK_PATH)).unwrap_or_else(|| reg.redirect_uri.clone());
        let scope = conn.scope.clone().or_else(|| flow::choose_scope(None, d));
        let (challenge, state) = dummy_pkce();
        let url = match flow::authorize_url(d, reg, &redirect_uri, scope.as_deref(), &challenge, &state) {
            Ok(u) => u,
            Err(e) => return (Finding::fail(REDIRECT, format!("The authorization endpoint is not usable: {e}")), None),
        };
        let request = http::Request::builder()
            .method(http::Method::GET)
            .uri(url.as_str())
            .header(http::header::ACCEPT, "text/html,application/xhtml+xml")
            .body(Vec::new());
        let Ok(request) = request else { return (Finding::warn(REDIRECT, "Could not build a test sign-in request."), None) };
        use latchkey_oauth::Http as _;
        let resp = match self.http().send(request).await {
            Ok(r) => r,
            Err(e) => return (Finding::warn(REDIRECT, format!("Could not test the sign-in page: {e}")), None),
        };
        let status = resp.status();
        if status.is_redirection() {
            let location = resp.headers().get(http::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
            let target = url.join(location).ok();
            let back_to_us = target.as_ref().is_some_and(|t| strip_query(t.as_str()) == strip_query(&redirect_uri));
            if !back_to_us {
                return (
                    Finding::ok(REDIRECT, format!("The authorization server accepts the sign-in request for {redirect_uri} and shows its sign-in page.")),
                    None,
                );
            }
            let q: std::collections::HashMap<String, String> = target.map(|t| t.query_pairs().into_owned().collect()).unwrap_or_default();
            let ok = Finding::ok(REDIRECT, format!("The authorization server accepts the redirect URL {redirect_uri}."));
            if q.contains_key("code") {
                return (ok, Some(Finding::ok(CONSENT, "Consent is in place: the authorization server answered a test request with an authorization code.")));
            }
            let error = q.get("error").cloned().unwrap_or_default();
            let desc = q.get("error_description").map(|d| format!(" ({d})")).unwrap_or_default();
            let consent = if error == "access_denied" {
                Finding::fail(CONSENT, format!("Access is denied at the consent step{desc}."))
                    .action(format!("Ask your Atlassian site admin to check that your account has access to Jira and Confluence on this site (a site admin must approve the app for a site first), then sign in again with `latchkey connect {name}`."))
            } else {
                Finding::fail(CONSENT, format!("The authorization server refused the sign-in request: {error}{desc}."))
                    .action(format!("Sign in again with `latchkey connect {name}`; if this keeps happening, tell the server's administrator."))
            };
            return (ok, Some(consent));
        }
        let text = String::from_utf8_lossy(resp.body()).to_lowercase();
        if text.contains("admin must authorize this redirect url") || text.contains("authorize this redirect url") {
            let f = Finding::fail(REDIRECT, format!("Your organization's domain rule blocks the redirect URL {redirect_uri}: an admin must allow it."))
                .action("Send the message below to your Atlassian organization admin, then sign in again. HTTP localhost and 127.0.0.1 count as different hosts, so ask for both.")
                .admin(domain_rule_message(&redirect_uri));
            return (f, None);
        }
        if text.contains("redirect_uri is not registered")
            || text.contains("redirect uri is not registered")
            || text.contains("redirect_uri_mismatch")
            || text.contains("invalid redirect")
        {
            let repaired = reg.method == RegistrationMethod::Dynamic && self.forget_redirect_port(name).is_ok();
            let f = Finding::fail(
                REDIRECT,
                format!(
                    "The authorization server does not accept the redirect URL {redirect_uri}: it is not registered for Latchkey's client (the port must match exactly)."
                ),
            );
            let f = if repaired {
                f.action(format!(
                    "Nothing to fix by hand: Latchkey will register again for a new redirect port at the next sign-in (`latchkey connect {name}`)."
                ))
            } else {
                f.action(format!("Ask the administrator who gave you the client id to add {redirect_uri} (and http://localhost with the same port) to its redirect URLs, then run `latchkey connect {name}`."))
                    .admin(format!("Hello, please add the redirect URL {redirect_uri} to the OAuth client `{}` that Latchkey uses (redirect URLs are matched exactly, port included). Thank you.", reg.client_id))
            };
            return (f, None);
        }
        if text.contains("invalid client") || text.contains("invalid_client") || text.contains("client_id is not registered") || text.contains("unknown client")
        {
            let _ = self.update_connection(name, |c| {
                if c.registration.as_ref().is_some_and(|r| r.method == RegistrationMethod::Dynamic) {
                    c.registration = None;
                }
            });
            let f = Finding::fail(REDIRECT, "The authorization server no longer knows Latchkey's client id (it may have moved or been reset).")
                .action(format!("Sign in again with `latchkey connect {name}`: Latchkey registers again."));
            return (f, None);
        }
        if status.is_success() {
            return (
                Finding::ok(REDIRECT, format!("The authorization server accepts the sign-in request for {redirect_uri} and shows its sign-in page.")),
                None,
            );
        }
        let snippet: String = strip_tags(&String::from_utf8_lossy(resp.body())).chars().take(160).collect();
        (
            Finding::warn(REDIRECT, format!("The authorization server answered a test sign-in request with HTTP {}: {snippet}", status.as_u16()))
                .action(format!("Try `latchkey connect {name}`; if the browser shows an error, tell your admin what it says.")),
            None,
        )
    }

    /// Makes the next sign-in choose a new port (and so register again).
    pub(super) fn forget_redirect_port(&self, name: &str) -> Result<()> {
        self.update_connection(name, |c| c.redirect_port = None)
    }

    pub(super) async fn check_tokens(&self, conn: &Connection) -> Finding {
        let name = conn.name.as_str();
        let reconnect = format!("Sign in again with `latchkey connect {name}`.");
        if let ConnState::NeedsReauth { reason } = &conn.state {
            return Finding::fail(TOKENS, format!("This connection needs you to sign in again: {}", trim_period(reason))).action(reconnect);
        }
        let tokens = match self.vault().tokens(name) {
            Ok(t) => t,
            Err(e) => {
                return Finding::fail(TOKENS, format!("Could not read the sign-in from the keychain: {e}"))
                    .action("Unlock the keychain (or allow Latchkey to use it), then run `latchkey doctor` again.");
            }
        };
        let Some(tokens) = tokens else {
            return Finding::fail(TOKENS, "Not signed in yet.").action(format!("Run `latchkey connect {name}` to sign in."));
        };
        let now = self.now();
        let has_rt = tokens.refresh_token.is_some();
        match conn.expires_at {
            Some(exp) if exp <= now => {
                if !has_rt {
                    return Finding::fail(
                        TOKENS,
                        format!("The sign-in expired {} ago and the server gave no refresh token, so it cannot be renewed.", duration_words(now - exp)),
                    )
                    .action(reconnect);
                }
                match self.refresh_now(name, Some(&tokens.access_token)).await {
                    Ok(_) => {
                        let until = self
                            .connection(name)
                            .ok()
                            .and_then(|c| c.expires_at)
                            .map(|e| format!(" (valid for another {})", duration_words(e.saturating_sub(self.now()))))
                            .unwrap_or_default();
                        Finding::ok(TOKENS, format!("The access token had expired; Latchkey renewed it with the refresh token just now{until}."))
                    }
                    Err(e) if e.is_reauth_required() => {
                        let why = match &e {
                            crate::error::CoreError::ReauthRequired { reason, .. } => reason.clone(),
                            other => other.to_string(),
                        };
                        Finding::fail(TOKENS, format!("The access token expired and the server refused the refresh token: {}. The sign-in was revoked or its refresh token was already used.", trim_period(&why)))
                            .action(format!("Sign in again with `latchkey connect {name}`. Refresh tokens rotate: an old copy used after the grace period (for example by a second copy of Latchkey with another keychain) revokes the sign-in."))
                    }
                    Err(e) => Finding::warn(TOKENS, format!("The access token expired and renewing it failed: {e}"))
                        .action("Check your network, then run `latchkey doctor` again."),
                }
            }
            Some(exp) => {
                let left = duration_words(exp - now);
                if has_rt {
                    Finding::ok(
                        TOKENS,
                        format!("Signed in; the access token is valid for another {left} and a refresh token is stored, so Latchkey renews it on its own."),
                    )
                } else if exp <= now + EXPIRING_SOON_SECS {
                    Finding::warn(TOKENS, format!("Signed in, but the sign-in expires in {left} and cannot be renewed (no refresh token)."))
                        .action(format!("Sign in again soon with `latchkey connect {name}`; make sure offline access is approved so Latchkey can renew it."))
                } else {
                    Finding::warn(TOKENS, format!("Signed in for another {left}, but there is no refresh token, so you will have to sign in again then."))
                        .action("Sign in again and approve offline access (`offline_access`) so Latchkey can renew the sign-in on its own.")
                }
            }
            None if has_rt => Finding::ok(TOKENS, "Signed in; a refresh token is stored, so Latchkey renews the sign-in on its own."),
            None => Finding::ok(TOKENS, "Signed in; the server gave no expiry for the access token."),
        }
    }

    /// API-token connections: one raw request, so the org's refusal body can be read.
    pub(super) async fn check_api_token(&self, conn: &Connection) -> Finding {
        let name = conn.name.as_str();
        let kind = if conn.auth == AuthKind::ApiTokenBasic { "personal API token" } else { "service-account key" };
        let credential = match self.credential(name).await {
            Ok(Some(c)) => c,
            Ok(None) | Err(_) => {
                return Finding::fail(API_TOKEN, format!("The {kind} is missing from the keychain."))
                    .action(format!("Run `latchkey connect {name} --api-token` again."));
            }
        };
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": crate::session::PROTOCOL_VERSION.to_string(), "capabilities": {}, "clientInfo": {"name": "latchkey-doctor", "version": env!("CARGO_PKG_VERSION")}}});
        let Ok(mut auth) = http::HeaderValue::from_str(credential.header.expose()) else {
            return Finding::fail(API_TOKEN, format!("The stored {kind} is not usable in a request header."))
                .action(format!("Run `latchkey connect {name} --api-token` again."));
        };
        auth.set_sensitive(true);
        let request = http::Request::builder()
            .method(http::Method::POST)
            .uri(conn.url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json, text/event-stream")
            .header(http::header::AUTHORIZATION, auth)
            .body(serde_json::to_vec(&body).unwrap_or_default());
        let Ok(request) = request else { return Finding::warn(API_TOKEN, "Could not build a test request.") };
        use latchkey_oauth::Http as _;
        let resp = match self.http().send(request).await {
            Ok(r) => r,
            Err(e) => return Finding::warn(API_TOKEN, format!("Could not test the {kind}: {e}")),
        };
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Finding::ok(API_TOKEN, format!("The server accepts the {kind}."));
        }
        if status == 401 || status == 403 {
            if api_tokens_disabled(resp.body()) {
                return Finding::fail(API_TOKEN, "Your Atlassian organization has not enabled API-token access to the Rovo MCP server, so the server refuses every API token.")
                    .action(format!("Ask an organization admin to enable API-token authentication (message below), or sign in with the browser instead: `latchkey connect atlassian --name {name}-oauth`."))
                    .admin(API_TOKEN_ADMIN_MESSAGE);
            }
            return Finding::fail(API_TOKEN, format!("The server refuses the {kind} (HTTP {status}).")).action(if conn.auth == AuthKind::ApiTokenBasic {
                format!("Check the email and the token (it is sent as email:token), or create a new scoped API token at id.atlassian.com, then run `latchkey connect {name} --api-token --email <you@example.com>` again.")
            } else {
                format!("Check the service-account key (it is sent as a Bearer key) or create a new one, then run `latchkey connect {name} --api-token` again.")
            });
        }
        Finding::warn(API_TOKEN, format!("The server answered the {kind} with HTTP {status}.")).action("Try again later; if it persists, tell your admin.")
    }

    /// initialize + tools/list (and, for Atlassian, the granted sites) without any sign-in.
    pub(super) async fn check_tools(&self, conn: &Connection) -> Finding {
        let name = conn.name.as_str();
        let credential = match conn.auth {
            AuthKind::OAuth => match self.vault().tokens(name) {
                Ok(Some(t)) => Some(Credential::bearer(t.access_token)),
                _ => None,
            },
            AuthKind::None => None,
            _ => self.credential(name).await.ok().flatten(),
        };
        match self.doctor_session(&conn.url, credential.as_ref()).await {
            Ok((server, tools, sites)) => tools_finding(conn, server, &tools, &sites),
            Err(SessionFailure::Challenge(h)) => {
                let ch = Challenge::parse([h.as_str()]).unwrap_or_default();
                if ch.is_insufficient_scope() {
                    return Finding::fail(TOOLS, format!("The server asks for more permissions than were granted ({}).", ch.scope.unwrap_or_default()))
                        .action(format!("Re-authenticate with `latchkey connect {name}` and approve the extra access."));
                }
                match conn.auth {
                    AuthKind::OAuth => {
                        Finding::fail(TOOLS, "The server refuses the stored access token.").action(format!("Sign in again with `latchkey connect {name}`."))
                    }
                    AuthKind::None => Finding::fail(TOOLS, "The server now asks for a sign-in.").action(format!("Run `latchkey connect {name}` to sign in.")),
                    _ => Finding::fail(TOOLS, "The server refuses the API token.")
                        .action(format!("Run `latchkey connect {name} --api-token` with a valid token.")),
                }
            }
            Err(SessionFailure::Other(detail)) => Finding::fail(TOOLS, format!("Reached the server but could not use MCP with it: {detail}"))
                .action("Check that the URL is the server's MCP endpoint; if it is, the server may be having problems, so try again later."),
        }
    }

    async fn doctor_session(
        &self,
        url: &str,
        credential: Option<&Credential>,
    ) -> std::result::Result<(Option<String>, Vec<String>, Vec<String>), SessionFailure> {
        use rmcp::ServiceExt as _;
        use rmcp::transport::StreamableHttpClientTransport;
        use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
        let mut headers = std::collections::HashMap::new();
        if let Some(c) = credential {
            let mut value = http::HeaderValue::from_str(c.header.expose())
                .map_err(|_| SessionFailure::Other("the stored credential is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        let config = StreamableHttpClientTransportConfig::with_uri(url.to_owned()).custom_headers(headers);
        let transport = StreamableHttpClientTransport::with_client(self.reqwest().clone(), config);
        let client = rmcp::model::ClientConfig::new(
            rmcp::model::ClientCapabilities::default(),
            rmcp::model::Implementation::new("latchkey-doctor", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(crate::session::PROTOCOL_VERSION);
        let running = client.serve(transport).await.map_err(|e| match e.auth_challenge() {
            Some(h) => SessionFailure::Challenge(h.to_owned()),
            None => SessionFailure::Other(e.to_string()),
        })?;
        let peer = running.peer().clone();
        let server = peer.peer_info().and_then(|i| i.server_info.as_ref().map(|s| s.name.clone()));
        let listed = peer.list_all_tools().await;
        let out = match listed {
            Ok(tools) => {
                let names: Vec<String> = tools.into_iter().map(|t| t.name.to_string()).collect();
                let mut sites = Vec::new();
                if names.iter().any(|n| n == "getAccessibleAtlassianResources") {
                    let params = rmcp::model::CallToolRequestParams::new("getAccessibleAtlassianResources");
                    if let Ok(result) = peer.call_tool(params).await {
                        sites = sites_from(&serde_json::to_value(&result).unwrap_or_default());
                    }
                }
                Ok((server, names, sites))
            }
            Err(e) => Err(match e.auth_challenge() {
                Some(h) => SessionFailure::Challenge(h.to_owned()),
                None => SessionFailure::Other(e.to_string()),
            }),
        };
        let _ = running.cancel().await;
        out
    }

    /// Each app set up for this connection, and the gateway their entries point at.
    pub(super) async fn doctor_clients(&self, conn: &Connection, env: &Env, latchkey: &std::path::Path) -> Vec<Finding> {
        let name = conn.name.as_str();
        let mut out = Vec::new();
        let url = match self.gateway_url(name) {
            Ok(u) => u,
            Err(e) => return vec![Finding::warn(CLIENTS, format!("Could not read Latchkey's settings: {e}"))],
        };
        let bindings = self.storage().load_cached().map(|s| s.bindings.clone()).unwrap_or_default();
        let expected = Expected { connection: name, url: &url, bridge: latchkey, local: conn.local.is_some() };
        let key_ok = |k: &str| self.verify_local_key(name, k).unwrap_or(false);
        let mut set_up = Vec::new();
        for app in latchkey_clients::all() {
            let bound = bindings.iter().any(|b| b.app == app.id && b.connection == name);
            let files = latchkey_clients::setup::inspect(app, env, &expected, &key_ok);
            if !bound && files.iter().all(|f| f.state == EntryState::Missing) {
                continue;
            }
            let add = format!("latchkey clients add {name} --client {}", app.id);
            let worst = files.iter().map(|f| &f.state).max_by_key(|s| severity(s)).cloned().unwrap_or(EntryState::Missing);
            let f = match worst {
                EntryState::Current => {
                    set_up.push(app.name);
                    Finding::ok(CLIENTS, format!("{} is set up for {name} and its entry is current.", app.name))
                }
                EntryState::Stale { reason } => {
                    set_up.push(app.name);
                    Finding::warn(CLIENTS, format!("{}'s entry for {name} is out of date: {reason}.", app.name)).action(format!("Run `{add}` to update it."))
                }
                EntryState::Missing => {
                    Finding::warn(CLIENTS, format!("{} was set up for {name}, but its entry is gone (the app may have rewritten its config).", app.name))
                        .action(format!("Run `{add}` to put it back (a running gateway does this on its own when \"keep apps set up\" is on)."))
                }
                EntryState::Broken { reason } => Finding::warn(CLIENTS, format!("{}'s config cannot be used: {reason}.", app.name))
                    .action(format!("Fix the file, or put back Latchkey's backup with `latchkey clients restore {}`, then run `{add}`.", app.id)),
                EntryState::Foreign => Finding::warn(CLIENTS, format!("{} has another server named {name} that Latchkey did not write.", app.name))
                    .action(format!("Run `{add} --force` to replace it with Latchkey's entry.")),
            };
            out.push(f);
        }
        if out.is_empty() {
            out.push(
                Finding::skipped(CLIENTS, format!("No app is set up to use {name} yet."))
                    .action(format!("Run `latchkey clients add {name}` to set up your AI apps.")),
            );
            return out;
        }
        if !set_up.is_empty() {
            out.push(self.check_gateway(&set_up).await);
        }
        out
    }

    pub(super) async fn check_gateway(&self, apps: &[&str]) -> Finding {
        let who = apps.join(", ");
        let start = "Start it: open the Latchkey app, or run `latchkey serve`.";
        let configured = self.gateway_port().unwrap_or(crate::model::DEFAULT_GATEWAY_PORT);
        let info =
            std::fs::read(self.storage().paths().config_dir.join("gateway.json")).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        let Some(port) = info.and_then(|v| v.get("port").and_then(serde_json::Value::as_u64)).and_then(|p| u16::try_from(p).ok()) else {
            return Finding::warn(GATEWAY, format!("The Latchkey gateway is not running, so {who} cannot reach this connection.")).action(start);
        };
        let reachable = matches!(tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(("127.0.0.1", port))).await, Ok(Ok(_)));
        if !reachable {
            return Finding::warn(
                GATEWAY,
                format!("The gateway last ran on 127.0.0.1:{port} but nothing answers there now, so {who} cannot reach this connection."),
            )
            .action(start);
        }
        if port != configured {
            return Finding::warn(GATEWAY, format!("The gateway runs on 127.0.0.1:{port}, but the apps are set up for port {configured}."))
                .action("Restart the gateway (`latchkey serve`) so it uses the saved port, or run `latchkey clients add` again.");
        }
        Finding::ok(GATEWAY, format!("The gateway is running on 127.0.0.1:{port}; {who} can reach it."))
    }
}

enum SessionFailure {
    Challenge(String),
    Other(String),
}
