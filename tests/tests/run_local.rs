//! Atlassian Server / Data Center through `latchkey run`: the personal access token is checked
//! once against the server, kept in the keychain, handed to the local MCP server as an
//! environment variable, and written to no file under HOME (apps' configs included). Also the
//! generic `add-local` + `run` path for any stdio server.
//!
//! Uses the real CLI and the real keychain: runs only with LATCHKEY_KEYCHAIN_TESTS=1 (as
//! `scripts/test.sh` does, inside `scripts/with-keychain.sh`), after `cargo build -p latchkey-cli`.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;

const PAT: &str = "dc-pat-7f3a9c2e5b1d4e8f";

fn enabled() -> bool {
    if std::env::var("LATCHKEY_KEYCHAIN_TESTS").as_deref() == Ok("1") {
        return true;
    }
    eprintln!("skipped: set LATCHKEY_KEYCHAIN_TESTS=1 (needs a keychain session)");
    false
}

fn latchkey() -> PathBuf {
    latchkey_e2e::paths::debug_bin("latchkey", "latchkey-cli")
}

/// A Jira Data Center stand-in: `/rest/api/2/myself` answers only the right token.
async fn fake_jira() -> String {
    let app = axum::Router::new().route(
        "/rest/api/2/myself",
        get(|h: HeaderMap| async move {
            let ok = h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {PAT}"));
            if ok { (StatusCode::OK, r#"{"name":"jdoe","displayName":"Jane Doe"}"#) } else { (StatusCode::UNAUTHORIZED, r#"{"message":"unauthorized"}"#) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn cli(home: &Path) -> Command {
    let mut c = Command::new(latchkey());
    c.env("HOME", home)
        .env("LATCHKEY_CONFIG_DIR", home.join(".config/latchkey"))
        .env("PATH", "/usr/bin:/bin")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("LATCHKEY_API_TOKEN");
    c
}

fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            hits.extend(files_containing(&p, needle));
        } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes())) {
            hits.push(p);
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_center_token_reaches_the_server_and_no_file() {
    if !enabled() {
        return;
    }
    let jira = fake_jira().await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::create_dir_all(h.join(".cursor")).unwrap();
    std::fs::create_dir_all(h.join(".config/Claude")).unwrap();
    let name = format!("dc-{}", std::process::id());

    // A wrong token is refused at connect, and nothing is saved.
    let out = cli(h).args(["connect", "atlassian-dc", "--url", &jira, "--name", &name]).env("LATCHKEY_API_TOKEN", "wrong").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the personal access token"), "{}", String::from_utf8_lossy(&out.stderr));

    let out = cli(h).args(["connect", "atlassian-dc", "--url", &jira, "--name", &name]).env("LATCHKEY_API_TOKEN", PAT).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Jane Doe"));

    // The server sees the token and the URL in its environment.
    let seen = tempfile::tempdir().unwrap();
    let token_out = seen.path().join("token");
    let script = format!("printf %s \"$JIRA_PERSONAL_TOKEN\" > '{}'; printf %s \"$JIRA_URL\" > '{}.url'", token_out.display(), token_out.display());
    let status = cli(h).args(["run", &name, "--", "sh", "-c", &script]).status().unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&token_out).unwrap(), PAT);
    assert_eq!(std::fs::read_to_string(format!("{}.url", token_out.display())).unwrap(), jira);

    // Apps are set up to run `latchkey run <name>`, with no secret in their configs.
    let out = cli(h).args(["clients", "add", &name]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cursor = std::fs::read_to_string(h.join(".cursor/mcp.json")).unwrap();
    assert!(cursor.contains("\"run\"") && cursor.contains(&name), "{cursor}");
    let desktop = std::fs::read_to_string(h.join(".config/Claude/claude_desktop_config.json")).unwrap();
    assert!(desktop.contains("\"run\""), "{desktop}");

    assert_eq!(files_containing(h, PAT), Vec::<PathBuf>::new(), "the token is in no file under HOME");

    let out = cli(h).args(["logout", &name]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = cli(h).args(["run", &name, "--", "true"]).output().unwrap();
    assert!(!after.status.success(), "a removed connection cannot be run");
}

#[tokio::test]
async fn any_stdio_server_gets_its_secret_through_run() {
    if !enabled() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let name = format!("local-{}", std::process::id());
    let out = cli(h)
        .args(["add-local", &name, "--env", "MODE=demo", "--secret-env", "API_KEY", "--", "sh", "-c", "printf '%s/%s' \"$MODE\" \"$API_KEY\""])
        .env("LATCHKEY_SECRET_API_KEY", "s3cr3t-value")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = cli(h).args(["run", &name]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "demo/s3cr3t-value");
    assert!(files_containing(h, "s3cr3t-value").is_empty());
    assert!(cli(h).args(["logout", &name]).status().unwrap().success());
}
