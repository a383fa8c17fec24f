//! Cursor: `~/.cursor/mcp.json`, `mcpServers`, `{url, headers}` on every OS.

use std::path::PathBuf;

use serde_json::Value;

use super::{App, Stdio, Target, http_entry, stdio_entry};
use crate::env::Env;
use crate::format::{Container, Format};

fn config_paths(env: &Env) -> Vec<PathBuf> {
    vec![env.home.join(".cursor").join("mcp.json")]
}

fn installed(env: &Env) -> bool {
    env.home.join(".cursor").is_dir()
}

fn entry(t: &Target<'_>) -> Value {
    http_entry(None, "url", t)
}

pub const APP: App = App {
    id: "cursor",
    name: "Cursor",
    format: Format::Json,
    container: Container::Map(&["mcpServers"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "Cursor picks it up on its own; check Settings → MCP.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    stdio_entry(None, s)
}
