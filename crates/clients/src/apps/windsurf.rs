//! Windsurf: `~/.codeium/windsurf/mcp_config.json`, `mcpServers`, `{serverUrl, headers}`.

use std::path::PathBuf;

use serde_json::Value;

use super::{App, Stdio, Target, http_entry, stdio_entry};
use crate::env::Env;
use crate::format::{Container, Format};

fn dir(env: &Env) -> PathBuf {
    env.home.join(".codeium").join("windsurf")
}

fn config_paths(env: &Env) -> Vec<PathBuf> {
    vec![dir(env).join("mcp_config.json")]
}

fn installed(env: &Env) -> bool {
    dir(env).is_dir()
}

fn entry(t: &Target<'_>) -> Value {
    http_entry(None, "serverUrl", t)
}

pub const APP: App = App {
    id: "windsurf",
    name: "Windsurf",
    format: Format::Json,
    container: Container::Map(&["mcpServers"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "Press Refresh in Windsurf's MCP settings.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    stdio_entry(None, s)
}
