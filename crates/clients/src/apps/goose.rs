//! Goose: `config.yaml`, an `extensions` map of `{type: streamable_http, name, uri, headers,
//! enabled, timeout}`.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{App, Stdio, Target};
use crate::env::{Env, Os};
use crate::format::{Container, Format};

fn dir(env: &Env) -> PathBuf {
    match env.os {
        Os::Windows => env.app_config_dir().join("Block").join("goose").join("config"),
        _ => env.xdg_style_config_dir().join("goose"),
    }
}

fn config_paths(env: &Env) -> Vec<PathBuf> {
    vec![dir(env).join("config.yaml")]
}

fn installed(env: &Env) -> bool {
    dir(env).is_dir() || env.which("goose").is_some()
}

fn entry(t: &Target<'_>) -> Value {
    json!({
        "type": "streamable_http",
        "name": t.connection,
        "uri": t.url,
        "headers": { "Authorization": format!("Bearer {}", t.key) },
        "enabled": true,
        "timeout": 300,
    })
}

pub const APP: App = App {
    id: "goose",
    name: "Goose",
    format: Format::Yaml,
    container: Container::Map(&["extensions"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "Start a new Goose session to pick it up.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    json!({ "type": "stdio", "name": s.connection, "cmd": s.command.to_string_lossy(), "args": s.args, "enabled": true, "timeout": 300 })
}
