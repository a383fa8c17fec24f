//! Opening the authorization URL in the user's browser.
//!
//! The system opener honours `$BROWSER` (a `:`-separated list of commands; `%s` is replaced by
//! the URL, otherwise the URL is appended), which is also how tests plug in a headless browser.
//! The URL is passed as an argument, never spliced into a shell string, so it cannot inject.

use std::process::{Command, Stdio};

use crate::error::{OAuthError, Result};

/// Shows a URL to the user.
pub trait Opener: Send + Sync {
    fn open(&self, url: &str) -> Result<()>;
}

/// The platform's default browser, or `$BROWSER` when set.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemOpener;

impl Opener for SystemOpener {
    fn open(&self, url: &str) -> Result<()> {
        if let Ok(browsers) = std::env::var("BROWSER") {
            let mut last = String::from("$BROWSER is empty");
            for cmd in browsers.split(':').map(str::trim).filter(|c| !c.is_empty()) {
                match spawn_browser(cmd, url) {
                    Ok(()) => return Ok(()),
                    Err(e) => last = format!("`{cmd}`: {e}"),
                }
            }
            if !browsers.trim().is_empty() {
                return Err(OAuthError::BrowserOpen { url: url.to_owned(), detail: last });
            }
        }
        webbrowser::open(url).map_err(|e| OAuthError::BrowserOpen { url: url.to_owned(), detail: e.to_string() })
    }
}

fn spawn_browser(cmd: &str, url: &str) -> std::io::Result<()> {
    // `sh -c 'cmd "$1"' sh URL`: the URL reaches the command as one argument.
    let script = if cmd.contains("%s") { cmd.replace("%s", "\"$1\"") } else { format!("{cmd} \"$1\"") };
    let mut child = Command::new("sh").arg("-c").arg(script).arg("sh").arg(url).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    // Reap it in the background so no zombie is left behind.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

/// An opener that does nothing: for callers that show the link themselves.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoOpener;

impl Opener for NoOpener {
    fn open(&self, _url: &str) -> Result<()> {
        Ok(())
    }
}
