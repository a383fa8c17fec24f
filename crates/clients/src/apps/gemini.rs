//! Gemini CLI: `~/.gemini/settings.json` (JSONC), `mcpServers`. Streamable HTTP is `httpUrl`;
//! a bare `url` would mean SSE.

use std::path::PathBuf;

use serde_json::Value;

use super::{App, Stdio, Target, http_entry, stdio_entry};
use crate::env::Env;
use crate::format::{Container, Format};

fn config_paths(env: &Env) -> Vec<PathBuf> {
    vec![env.home.join(".gemini").join("settings.json")]
}

fn installed(env: &Env) -> bool {
    env.home.join(".gemini").is_dir() || env.which("gemini").is_some()
}

fn entry(t: &Target<'_>) -> Value {
    http_entry(None, "httpUrl", t)
}

pub const APP: App = App {
    id: "gemini",
    name: "Gemini CLI",
    format: Format::Jsonc,
    container: Container::Map(&["mcpServers"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "Start a new Gemini CLI session to pick it up.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    stdio_entry(None, s)
}
