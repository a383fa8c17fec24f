//! OAuth endpoints of the fake Atlassian: protected resource metadata (RFC 9728),
//! authorization server metadata (RFC 8414), dynamic client registration (RFC 7591),
//! `/authorize` with auto-consent, the token endpoint (PKCE, rotating refresh tokens with
//! reuse leeway and family revocation) and token revocation (RFC 7009).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::state::{AuthCode, CODE_TTL, Client, RefreshOutcome, pkce_s256, random_token};
use super::{SCOPES_SUPPORTED, Shared, TENANT};

type Ctx = State<Arc<Shared>>;

/// JSON response helper.
pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// OAuth error body `{error, error_description}`.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = json_response(status, json!({"error": error, "error_description": description}));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn parse_form(bytes: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

/// Fallback: everything not routed (including `/.well-known/openid-configuration`) is 404.
pub async fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, json!({"error": "not_found"}))
}

/// `GET /.well-known/oauth-protected-resource/v2/mcp`
pub async fn protected_resource_metadata(State(sh): Ctx) -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "resource": sh.mcp_url(),
            "authorization_servers": [sh.issuer()],
            "scopes_supported": SCOPES_SUPPORTED,
            "bearer_methods_supported": ["header"],
        }),
    )
}

/// `GET /.well-known/oauth-authorization-server/<TENANT>`
pub async fn authorization_server_metadata(State(sh): Ctx) -> Response {
    let issuer = sh.advertised_issuer(&sh.lock());
    let o = &sh.origin;
    json_response(
        StatusCode::OK,
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{o}/authorize"),
            "token_endpoint": format!("{o}/oauth/token"),
            "registration_endpoint": format!("{o}/{TENANT}/dcr/register"),
            "revocation_endpoint": format!("{o}/oauth/revoke"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
            "client_id_metadata_document_supported": true,
            "scopes_supported": SCOPES_SUPPORTED,
        }),
    )
}

/// Loopback redirect with an explicit port: `http://127.0.0.1:<port>/...` or `http://localhost:<port>/...`.
fn valid_redirect_uri(uri: &str) -> bool {
    let rest = uri.strip_prefix("http://127.0.0.1:").or_else(|| uri.strip_prefix("http://localhost:"));
    let Some(rest) = rest else { return false };
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    let port_ok = rest[..digits].parse::<u16>().is_ok_and(|p| p != 0);
    port_ok && rest[digits..].starts_with('/') && url::Url::parse(uri).is_ok()
}

/// `POST /<TENANT>/dcr/register` (RFC 7591).
pub async fn register(State(sh): Ctx, body: Bytes) -> Response {
    let bad = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_client_metadata", d);
    let Ok(meta) = serde_json::from_slice::<Value>(&body) else {
        return bad("request body is not a JSON object");
    };
    if !meta.is_object() {
        return bad("request body is not a JSON object");
    }
    let Some(uris) = meta.get("redirect_uris").and_then(Value::as_array) else {
        return bad("redirect_uris is required");
    };
    if uris.is_empty() {
        return bad("redirect_uris must not be empty");
    }
    let mut redirect_uris = Vec::new();
    for u in uris {
        match u.as_str() {
            Some(s) if valid_redirect_uri(s) => redirect_uris.push(s.to_string()),
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_redirect_uri",
                    &format!("redirect URI {u} is not allowed: use http://127.0.0.1:<port>/... or http://localhost:<port>/..."),
                );
            }
        }
    }
    let strings = |key: &str, default: &[&str]| -> Value {
        match meta.get(key).and_then(Value::as_array) {
            Some(a) if !a.is_empty() => Value::Array(a.clone()),
            _ => json!(default),
        }
    };
    let grant_types = strings("grant_types", &["authorization_code", "refresh_token"]);
    let response_types = strings("response_types", &["code"]);
    let client_name = meta.get("client_name").cloned().unwrap_or(Value::Null);
    let client_id = random_token("");
    let issued_at = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    {
        let mut st = sh.lock();
        st.clients.insert(client_id.clone(), Client { redirect_uris: redirect_uris.clone() });
        st.counters.registrations += 1;
    }
    json_response(
        StatusCode::CREATED,
        json!({
            "client_id": client_id,
            "client_id_issued_at": issued_at,
            "redirect_uris": redirect_uris,
            "token_endpoint_auth_method": "none",
            "grant_types": grant_types,
            "response_types": response_types,
            "client_name": client_name,
        }),
    )
}

fn error_page(message: &str) -> Response {
    let page = format!(
        "<!doctype html><html><head><title>Something went wrong</title></head>\
         <body><h1>Something went wrong</h1><p>{message}</p></body></html>"
    );
    (StatusCode::BAD_REQUEST, Html(page)).into_response()
}

fn redirect_to(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page("invalid redirect_uri");
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

/// `GET /authorize`: validates the request, then consents automatically (or, with
/// `interactive_consent`, shows the consent page with its site picker).
pub async fn authorize(State(sh): Ctx, RawQuery(query): RawQuery) -> Response {
    let q = parse_form(query.unwrap_or_default().as_bytes());
    decide(&sh, &q, false)
}

/// `GET /authorize/consent`: the consent page's form (the original request's parameters plus
/// `cloud_id` and `decision=approve|deny`). Validates like `/authorize`, then redirects.
pub async fn consent(State(sh): Ctx, RawQuery(query): RawQuery) -> Response {
    let q = parse_form(query.unwrap_or_default().as_bytes());
    decide(&sh, &q, true)
}

/// Minimal HTML escaping for text and attribute values.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The consent screen: a site picker and Approve / Deny, submitting to `/authorize/consent`.
fn consent_page(q: &HashMap<String, String>, sites: &[super::FakeSite], selected: &str, scope: &str) -> Response {
    let mut hidden = String::new();
    let mut keys: Vec<&String> = q.keys().filter(|k| *k != "cloud_id" && *k != "decision").collect();
    keys.sort();
    for k in keys {
        hidden.push_str(&format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(&q[k])));
    }
    let mut options = String::new();
    for s in sites {
        let sel = if s.cloud_id == selected { " selected" } else { "" };
        options.push_str(&format!("<option value=\"{}\"{sel}>{} ({})</option>", esc(&s.cloud_id), esc(&s.name), esc(&s.url)));
    }
    let page = format!(
        "<!doctype html><html><head><title>Authorize Latchkey</title></head><body>\
         <h1>Latchkey is requesting access to your Atlassian account</h1>\
         <p>Scopes: {}</p>\
         <form id=\"consent\" method=\"get\" action=\"/authorize/consent\">{hidden}\
         <label for=\"cloud_id\">Use app on</label> <select id=\"cloud_id\" name=\"cloud_id\">{options}</select>\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
         </form></body></html>",
        esc(scope)
    );
    (StatusCode::OK, Html(page)).into_response()
}

/// The shared body of `/authorize` and `/authorize/consent`.
fn decide(sh: &Shared, q: &HashMap<String, String>, consent_step: bool) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let mut st = sh.lock();
    if !consent_step {
        st.counters.authorizations += 1;
    }
    let client_id = get("client_id");
    let Some(client) = st.clients.get(client_id) else {
        return error_page("invalid client: the client_id is not registered");
    };
    let redirect_uri = get("redirect_uri");
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        return error_page("redirect_uri is not registered for client");
    }
    if let Some(rule) = st.opts.domain_rule.clone() {
        let host = url::Url::parse(redirect_uri).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        if !host.eq_ignore_ascii_case(&rule) {
            return error_page(&format!("{} ({}). Your organization only allows redirects to {}.", super::DOMAIN_RULE_MESSAGE, esc(redirect_uri), esc(&rule)));
        }
    }
    let iss = sh.advertised_issuer(&st);
    let state = get("state");
    let fail = |error: &str, desc: &str| {
        let mut p = vec![("error", error), ("error_description", desc)];
        if q.contains_key("state") {
            p.push(("state", state));
        }
        p.push(("iss", iss.as_str()));
        redirect_to(redirect_uri, &p)
    };
    match get("response_type") {
        "code" => {}
        "" => return fail("invalid_request", "response_type is required"),
        _ => {
            return fail("unsupported_response_type", "only response_type=code is supported");
        }
    }
    if get("code_challenge").is_empty() || get("code_challenge_method") != "S256" {
        return fail("invalid_request", "PKCE with code_challenge_method=S256 is required");
    }
    if get("resource") != sh.mcp_url() {
        return fail("invalid_target", "resource must be the MCP server URL");
    }
    if st.opts.deny_consent || (consent_step && get("decision") == "deny") {
        return fail("access_denied", "the user denied access");
    }
    // Unknown scopes are dropped; no scope at all means everything supported.
    let requested: Vec<&str> = get("scope").split(' ').filter(|s| !s.is_empty()).collect();
    let granted: Vec<&str> =
        if requested.is_empty() { SCOPES_SUPPORTED.to_vec() } else { requested.into_iter().filter(|s| SCOPES_SUPPORTED.contains(s)).collect() };
    let default_site = st.opts.consent_site.clone().or_else(|| st.opts.sites.first().map(|s| s.cloud_id.clone())).unwrap_or_default();
    if !consent_step && st.opts.interactive_consent {
        return consent_page(q, &st.opts.sites, &default_site, &granted.join(" "));
    }
    let cloud_id = if consent_step {
        let picked = get("cloud_id");
        if !st.opts.sites.iter().any(|s| s.cloud_id == picked) {
            return error_page("choose one of your sites");
        }
        picked.to_owned()
    } else {
        default_site
    };
    let code = random_token("code_");
    st.codes.insert(
        code.clone(),
        AuthCode {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            code_challenge: get("code_challenge").to_string(),
            resource: get("resource").to_string(),
            scope: granted.join(" "),
            cloud_id,
            issued_at: Instant::now(),
        },
    );
    let mut p = vec![("code", code.as_str())];
    if q.contains_key("state") {
        p.push(("state", state));
    }
    p.push(("iss", iss.as_str()));
    redirect_to(redirect_uri, &p)
}

/// The client id from the form body, or from HTTP Basic auth (`client_secret_basic`).
fn client_id_of(form: &HashMap<String, String>, headers: &HeaderMap) -> Option<String> {
    if let Some(id) = form.get("client_id").filter(|s| !s.is_empty()) {
        return Some(id.clone());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = auth.strip_prefix("Basic ").or_else(|| auth.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let id = decoded.split(':').next()?;
    let id = url::form_urlencoded::parse(format!("x={id}").as_bytes()).next()?.1.into_owned();
    (!id.is_empty()).then_some(id)
}

/// `POST /oauth/token`
pub async fn token(State(sh): Ctx, headers: HeaderMap, body: Bytes) -> Response {
    let form = parse_form(&body);
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    let resp = {
        let mut st = sh.lock();
        let client_id = client_id_of(&form, &headers);
        let known = client_id.as_ref().is_some_and(|id| st.clients.contains_key(id));
        let is_refresh = grant_type == "refresh_token";
        let resp = if !known {
            oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client_id")
        } else {
            let client_id = client_id.unwrap_or_default();
            match grant_type.as_str() {
                "authorization_code" => exchange_code(&sh, &mut st, &form, &client_id),
                "refresh_token" => refresh(&sh, &mut st, &form, &client_id),
                "" => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required"),
                _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"),
            }
        };
        if is_refresh {
            if resp.status().is_success() {
                st.counters.refreshes += 1;
            } else {
                st.counters.refresh_failures += 1;
            }
        } else if grant_type == "authorization_code" && resp.status().is_success() {
            st.counters.code_exchanges += 1;
        }
        resp
    };
    let latency = sh.lock().opts.token_latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    resp
}

fn token_ok(body: Value) -> Response {
    let mut resp = json_response(StatusCode::OK, body);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn exchange_code(sh: &Shared, st: &mut super::state::State, form: &HashMap<String, String>, client_id: &str) -> Response {
    let invalid = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", d);
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    // Single use: the code is consumed even if the checks below fail.
    let Some(code) = st.codes.remove(get("code")) else {
        return invalid("authorization code is invalid, expired or already used");
    };
    if code.issued_at.elapsed() > CODE_TTL {
        return invalid("authorization code expired");
    }
    if code.client_id != client_id {
        return invalid("authorization code was issued to another client");
    }
    if code.redirect_uri != get("redirect_uri") {
        return invalid("redirect_uri does not match the authorization request");
    }
    let verifier = get("code_verifier");
    if verifier.is_empty() {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "code_verifier is required");
    }
    if pkce_s256(verifier) != code.code_challenge {
        return invalid("PKCE verification failed");
    }
    if get("resource") != code.resource || code.resource != sh.mcp_url() {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_target", "resource must be the MCP server URL");
    }
    token_ok(st.start_family(&code))
}

fn refresh(sh: &Shared, st: &mut super::state::State, form: &HashMap<String, String>, client_id: &str) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if !get("resource").is_empty() && get("resource") != sh.mcp_url() {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_target", "resource must be the MCP server URL");
    }
    let rt = get("refresh_token");
    if rt.is_empty() {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "refresh_token is required");
    }
    match st.redeem_refresh(rt, client_id) {
        RefreshOutcome::Issued(body) => token_ok(body),
        RefreshOutcome::Invalid(d) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", d),
        RefreshOutcome::WrongClient => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "refresh token was issued to another client"),
    }
}

/// `POST /oauth/revoke` (RFC 7009): revokes the whole family of the token; always 200.
pub async fn revoke(State(sh): Ctx, body: Bytes) -> Response {
    let form = parse_form(&body);
    let Some(token) = form.get("token").filter(|t| !t.is_empty()) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "token is required");
    };
    let mut st = sh.lock();
    st.revoke_token(token);
    st.counters.revocations += 1;
    StatusCode::OK.into_response()
}
