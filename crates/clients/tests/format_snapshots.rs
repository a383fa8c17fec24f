//! Snapshots of fresh files and of merges into realistic existing files, one per
//! (format, container) the clients use.

use latchkey_clients::format::{Container, Format, remove_entry, upsert_entry};
use serde_json::{Value, json};

const MCP: Container = Container::Map(&["mcpServers"]);
const VSCODE: Container = Container::Map(&["servers"]);
const ZED: Container = Container::Map(&["context_servers"]);
const CODEX: Container = Container::Map(&["mcp_servers"]);
const GOOSE: Container = Container::Map(&["extensions"]);
const CONTINUE: Container = Container::List(&["mcpServers"], "name");

fn http() -> Value {
    json!({"type": "http", "url": "http://127.0.0.1:7420/mcp/atlassian", "headers": {"Authorization": "Bearer lk_local_ü"}})
}
fn codex() -> Value {
    json!({"url": "http://127.0.0.1:7420/mcp/atlassian", "http_headers": {"Authorization": "Bearer lk_local"}})
}
fn goose() -> Value {
    json!({"type": "streamable_http", "name": "atlassian", "uri": "http://127.0.0.1:7420/mcp/atlassian",
           "headers": {"Authorization": "Bearer lk_local"}, "enabled": true, "timeout": 300})
}
fn cont() -> Value {
    json!({"type": "streamable-http", "url": "http://127.0.0.1:7420/mcp/atlassian",
           "requestOptions": {"headers": {"Authorization": "Bearer lk_local"}}})
}

/// Upserts, checks idempotence and that remove restores `text`, returns the merged text.
fn merge(format: Format, text: &str, c: Container, entry: &Value) -> String {
    let out = upsert_entry(format, text, c, "atlassian", entry).unwrap();
    assert_eq!(upsert_entry(format, &out, c, "atlassian", entry).unwrap(), out);
    assert_eq!(remove_entry(format, &out, c, "atlassian").unwrap(), text);
    out
}

#[test]
fn fresh_files() {
    insta::assert_snapshot!("fresh_json_mcpservers", upsert_entry(Format::Json, "", MCP, "atlassian", &http()).unwrap());
    insta::assert_snapshot!("fresh_jsonc_vscode", upsert_entry(Format::Jsonc, "", VSCODE, "atlassian", &http()).unwrap());
    insta::assert_snapshot!("fresh_jsonc_zed", upsert_entry(Format::Jsonc, "\n", ZED, "atlassian", &http()).unwrap());
    insta::assert_snapshot!("fresh_toml_codex", upsert_entry(Format::Toml, "", CODEX, "atlassian", &codex()).unwrap());
    insta::assert_snapshot!("fresh_yaml_goose", upsert_entry(Format::Yaml, "", GOOSE, "atlassian", &goose()).unwrap());
    insta::assert_snapshot!("fresh_yaml_continue", upsert_entry(Format::Yaml, "", CONTINUE, "atlassian", &cont()).unwrap());
}

#[test]
fn merge_json_claude_desktop() {
    let text = r#"{
    "globalShortcut": "Ctrl+Space",
    "mcpServers": {
        "filesystem": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/zoë/Desktop"]
        }
    },
    "unknownFutureKey": {"nested": [1, 2, 3]}
}
"#;
    insta::assert_snapshot!(merge(Format::Json, text, MCP, &http()));
}

#[test]
fn merge_jsonc_vscode() {
    let text = r#"// VS Code MCP servers
{
	"inputs": [
		{ "type": "promptString", "id": "token", "password": true },
	],
	"servers": {
		/* GitHub, via Docker */
		"github": {
			"command": "docker",
			"args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"], // pinned
		},
	},
}
"#;
    insta::assert_snapshot!(merge(Format::Jsonc, text, VSCODE, &http()));
}

#[test]
fn merge_jsonc_zed() {
    let text = r#"// Zed settings
//
// For information on how to configure Zed, see the Zed
// documentation: https://zed.dev/docs/configuring-zed
{
  "theme": "One Dark",
  "vim_mode": true, // modal editing
  "context_servers": {
    "postgres": {
      "command": { "path": "npx", "args": ["-y", "@zeddev/postgres"] },
      "settings": {},
    },
  },
  "languages": { "Rust": { "tab_size": 4 } },
}
"#;
    insta::assert_snapshot!(merge(Format::Jsonc, text, ZED, &http()));
}

#[test]
fn merge_toml_codex() {
    let text = r#"# Codex configuration
model = "o3"  # default model
approval_policy = "on-request"

[mcp_servers.docs]
command = "docs-server"
args = ["--port", "4000"]
env = { "API_KEY" = "value" }

# Profiles below
[profiles.fast]
model = "gpt-4o-mini" # Ünïcode comment
"#;
    insta::assert_snapshot!(merge(Format::Toml, text, CODEX, &codex()));
}

#[test]
fn merge_yaml_goose() {
    let text = r#"# Goose config
GOOSE_PROVIDER: anthropic
GOOSE_MODEL: claude-sonnet-4
extensions:
  developer:
    bundled: true
    display_name: Developer
    enabled: true
    name: developer
    timeout: 300
    type: builtin
  # memory is off for now
  memory:
    enabled: false
    name: memory
    type: builtin
GOOSE_MODE: smart_approve # ask before acting
"#;
    insta::assert_snapshot!(merge(Format::Yaml, text, GOOSE, &goose()));
}

#[test]
fn merge_yaml_continue() {
    let text = r#"name: My Config
version: 0.0.1
schema: v1

models:
  - name: Claude
    provider: anthropic
    model: claude-sonnet-4
    apiKey: ${{ secrets.ANTHROPIC_API_KEY }}

mcpServers:
  # local SQLite browser
  - name: SQLite
    command: npx
    args:
      - -y
      - mcp-sqlite
      - /home/zoë/db.sqlite

rules:
  - Always answer in English
"#;
    insta::assert_snapshot!(merge(Format::Yaml, text, CONTINUE, &cont()));
}
