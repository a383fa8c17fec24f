//! Unit tests for the MCP side of the fake: the 401 challenge, and initialize / tools/list /
//! tools/call / ping / notifications / sessions with a valid token.

use serde_json::{Value, json};

use super::tests_auth::{http, login};
use super::{FakeAtlassian, FakeOptions, FakeSite};

async fn rpc(fake: &FakeAtlassian, c: &reqwest::Client, at: &str, session: Option<&str>, msg: Value) -> reqwest::Response {
    let mut req = c.post(fake.mcp_url()).bearer_auth(at).header("accept", "application/json, text/event-stream").json(&msg);
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn unauthenticated_requests_get_the_resource_metadata_challenge() {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let c = http();
    let expected = format!("Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/v2/mcp\", error=\"invalid_token\"", fake.origin());
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}});
    let resp = c.post(fake.mcp_url()).json(&init).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"].to_str().unwrap(), expected);
    let resp = c.post(fake.mcp_url()).bearer_auth("at_bogus").json(&init).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"].to_str().unwrap(), expected);
    assert_eq!(fake.counters().unauthorized_mcp, 2);
    assert_eq!(fake.counters().mcp_requests, 0);
    fake.shutdown().await;
}

#[tokio::test]
async fn initialize_list_and_call_tools() {
    let mut opts = FakeOptions::default();
    opts.sites.push(FakeSite { cloud_id: "22222222-2222-2222-2222-222222222222".into(), name: "globex".into(), url: "https://globex.atlassian.net".into() });
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let c = http();
    let (_, tokens) = login(&fake, &c).await;
    let at = tokens["access_token"].as_str().unwrap();

    let resp = rpc(
        &fake,
        &c,
        at,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "latchkey", "version": "0"}}}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let session = resp.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["id"], 1);
    assert_eq!(body["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(body["result"]["serverInfo"], json!({"name": "fake-atlassian", "version": "1"}));
    assert_eq!(body["result"]["capabilities"], json!({"tools": {}}));

    let resp = rpc(
        &fake,
        &c,
        at,
        None,
        json!({"jsonrpc": "2.0", "id": 9, "method": "initialize",
        "params": {"protocolVersion": "1999-01-01"}}),
    )
    .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25");

    let s = Some(session.as_str());
    let resp = rpc(&fake, &c, at, s, json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
    assert_eq!(resp.status(), 202);
    assert!(resp.text().await.unwrap().is_empty());

    let body: Value = rpc(&fake, &c, at, s, json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})).await.json().await.unwrap();
    let tools = body["result"]["tools"].as_array().unwrap();
    assert!(tools.len() >= 5);
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for n in ["getAccessibleAtlassianResources", "atlassianUserInfo", "getJiraIssue", "searchConfluenceUsingCql", "createJiraIssue"] {
        assert!(names.contains(&n), "{n}");
    }
    let jira = tools.iter().find(|t| t["name"] == "getJiraIssue").unwrap();
    assert_eq!(jira["inputSchema"]["type"], "object");
    assert_eq!(jira["inputSchema"]["required"], json!(["cloudId", "issueIdOrKey"]));

    let call = |id: i64, name: &str, args: Value| json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": args}});
    let text = |v: &Value| -> Value { serde_json::from_str(v["result"]["content"][0]["text"].as_str().unwrap()).unwrap() };
    let body: Value = rpc(&fake, &c, at, s, call(3, "getAccessibleAtlassianResources", json!({}))).await.json().await.unwrap();
    // An OAuth grant is for one site: the consent granted the first (the default).
    let sites = text(&body);
    assert_eq!(sites.as_array().unwrap().len(), 1);
    assert_eq!(sites[0]["id"], "11111111-1111-1111-1111-111111111111");
    assert_eq!(sites[0]["name"], "acme");
    assert_eq!(sites[0]["url"], "https://acme.atlassian.net");
    assert!(sites[0]["scopes"].as_array().unwrap().contains(&json!("read:jira:agent-interface")));

    let body: Value = rpc(&fake, &c, at, s, call(4, "atlassianUserInfo", json!({}))).await.json().await.unwrap();
    assert_eq!(text(&body)["email"], "jane@acme.test");
    assert_eq!(text(&body)["name"], "Jane Doe");

    let body: Value = rpc(&fake, &c, at, s, call(5, "getJiraIssue", json!({"cloudId": "11111111-1111-1111-1111-111111111111", "issueIdOrKey": "PROJ-7"})))
        .await
        .json()
        .await
        .unwrap();
    let issue = text(&body);
    assert_eq!((issue["key"].as_str(), issue["cloudId"].as_str()), (Some("PROJ-7"), Some("11111111-1111-1111-1111-111111111111")));

    let body: Value = rpc(&fake, &c, at, s, call(6, "getJiraIssue", json!({"cloudId": "x", "issueIdOrKey": "A-1"}))).await.json().await.unwrap();
    assert_eq!(body["result"]["isError"], true);
    let body: Value = rpc(&fake, &c, at, s, call(7, "getJiraIssue", json!({"cloudId": "x"}))).await.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32602);
    let body: Value = rpc(&fake, &c, at, s, call(8, "deleteEverything", json!({}))).await.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32602);

    let body: Value = rpc(&fake, &c, at, s, json!({"jsonrpc": "2.0", "id": 10, "method": "ping"})).await.json().await.unwrap();
    assert_eq!(body["result"], json!({}));
    let body: Value = rpc(&fake, &c, at, s, json!({"jsonrpc": "2.0", "id": 11, "method": "resources/list"})).await.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32601);

    // GET has no SSE stream; DELETE ends the session, after which it is unknown (404).
    let resp = c.get(fake.mcp_url()).bearer_auth(at).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    let resp = c.delete(fake.mcp_url()).bearer_auth(at).header("mcp-session-id", &session).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = rpc(&fake, &c, at, s, json!({"jsonrpc": "2.0", "id": 12, "method": "ping"})).await;
    assert_eq!(resp.status(), 404);
    fake.shutdown().await;
}
