//! Codex CLI: `$CODEX_HOME/config.toml` (default `~/.codex`), `[mcp_servers.<name>]` with `url`
//! and `http_headers`.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{App, Stdio, Target, stdio_entry};
use crate::env::Env;
use crate::format::{Container, Format};

fn dir(env: &Env) -> PathBuf {
    env.codex_home.clone().unwrap_or_else(|| env.home.join(".codex"))
}

fn config_paths(env: &Env) -> Vec<PathBuf> {
    vec![dir(env).join("config.toml")]
}

fn installed(env: &Env) -> bool {
    dir(env).is_dir() || env.which("codex").is_some()
}

fn entry(t: &Target<'_>) -> Value {
    json!({ "url": t.url, "http_headers": { "Authorization": format!("Bearer {}", t.key) } })
}

pub const APP: App = App {
    id: "codex",
    name: "Codex CLI",
    format: Format::Toml,
    container: Container::Map(&["mcp_servers"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "Start a new Codex session to pick it up.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    stdio_entry(None, s)
}
