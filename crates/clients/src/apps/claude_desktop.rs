//! Claude Desktop: stdio only, so our entry runs `latchkey-bridge <connection>` by absolute
//! path with the local key in its environment. On Windows both the classic `%APPDATA%` file and
//! the MSIX (Store) package's redirected copy are written when the package exists, since the
//! app reads only one of them depending on how it was installed.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{App, Stdio, Target, stdio_entry};
use crate::env::{Env, Os};
use crate::format::{Container, Format};

const FILE: &str = "claude_desktop_config.json";
const MSIX_PACKAGE: &str = "Claude_pzs8sxrjxfjjc";

fn config_paths(env: &Env) -> Vec<PathBuf> {
    let classic = env.app_config_dir().join("Claude").join(FILE);
    let mut paths = vec![classic];
    if env.os == Os::Windows
        && let Some(local) = &env.localappdata
    {
        let package = local.join("Packages").join(MSIX_PACKAGE);
        if package.is_dir() {
            paths.push(package.join("LocalCache").join("Roaming").join("Claude").join(FILE));
        }
    }
    paths
}

fn installed(env: &Env) -> bool {
    config_paths(env).iter().any(|p| p.parent().is_some_and(|d| d.is_dir()))
}

fn entry(t: &Target<'_>) -> Value {
    json!({
        "command": super::bridge_exe(t.bridge).to_string_lossy(),
        "args": [t.connection],
        "env": { "LATCHKEY_KEY": t.key },
    })
}

pub const APP: App = App {
    id: "claude-desktop",
    name: "Claude Desktop",
    format: Format::Json,
    container: Container::Map(&["mcpServers"]),
    config_paths,
    installed,
    entry,
    stdio_entry: stdio,
    note: "Quit Claude Desktop from its tray icon and open it again to finish.",
    cli: None,
};

fn stdio(s: &Stdio<'_>) -> Value {
    stdio_entry(None, s)
}
