//! The doctor's findings: pure functions that turn what a probe saw into one plain line, an
//! action and, where only an admin can act, a ready-to-send message.

use super::*;

pub(super) fn severity(s: &EntryState) -> u8 {
    match s {
        EntryState::Current => 0,
        EntryState::Stale { .. } => 2,
        EntryState::Missing => 1,
        EntryState::Foreign => 3,
        EntryState::Broken { .. } => 4,
    }
}

/// Ready-to-send text for an org admin when API-token access is off.
pub const API_TOKEN_ADMIN_MESSAGE: &str = "Hello, I would like to connect to the Atlassian Rovo MCP server with an API token (from Latchkey, a desktop app that connects AI assistants to Atlassian). The server answers that API token authentication is not enabled for our organization. Could you enable API-token authentication for the Rovo MCP server in Atlassian Administration (admin.atlassian.com, in the Rovo MCP server / security settings)? Thank you.";

pub(super) fn domain_rule_message(redirect_uri: &str) -> String {
    format!(
        "Hello, I use Latchkey, a desktop app that signs in to the Atlassian Rovo MCP server with OAuth. Sign-in stops with \"Your admin must authorize this redirect URL\" for {redirect_uri}. Could you allow these redirect URLs for the Latchkey client in our organization's domain rules in Atlassian Administration (admin.atlassian.com): http://127.0.0.1 and http://localhost (Latchkey listens on this computer only, on a fixed port; the two hosts count as different, so please allow both). Thank you."
    )
}

/// Whether a 401/403 body is the org's "API tokens are not enabled" answer.
pub(super) fn api_tokens_disabled(body: &[u8]) -> bool {
    crate::session::api_tokens_disabled(&String::from_utf8_lossy(body))
}

pub(super) fn discovery_findings(d: &Discovered, url: &Url) -> Vec<Finding> {
    let mut out = Vec::new();
    let asked = d.resource_metadata.as_ref().and_then(|m| m.authorization_servers.first()).map(|s| s.trim_end_matches('/').to_owned());
    let issuer = d.issuer().trim_end_matches('/');
    let quirk = asked.as_deref().is_some_and(|a| a != issuer);
    if let Some(w) = atlassian::endpoint_warning(url) {
        out.push(Finding::warn(DISCOVERY, w).action("Move the connection to https://mcp.atlassian.com/v2/mcp."));
    }
    if !d.auth_server.supports_s256() {
        out.push(
            Finding::fail(DISCOVERY, format!("The authorization server {issuer} does not offer PKCE (S256), which MCP requires."))
                .action("Tell the server's administrator; Latchkey cannot sign in safely without it."),
        );
    } else if quirk {
        out.push(
            Finding::warn(DISCOVERY, format!("Accepted Atlassian's known issuer bug: the authorization server {} names itself {issuer}.", asked.unwrap_or_default()))
                .action("Nothing to do: Latchkey accepts exactly this known Atlassian quirk (and logs it). Strict clients refuse it; Atlassian is expected to fix its metadata."),
        );
    } else {
        out.push(Finding::ok(DISCOVERY, format!("Found the authorization server {issuer}.")));
    }
    out
}

pub(super) fn discovery_failure(e: &OAuthError, conn: &Connection) -> Finding {
    let name = conn.name.as_str();
    match e {
        OAuthError::IssuerMismatch { expected, advertised } => {
            let bare_origin = Url::parse(expected)
                .ok()
                .is_some_and(|u| !u.path().trim_end_matches('/').is_empty() && u.origin().ascii_serialization() == advertised.trim_end_matches('/'));
            let f =
                Finding::fail(DISCOVERY, format!("The authorization server {expected} names itself {advertised}, so Latchkey refused it (issuer mismatch)."));
            if bare_origin {
                f.action(format!("This is Atlassian's known issuer bug. Connect with the Atlassian preset, which accepts exactly this quirk: `latchkey connect atlassian --url {}`.", conn.url))
            } else {
                f.action("This could be an impersonation or a misconfigured server; tell the server's administrator.")
            }
        }
        OAuthError::ResourceMismatch { advertised, .. } => {
            Finding::fail(DISCOVERY, format!("The server says it is {advertised}, which is not the URL you connected to; Latchkey will not send it a token."))
                .action("Check the URL; connect to the exact MCP endpoint the server names.")
        }
        OAuthError::BadMetadata { document, url, detail } => Finding::fail(DISCOVERY, format!("The server's {document} at {url} is not usable: {detail}."))
            .action("The server is misconfigured; tell its administrator."),
        OAuthError::Network { url, detail } => {
            let host = Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "the authorization server".into());
            let mut f = network_failure(e, &host, None);
            f.check = DISCOVERY;
            if f.summary.is_empty() {
                f.summary = detail.clone();
            }
            f
        }
        other => Finding::fail(DISCOVERY, other.to_string())
            .action(format!("Run `latchkey connect {name}` to see the full error; tell the server's administrator if it persists.")),
    }
}

pub(super) fn registration_finding(conn: &Connection, d: &Discovered) -> (Finding, bool) {
    let name = conn.name.as_str();
    let issuer = d.issuer().trim_end_matches('/');
    let Some(reg) = &conn.registration else {
        let can_register = conn.client.client_id.is_some()
            || d.auth_server.registration_endpoint.is_some()
            || (conn.client.client_metadata_url.is_some() && d.auth_server.client_id_metadata_document_supported == Some(true));
        if !can_register {
            return (
                Finding::fail(REGISTRATION, format!("The authorization server {issuer} offers no way for Latchkey to register (no dynamic client registration)."))
                    .action(format!("Ask the server's administrator for a client id, then run `latchkey connect {name} --client-id <id>`."))
                    .admin(format!("Hello, I would like to use Latchkey (a desktop MCP client) with {}. Its authorization server does not offer dynamic client registration. Could you register an OAuth client for Latchkey (public client, PKCE, redirect URLs http://127.0.0.1:<port>/callback and http://localhost:<port>/callback) and send me its client id? Thank you.", conn.url)),
                false,
            );
        }
        return (
            Finding::skipped(REGISTRATION, "Latchkey has not registered with this server yet; it does so at the first sign-in.")
                .action(format!("Run `latchkey connect {name}`.")),
            false,
        );
    };
    if reg.issuer.trim_end_matches('/') != issuer {
        return (
            Finding::warn(REGISTRATION, format!("Latchkey's client registration is for {}, but the server now uses {issuer}.", reg.issuer))
                .action(format!("Sign in again with `latchkey connect {name}`: Latchkey registers again with the new authorization server (stored client ids do not carry over).")),
            false,
        );
    }
    let port_uri = conn.redirect_port.map(|p| format!("http://127.0.0.1:{p}{}", latchkey_oauth::callback::CALLBACK_PATH));
    if reg.method == RegistrationMethod::Dynamic && port_uri.as_deref().is_some_and(|u| u != reg.redirect_uri) {
        return (
            Finding::warn(
                REGISTRATION,
                format!("Latchkey's client is registered for {} but this connection now signs in on {}.", reg.redirect_uri, port_uri.unwrap_or_default()),
            )
            .action(format!("Nothing to fix by hand: the next sign-in (`latchkey connect {name}`) registers again for the new port.")),
            true,
        );
    }
    if reg.method == RegistrationMethod::Dynamic && d.auth_server.registration_endpoint.is_none() {
        return (
            Finding::warn(REGISTRATION, "The authorization server no longer offers dynamic client registration; Latchkey's existing registration still works, but it cannot register again if it is lost.")
                .action("If sign-in ever fails with an unknown client, ask the server's administrator for a client id (`--client-id`)."),
            true,
        );
    }
    let how = match reg.method {
        RegistrationMethod::Dynamic => "registered itself",
        RegistrationMethod::PreRegistered => "uses the client id you were given",
        RegistrationMethod::ClientIdMetadataDocument => "uses its client metadata document",
    };
    (Finding::ok(REGISTRATION, format!("Latchkey {how} with {issuer} for the redirect URL {}.", reg.redirect_uri)), true)
}

/// The connection's redirect port must be free when the browser comes back.
pub(super) fn redirect_port_finding(conn: &Connection) -> Option<Finding> {
    let port = conn.redirect_port?;
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => {
            drop(l);
            None
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            Some(Finding::warn(REDIRECT, format!("Port {port}, where the browser returns after sign-in, is in use by another program right now.")).action(
                format!("Close the program using port {port} before you sign in, or just sign in: Latchkey then picks another port and registers it again."),
            ))
        }
        Err(e) => Some(
            Finding::warn(REDIRECT, format!("Could not listen on 127.0.0.1:{port} for the sign-in redirect: {e}."))
                .action("Check that local firewalls or security software allow programs to listen on 127.0.0.1."),
        ),
    }
}

pub(super) fn consent_from_state(conn: &Connection) -> Finding {
    match (&conn.state, &conn.scope) {
        (ConnState::New, _) => Finding::skipped(CONSENT, "No sign-in has completed yet, so there is no consent to check."),
        (_, Some(scope)) => Finding::ok(CONSENT, format!("You approved access at the last sign-in ({}).", products_in(scope))),
        (_, None) => Finding::ok(CONSENT, "You approved access at the last sign-in."),
    }
}

/// "Jira and Confluence", "Jira only", ... from a granted scope.
pub(super) fn products_in(scope: &str) -> String {
    let jira = scope.split(' ').any(|s| s.contains(":jira:"));
    let confluence = scope.split(' ').any(|s| s.contains(":confluence:"));
    match (jira, confluence) {
        (true, true) => "Jira and Confluence".into(),
        (true, false) => "Jira only, no Confluence".into(),
        (false, true) => "Confluence only, no Jira".into(),
        (false, false) => format!("no Jira or Confluence scopes: {scope}"),
    }
}

pub(super) fn tools_finding(conn: &Connection, server: Option<String>, tools: &[String], sites: &[String]) -> Finding {
    let name = conn.name.as_str();
    let n = tools.len();
    let from = server.map(|s| format!(" from {s}")).unwrap_or_default();
    let site_words = match sites.len() {
        0 => String::new(),
        1 => format!("; site: {}", sites[0]),
        _ => format!("; sites: {}", sites.join(", ")),
    };
    if n == 0 {
        return Finding::warn(TOOLS, format!("Connected{from}, but the server lists no tools."))
            .action("Check your product access with the site admin, or the scopes granted.");
    }
    let only_account = tools.iter().all(|t| ATLASSIAN_ACCOUNT_TOOLS.contains(&t.as_str()));
    if !only_account {
        return Finding::ok(TOOLS, format!("Connected{from}: {n} tools{site_words}."));
    }
    let list = tools.join(", ");
    match conn.auth {
        AuthKind::ApiTokenBasic | AuthKind::ApiTokenBearer => Finding::warn(TOOLS, format!("Connected but only {n} tools ({list}): the API token is unscoped (a classic token) or has no Jira or Confluence scopes."))
            .action(format!("Create a scoped API token with the Jira and Confluence scopes (id.atlassian.com → Security → API tokens → Create API token with scopes), then run `latchkey connect {name} --api-token` again.")),
        _ => {
            let granted = conn.scope.clone().unwrap_or_default();
            let has_products = granted.split(' ').any(|s| s.contains(":jira:") || s.contains(":confluence:"));
            if has_products {
                Finding::warn(TOOLS, format!("Connected but only {n} tools ({list}), although Jira/Confluence scopes were granted: your account may lack product access on this site."))
                    .action("Ask your site admin to check your Jira and Confluence product access for this site, then re-authenticate.")
            } else {
                let wanted = ["read:jira:agent-interface", "write:jira:agent-interface", "search:jira:agent-interface", "read:confluence:agent-interface", "write:confluence:agent-interface", "search:confluence:agent-interface"];
                let offered: Vec<String> = conn.discovered.as_ref().and_then(|d| d.resource_metadata.as_ref()).and_then(|m| m.scopes_supported.clone()).unwrap_or_default();
                let missing: Vec<&str> = wanted.iter().copied().filter(|w| offered.is_empty() || offered.iter().any(|o| o == w)).collect();
                let granted_words = if granted.is_empty() { "none recorded".to_owned() } else { granted };
                Finding::warn(TOOLS, format!("Connected but only {n} tools ({list}): the scopes granted have no Jira or Confluence access (missing {}; granted: {granted_words}).", missing.join(", ")))
                    .action(format!("Re-authenticate (`latchkey connect {name}`) and approve Jira and Confluence access on the consent screen; if they are not offered, ask your site admin for product access."))
            }
        }
    }
}

/// "acme (https://acme.atlassian.net)" for each site in a getAccessibleAtlassianResources result.
pub(super) fn sites_from(result: &serde_json::Value) -> Vec<String> {
    let Some(text) = result.pointer("/content/0/text").and_then(|t| t.as_str()) else { return Vec::new() };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else { return Vec::new() };
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let n = s.get("name").and_then(|x| x.as_str()).unwrap_or("?");
            match s.get("url").and_then(|x| x.as_str()) {
                Some(u) => format!("{n} ({u})"),
                None => n.to_owned(),
            }
        })
        .collect()
}

/// Classifies a transport failure: TLS (untrusted certificate, interception), DNS, refused,
/// timeout, or other.
pub(super) fn network_failure(e: &OAuthError, host: &str, proxy: Option<&str>) -> Finding {
    let detail = match e {
        OAuthError::Network { detail, .. } => detail.clone(),
        other => other.to_string(),
    };
    let lower = detail.to_lowercase();
    let via = proxy.map(|p| format!(" through the proxy {p}")).unwrap_or_default();
    let proxy_hint = match proxy {
        Some(p) => format!(" The proxy in use is {p} (from the HTTPS_PROXY / HTTP_PROXY environment); check it is right and running."),
        None => " No proxy is set; if your network needs one, set HTTPS_PROXY.".to_owned(),
    };
    if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("invalid peer certificate")
        || lower.contains("self signed")
        || lower.contains("self-signed")
    {
        return Finding::fail(NETWORK, format!("Could not make a secure connection to {host}{via}: its certificate is not trusted, which usually means something on your network inspects HTTPS traffic (TLS interception)."))
            .action("Ask IT to add the inspecting proxy's root certificate to this computer's trust store (Latchkey uses the operating system's trust store), or to exempt this host from inspection. Then run `latchkey doctor` again.")
            .admin(format!("Hello, Latchkey (a desktop app that connects AI assistants to Atlassian) cannot connect to https://{host}: the HTTPS certificate it receives is not trusted ({}). This looks like TLS inspection on our network. Could you add the inspection proxy's root certificate to the operating system's trust store on my computer, or exempt {host} from TLS inspection? Thank you.", first_clause(&detail)));
    }
    if lower.contains("dns")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
        || lower.contains("no such host")
        || lower.contains("nodename nor servname")
        || lower.contains("name resolution")
    {
        return Finding::fail(NETWORK, format!("Could not find {host}: the name does not resolve (DNS)."))
            .action(format!("Check the URL and your internet connection; if you use a VPN, connect it.{proxy_hint}"));
    }
    if lower.contains("timed out") || lower.contains("timeout") {
        return Finding::fail(NETWORK, format!("{host} did not answer in time{via}."))
            .action(format!("Check your internet connection and any firewall.{proxy_hint}"));
    }
    if lower.contains("refused") {
        return Finding::fail(NETWORK, format!("{host} refused the connection{via}."))
            .action(format!("Check the URL and port, and that the server is running.{proxy_hint}"));
    }
    if lower.contains("proxy") {
        return Finding::fail(NETWORK, format!("The proxy failed while connecting to {host}: {}.", first_clause(&detail))).action(proxy_hint.trim().to_owned());
    }
    Finding::fail(NETWORK, format!("Could not reach {host}{via}: {}.", first_clause(&detail))).action(format!("Check your internet connection.{proxy_hint}"))
}

/// The proxy reqwest uses for `url` (from the environment), without any credentials in it.
pub fn proxy_for(url: &Url) -> Option<String> {
    let var = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()));
    let raw = match url.scheme() {
        "https" => var(&["HTTPS_PROXY", "https_proxy"]),
        _ => var(&["HTTP_PROXY", "http_proxy"]),
    }
    .or_else(|| var(&["ALL_PROXY", "all_proxy"]))?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if let Some(no) = var(&["NO_PROXY", "no_proxy"]) {
        for entry in no.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()) {
            let e = entry.trim_start_matches('.');
            if entry == "*" || host == e || host.ends_with(&format!(".{e}")) {
                return None;
            }
        }
    }
    Some(match Url::parse(&raw) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string().trim_end_matches('/').to_owned()
        }
        Err(_) => "(a proxy from the environment)".to_owned(),
    })
}

/// A dummy PKCE challenge and state for the probe (never redeemed).
pub(super) fn dummy_pkce() -> (String, String) {
    use base64::Engine as _;
    use rand::Rng as _;
    use sha2::Digest as _;
    let bytes: [u8; 32] = rand::rng().random();
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let state: [u8; 16] = rand::rng().random();
    (challenge, format!("doctor-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(state)))
}

pub(super) fn strip_query(u: &str) -> &str {
    u.split(['?', '#']).next().unwrap_or(u).trim_end_matches('/')
}

pub(super) fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn first_clause(detail: &str) -> String {
    detail.lines().next().unwrap_or(detail).chars().take(240).collect()
}

pub(super) fn trim_period(s: &str) -> &str {
    s.trim().trim_end_matches('.')
}

pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "3 minutes", "2 hours", "5 days".
pub(super) fn duration_words(secs: u64) -> String {
    let plural = |n: u64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    match secs {
        0..60 => plural(secs, "second"),
        60..3600 => plural(secs / 60, "minute"),
        3600..86_400 => plural(secs / 3600, "hour"),
        _ => plural(secs / 86_400, "day"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_token_disabled_bodies_are_recognised() {
        assert!(api_tokens_disabled(br#"{"error":"api_token_auth_disabled","message":"x"}"#));
        assert!(api_tokens_disabled(b"API token authentication is not enabled for this organization."));
        assert!(!api_tokens_disabled(br#"{"error":"invalid_token"}"#));
    }

    #[test]
    fn tls_failures_are_told_apart() {
        let e = |d: &str| OAuthError::Network { url: "https://x".into(), detail: d.into() };
        let tls = network_failure(&e("error sending request: client error (Connect): invalid peer certificate: UnknownIssuer"), "x", None);
        assert!(tls.summary.contains("certificate") && tls.action.as_deref().unwrap().contains("trust store"), "{tls:?}");
        assert!(tls.admin_message.is_some());
        let dns = network_failure(&e("the connection failed: dns error: failed to lookup address information"), "x", None);
        assert!(dns.summary.contains("DNS"), "{dns:?}");
        let refused = network_failure(&e("the connection failed: tcp connect error: Connection refused (os error 111)"), "x", None);
        assert!(refused.summary.contains("refused"), "{refused:?}");
        let slow = network_failure(&e("the request timed out"), "x", Some("http://proxy:3128"));
        assert!(slow.summary.contains("did not answer") && slow.summary.contains("proxy"), "{slow:?}");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration_words(59), "59 seconds");
        assert_eq!(duration_words(3599), "59 minutes");
        assert_eq!(duration_words(7200), "2 hours");
    }
}
