//! Zed: `settings.json` (JSONC with comments and trailing commas), `context_servers`.

use std::path::PathBuf;

use serde_json::Value;

use super::{App, Stdio, Target, http_entry, stdio_entry};
use crate::env::{Env, Os};
use crate::format::{Container, Format};

fn dir(env: &Env) -> PathBuf {
    match env.os {
        Os::Windows => env.app_config_dir().join("Zed"),
        _ => env.xdg_style_config_dir().join("zed"),
    }
}

fn config_paths(env: &Env) -> Vec<PathBuf> {
    vec![dir(env).join("settings.json")]
}

fn installed(env: &Env) -> bool {
    dir(env).is_dir()
}

fn entry(t: &Target<'_>) -> Value {
    http_entry(None, "url", t)
}

pub const APP: App = App {
    id: "zed",
    name: "Zed",
    format: Format::Jsonc,
    container: Container::Map(&["context_servers"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "Zed reloads its settings on its own.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    stdio_entry(None, s)
}
