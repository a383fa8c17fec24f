//! Claude Code: user scope is the top-level `mcpServers` of `~/.claude.json` (or
//! `$CLAUDE_CONFIG_DIR/.claude.json`). Claude Code rewrites that file often, so the caller
//! prefers `claude mcp add-json -s user` when the CLI is on PATH (see [`super::Cli`] and `setup::add`).

use std::path::PathBuf;

use serde_json::Value;

use super::{App, Cli, Stdio, Target, http_entry, stdio_entry};
use crate::env::Env;
use crate::format::{Container, Format};

fn config_paths(env: &Env) -> Vec<PathBuf> {
    match &env.claude_config_dir {
        Some(dir) => vec![dir.join(".claude.json")],
        None => vec![env.home.join(".claude.json")],
    }
}

fn installed(env: &Env) -> bool {
    config_paths(env).iter().any(|p| p.is_file()) || env.home.join(".claude").is_dir() || env.which("claude").is_some()
}

fn entry(t: &Target<'_>) -> Value {
    http_entry(Some("http"), "url", t)
}

pub const APP: App = App {
    id: "claude-code",
    name: "Claude Code",
    format: Format::Json,
    container: Container::Map(&["mcpServers"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "Start a new Claude Code session to pick it up.",
    cli: Some(Cli { program: "claude", add: cli_add, remove: cli_remove }),
};

fn cli_add(name: &str, entry_json: &str) -> Vec<String> {
    ["mcp", "add-json", "-s", "user", name, entry_json].map(String::from).to_vec()
}

fn cli_remove(name: &str) -> Vec<String> {
    ["mcp", "remove", "-s", "user", name].map(String::from).to_vec()
}

fn stdio(s: &Stdio<'_>) -> Value {
    stdio_entry(Some("stdio"), s)
}
