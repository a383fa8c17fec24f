//! LM Studio: `~/.lmstudio/mcp.json`, `mcpServers`, `{url, headers}`.

use std::path::PathBuf;

use serde_json::Value;

use super::{App, Stdio, Target, http_entry, stdio_entry};
use crate::env::Env;
use crate::format::{Container, Format};

fn config_paths(env: &Env) -> Vec<PathBuf> {
    vec![env.home.join(".lmstudio").join("mcp.json")]
}

fn installed(env: &Env) -> bool {
    env.home.join(".lmstudio").is_dir()
}

fn entry(t: &Target<'_>) -> Value {
    http_entry(None, "url", t)
}

pub const APP: App = App {
    id: "lm-studio",
    name: "LM Studio",
    format: Format::Json,
    container: Container::Map(&["mcpServers"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "LM Studio picks it up on its own.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    stdio_entry(None, s)
}
