//! Reading, adding, removing and restoring our entry in one app's config files.
//!
//! Invariants:
//! - A file that does not parse is never written; its bytes stay identical.
//! - Only our entry changes (the format module guarantees the rest of the bytes).
//! - An entry of the same name that Latchkey did not write is replaced only with `force`.
//! - Re-running an add whose entry is current changes nothing (same bytes, same key).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::apps::{App, Stdio, Target, command_in, is_ours, key_in, url_in};
use crate::env::Env;
use crate::error::ClientsError;
use crate::file;
use crate::format::{self, EditError};

/// How our entry stands in one file.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EntryState {
    /// No entry of that name.
    Missing,
    /// Ours, pointing at the right place with a valid key.
    Current,
    /// Ours, but the port, path or key is out of date.
    Stale { reason: String },
    /// The file cannot be read or parsed, or the entry is malformed.
    Broken { reason: String },
    /// An entry of that name that Latchkey did not write.
    Foreign,
}

/// One file of one app.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileState {
    pub path: PathBuf,
    pub state: EntryState,
}

/// What the entry should be, minus the key (which only the vault can check).
pub struct Expected<'a> {
    pub connection: &'a str,
    pub url: &'a str,
    /// The `latchkey` executable (for `bridge` and `run` entries).
    pub bridge: &'a Path,
    /// A local stdio server: the entry runs `latchkey run <connection>` and needs no key.
    pub local: bool,
}

impl Expected<'_> {
    fn run_args(&self) -> Vec<String> {
        vec!["run".to_owned(), self.connection.to_owned()]
    }
}

fn parse_err(path: &Path, e: EditError, app: &App) -> ClientsError {
    match e {
        EditError::Parse { line, column, message } => ClientsError::Parse { path: path.to_path_buf(), line, column, message },
        other => ClientsError::Shape { path: path.to_path_buf(), app: app.name, message: other.to_string() },
    }
}

fn read_text(path: &Path) -> Result<String, ClientsError> {
    file::read(path).map(Option::unwrap_or_default).map_err(|e| ClientsError::io(path, "read", e))
}

/// Judges an existing entry against what it should be.
pub fn judge(entry: &Value, expected: &Expected<'_>, key_ok: &dyn Fn(&str) -> bool) -> EntryState {
    if !is_ours(entry) {
        return EntryState::Foreign;
    }
    if expected.local {
        return match command_in(entry) {
            Some((cmd, args)) if Path::new(cmd) == expected.bridge && args == ["run", expected.connection] => EntryState::Current,
            Some(_) => EntryState::Stale { reason: "it does not run this connection's local server".into() },
            None => EntryState::Broken { reason: "it has no command".into() },
        };
    }
    match url_in(entry) {
        Some(url) if url != expected.url => return EntryState::Stale { reason: format!("it points at {url}") },
        Some(_) => {}
        None => {
            let cmd = entry.get("command").and_then(Value::as_str).unwrap_or_default();
            if Path::new(cmd) != crate::apps::bridge_exe(expected.bridge) {
                return EntryState::Stale { reason: "it runs Latchkey from another place".into() };
            }
            if entry.pointer("/args/0").and_then(Value::as_str) != Some(expected.connection) {
                return EntryState::Stale { reason: "it names another connection".into() };
            }
        }
    }
    match key_in(entry) {
        Some(k) if key_ok(k) => EntryState::Current,
        Some(_) => EntryState::Stale { reason: "its key was revoked or replaced".into() },
        None => EntryState::Broken { reason: "it has no key".into() },
    }
}

/// How our entry stands in each of the app's files.
pub fn inspect(app: &App, env: &Env, expected: &Expected<'_>, key_ok: &dyn Fn(&str) -> bool) -> Vec<FileState> {
    (app.config_paths)(env)
        .into_iter()
        .map(|path| {
            let real = file::resolve(&path);
            let state = match file::read(&real) {
                Err(e) => EntryState::Broken { reason: e.to_string() },
                Ok(None) => EntryState::Missing,
                Ok(Some(text)) => match format::read_entry(app.format, &text, app.container, expected.connection) {
                    Err(e) => EntryState::Broken { reason: e.to_string() },
                    Ok(None) => EntryState::Missing,
                    Ok(Some(entry)) => judge(&entry, expected, key_ok),
                },
            };
            FileState { path, state }
        })
        .collect()
}

/// What an add did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Changed {
    pub written: Vec<PathBuf>,
    pub backups: Vec<PathBuf>,
}

/// Adds or updates our entry in every file of `app`. `issue_key` is called at most once, and
/// only when some file must change.
pub fn add(
    app: &App,
    env: &Env,
    expected: &Expected<'_>,
    force: bool,
    key_ok: &dyn Fn(&str) -> bool,
    issue_key: &mut dyn FnMut() -> Result<String, ClientsError>,
    now_ms: u128,
) -> Result<Changed, ClientsError> {
    // First pass: parse everything and decide, so a bad file stops the run before any write.
    let mut plans = Vec::new();
    for path in (app.config_paths)(env) {
        let real = file::resolve(&path);
        let text = read_text(&real)?;
        let existing = format::read_entry(app.format, &text, app.container, expected.connection).map_err(|e| parse_err(&path, e, app))?;
        let state = existing.as_ref().map_or(EntryState::Missing, |e| judge(e, expected, key_ok));
        if state == EntryState::Foreign && !force {
            return Err(ClientsError::NameTaken { path, name: expected.connection.to_owned() });
        }
        plans.push((real, text, state));
    }
    let mut changed = Changed::default();
    if plans.iter().all(|(_, _, s)| *s == EntryState::Current) {
        return Ok(changed);
    }
    let entry = if expected.local {
        let args = expected.run_args();
        (app.stdio_entry)(&Stdio { connection: expected.connection, command: expected.bridge, args: &args })
    } else {
        let key = issue_key()?;
        (app.entry)(&Target { connection: expected.connection, url: expected.url, key: &key, bridge: expected.bridge })
    };
    if let Some(program) = app.cli.and_then(|c| env.which(c.program))
        && let Some(changed) = add_via_cli(app, &program, &plans, expected.connection, &entry, now_ms)?
    {
        return Ok(changed);
    }
    for (real, text, _) in plans {
        let new = format::upsert_entry(app.format, &text, app.container, expected.connection, &entry).map_err(|e| parse_err(&real, e, app))?;
        if new == text {
            continue;
        }
        if let Some(b) = file::backup_once(&real, now_ms).map_err(|e| ClientsError::io(&real, "back up", e))? {
            changed.backups.push(b);
        }
        file::write_atomic(&real, &new).map_err(|e| ClientsError::io(&real, "write", e))?;
        changed.written.push(real);
    }
    Ok(changed)
}

/// Lets the app's own CLI write the entry; `None` if it did not end up in the file (then the
/// caller edits the file itself).
fn add_via_cli(
    app: &App,
    program: &Path,
    plans: &[(PathBuf, String, EntryState)],
    name: &str,
    entry: &Value,
    now_ms: u128,
) -> Result<Option<Changed>, ClientsError> {
    let Some(cli) = app.cli else { return Ok(None) };
    let mut changed = Changed::default();
    for (real, _, _) in plans {
        if let Some(b) = file::backup_once(real, now_ms).map_err(|e| ClientsError::io(real, "back up", e))? {
            changed.backups.push(b);
        }
    }
    let run = |args: Vec<String>| std::process::Command::new(program).args(args).stdin(std::process::Stdio::null()).output();
    // add-json refuses an existing name, so the old entry (ours, or a foreign one with --force) goes first.
    let _ = run((cli.remove)(name));
    let out = run((cli.add)(name, &entry.to_string())).map_err(|e| ClientsError::Tool { tool: cli.program, detail: e.to_string() })?;
    if !out.status.success() {
        return Err(ClientsError::Tool { tool: cli.program, detail: String::from_utf8_lossy(&out.stderr).trim().to_owned() });
    }
    for (real, _, _) in plans {
        let text = read_text(real)?;
        match format::read_entry(app.format, &text, app.container, name) {
            Ok(Some(e)) if e == *entry => changed.written.push(real.clone()),
            _ => return Ok(None),
        }
    }
    Ok(Some(changed))
}

/// Removes our entry from every file of `app`. Entries Latchkey did not write are left alone.
pub fn remove(app: &App, env: &Env, connection: &str, now_ms: u128) -> Result<Changed, ClientsError> {
    let mut changed = Changed::default();
    for path in (app.config_paths)(env) {
        let real = file::resolve(&path);
        let Some(text) = file::read(&real).map_err(|e| ClientsError::io(&real, "read", e))? else { continue };
        let Some(entry) = format::read_entry(app.format, &text, app.container, connection).map_err(|e| parse_err(&path, e, app))? else { continue };
        if !is_ours(&entry) {
            continue;
        }
        let new = format::remove_entry(app.format, &text, app.container, connection).map_err(|e| parse_err(&path, e, app))?;
        if new == text {
            continue;
        }
        if let Some(b) = file::backup_once(&real, now_ms).map_err(|e| ClientsError::io(&real, "back up", e))? {
            changed.backups.push(b);
        }
        file::write_atomic(&real, &new).map_err(|e| ClientsError::io(&real, "write", e))?;
        changed.written.push(real);
    }
    Ok(changed)
}

/// Puts back the newest backup of each of the app's files that has one.
pub fn restore(app: &App, env: &Env) -> Result<Vec<PathBuf>, ClientsError> {
    let mut restored = Vec::new();
    for path in (app.config_paths)(env) {
        let real = file::resolve(&path);
        let Some(newest) = file::backups(&real).into_iter().next() else { continue };
        let text = std::fs::read_to_string(&newest).map_err(|e| ClientsError::io(&newest, "read", e))?;
        file::write_atomic(&real, &text).map_err(|e| ClientsError::io(&real, "write", e))?;
        restored.push(real);
    }
    if restored.is_empty() {
        return Err(ClientsError::NoBackup { app: app.name });
    }
    Ok(restored)
}
