//! Cline (VS Code extension): its own settings file in VS Code's global storage. Without
//! `type: streamableHttp` it would assume the legacy SSE transport.

use std::path::PathBuf;

use serde_json::Value;

use super::{App, Stdio, Target, http_entry, stdio_entry};
use crate::env::Env;
use crate::format::{Container, Format};

fn dir(env: &Env) -> PathBuf {
    env.vscode_user_dir().join("globalStorage").join("saoudrizwan.claude-dev")
}

fn config_paths(env: &Env) -> Vec<PathBuf> {
    vec![dir(env).join("settings").join("cline_mcp_settings.json")]
}

fn installed(env: &Env) -> bool {
    dir(env).is_dir()
}

fn entry(t: &Target<'_>) -> Value {
    http_entry(Some("streamableHttp"), "url", t)
}

pub const APP: App = App {
    id: "cline",
    name: "Cline",
    format: Format::Json,
    container: Container::Map(&["mcpServers"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "Cline reloads its MCP servers on its own.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    stdio_entry(Some("stdio"), s)
}
