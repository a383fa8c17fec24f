//! The fake Rovo MCP endpoint (`/v2/mcp`): bearer-token checking with an RFC 9728 challenge,
//! and a minimal MCP Streamable HTTP server (JSON responses, no SSE) exposing a handful of
//! Atlassian-shaped tools.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::auth::json_response;
use super::state::random_token;
use super::{FakeSite, Shared};

type Ctx = State<Arc<Shared>>;

const SESSION_HEADER: &str = "mcp-session-id";
const PROTOCOL_VERSIONS: [&str; 3] = ["2025-03-26", "2025-06-18", "2025-11-25"];
const LATEST_PROTOCOL: &str = "2025-11-25";

/// Result of checking the `Authorization` header.
enum Auth {
    Ok(Grant),
    Denied(Response),
}

/// What an accepted credential may do.
#[derive(Clone, Debug)]
struct Grant {
    scope: String,
    /// The one site an OAuth grant is for; `None` for API tokens (not bound to a site).
    cloud_id: Option<String>,
    /// Only the two account tools are visible.
    limited: bool,
}

/// Whether a scope string grants any Jira or Confluence product scope.
fn has_product_scope(scope: &str) -> bool {
    scope.split(' ').any(|s| s.contains(":jira:") || s.contains(":confluence:"))
}

fn unauthorized(sh: &Shared, body: Value) -> Response {
    let challenge = format!("Bearer resource_metadata=\"{}\", error=\"invalid_token\"", sh.resource_metadata_url());
    let mut resp = json_response(StatusCode::UNAUTHORIZED, body);
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// The body of a `401` for an API-token request when the org has not enabled them.
fn api_tokens_disabled() -> Value {
    json!({"error": super::API_TOKEN_DISABLED_ERROR, "message": super::API_TOKEN_DISABLED_MESSAGE})
}

fn check_bearer(sh: &Shared, headers: &HeaderMap) -> Auth {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let bearer = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map(str::trim);
    let basic = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")).map(str::trim);
    let mut st = sh.lock();
    let full = super::SCOPES_SUPPORTED.join(" ");
    let mut api_token = false;
    let grant = if let Some(f) = bearer.and_then(|t| st.valid_access_family(t)) {
        let fam = &st.families[&f];
        Some(Grant { scope: fam.scope.clone(), cloud_id: Some(fam.cloud_id.clone()), limited: !has_product_scope(&fam.scope) })
    } else if let Some(b64) = basic {
        api_token = true;
        let decoded = base64::engine::general_purpose::STANDARD.decode(b64).ok().and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
        let ok = st.opts.api_token_basic.as_ref().is_some_and(|(email, token)| decoded == format!("{email}:{token}"));
        ok.then(|| Grant { scope: full.clone(), cloud_id: None, limited: false })
    } else if bearer.is_some_and(|t| st.opts.service_key.as_deref() == Some(t)) {
        api_token = true;
        Some(Grant { scope: full.clone(), cloud_id: None, limited: false })
    } else {
        None
    };
    if api_token && !st.opts.api_tokens_enabled {
        st.counters.unauthorized_mcp += 1;
        return Auth::Denied(unauthorized(sh, api_tokens_disabled()));
    }
    match grant {
        Some(mut g) => {
            st.counters.mcp_requests += 1;
            g.limited |= st.opts.scope_limited;
            Auth::Ok(g)
        }
        None => {
            st.counters.unauthorized_mcp += 1;
            Auth::Denied(unauthorized(sh, json!({"error": "invalid_token", "error_description": "missing, invalid or expired access token"})))
        }
    }
}

/// `GET /v2/mcp`: no server-initiated SSE stream is offered.
pub async fn get_mcp(State(sh): Ctx, headers: HeaderMap) -> Response {
    if let Auth::Denied(r) = check_bearer(&sh, &headers) {
        return r;
    }
    StatusCode::METHOD_NOT_ALLOWED.into_response()
}

/// `DELETE /v2/mcp`: terminates the session named by `Mcp-Session-Id`.
pub async fn delete_mcp(State(sh): Ctx, headers: HeaderMap) -> Response {
    if let Auth::Denied(r) = check_bearer(&sh, &headers) {
        return r;
    }
    if let Some(id) = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()) {
        sh.lock().sessions.remove(id);
    }
    StatusCode::OK.into_response()
}

fn rpc_result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn rpc_error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// `POST /v2/mcp`: one JSON-RPC message per request.
pub async fn post_mcp(State(sh): Ctx, headers: HeaderMap, body: Bytes) -> Response {
    let grant = match check_bearer(&sh, &headers) {
        Auth::Ok(g) => g,
        Auth::Denied(r) => return r,
    };
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return json_response(StatusCode::BAD_REQUEST, rpc_error(&Value::Null, -32700, "Parse error"));
    };
    if !msg.is_object() {
        return json_response(StatusCode::BAD_REQUEST, rpc_error(&Value::Null, -32600, "Invalid Request: expected a single JSON-RPC object"));
    }
    let session = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok());
    let method = msg.get("method").and_then(Value::as_str);
    let id = msg.get("id").cloned();
    // An unknown (e.g. deleted) session id is 404; a missing one is tolerated.
    if method != Some("initialize")
        && let Some(s) = session
        && !sh.lock().sessions.contains(s)
    {
        return json_response(StatusCode::NOT_FOUND, rpc_error(&id.unwrap_or(Value::Null), -32001, "Session not found"));
    }
    let (Some(method), Some(id)) = (method, id) else {
        // A notification or a response from the client.
        return StatusCode::ACCEPTED.into_response();
    };
    let params = msg.get("params").cloned().unwrap_or(Value::Null);
    let body = match method {
        "initialize" => {
            let requested = params.get("protocolVersion").and_then(Value::as_str).unwrap_or("");
            let version = if PROTOCOL_VERSIONS.contains(&requested) { requested } else { LATEST_PROTOCOL };
            let session_id = random_token("sess_");
            sh.lock().sessions.insert(session_id.clone());
            let body = rpc_result(
                &id,
                json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "fake-atlassian", "version": "1"},
                }),
            );
            let mut resp = json_response(StatusCode::OK, body);
            if let Ok(v) = HeaderValue::from_str(&session_id) {
                resp.headers_mut().insert(SESSION_HEADER, v);
            }
            return resp;
        }
        "ping" => rpc_result(&id, json!({})),
        "tools/list" => rpc_result(&id, json!({"tools": visible_tools(grant.limited)})),
        "tools/call" => {
            // An OAuth grant is for one site; an API token is not bound to a site.
            let sites: Vec<FakeSite> = sh.lock().opts.sites.iter().filter(|s| grant.cloud_id.as_ref().is_none_or(|c| *c == s.cloud_id)).cloned().collect();
            match call_tool(&params, &sites, &grant.scope, grant.limited) {
                Ok(result) => rpc_result(&id, result),
                Err(message) => rpc_error(&id, -32602, &message),
            }
        }
        _ => rpc_error(&id, -32601, &format!("Method not found: {method}")),
    };
    json_response(StatusCode::OK, body)
}

/// The tools a grant sees: all of them, or only the two account tools when limited.
fn visible_tools(limited: bool) -> Value {
    let all = tool_list();
    if !limited {
        return all;
    }
    Value::Array(all.as_array().into_iter().flatten().filter(|t| super::ACCOUNT_TOOLS.iter().any(|n| t["name"] == *n)).cloned().collect())
}

fn object_schema(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required})
}

/// Tool definitions shaped like Atlassian's.
pub fn tool_list() -> Value {
    let cloud = json!({"type": "string", "description": "Atlassian site cloudId (see getAccessibleAtlassianResources)"});
    json!([
        {
            "name": "getAccessibleAtlassianResources",
            "description": "Get the cloudId and details of the Atlassian sites this grant can access.",
            "inputSchema": object_schema(json!({}), &[]),
        },
        {
            "name": "atlassianUserInfo",
            "description": "Get the current user's account id, name and email.",
            "inputSchema": object_schema(json!({}), &[]),
        },
        {
            "name": "getJiraIssue",
            "description": "Get the details of a Jira issue by id or key.",
            "inputSchema": object_schema(
                json!({"cloudId": cloud, "issueIdOrKey": {"type": "string"},
                       "fields": {"type": "array", "items": {"type": "string"}}}),
                &["cloudId", "issueIdOrKey"],
            ),
        },
        {
            "name": "searchJiraIssuesUsingJql",
            "description": "Search Jira issues with JQL.",
            "inputSchema": object_schema(
                json!({"cloudId": cloud, "jql": {"type": "string"}, "maxResults": {"type": "number"}}),
                &["cloudId", "jql"],
            ),
        },
        {
            "name": "createJiraIssue",
            "description": "Create a Jira issue.",
            "inputSchema": object_schema(
                json!({"cloudId": cloud, "projectKey": {"type": "string"}, "issueTypeName": {"type": "string"},
                       "summary": {"type": "string"}, "description": {"type": "string"}}),
                &["cloudId", "projectKey", "issueTypeName", "summary"],
            ),
        },
        {
            "name": "searchConfluenceUsingCql",
            "description": "Search Confluence content with CQL.",
            "inputSchema": object_schema(
                json!({"cloudId": cloud, "cql": {"type": "string"}, "limit": {"type": "number"}}),
                &["cloudId", "cql"],
            ),
        },
        {
            "name": "getConfluencePage",
            "description": "Get a Confluence page by id.",
            "inputSchema": object_schema(
                json!({"cloudId": cloud, "pageId": {"type": "string"}}),
                &["cloudId", "pageId"],
            ),
        },
    ])
}

fn text_result(value: &Value) -> Value {
    json!({"content": [{"type": "text", "text": value.to_string()}], "isError": false})
}

fn tool_error(message: &str) -> Value {
    json!({"content": [{"type": "text", "text": message}], "isError": true})
}

/// Runs a tool. `Err` becomes a JSON-RPC `-32602` error (unknown tool, missing arguments);
/// a tool-level failure (e.g. an inaccessible cloudId) is an `isError` result.
fn call_tool(params: &Value, sites: &[FakeSite], scope: &str, limited: bool) -> Result<Value, String> {
    let name = params.get("name").and_then(Value::as_str).unwrap_or("");
    let args = params.get("arguments").cloned().unwrap_or_else(|| json!({}));
    let arg = |k: &str| -> Result<String, String> {
        match args.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(v) if v.is_number() => Ok(v.to_string()),
            _ => Err(format!("Invalid arguments for tool {name}: missing required argument {k}")),
        }
    };
    let scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
    let tools = visible_tools(limited);
    let Some(tool) = tools.as_array().and_then(|t| t.iter().find(|t| t["name"] == name)) else {
        return Err(format!("Unknown tool: {name}"));
    };
    // Every required argument must be present before anything else is looked at.
    for k in tool["inputSchema"]["required"].as_array().into_iter().flatten() {
        arg(k.as_str().unwrap_or_default())?;
    }
    let site = if tool["inputSchema"]["properties"].get("cloudId").is_some() {
        let cloud_id = arg("cloudId")?;
        match sites.iter().find(|s| s.cloud_id == cloud_id) {
            Some(s) => Some(s.clone()),
            None => {
                return Ok(tool_error(&format!("cloudId {cloud_id} is not accessible with this grant")));
            }
        }
    } else {
        None
    };
    let site_url = site.as_ref().map(|s| s.url.clone()).unwrap_or_default();
    let value = match name {
        "getAccessibleAtlassianResources" => {
            Value::Array(sites.iter().map(|s| json!({"id": s.cloud_id, "name": s.name, "url": s.url, "scopes": scopes})).collect())
        }
        "atlassianUserInfo" => json!({
            "account_id": "712020:0f3c9e1a-5b2d-4c8e-9a7f-1d2e3f4a5b6c",
            "name": "Jane Doe",
            "email": "jane@acme.test",
        }),
        "getJiraIssue" => {
            let key = arg("issueIdOrKey")?;
            json!({
                "id": "10001",
                "key": key,
                "cloudId": site.as_ref().map(|s| s.cloud_id.clone()),
                "self": format!("{site_url}/rest/api/3/issue/{key}"),
                "fields": {"summary": format!("Fake issue {key}"), "status": {"name": "To Do"},
                           "issuetype": {"name": "Task"}, "assignee": {"displayName": "Jane Doe"}},
            })
        }
        "searchJiraIssuesUsingJql" => {
            let jql = arg("jql")?;
            json!({"jql": jql, "total": 1, "issues": [{"id": "10001", "key": "PROJ-1",
                   "fields": {"summary": "Fake issue PROJ-1"}}]})
        }
        "createJiraIssue" => {
            let project = arg("projectKey")?;
            arg("issueTypeName")?;
            arg("summary")?;
            let key = format!("{project}-124");
            json!({"id": "10124", "key": key, "self": format!("{site_url}/rest/api/3/issue/10124")})
        }
        "searchConfluenceUsingCql" => {
            let cql = arg("cql")?;
            json!({"cql": cql, "size": 1, "results": [{"content": {"id": "65537", "type": "page",
                   "title": "Team handbook"}, "url": format!("{site_url}/wiki/spaces/TEAM/pages/65537")}]})
        }
        "getConfluencePage" => {
            let id = arg("pageId")?;
            json!({"id": id, "title": "Team handbook", "body": "Welcome to the team."})
        }
        _ => return Err(format!("Unknown tool: {name}")),
    };
    Ok(text_result(&value))
}
