//! The environment client paths depend on, as a value: tests inject a Windows or macOS
//! environment and check the paths on Linux CI. Nothing here reads the real environment except
//! [`Env::current`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
}

/// What decides where configs live.
#[derive(Debug, Clone)]
pub struct Env {
    pub os: Os,
    pub home: PathBuf,
    /// `%APPDATA%` (Windows roaming).
    pub appdata: Option<PathBuf>,
    /// `%LOCALAPPDATA%` (Windows).
    pub localappdata: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` (Linux).
    pub xdg_config_home: Option<PathBuf>,
    /// `$CODEX_HOME`.
    pub codex_home: Option<PathBuf>,
    /// `$CLAUDE_CONFIG_DIR`.
    pub claude_config_dir: Option<PathBuf>,
    /// `$PATH`, to find client CLIs.
    pub path: Option<OsString>,
}

fn var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

impl Env {
    /// The running process's environment.
    pub fn current() -> Env {
        let os = if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        };
        let home = var("HOME").or_else(|| var("USERPROFILE")).unwrap_or_else(|| PathBuf::from("."));
        Env {
            os,
            home,
            appdata: var("APPDATA"),
            localappdata: var("LOCALAPPDATA"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            codex_home: var("CODEX_HOME"),
            claude_config_dir: var("CLAUDE_CONFIG_DIR"),
            path: std::env::var_os("PATH"),
        }
    }

    /// An environment with only an OS and a home folder (for tests and previews): no
    /// `%APPDATA%`, XDG, Codex or Claude overrides, and no `$PATH`.
    pub fn with_home(os: Os, home: impl Into<PathBuf>) -> Env {
        Env { os, home: home.into(), appdata: None, localappdata: None, xdg_config_home: None, codex_home: None, claude_config_dir: None, path: None }
    }

    /// `~/.config` on Linux (or `$XDG_CONFIG_HOME`), `~/Library/Application Support` on macOS,
    /// `%APPDATA%` on Windows.
    pub fn app_config_dir(&self) -> PathBuf {
        match self.os {
            Os::Linux => self.xdg_config_home.clone().unwrap_or_else(|| self.home.join(".config")),
            Os::MacOs => self.home.join("Library").join("Application Support"),
            Os::Windows => self.appdata.clone().unwrap_or_else(|| self.home.join("AppData").join("Roaming")),
        }
    }

    /// `~/.config` on Linux and macOS (tools that follow XDG even on macOS), `%APPDATA%` on Windows.
    pub fn xdg_style_config_dir(&self) -> PathBuf {
        match self.os {
            Os::Linux => self.app_config_dir(),
            Os::MacOs => self.home.join(".config"),
            Os::Windows => self.app_config_dir(),
        }
    }

    /// VS Code's user directory (Cline lives inside it too).
    pub fn vscode_user_dir(&self) -> PathBuf {
        self.app_config_dir().join("Code").join("User")
    }

    /// A program on `$PATH`, if present.
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        let path = self.path.as_ref()?;
        let exts: &[&str] = if self.os == Os::Windows { &[".exe", ".cmd", ".bat", ""] } else { &[""] };
        std::env::split_paths(path).flat_map(|dir| exts.iter().map(move |e| dir.join(format!("{program}{e}")))).find(|p| is_file(p))
    }
}

fn is_file(p: &Path) -> bool {
    p.metadata().is_ok_and(|m| m.is_file())
}
