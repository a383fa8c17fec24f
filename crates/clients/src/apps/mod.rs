//! One module per MCP client: where its config lives on each OS, whether it is installed, and
//! the shape of our entry. Formats and quirks come from shared/CLIENTS.md.

use std::path::PathBuf;

use serde_json::Value;

use crate::env::Env;
use crate::format::{Container, Format};

pub mod claude_code;
pub mod claude_desktop;
pub mod cline;
pub mod codex;
pub mod continue_dev;
pub mod cursor;
pub mod gemini;
pub mod goose;
pub mod lm_studio;
pub mod vscode;
pub mod windsurf;
pub mod zed;

/// What our entry must point at.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub connection: &'a str,
    /// `http://127.0.0.1:<port>/mcp/<connection>`.
    pub url: &'a str,
    /// The client's local key (`lk_…`).
    pub key: &'a str,
    /// Absolute path of the `latchkey` executable. Stdio-only clients run the small
    /// `latchkey-bridge` beside it ([`bridge_exe`]).
    pub bridge: &'a std::path::Path,
}

/// The small stdio bridge that ships beside `latchkey` (`latchkey-bridge`, `.exe` on Windows).
/// It relays to the running gateway and hands over to `latchkey bridge` when none runs.
pub fn bridge_exe(latchkey: &std::path::Path) -> std::path::PathBuf {
    let ext = latchkey.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    latchkey.with_file_name(format!("latchkey-bridge{ext}"))
}

/// A local command for stdio entries.
#[derive(Debug, Clone)]
pub struct Stdio<'a> {
    pub connection: &'a str,
    pub command: &'a std::path::Path,
    pub args: &'a [String],
}

/// The usual stdio entry: `{<type>, command, args}`.
pub(crate) fn stdio_entry(kind: Option<&str>, s: &Stdio<'_>) -> Value {
    let mut m = serde_json::Map::new();
    if let Some(k) = kind {
        m.insert("type".into(), Value::from(k));
    }
    m.insert("command".into(), Value::from(s.command.to_string_lossy().into_owned()));
    m.insert("args".into(), Value::from(s.args.to_vec()));
    Value::Object(m)
}

/// Everything Latchkey knows about one client.
#[derive(Debug, Clone, Copy)]
pub struct App {
    /// Stable id, used on the command line (`--client cursor`) and as the key label.
    pub id: &'static str,
    pub name: &'static str,
    pub format: Format,
    pub container: Container,
    /// The config files to write (usually one; Claude Desktop on Windows may have two).
    pub config_paths: fn(&Env) -> Vec<PathBuf>,
    pub installed: fn(&Env) -> bool,
    pub entry: fn(&Target<'_>) -> Value,
    /// The entry for a local stdio server run by `latchkey run <connection>` (Data Center).
    pub stdio_entry: fn(&Stdio<'_>) -> Value,
    /// What the user must do after setup, in plain words.
    pub note: &'static str,
    /// The app's own command-line tool, preferred over editing its file when it is on PATH
    /// (Claude Code rewrites its file constantly, so its CLI is the safe writer).
    pub cli: Option<Cli>,
}

/// An app's own command for adding and removing MCP servers.
#[derive(Debug, Clone, Copy)]
pub struct Cli {
    pub program: &'static str,
    /// Arguments that add `name` with the JSON entry.
    pub add: fn(name: &str, entry_json: &str) -> Vec<String>,
    /// Arguments that remove `name`.
    pub remove: fn(name: &str) -> Vec<String>,
}

/// Every supported client, in the order the UI lists them.
pub fn all() -> &'static [App] {
    static ALL: [App; 12] = [
        claude_desktop::APP,
        claude_code::APP,
        cursor::APP,
        vscode::APP,
        windsurf::APP,
        zed::APP,
        cline::APP,
        gemini::APP,
        codex::APP,
        goose::APP,
        continue_dev::APP,
        lm_studio::APP,
    ];
    &ALL
}

/// The client with this id.
pub fn by_id(id: &str) -> Option<&'static App> {
    all().iter().find(|a| a.id == id)
}

/// The usual HTTP entry: `{<type>, <url_key>: url, headers: {Authorization: Bearer key}}`.
pub(crate) fn http_entry(kind: Option<&str>, url_key: &str, t: &Target<'_>) -> Value {
    let mut m = serde_json::Map::new();
    if let Some(k) = kind {
        m.insert("type".into(), Value::from(k));
    }
    m.insert(url_key.into(), Value::from(t.url));
    m.insert("headers".into(), serde_json::json!({ "Authorization": format!("Bearer {}", t.key) }));
    Value::Object(m)
}

/// Whether an existing entry was written by Latchkey: it points at a loopback `/mcp/` URL, or
/// runs `latchkey-bridge`, `latchkey bridge` (written by earlier versions) or `latchkey run`.
pub fn is_ours(entry: &Value) -> bool {
    let url = ["url", "serverUrl", "httpUrl", "uri"].iter().find_map(|k| entry.get(*k)).and_then(Value::as_str);
    if let Some(u) = url {
        return (u.starts_with("http://127.0.0.1:") || u.starts_with("http://localhost:")) && u.contains("/mcp/");
    }
    let cmd = entry.get("command").or_else(|| entry.get("cmd")).and_then(Value::as_str).unwrap_or_default();
    let stem = std::path::Path::new(cmd).file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let first_arg = entry.get("args").and_then(|a| a.get(0)).and_then(Value::as_str);
    stem == "latchkey-bridge" || (stem == "latchkey" && matches!(first_arg, Some("bridge" | "run")))
}

/// The command and arguments of a stdio entry, wherever its app keeps them.
pub fn command_in(entry: &Value) -> Option<(&str, Vec<&str>)> {
    let cmd = entry.get("command").or_else(|| entry.get("cmd")).and_then(Value::as_str)?;
    let args = entry.get("args").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    Some((cmd, args))
}

/// The key an entry of ours carries, wherever its client keeps headers.
pub fn key_in(entry: &Value) -> Option<&str> {
    let candidates = [
        entry.pointer("/headers/Authorization"),
        entry.pointer("/http_headers/Authorization"),
        entry.pointer("/requestOptions/headers/Authorization"),
        entry.pointer("/env/LATCHKEY_KEY"),
    ];
    let v = candidates.into_iter().flatten().next()?.as_str()?;
    Some(v.strip_prefix("Bearer ").unwrap_or(v))
}

/// The URL an entry of ours points at (stdio entries have none).
pub fn url_in(entry: &Value) -> Option<&str> {
    ["url", "serverUrl", "httpUrl", "uri"].iter().find_map(|k| entry.get(*k)).and_then(Value::as_str)
}
