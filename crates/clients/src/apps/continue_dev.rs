//! Continue: `~/.continue/config.yaml`, where `mcpServers` is a *list* of entries named by
//! their `name` field.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{App, Stdio, Target};
use crate::env::Env;
use crate::format::{Container, Format};

fn config_paths(env: &Env) -> Vec<PathBuf> {
    vec![env.home.join(".continue").join("config.yaml")]
}

fn installed(env: &Env) -> bool {
    env.home.join(".continue").is_dir()
}

fn entry(t: &Target<'_>) -> Value {
    json!({
        "name": t.connection,
        "type": "streamable-http",
        "url": t.url,
        "requestOptions": { "headers": { "Authorization": format!("Bearer {}", t.key) } },
    })
}

pub const APP: App = App {
    id: "continue",
    name: "Continue",
    format: Format::Yaml,
    container: Container::List(&["mcpServers"], "name"),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "Continue reloads its config on its own.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    json!({ "name": s.connection, "type": "stdio", "command": s.command.to_string_lossy(), "args": s.args })
}
