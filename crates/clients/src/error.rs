//! The clients crate's error: each names the file and what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientsError {
    /// The file does not parse; it was left exactly as it was.
    #[error("{} does not parse (line {line}, column {column}: {message}). Latchkey left it unchanged; fix it or move it aside, then try again.", .path.display())]
    Parse { path: PathBuf, line: usize, column: usize, message: String },

    /// The file parses but is not shaped as the app expects.
    #[error("{} is not shaped as {app} expects ({message}). Latchkey left it unchanged.", .path.display())]
    Shape { path: PathBuf, app: &'static str, message: String },

    /// An entry of that name exists and Latchkey did not write it.
    #[error("{} already has a server named `{name}` that Latchkey did not write. Latchkey left it alone; use --force to replace it.", .path.display())]
    NameTaken { path: PathBuf, name: String },

    #[error("Could not {action} {}: {detail}", .path.display())]
    Io { path: PathBuf, action: &'static str, detail: String },

    #[error("There is no Latchkey backup of {app}'s settings to restore.")]
    NoBackup { app: &'static str },

    #[error("`{0}` is not an app Latchkey knows. Run `latchkey clients` to see the list.")]
    UnknownApp(String),

    /// The app's own command-line tool failed.
    #[error("{tool} failed: {detail}")]
    Tool { tool: &'static str, detail: String },
}

impl ClientsError {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Parse { .. } => "config_unparseable",
            Self::Shape { .. } => "config_unexpected_shape",
            Self::NameTaken { .. } => "entry_name_taken",
            Self::Io { .. } => "config_io",
            Self::NoBackup { .. } => "no_backup",
            Self::UnknownApp(_) => "unknown_app",
            Self::Tool { .. } => "client_tool_failed",
        }
    }

    pub(crate) fn io(path: &std::path::Path, action: &'static str, e: impl std::fmt::Display) -> Self {
        Self::Io { path: path.to_path_buf(), action, detail: e.to_string() }
    }
}
