//! VS Code: `<User>/mcp.json`, JSONC with a `servers` map (and `inputs`, left alone).

use std::path::PathBuf;

use serde_json::Value;

use super::{App, Stdio, Target, http_entry, stdio_entry};
use crate::env::Env;
use crate::format::{Container, Format};

fn config_paths(env: &Env) -> Vec<PathBuf> {
    vec![env.vscode_user_dir().join("mcp.json")]
}

fn installed(env: &Env) -> bool {
    env.vscode_user_dir().is_dir()
}

fn entry(t: &Target<'_>) -> Value {
    http_entry(Some("http"), "url", t)
}

pub const APP: App = App {
    id: "vscode",
    name: "VS Code",
    format: Format::Jsonc,
    container: Container::Map(&["servers"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "VS Code picks it up on its own; start the server from the MCP view if asked.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    stdio_entry(Some("stdio"), s)
}
